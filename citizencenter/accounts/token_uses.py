"""When each API token was last used, so that administrators can revoke the ones nobody uses.

A request notes its token in Redis (a hash: token id → epoch seconds), at most once a
minute per token and process; the beat task `accounts.record_token_uses` moves the notes
into api_token_uses. Never a database write on the request path, and never a failed
request for want of Redis: a lost note only makes a time a minute or so older.
"""

import logging
import time
from datetime import UTC, datetime

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import redis_pool
from citizencenter.accounts.models import ApiToken, ApiTokenUse

log = logging.getLogger(__name__)
KEY = "citizencenter:token_uses"
NOTE_EVERY_S = 60.0
_noted: dict[int, float] = {}  # token id → when this process last noted it (monotonic)
# Drop a note only if it is still the one read: a newer use noted meanwhile stays.
_DROP_IF_UNCHANGED = ("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                      "return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0")


def note(redis_url: str, token_id: int) -> None:
    """Note that the token was used now (throttled; a Redis that is down is skipped)."""
    now = time.monotonic()
    if now - _noted.get(token_id, -NOTE_EVERY_S) < NOTE_EVERY_S:
        return
    _noted[token_id] = now
    try:
        redis_pool.client(redis_url).hset(KEY, str(token_id), str(int(time.time())))
    except redis.RedisError as exc:
        log.warning("token use not noted: %s", type(exc).__name__)


def record(session: Session, client: redis.Redis) -> int:
    """Move the noted uses into api_token_uses (the later time wins); how many tokens."""
    notes = {int(k): v for k, v in client.hgetall(KEY).items()}
    if not notes:
        return 0
    known = set(session.scalars(select(ApiToken.id).where(ApiToken.id.in_(list(notes)))))
    stored = {use.token_id: use for use in session.scalars(
        select(ApiTokenUse).where(ApiTokenUse.token_id.in_(list(known))))}
    for token_id in known:
        used_at = datetime.fromtimestamp(int(notes[token_id]), UTC)
        use = stored.get(token_id)
        if use is None:
            session.add(ApiTokenUse(token_id=token_id, last_used_at=used_at))
        elif use.last_used_at < used_at:
            use.last_used_at = used_at
    session.commit()
    drop = client.register_script(_DROP_IF_UNCHANGED)
    for token_id, value in notes.items():  # a token deleted meanwhile goes too
        drop(keys=[KEY], args=[str(token_id), value])
    return len(known)
