"""Beat schedule: periodic work, each entry a task name and an interval in seconds."""

from collections.abc import Mapping

from celery.schedules import crontab


def beat_schedule(config: Mapping) -> dict:
    """The periodic tasks at the intervals the app's config gives."""
    reconcile_s = config["RECONCILE_INTERVAL_S"]
    routing_s = config["ROUTING_SCAN_INTERVAL_S"]
    sla_s = config["SLA_SCAN_INTERVAL_S"]
    rollup_s = config["ROLLUP_REFRESH_S"]
    imap_s = config["IMAP_POLL_INTERVAL_S"]
    snapshot_s = config["DASHBOARD_SNAPSHOT_S"]
    return {
        "relay-outbox": {"task": "outbox.relay", "schedule": 1.0, "options": {"expires": 5}},
        "purge-expired": {"task": "maintenance.purge_expired", "schedule": 3600.0},
        # Outbox work whose effect never happened (a broker that lost its messages, say).
        "reconcile": {"task": "maintenance.reconcile", "schedule": float(reconcile_s),
                      "options": {"expires": reconcile_s}},
        # Escalate cases past their queue's timeout; free guides pull what still waits.
        "routing-scan": {"task": "routing.scan", "schedule": float(routing_s),
                         "options": {"expires": routing_s * 2}},
        "scan-sla-deadlines": {"task": "sla.scan_deadlines", "schedule": float(sla_s),
                               "options": {"expires": max(5, sla_s)}},
        # Rollups of the touched 15-minute buckets; the wallboard snapshot in Redis.
        "refresh-rollups": {"task": "reports.refresh_rollups", "schedule": float(rollup_s),
                            "options": {"expires": rollup_s}},
        # New mail from the configured IMAP mailboxes (none configured: nothing to do).
        "poll-mailboxes": {"task": "email.poll_mailboxes", "schedule": float(imap_s),
                           "options": {"expires": imap_s}},
        "dashboard-snapshot": {"task": "dashboard.publish_snapshot",
                               "schedule": float(snapshot_s),
                               "options": {"expires": snapshot_s * 2}},
        # The guides' live count of waiting cases, as often as the wallboard's figures.
        "workspace-waiting": {"task": "workspace.publish_waiting", "schedule": float(snapshot_s),
                              "options": {"expires": snapshot_s * 2}},
        # When each API token was last used, from the notes requests leave in Redis.
        "record-token-uses": {"task": "accounts.record_token_uses", "schedule": 60.0,
                              "options": {"expires": 60}},
        # Articles past their review date, to their departments: weekday mornings.
        "remind-knowledge-reviews": {"task": "knowledge.remind_reviews",
                                     "schedule": crontab(minute=0, hour=6, day_of_week="1-5"),
                                     "options": {"expires": 3600}},
        # Retention (gallring): nightly, in batches; what is left waits for the next night.
        "retention-run": {"task": "retention.run",
                          "schedule": crontab(minute=0, hour=config["RETENTION_RUN_HOUR_UTC"]),
                          "options": {"expires": 3600}},
    }
