"""How a result is stored in a cache entry, and read back: its type name, its data, and a key-free
summary of the request for people reading a recorded fixture."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

from .. import errors
from .. import types as _types
from ..request import Request
from ..task_types import TASK_RESULTS
from . import MODES

logger = logging.getLogger("llm_interface")


def check_mode(mode: str, where: str) -> str:
    if mode not in MODES:
        raise errors.ConfigurationError(f"{where} must be one of {', '.join(MODES)}; got {mode!r}.")
    return mode


# The result types a cache entry can hold, by name. A type is cacheable once it has to_dict/from_dict.
CACHEABLE = ("Response", "EmbeddingResponse", "ClassificationResponse", "RerankResponse", *TASK_RESULTS)
_CLASSES = {**{name: getattr(_types, name) for name in CACHEABLE if name not in TASK_RESULTS}, **TASK_RESULTS}


def encode_entry(request: Request, response: Any) -> Optional[Dict[str, Any]]:
    """The stored form: the result's type and data, and a key-free summary of the request for humans
    reading a fixture (the API key and headers are never part of it)."""
    kind = type(response).__name__
    to_dict = getattr(response, "to_dict", None)
    if kind not in CACHEABLE or to_dict is None:
        return None
    summary = {
        "provider": request.provider,
        "task": request.task,
        "model": request.model,
        "messages": request.messages,
        "prompt": request.prompt,
        "inputs": request.inputs,
        "params": request.params,
    }
    summary = json.loads(json.dumps({k: v for k, v in summary.items() if v not in (None, {})}, default=repr))
    return {"type": kind, "data": to_dict(), "request": summary}


def decode_entry(entry: Any, key: str, call: Optional[Dict[str, Any]] = None) -> Any:
    """The result stored in ``entry`` (with the per-call fields ``call``, e.g. ``cached=True``); an entry
    that cannot be read is a miss with a WARNING."""
    try:
        kind = entry.get("type", "Response")
        if kind not in CACHEABLE:
            raise TypeError(f"unknown result type {kind!r}")
        return _CLASSES[kind].from_dict(entry["data"], **(call or {}))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        logger.warning("Cache entry %s cannot be read (%s: %s); treated as a miss.", key[:12], type(exc).__name__, exc)
        return None
