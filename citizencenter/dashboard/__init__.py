"""The supervisors' live wallboard: a snapshot kept in Redis, and a stream of its changes."""
