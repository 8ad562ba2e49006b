"""Response caches behind one small interface, and the key that names an entry.

A backend stores JSON-ready dicts under string keys with an optional time to live in seconds.
Backends: ``memory`` (here, cachetools). More backends plug in through ``BACKENDS``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from .base import CacheBackend
from .keys import cache_key
from .memory import MemoryCache

BACKENDS: Dict[str, Callable[..., CacheBackend]] = {
    "memory": MemoryCache,
}


def make_cache(backend: str = "memory", **kwargs: Any) -> CacheBackend:
    from ..errors import ConfigurationError

    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ConfigurationError(
            f"Unknown cache backend {backend!r}; known: {', '.join(sorted(BACKENDS))}."
        ) from None
    return factory(**kwargs)


__all__ = ["BACKENDS", "CacheBackend", "MemoryCache", "cache_key", "make_cache"]
