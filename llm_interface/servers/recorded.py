"""The cache rule for the server calls (introspection, tokenize, counts, pooling...): they follow the
client's cache mode like any call, so that a test recorded once replays offline.

- "auto": a stored answer is used, else the server is asked and its answer stored;
- "record": the server is always asked and its answer stored; "off" (or no cache): always asked;
- "replay": only stored answers; a miss is a CacheMissError and the network is never used.

Each answer is stored under a key made of the planned call's own cache key (provider, api_base, model,
options, the key's fingerprint or the cache scope) and the route and body sent. The detected server
kind is stored too, so that a replay needs no probe. Live checks (``health``, ``metrics``) are never
stored: a recorded "healthy" would be a lie, so in replay mode they raise CacheMissError.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from .. import cache_policy, errors
from ..cache import MODE_ENV_VAR
from ..request import NOT_GIVEN

ENTRY_TYPE = "ServerAnswer"


def key_of(plan: Any, method: str, path: str, body: Any) -> Optional[str]:
    if plan.cache_key is None:
        return None
    text = json.dumps([plan.cache_key, method, path, body], sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _miss(plan: Any, what: str) -> errors.CacheMissError:
    return errors.CacheMissError(
        f"Replay mode: no recorded answer for {what} at {plan.request.api_base or plan.request.model}. Record it "
        f"with --llm-cache=record, or {MODE_ENV_VAR}=record, or configure_cache(..., mode='record').",
        provider=plan.request.provider, model=plan.request.model,
    )


def refuse_live(plan: Any, what: str) -> None:
    """Replay mode never uses the network, and a live check has nothing recorded to give."""
    if plan.cache_mode == "replay":
        raise errors.CacheMissError(
            f"Replay mode: {what} is a live check of the server and is never recorded or replayed; run it "
            f"with the cache in auto, record or off mode ({MODE_ENV_VAR}).",
            provider=plan.request.provider, model=plan.request.model,
        )


def lookup(client: Any, plan: Any, method: str, path: str, body: Any) -> Optional[Any]:
    """The stored answer body (``{"value": ...}`` unwrapped), or None; replay mode raises on a miss."""
    key = key_of(plan, method, path, body)
    if key is None or plan.cache_mode in ("record", "off"):
        return None
    cache = client.cache_for(plan.options) if plan.cache_mode != "replay" else client.cache
    entry = cache_policy.guarded(cache, cache.get, key) if cache is not None else None
    if isinstance(entry, dict) and entry.get("type") == ENTRY_TYPE and isinstance(entry.get("data"), dict):
        return entry["data"]
    if plan.cache_mode == "replay":
        raise _miss(plan, f"{method} {path}")
    return None


def keep(client: Any, plan: Any, method: str, path: str, body: Any, value: Any) -> None:
    key = key_of(plan, method, path, body)
    if key is None or plan.cache_mode in ("replay", "off"):
        return
    cache = client.cache_for(plan.options)
    if cache is None:
        return
    summary = {"provider": plan.request.provider, "task": "server", "route": f"{method} {path}", "body": body}
    entry = {"type": ENTRY_TYPE, "data": {"value": value}, "request": json.loads(json.dumps(summary, default=repr))}
    ttl = plan.options.cache_timeout_seconds
    cache_policy.guarded(cache, cache.set, key, entry, None if ttl is NOT_GIVEN else ttl,
                         also=(TypeError, ValueError))
