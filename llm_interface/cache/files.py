"""One JSON file per entry in a folder: the fixture store a user commits to their repository.

Files are named by the key and pretty-printed with sorted keys, so that re-recording a fixture gives a
readable diff. Writes are atomic (a temporary file in the same folder, then ``os.replace``): a reader
sees the old entry or the new one, never half of one, even with several processes writing. A file
that cannot be read or parsed is a miss with a WARNING, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional, Union

from .base import CacheBackend, check_folder, check_ttl, expiry

logger = logging.getLogger("llm_interface")

DEFAULT_PATH = ".llm_cache"


class FileCache(CacheBackend):
    name = "files"

    def __init__(
        self, path: Union[str, os.PathLike, None] = None, ttl: Optional[float] = None, expire: bool = True, **_: Any
    ) -> None:
        self.path = check_folder(path if path is not None else DEFAULT_PATH, self.name)
        self.default_ttl = check_ttl(ttl, self.name)
        self.expire = expire  # False for test fixtures: a recorded answer must not expire under a test

    def _file(self, key: str) -> Path:
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError(f"cache keys are hex digests, got {key!r}")  # never a path from outside
        return self.path / f"{key}.json"

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        file = self._file(key)
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(raw)
            value, expires = entry["value"], entry.get("expires_at")
            if not isinstance(value, dict):
                raise TypeError("value is not an object")
            expired = self.expire and expires is not None and time.time() >= float(expires)  # a hand-edited date: corrupt
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("Cache entry %s is corrupt (%s); treated as a miss.", file, exc)
            return None
        if expired:
            return None
        return value

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:
        file = self._file(key)
        expires_at = expiry(ttl, self.default_ttl) if self.expire else None
        entry = {"key": key, "expires_at": expires_at, "value": value}
        data = json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def delete(self, key: str) -> None:
        try:
            self._file(key).unlink()
        except FileNotFoundError:
            pass

    def clear(self) -> None:
        if not self.path.is_dir():
            return
        for file in self.path.glob("*.json"):
            try:
                file.unlink()
            except FileNotFoundError:
                pass

    def __len__(self) -> int:
        return sum(1 for _ in self.path.glob("*.json")) if self.path.is_dir() else 0
