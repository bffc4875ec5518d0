"""Beat schedule: periodic work, each entry a task name and an interval in seconds."""

from citizencenter.config import Config

beat_schedule = {
    "relay-outbox": {"task": "outbox.relay", "schedule": 1.0, "options": {"expires": 5}},
    "purge-expired": {"task": "maintenance.purge_expired", "schedule": 3600.0},
    # Outbox work whose effect never happened (a broker that lost its messages, say).
    "reconcile": {"task": "maintenance.reconcile",
                  "schedule": float(Config.RECONCILE_INTERVAL_S),
                  "options": {"expires": Config.RECONCILE_INTERVAL_S}},
    # Escalate cases past their queue's timeout; free guides pull what still waits.
    "routing-scan": {"task": "routing.scan", "schedule": float(Config.ROUTING_SCAN_INTERVAL_S),
                     "options": {"expires": Config.ROUTING_SCAN_INTERVAL_S * 2}},
    "scan-sla-deadlines": {"task": "sla.scan_deadlines",
                           "schedule": float(Config.SLA_SCAN_INTERVAL_S),
                           "options": {"expires": max(5, Config.SLA_SCAN_INTERVAL_S)}},
    # Rollups of the touched 15-minute buckets; the wallboard snapshot in Redis.
    "refresh-rollups": {"task": "reports.refresh_rollups",
                        "schedule": float(Config.ROLLUP_REFRESH_S),
                        "options": {"expires": Config.ROLLUP_REFRESH_S}},
    # New mail from the configured IMAP mailboxes (none configured: nothing to do).
    "poll-mailboxes": {"task": "email.poll_mailboxes",
                       "schedule": float(Config.IMAP_POLL_INTERVAL_S),
                       "options": {"expires": Config.IMAP_POLL_INTERVAL_S}},
    "dashboard-snapshot": {"task": "dashboard.publish_snapshot",
                           "schedule": float(Config.DASHBOARD_SNAPSHOT_S),
                           "options": {"expires": Config.DASHBOARD_SNAPSHOT_S * 2}},
}
