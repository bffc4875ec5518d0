"""One Redis client per URL and purpose, kept by the process: the live figures'
publishers and event streams, and the health probe."""

import redis

_clients: dict[tuple[str, str], redis.Redis] = {}


def client(url: str) -> redis.Redis:
    """Short connect timeout: a page or a beat task must not hang on a Redis that is down."""
    return _kept(url, "live", socket_timeout=5, decode_responses=True)


def probe(url: str) -> redis.Redis:
    """The health probe's: it answers or fails within half a second, and is named so that
    Redis's CLIENT LIST tells it from the app's other connections. A dropped connection is
    made again at the next probe."""
    return _kept(url, "health", socket_timeout=0.5, client_name="citizencenter-health")


def _kept(url: str, purpose: str, **options) -> redis.Redis:
    # A new client per use would cost a connection and redis-py's package-metadata lookup.
    key = (url, purpose)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(url, socket_connect_timeout=0.5, **options)
    return _clients[key]
