"""One Redis connection pool per URL for the live figures: publishers and event streams."""

import redis

_clients: dict[str, redis.Redis] = {}


def client(url: str) -> redis.Redis:
    """Short connect timeout: a page or a beat task must not hang on a Redis that is down."""
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5,
                                             decode_responses=True)
    return _clients[url]
