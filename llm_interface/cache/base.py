"""The interface every cache backend implements."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Type

from ..errors import ConfigurationError
from ..request import finite_number

logger = logging.getLogger("llm_interface")


class CacheBackend:
    """Stores JSON-ready dicts. ``ttl`` None means the backend's default; 0 or less means forever.

    One rule for every backend (docs/cache.md): what the user can fix at configure time fails there,
    with a ConfigurationError naming the argument and the fix (a wrong type or value, a path that is a
    file, a database that cannot be opened, a URL that does not parse); a store that fails later, while
    calls use it, degrades to no cache with a WARNING. ``failures`` names the exceptions that mean "the
    store is unavailable" (a full disk, a Redis outage): the Client catches exactly these, logs a WARNING
    and carries on without the cache (the Redis cache handles them itself, behind its breaker), so a
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


# -- configure-time checks shared by the backends: each raises ConfigurationError naming the argument --


def check_ttl(ttl: Any, backend: str) -> Optional[float]:
    if ttl is not None and (not finite_number(ttl) or ttl < 0):
        raise ConfigurationError(
            f"The {backend} cache's ttl must be a finite number of seconds >= 0 (0 or None: entries never "
            f"expire), got {ttl!r}."
        )
    return ttl


def check_seconds(value: Any, argument: str, backend: str) -> float:
    if not finite_number(value) or value <= 0:
        raise ConfigurationError(f"The {backend} cache's {argument} must be a finite number of seconds > 0, got {value!r}.")
    return float(value)


def check_count(value: Any, argument: str, backend: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"The {backend} cache's {argument} must be an int >= 1, got {value!r}.")
    return value


def check_folder(path: Any, backend: str) -> Path:
    """A folder path that is, or can become, a folder: not a file, nor under one (nothing is created here)."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ConfigurationError(f"The {backend} cache's path must be a folder path (a str or Path), got {path!r}.")
    folder = Path(path)
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                where = "is a file" if place == folder else f"is under the file {place}"
                raise ConfigurationError(
                    f"The {backend} cache's path {os.fspath(path)!r} {where}; give a folder (it is created if missing)."
                )
            break
    return folder
