"""The cache key: a hash of everything that changes the answer, and nothing secret.

In: provider, task, resolved model, endpoint (api_base), messages or prompt or inputs, every
generation parameter, the routing settings (inference provider, prompt template, local options), and a
one-way fingerprint of the API key, so that tenants sharing a cache never read each other's answers.
Out: the key itself, headers, timeouts. Two calls that differ in model or temperature never share an
entry (the JS library's cache ignores both).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from ..credentials import fingerprint
from ..request import Request

KEY_VERSION = 1
# How the call travels, not what it answers ("stream": a stream and a call share the aggregate).
# "cross_encoder": decided by the model (the Hub's tag, rerank_pipeline.py), so that a replay needs no Hub request.
_IGNORED_SETTINGS = frozenset({"api_key", "headers", "timeout", "scale_up_timeout", "bill_to", "stream", "cross_encoder"})


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return repr(value)


# One encoder for every key: json.dumps with options builds a new one per call (a tenth of a cache hit).
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=_default, separators=(",", ":"))


def cache_key(request: Request, scope: Optional[str] = None) -> str:
    """``scope`` replaces the key's fingerprint as the tenant: a fixed name lets fixtures recorded with
    one key replay with another, or with none (the pytest plugin uses it)."""
    material = {
        "v": KEY_VERSION,
        "provider": request.provider,
        "task": request.task,
        "model": request.model,
        "api_base": request.api_base,
        "messages": request.messages,
        "prompt": request.prompt,
        "inputs": request.inputs,
        "params": request.params,
        "stream": False,  # a stream and a call share an answer: the cache stores the aggregate
        "settings": {k: v for k, v in request.settings.items() if k not in _IGNORED_SETTINGS},
        "tenant": scope if scope is not None else fingerprint(request.api_key),
    }
    blob = _ENCODER.encode(material)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
