"""A cache shared by many workers and machines: Redis (extra ``[redis]``).

Entries are JSON strings under ``<prefix><key>`` with Redis's own expiry. The socket timeouts are short
on purpose: a Redis outage must cost a call a fraction of a second (then a WARNING and no cache), never
hang it; and after one failure the store's breaker (``breaker.py``, shared with the rate limiter) keeps
every call from asking it again for a cool-down, so a frozen Redis costs one timeout, not three per call.
While Redis is unavailable ``get`` is a miss and ``set`` stores nothing. ``clear`` and ``len`` always ask
and raise the store's error (``failures``), so a command never reports a success it did not have.
``clear`` removes this prefix's entries only, so several applications can share one Redis.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from ..errors import ConfigurationError
from .base import CacheBackend, check_seconds, check_ttl, decode_value, encode_value, ttl_seconds
from .breaker import Breaker, breaker_for

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "llm_interface:cache:"
_PASSWORD = re.compile(r"(//[^/@:]*:)[^/]*@")  # the userinfo's password, up to the @ before the host


def redis_module():
    """The redis package, or MissingDependencyError naming the extra (shared with the rate limiter)."""
    try:
        import redis
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError('Redis support needs redis-py: pip install "llm-interface-hf[redis]"') from exc
    return redis


def safe_url(url: str) -> str:
    """The URL without its password (redis://user:secret@host), for errors and logs; works on URLs that do not parse."""
    return _PASSWORD.sub(r"\1***@", url)


def check_url(url: Any, argument: str) -> str:
    """A Redis URL that redis-py can use, or ConfigurationError naming ``argument`` and the fix (no I/O)."""
    redis = redis_module()
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"{argument} must be a Redis URL string such as redis://127.0.0.1:6379/0, got {url!r}.")
    try:
        redis.connection.parse_url(url)
    except ValueError as exc:
        raise ConfigurationError(
            f"{argument} {safe_url(url)!r} is not a Redis URL ({exc}); use redis://host:6379/0, rediss:// or unix://."
        ) from None
    return url


def breaker_of(url: str) -> Breaker:
    """The breaker of the Redis at ``url``, shared by its cache and its rate limits."""
    return breaker_for(url, f"Redis at {safe_url(url)}")


def connect(url: Optional[str], timeout: float = 0.5) -> Any:
    redis = redis_module()
    return redis.Redis.from_url(
        url or DEFAULT_URL, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
    )


class RedisCache(CacheBackend):
    name = "redis"

    def __init__(
        self,
        url: Optional[str] = None,
        ttl: Optional[float] = None,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 0.5,
        path: Optional[str] = None,  # configure_cache(backend="redis", path=url) reads naturally too
        client: Any = None,
        **_: Any,
    ) -> None:
        redis = redis_module()
        given, argument = (url, "url") if url is not None else (path, "path") if path is not None else (DEFAULT_URL, "url")
        self.url = check_url(given, argument)
        self.default_ttl = check_ttl(ttl, self.name)
        if not isinstance(prefix, str):
            raise ConfigurationError(f"prefix must be a string such as {DEFAULT_PREFIX!r}, got {prefix!r}.")
        self.prefix = prefix
        self.failures = (redis.RedisError, OSError)
        self.breaker = breaker_of(self.url)
        self._redis = client if client is not None else connect(self.url, check_seconds(timeout, "timeout", self.name))

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        if not self.breaker.allows():
            return None
        try:
            raw = self._redis.get(self.prefix + key)
        except self.failures as exc:
            self.breaker.record_failure(exc, "The redis cache", "calls go on without it")
            return None
        self.breaker.record_success()
        if raw is None:
            return None
        return decode_value(raw, f"{key} in Redis")

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:
        data = encode_value(value)
        seconds = ttl_seconds(ttl, self.default_ttl)
        if not self.breaker.allows():
            return
        try:
            self._redis.set(self.prefix + key, data, px=None if seconds is None else max(1, int(seconds * 1000)))
        except self.failures as exc:
            self.breaker.record_failure(exc, "The redis cache", "calls go on without it")
            return
        self.breaker.record_success()

    def delete(self, key: str) -> None:
        self._redis.delete(self.prefix + key)

    def __len__(self) -> int:
        """Entries under this cache's prefix (a SCAN, as clear() does: other keys in the database are not ours)."""
        return sum(1 for _ in self._redis.scan_iter(match=self.prefix + "*", count=500))

    def clear(self) -> None:
        batch = []
        for name in self._redis.scan_iter(match=self.prefix + "*", count=500):
            batch.append(name)
            if len(batch) >= 500:
                self._redis.delete(*batch)
                batch.clear()
        if batch:
            self._redis.delete(*batch)

    def close(self) -> None:
        self._redis.close()
