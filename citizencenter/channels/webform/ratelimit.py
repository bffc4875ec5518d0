"""A sliding-window limit per client address, kept in Redis.

Addresses are stored only as keyed hashes. When Redis is unreachable the form stays
open: losing a citizen's inquiry is worse than letting a little spam through.
"""

import hashlib
import hmac
import logging
import math
import time
import uuid

import redis

from citizencenter import keys
from citizencenter.errors import AppError

log = logging.getLogger(__name__)

# Drop hits older than the window, refuse when full (saying when the oldest hit expires),
# otherwise record this hit; atomic, so concurrent requests cannot overshoot.
_SLIDING_WINDOW = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return oldest[2] + window - now
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return 0
"""


class RateLimited(AppError):
    status, title, slug = 429, "Too many requests", "rate-limited"


class SlidingWindowLimiter:
    def __init__(self, client: redis.Redis, prefix: str, secret: str):
        self.client, self.prefix, self.secret = client, prefix, secret.encode()
        self.script = client.register_script(_SLIDING_WINDOW)

    def key(self, address: str) -> str:
        digest = hmac.new(self.secret, address.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.prefix}:{digest}"

    def hit(self, address: str, limit: int, window_s: float) -> None:
        """Count a request from `address`; raise RateLimited when the window is full."""
        now_ms, window_ms = int(time.time() * 1000), int(window_s * 1000)
        try:
            wait_ms = int(self.script(keys=[self.key(address)],
                                      args=[now_ms, window_ms, limit, uuid.uuid4().hex]))
        except redis.RedisError as exc:
            log.warning("rate limit not applied, Redis unavailable: %s", type(exc).__name__)
            return
        if wait_ms > 0:
            retry_after = max(1, math.ceil(wait_ms / 1000))
            raise RateLimited(f"Too many requests; try again in {retry_after} seconds.",
                              headers={"Retry-After": str(retry_after)})


def app_limiter(extensions: dict, config, purpose: str) -> SlidingWindowLimiter:
    """The app's limiter for one purpose, made on first use: its counters live under
    `citizencenter:<purpose>:rate`, keyed by a hash of the address under the app's key."""
    name = f"{purpose}_limiter"
    if name not in extensions:
        client = redis.Redis.from_url(config["REDIS_URL"], socket_connect_timeout=0.5,
                                      socket_timeout=0.5)
        extensions[name] = SlidingWindowLimiter(
            client, f"citizencenter:{purpose}:rate",
            keys.for_purpose(config, "ratelimit-hash").hex())
    return extensions[name]
