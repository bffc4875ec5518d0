"""Beat schedule: periodic work, each entry a task name and an interval in seconds."""

beat_schedule = {
    "relay-outbox": {"task": "outbox.relay", "schedule": 1.0, "options": {"expires": 5}},
    "purge-expired": {"task": "maintenance.purge_expired", "schedule": 3600.0},
}
