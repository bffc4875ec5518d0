"""The text a scrape answers: this process's (or every process's) counters, then the gauges.

Without PROMETHEUS_MULTIPROC_DIR (the embedded run, the tests) the counters are this
process's own; with it (the production run) they are read from every process's files.
"""

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.registry import Collector


def render(live: Collector, multiproc_dir: str | None = None) -> bytes:
    """The Prometheus text exposition of the counters and of `live`'s gauges."""
    multiproc_dir = multiproc_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc_dir:
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters, path=multiproc_dir)
    else:
        counters = REGISTRY
    gauges = CollectorRegistry()
    gauges.register(live)
    return generate_latest(counters) + generate_latest(gauges)
