"""The `TokenStore` port on Redis: refresh-token families and one-time tokens, shared by
every app process."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from redis.asyncio import Redis

from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES
from application.ports.errors import ServiceUnavailable
from application.ports.security import RefreshFamily, Rotation, RotationResult

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
T = TypeVar("T")

# Key layout under the prefix:
#   refresh:family:<family id>  hash {user_id, current_hash, expires_at (µs since epoch),
#                               epoch (the user's token epoch; missing reads as 0)}
#   refresh:user:<user id>      set of the user's family ids (for revoke_user)
#   once:<purpose>:<token hash> "<expires_at µs>:<subject>"
# The scripts build family and user keys from the prefix they are given, so they assume
# one Redis server (or a primary with replicas), not Redis Cluster.

_CREATE = """
local family_key, user_key = KEYS[1], KEYS[2]
local family_id, user_id, current_hash = ARGV[1], ARGV[2], ARGV[3]
local expires_at, ttl_ms, prefix, epoch = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local previous_owner = redis.call('HGET', family_key, 'user_id')
if previous_owner and previous_owner ~= user_id then
  redis.call('SREM', prefix .. 'user:' .. previous_owner, family_id)
end
redis.call('DEL', family_key)
redis.call('HSET', family_key, 'user_id', user_id, 'current_hash', current_hash,
           'expires_at', expires_at, 'epoch', epoch)
redis.call('PEXPIRE', family_key, ttl_ms)
-- Forget the ids of families that expired on their own, so the set follows live logins.
for _, member in ipairs(redis.call('SMEMBERS', user_key)) do
  if redis.call('EXISTS', prefix .. 'family:' .. member) == 0 then
    redis.call('SREM', user_key, member)
  end
end
redis.call('SADD', user_key, family_id)
if redis.call('PTTL', user_key) < ttl_ms then
  redis.call('PEXPIRE', user_key, ttl_ms)
end
return 1
"""

_ROTATE = """
local family_key = KEYS[1]
local presented, new_hash, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local family_id, prefix = ARGV[4], ARGV[5]
local family = redis.call('HMGET', family_key, 'user_id', 'current_hash', 'expires_at',
                          'epoch')
local user_id = family[1]
if not user_id then
  return {'unknown'}
end
local function forget()
  redis.call('DEL', family_key)
  redis.call('SREM', prefix .. 'user:' .. user_id, family_id)
end
if tonumber(family[3]) <= now then
  forget()
  return {'unknown'}
end
if family[2] ~= presented then
  -- A spent (or forged) token: the thief or the victim, we cannot tell which, so
  -- nobody keeps the family.
  forget()
  return {'reused', user_id}
end
redis.call('HSET', family_key, 'current_hash', new_hash)
return {'rotated', user_id, family[4] or '0'}
"""

_REVOKE_FAMILY = """
local user_id = redis.call('HGET', KEYS[1], 'user_id')
redis.call('DEL', KEYS[1])
if user_id then
  redis.call('SREM', ARGV[2] .. 'user:' .. user_id, ARGV[1])
end
return 1
"""

_REVOKE_USER = """
for _, family_id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. 'family:' .. family_id)
end
redis.call('DEL', KEYS[1])
return 1
"""


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


async def _unless_down(command: Awaitable[T]) -> T:
    try:
        return await command
    except REDIS_FAILURES as error:
        raise ServiceUnavailable(f"the token store (Redis) is unavailable: {error}") from error


class RedisTokenStore:
    """Every operation that reads and then writes is one Lua script, so it is atomic
    across app processes: of racing rotations of one token exactly one succeeds, and the
    others trip reuse detection; a one-time token is taken with GETDEL.

    Expiry is judged, as the port says, against the `now` the caller passes (the app's
    clock). Redis's own key expiry only collects garbage: a key is kept until its
    `expires_at` by this host's wall clock, plus `expiry_grace` (default 5 minutes) so
    that an app host whose clock lags the others still finds a family live until its
    own `now` reaches `expires_at`; a token whose `expires_at` has already passed is
    kept for the grace period only. Rotation does not extend a family's life.

    Redis failures raise `ServiceUnavailable`: a token store that cannot answer must not
    let anyone in (fail closed), unlike the cache and the rate limiter.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        expiry_grace: timedelta = timedelta(minutes=5),
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}refresh:"
        self._once_prefix = f"{prefix}once:"
        self._grace_ms = int(expiry_grace / timedelta(milliseconds=1))
        self._create = redis.register_script(_CREATE)
        self._rotate = redis.register_script(_ROTATE)
        self._revoke_family = redis.register_script(_REVOKE_FAMILY)
        self._revoke_user = redis.register_script(_REVOKE_USER)

    async def create_family(self, family: RefreshFamily) -> None:
        await _unless_down(
            self._create(
                keys=[self._family_key(family.family_id), self._user_key(family.user_id)],
                args=[
                    family.family_id,
                    family.user_id,
                    family.current_hash,
                    _micros(family.expires_at),
                    self._ttl_ms(family.expires_at),
                    self._prefix,
                    family.epoch,
                ],
            )
        )

    async def rotate(
        self, family_id: str, presented_hash: str, new_hash: str, now: datetime
    ) -> Rotation:
        reply = await _unless_down(
            self._rotate(
                keys=[self._family_key(family_id)],
                args=[presented_hash, new_hash, _micros(now), family_id, self._prefix],
            )
        )
        result = RotationResult(reply[0].decode())
        user_id = reply[1].decode() if len(reply) > 1 else None
        epoch = int(reply[2]) if len(reply) > 2 else 0
        return Rotation(result, user_id, epoch)

    async def family_owner(self, family_id: str, now: datetime) -> str | None:
        read: Awaitable[list[bytes | None]] = self._redis.hmget(  # type: ignore[assignment]
            self._family_key(family_id), ["user_id", "expires_at"]
        )
        user_id, expires_at = await _unless_down(read)
        if user_id is None or expires_at is None or int(expires_at) <= _micros(now):
            return None
        return user_id.decode()

    async def revoke_family(self, family_id: str) -> None:
        await _unless_down(
            self._revoke_family(keys=[self._family_key(family_id)], args=[family_id, self._prefix])
        )

    async def revoke_user(self, user_id: str) -> None:
        await _unless_down(self._revoke_user(keys=[self._user_key(user_id)], args=[self._prefix]))

    async def put_one_time(
        self, purpose: str, token_hash: str, subject: str, expires_at: datetime
    ) -> None:
        await _unless_down(
            self._redis.set(
                self._once_key(purpose, token_hash),
                f"{_micros(expires_at)}:{subject}".encode(),
                px=self._ttl_ms(expires_at),
            )
        )

    async def take_one_time(self, purpose: str, token_hash: str, now: datetime) -> str | None:
        value: bytes | None = await _unless_down(
            self._redis.getdel(self._once_key(purpose, token_hash))
        )
        if value is None:
            return None
        expires_at, _, subject = value.decode().partition(":")
        if int(expires_at) <= _micros(now):
            return None
        return subject

    def _family_key(self, family_id: str) -> str:
        return f"{self._prefix}family:{family_id}"

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}"

    def _once_key(self, purpose: str, token_hash: str) -> str:
        return f"{self._once_prefix}{purpose}:{token_hash}"

    def _ttl_ms(self, expires_at: datetime) -> int:
        left_ms = _micros(expires_at) // 1000 - int(time.time() * 1000)
        return max(left_ms, 0) + self._grace_ms
