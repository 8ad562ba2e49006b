"""The interface every cache backend implements."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple, Type


class CacheBackend:
    """Stores JSON-ready dicts. ``ttl`` None means the backend's default; 0 or less means forever.

    ``failures`` names the exceptions that mean "the store is unavailable" (a full disk, a Redis
    outage): the Client catches exactly these, logs a WARNING and carries on without the cache, so a
    cache problem never fails a call. A corrupt entry is not a failure: ``get`` returns None (a miss)
    and logs a WARNING itself.
    """

    name = "base"
    failures: Tuple[Type[BaseException], ...] = (OSError,)

    def get(self, key: str) -> Optional[Dict[str, Any]]:  # pragma: no cover - protocol
        raise NotImplementedError

    def set(self, key: str, value: Dict[str, Any], ttl: Optional[float] = None) -> None:  # pragma: no cover
        raise NotImplementedError

    def delete(self, key: str) -> None:  # pragma: no cover - protocol
        raise NotImplementedError

    def clear(self) -> None:  # pragma: no cover - protocol
        raise NotImplementedError

    def close(self) -> None:
        """Release files or connections; the default has none."""


def expiry(ttl: Optional[float], default: Optional[float]) -> Optional[float]:
    """The wall-clock time an entry stored now expires at, or None for never (shared by the stores)."""
    seconds = default if ttl is None else ttl
    return time.time() + seconds if seconds and seconds > 0 else None


def ttl_seconds(ttl: Optional[float], default: Optional[float]) -> Optional[float]:
    """The time to live to hand to a store that expires entries itself, or None for never."""
    seconds = default if ttl is None else ttl
    return float(seconds) if seconds and seconds > 0 else None
