"""In-process cache: cachetools' time-aware LRU, bounded in size, thread-safe."""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable, Dict, Optional

from cachetools import TLRUCache

from .base import CacheBackend, check_count, check_ttl


def _expires(_key: str, value: tuple, now: float) -> float:
    ttl = value[0]
    return now + ttl if ttl and ttl > 0 else math.inf


class MemoryCache(CacheBackend):
    name = "memory"

    def __init__(
        self, maxsize: int = 1024, ttl: Optional[float] = None, timer: Callable[[], float] = time.monotonic, **_: Any
    ) -> None:
        self.default_ttl = check_ttl(ttl, self.name)
        self._data: TLRUCache = TLRUCache(maxsize=check_count(maxsize, "maxsize", self.name), ttu=_expires, timer=timer)
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            entry = self._data.get(key)
        return None if entry is None else entry[1]

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:
        with self._lock:
            self._data[key] = (self.default_ttl if ttl is None else ttl, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
