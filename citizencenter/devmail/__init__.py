"""The embedded run's outgoing mail: a local SMTP sink that keeps what the system sends
under instance/mail/, and the `/dev/mail` pages that show it (embedded run only)."""
