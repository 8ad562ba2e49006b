"""One SQLite database, many entries, safe for several processes: diskcache (extra ``[sqlite]``).

``path`` is a folder holding ``cache.db``. Values are stored as JSON text, never pickles: a cache file
shared between users or machines must not be able to run code when read. Every value is kept inside
the database (no side files), so the folder stays one file.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Dict, Optional, Union

from ..errors import ConfigurationError
from .base import (
    CacheBackend,
    check_count,
    check_folder,
    check_seconds,
    check_ttl,
    decode_value,
    encode_value,
    ttl_seconds,
)

DEFAULT_PATH = ".llm_cache.sqlite"


def _diskcache():
    try:
        import diskcache
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            'The sqlite cache needs diskcache: pip install "llm-interface-hf[sqlite]"'
        ) from exc
    return diskcache


class SQLiteCache(CacheBackend):
    name = "sqlite"

    def __init__(
        self,
        path: Union[str, os.PathLike, None] = None,
        ttl: Optional[float] = None,
        size_limit: int = 2**30,
        timeout: float = 1.0,
        **_: Any,
    ) -> None:
        diskcache = _diskcache()
        self.path = os.fspath(check_folder(path if path is not None else DEFAULT_PATH, self.name))
        self.default_ttl = check_ttl(ttl, self.name)
        self.failures = (OSError, sqlite3.Error, diskcache.Timeout)
        # timeout: how long SQLite waits on another process's lock before giving up (then: no cache).
        try:
            self._cache = diskcache.Cache(
                self.path, timeout=check_seconds(timeout, "timeout", self.name),
                size_limit=check_count(size_limit, "size_limit", self.name), disk_min_file_size=2**31 - 1,
            )
        except self.failures as exc:  # opening needs to create or write cache.db: a read-only place cannot
            raise ConfigurationError(
                f"Cannot open the sqlite cache in {self.path!r} ({type(exc).__name__}: {exc}). Its path must be a "
                "folder this process can write, holding its cache.db (or none yet): choose another folder, fix its "
                "permissions, or remove a cache.db that is not this cache's database."
            ) from exc

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        raw = self._cache.get(key, retry=True)
        if raw is None:
            return None
        return decode_value(raw, f"{key} in {self.path}")

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:
        data = encode_value(value)
        self._cache.set(key, data, expire=ttl_seconds(ttl, self.default_ttl), retry=True)

    def delete(self, key: str) -> None:
        self._cache.delete(key, retry=True)

    def clear(self) -> None:
        self._cache.clear(retry=True)

    def close(self) -> None:
        self._cache.close()

    def __len__(self) -> int:
        return len(self._cache)
