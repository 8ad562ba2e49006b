"""Client-side rate limits, so that a batch never provokes 429s in the first place.

A limit is per provider and per API key (by its one-way fingerprint): requests per minute and/or
tokens per minute, each a token bucket that holds a minute's budget and refills continuously.
A call reserves its share up front and then waits for it (reservations may drive a bucket below zero,
which queues later callers behind earlier ones in order). A wait longer than ``max_wait`` is never
made: the call raises RateLimitError at once, nothing reserved.

Tokens are estimated before the call: prompt characters / 4 + ``max_tokens``. A call estimated above a
whole minute's budget is counted as exactly one minute's budget (it passes after a full refill).

In one process the buckets live in memory; with ``redis_url`` they live in Redis and one atomic Lua
script takes from both buckets, so every process and machine shares one budget. If Redis cannot be
reached the call falls back to this process's buckets with a WARNING (never a failed call), and the
Redis's breaker (cache/breaker.py, shared with a Redis cache) skips it for a cool-down after a failure.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import errors
from .credentials import fingerprint
from .request import Request, content_text, finite_number

logger = logging.getLogger("llm_interface")

CHARS_PER_TOKEN = 4
REDIS_PREFIX = "llm_interface:ratelimit:"


@dataclass(frozen=True)
class Limit:
    requests_per_minute: Optional[float]
    tokens_per_minute: Optional[float]
    redis_url: Optional[str] = None
    max_wait: float = 60.0

    def buckets(self, request: Request) -> List[Tuple[str, float, float]]:
        """(name, per-minute budget, cost) for each bucket this call takes from."""
        out = []
        if self.requests_per_minute:
            out.append(("requests", float(self.requests_per_minute), 1.0))
        if self.tokens_per_minute:
            out.append(("tokens", float(self.tokens_per_minute), float(estimate_tokens(request))))
        return out


def estimate_tokens(request: Request) -> int:
    """A deliberately simple upper-side estimate: prompt characters / 4, plus the tokens asked for."""
    chars = 0
    if request.prompt is not None:
        chars += len(request.prompt)
    for message in request.messages or ():
        chars += len(content_text(message.get("content")))
    inputs = request.inputs
    if isinstance(inputs, str):
        chars += len(inputs)
    elif isinstance(inputs, (list, tuple)):
        chars += sum(len(item) for item in inputs if isinstance(item, str))
    asked = request.params.get("max_tokens") or request.params.get("max_new_tokens") or 0
    return math.ceil(chars / CHARS_PER_TOKEN) + (asked if isinstance(asked, int) else 0)


def take(
    states: Sequence[Optional[Tuple[float, float]]],
    buckets: Sequence[Tuple[str, float, float]],
    now: float,
    max_wait: float,
) -> Tuple[float, Optional[List[Tuple[float, float]]]]:
    """The pure bucket arithmetic (mirrored by the Lua script): (wait, new states or None if refused).

    ``states`` holds (level, updated) per bucket, None for a fresh (full) bucket.
    """
    levels = []
    wait = 0.0
    for state, (_name, per_minute, cost) in zip(states, buckets):
        rate = per_minute / 60.0
        level, updated = state if state is not None else (per_minute, now)
        level = min(per_minute, level + max(0.0, now - updated) * rate)
        after = level - min(cost, per_minute)
        if after < 0:
            wait = max(wait, -after / rate)
        levels.append(after)
    if wait > max_wait:
        return wait, None
    return wait, [(level, now) for level in levels]


_LUA_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local wait = 0
local levels = {}
for i = 1, #KEYS do
  local per_minute = tonumber(ARGV[i * 2])
  local cost = math.min(tonumber(ARGV[i * 2 + 1]), per_minute)
  local rate = per_minute / 60
  local state = redis.call('HMGET', KEYS[i], 'level', 'updated')
  local level = tonumber(state[1]) or per_minute
  local updated = tonumber(state[2]) or now
  level = math.min(per_minute, level + math.max(0, now - updated) * rate)
  local after = level - cost
  if after < 0 then wait = math.max(wait, -after / rate) end
  levels[i] = after
end
if wait > max_wait then return {0, tostring(wait)} end
for i = 1, #KEYS do
  local per_minute = tonumber(ARGV[i * 2])
  redis.call('HSET', KEYS[i], 'level', tostring(levels[i]), 'updated', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil((per_minute - levels[i]) / (per_minute / 60) * 1000) + 1000)
end
return {1, tostring(wait)}
"""


class RateLimiter:
    """Per-provider limits; ``acquire(request)`` waits for a slot (or raises), ``reserve`` only reserves."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # the in-process buckets' time; the Redis buckets use the Redis server's TIME
        self._limits: Dict[str, Limit] = {}
        self._states: Dict[str, Tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._redis: Dict[str, Any] = {}

    def configure(
        self,
        provider: str,
        requests_per_minute: Optional[float] = None,
        tokens_per_minute: Optional[float] = None,
        redis_url: Optional[str] = None,
        *,
        max_wait: float = 60.0,
    ) -> None:
        for name, value in (("requests_per_minute", requests_per_minute), ("tokens_per_minute", tokens_per_minute)):
            if value is not None and (not finite_number(value) or value <= 0):
                raise errors.InvalidRequestError(
                    f"{name} must be a finite number > 0 (or None for no limit), got {value!r}"
                )
        if not finite_number(max_wait) or max_wait < 0:
            raise errors.InvalidRequestError(
                f"max_wait must be a finite number of seconds >= 0 (a large one, say 3600, to wait long), got {max_wait!r}"
            )
        if requests_per_minute is None and tokens_per_minute is None:
            self._limits.pop(provider, None)
            return
        if redis_url is not None:
            from .cache.redis import check_url

            check_url(redis_url, "redis_url")  # fail now (a missing extra, a bad URL), not at the first call
        self._limits[provider] = Limit(requests_per_minute, tokens_per_minute, redis_url, float(max_wait))

    def limit_for(self, provider: str) -> Optional[Limit]:
        return self._limits.get(provider)

    def reserve(self, request: Request) -> float:
        """Reserve this call's share; the seconds to wait before sending. Raises RateLimitError past max_wait."""
        limit = self._limits.get(request.provider)
        if limit is None:
            return 0.0
        buckets = limit.buckets(request)
        keys = [f"{request.provider}:{fingerprint(request.api_key)}:{name}" for name, _, _ in buckets]
        wait: Optional[float] = None
        if limit.redis_url is not None:
            wait, granted = self._take_redis(limit, keys, buckets)
        if wait is None:
            wait, granted = self._take_local(limit, keys, buckets)
        if not granted:
            raise errors.RateLimitError(
                f"Client-side rate limit for {request.provider}: the next slot is {wait:.1f}s away, more than "
                f"max_wait={limit.max_wait:g}s. Raise max_wait in configure_rate_limit, or send fewer calls at once.",
                provider=request.provider, model=request.model, retry_after=wait,
            )
        return wait

    def acquire(self, request: Request) -> float:
        wait = self.reserve(request)
        if wait > 0:
            time.sleep(wait)
        return wait

    def _take_local(self, limit: Limit, keys: List[str], buckets: List[Tuple[str, float, float]]) -> Tuple[float, bool]:
        with self._lock:
            wait, states = take([self._states.get(k) for k in keys], buckets, self.clock(), limit.max_wait)
            if states is not None:
                self._states.update(zip(keys, states))
        return wait, states is not None

    def _take_redis(self, limit: Limit, keys: List[str], buckets: List[Tuple[str, float, float]]) -> Tuple[Optional[float], bool]:
        from .cache.redis import breaker_of, connect, redis_module

        redis = redis_module()
        url: str = limit.redis_url  # type: ignore[assignment]  # the caller checked it is set
        breaker = breaker_of(url)  # shared with a Redis cache on the same URL: one frozen Redis, one timeout
        if not breaker.allows():
            return None, False
        try:
            script = self._redis.get(url)
            if script is None:
                script = self._redis[url] = connect(url).register_script(_LUA_TAKE)
            args: List[Any] = [limit.max_wait]
            for _name, per_minute, cost in buckets:
                args += [per_minute, cost]
            granted, wait = script(keys=[REDIS_PREFIX + k for k in keys], args=args)
        except (redis.RedisError, OSError) as exc:
            breaker.record_failure(exc, "The rate limit's Redis", "calls use this process's budget")
            return None, False
        breaker.record_success()
        return float(wait), bool(int(granted))
