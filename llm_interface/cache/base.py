"""The interface every cache backend implements."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Dict, Optional, Tuple, Type

logger = logging.getLogger("llm_interface")


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


def encode_value(value: Dict[str, Any]) -> str:
    """The compact JSON a store keeps for an entry."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode_value(raw: Any, where: str) -> Optional[Dict[str, Any]]:
    """The entry in ``raw``; an unreadable one is a miss with a WARNING, never a crash."""
    try:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise TypeError("value is not an object")
    except (ValueError, TypeError) as exc:
        logger.warning("Cache entry %s is corrupt (%s); treated as a miss.", where, exc)
        return None
    return value


def expiry(ttl: Optional[float], default: Optional[float]) -> Optional[float]:
    """The wall-clock time an entry stored now expires at, or None for never (shared by the stores)."""
    seconds = default if ttl is None else ttl
    return time.time() + seconds if seconds and seconds > 0 else None


def ttl_seconds(ttl: Optional[float], default: Optional[float]) -> Optional[float]:
    """The time to live to hand to a store that expires entries itself, or None for never."""
    seconds = default if ttl is None else ttl
    return float(seconds) if seconds and seconds > 0 else None
