"""Prometheus metrics: counters of requests and tasks, gauges read at scrape time."""
