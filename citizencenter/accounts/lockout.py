"""Lock-out after repeated failed sign-ins, per account and per client address, in Redis.

Redis holds the counters so every web process sees the same ones. Accounts and addresses
are stored only as keyed hashes. Each counter starts its window at its first failure and
is gone when the window ends, so a lock-out lifts by itself. When Redis is unreachable,
sign-in fails closed: a locked-out guesser must not get unlimited attempts from an outage.
"""

import hashlib
import hmac
from dataclasses import dataclass

import redis

from citizencenter.errors import AppError

_PREFIX = "signin-failures"
# Count a failure; the window starts at the first one.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class LockedOut(AppError):
    status, title, slug = 429, "Too many failed sign-ins", "signin-locked-out"


class SignInUnavailable(AppError):
    status, title, slug = 503, "Sign-in unavailable", "signin-unavailable"


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    window_s: int


class SignInLockout:
    def __init__(self, client: redis.Redis, secret: str, limits: Limits):
        self.client, self.secret, self.limits = client, secret.encode(), limits
        self.count = client.register_script(_COUNT)

    def _keys(self, email: str, address: str) -> tuple[str, str]:
        def digest(kind: str, value: str) -> str:
            mac = hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256)
            return f"{_PREFIX}:{kind}:{mac.hexdigest()[:32]}"

        return digest("account", email.strip().lower()), digest("address", address)

    def check(self, email: str, address: str) -> None:
        """Raise LockedOut while the account or the address has used up its failures."""
        account, client = self._keys(email, address)
        try:
            counts = [int(n or 0) for n in self.client.mget(account, client)]
        except redis.RedisError:
            raise SignInUnavailable("Sign-in is unavailable for a moment.") from None
        if counts[0] >= self.limits.per_account or counts[1] >= self.limits.per_address:
            raise LockedOut("Too many failed sign-ins; try again later.")

    def failed(self, email: str, address: str) -> None:
        """Count a failed sign-in against the account and the address."""
        for key in self._keys(email, address):
            try:
                self.count(keys=[key], args=[self.limits.window_s])
            except redis.RedisError:
                return

    def succeeded(self, email: str) -> None:
        """A right password clears the account's failures (not the address's)."""
        try:
            self.client.delete(self._keys(email, "")[0])
        except redis.RedisError:
            return
