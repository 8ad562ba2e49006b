"""Cache policy: whether a call reads or writes the cache, and the hit built complete.

Modes (``configure_cache(mode=...)`` or ``$LLM_INTERFACE_CACHE_MODE``): "auto" reads and writes misses,
"record" always calls and writes, "replay" only reads (a miss raises CacheMissError: the network is
never used), "off" neither. A store that is unavailable (full disk, Redis down) costs the cache, never
the call: it is logged and the call goes on without it.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Dict, Optional, Tuple

from . import errors
from .cache import MODE_ENV_VAR, CacheBackend
from .cache.entries import check_mode, decode_entry, encode_entry
from .plan import Plan
from .request import NOT_GIVEN, InterfaceOptions

logger = logging.getLogger("llm_interface")


def current_mode(configured: Optional[str]) -> str:
    """The configured mode, else $LLM_INTERFACE_CACHE_MODE, else "auto"."""
    if configured is not None:
        return configured
    mode = os.environ.get(MODE_ENV_VAR)
    return check_mode(mode.strip().lower(), MODE_ENV_VAR) if mode and mode.strip() else "auto"


def takes_part(options: InterfaceOptions) -> bool:
    """False when the call opts out (``cache=False``/None, or a zero/None ``cache_timeout_seconds``)."""
    ttl = options.cache_timeout_seconds
    return not (options.cache in (False, None) or ttl is None or ttl == 0)


def guarded(cache: CacheBackend, operation: Callable[..., Any], *args: Any, also: Tuple[type, ...] = ()) -> Any:
    """Run one cache operation; if the store is unavailable, warn and go on without it (None)."""
    try:
        return operation(*args)
    except cache.failures + also as exc:
        logger.warning(
            "The %s cache is unavailable (%s: %s); this call goes on without it.", cache.name, type(exc).__name__, exc
        )
        return None


def lookup(cache: Optional[CacheBackend], plan: Plan) -> Any:
    """The cached answer, or None (a miss, a refresh, record mode, or no cache).

    In replay mode a miss raises CacheMissError naming the request: the network is never used.
    """
    key = plan.cache_key
    if key is None:
        return None
    mode = plan.cache_mode
    if mode == "record" or (plan.options.refresh and mode != "replay"):
        return None
    entry = guarded(cache, cache.get, key) if cache is not None else None
    hit = None
    if entry is not None:
        call: Dict[str, Any] = {"cached": True, "request_time": 0.0, "total_time": time.perf_counter() - plan.started}
        if plan.options.attempt_json_repair and plan.request.task in ("chat", "completion"):
            call["attempt_json_repair"] = True  # a Response field: chat and completion answers only
        hit = decode_entry(entry, key, call)
    if hit is None and mode == "replay":
        raise errors.CacheMissError(
            f"Replay mode: no recorded answer for {plan.request.describe()} (cache key {key[:12]}...). Record it "
            f"with --llm-cache=record, or {MODE_ENV_VAR}=record, or configure_cache(..., mode='record').",
            provider=plan.request.provider, model=plan.request.model,
        )
    return hit


def store(cache: Optional[CacheBackend], plan: Plan, response: Any) -> None:
    """Keep a successful answer (errors never reach here). Replay and off modes write nothing."""
    if plan.cache_key is None or cache is None or plan.cache_mode in ("replay", "off"):
        return
    entry = encode_entry(plan.request, response)
    if entry is None:
        return
    ttl = plan.options.cache_timeout_seconds
    # TypeError/ValueError: a value the store cannot serialise (say, a provider's odd tool-call
    # arguments) costs the entry, never the answer already in hand.
    guarded(cache, cache.set, plan.cache_key, entry, None if ttl is NOT_GIVEN else ttl, also=(TypeError, ValueError))
