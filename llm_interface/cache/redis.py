"""A cache shared by many workers and machines: Redis (extra ``[redis]``).

Entries are JSON strings under ``<prefix><key>`` with Redis's own expiry. The socket timeouts are short
on purpose: a Redis outage must cost a call a fraction of a second (then a WARNING and no cache), never
hang it. ``clear`` removes this prefix's entries only, so several applications can share one Redis.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .base import CacheBackend, decode_value, encode_value, ttl_seconds

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "llm_interface:cache:"


def redis_module():
    """The redis package, or MissingDependencyError naming the extra (shared with the rate limiter)."""
    try:
        import redis
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError('Redis support needs redis-py: pip install "llm-interface-hf[redis]"') from exc
    return redis


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
        self.url = url or path or DEFAULT_URL
        self.default_ttl = ttl
        self.prefix = prefix
        self.failures = (redis.RedisError, OSError)
        self._redis = client if client is not None else connect(self.url, timeout)

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        raw = self._redis.get(self.prefix + key)
        if raw is None:
            return None
        return decode_value(raw, f"{key} in Redis")

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:
        data = encode_value(value)
        seconds = ttl_seconds(ttl, self.default_ttl)
        self._redis.set(self.prefix + key, data, px=None if seconds is None else max(1, int(seconds * 1000)))

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
