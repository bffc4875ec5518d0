"""Inbound and outbound e-mail: parsing raw MIME, threading, acknowledgements and replies.

`service` is the one entry for views, tasks, the CLI and other domains; the other modules
(parsing, sanitising, charsets, IMAP, message ids, autoreply detection …) are its internals.
"""
