"""The interface every cache backend implements."""

from __future__ import annotations

from typing import Any, Dict, Optional


class CacheBackend:
    """Stores JSON-ready dicts. ``ttl`` None means the backend's default; 0 or less means forever."""

    name = "base"

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
