"""Response caches behind one small interface, and the key that names an entry.

A backend stores JSON-ready dicts under string keys with an optional time to live in seconds.
Backends: ``memory`` (cachetools, in process), ``files`` (one JSON file per entry: fixtures),
``sqlite`` (diskcache, one database shared by processes), ``redis`` (shared by machines). The
optional ones are imported only when chosen.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from .base import CacheBackend
from .keys import cache_key


def _memory(**kwargs: Any) -> CacheBackend:
    from .memory import MemoryCache  # cachetools: imported when a memory cache is made, not with the package

    return MemoryCache(**kwargs)


def _files(**kwargs: Any) -> CacheBackend:
    from .files import FileCache

    return FileCache(**kwargs)


def _sqlite(**kwargs: Any) -> CacheBackend:
    from .sqlite import SQLiteCache

    return SQLiteCache(**kwargs)


def _redis(**kwargs: Any) -> CacheBackend:
    from .redis import RedisCache

    return RedisCache(**kwargs)


BACKENDS: Dict[str, Callable[..., CacheBackend]] = {
    "memory": _memory,
    "files": _files,
    "sqlite": _sqlite,
    "redis": _redis,
}

MODES = ("auto", "record", "replay", "off")
MODE_ENV_VAR = "LLM_INTERFACE_CACHE_MODE"


def make_cache(backend: str = "memory", **kwargs: Any) -> CacheBackend:
    from ..errors import ConfigurationError

    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ConfigurationError(
            f"Unknown cache backend {backend!r}; known: {', '.join(sorted(BACKENDS))}."
        ) from None
    return factory(**{k: v for k, v in kwargs.items() if v is not None})


def __getattr__(name: str) -> Any:
    if name == "MemoryCache":
        from .memory import MemoryCache

        return MemoryCache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BACKENDS", "CacheBackend", "MODES", "MODE_ENV_VAR", "MemoryCache", "cache_key", "make_cache"]
