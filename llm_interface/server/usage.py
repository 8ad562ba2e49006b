"""The proxy's usage accounting: each answer's cost, a running total per model, and the prices behind them.

An answer's cost is the library's ``Response.cost`` (cost.py: USD from the router catalogue's prices, ``None``
when unknown). A cached answer (``Response.cached``) cost nothing upstream: it counts as a request with cost 0.
The totals (``GET /v1/usage``) add the known costs and count the answers whose cost is unknown apart, so an
unpriced answer never reads as a free one.

Prices need the catalogue in the shared client. ``Prices.ensure`` loads it lazily, before a call to a route that
goes through the Hugging Face router, once per ``CATALOGUE_TTL``; a failed load is logged, retried after
``RETRY_AFTER`` seconds, and leaves costs unknown: it never fails the call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from .. import errors
from ..catalogue import CATALOGUE_TTL
from ..client import Client
from ..credentials import find_api_key
from .config import ModelRoute

logger = logging.getLogger("llm_interface.server")

COST_HEADER = "x-llm-interface-cost"  # LiteLLM's proxy sends the like as x-litellm-response-cost
RETRY_AFTER = 60.0  # seconds between tries to load a catalogue that failed to load


def answer_cost(response: Any) -> Optional[float]:
    """What this answer cost in USD: 0 for a cached one, ``None`` when unknown."""
    if getattr(response, "cached", False):
        return 0.0
    cost = getattr(response, "cost", None)
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None


def with_cost(usage: Optional[Dict[str, Any]], cost: Optional[float]) -> Optional[Dict[str, Any]]:
    """An OpenAI ``usage`` object with ``cost`` added when known (clients ignore fields they do not know)."""
    if usage is None or cost is None:
        return usage
    return {**usage, "cost": cost}


def cost_headers(cost: Optional[float]) -> Dict[str, str]:
    return {COST_HEADER: repr(cost)} if cost is not None else {}


@dataclass
class ModelUsage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    known_cost: float = 0.0
    priced_requests: int = 0
    unknown_cost_requests: int = 0
    cached_requests: int = 0

    def as_dict(self) -> Dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            # None, not 0, when no answer's cost is known: an unpriced total is not a free one
            "cost": self.known_cost if self.priced_requests else None,
            "unknown_cost_requests": self.unknown_cost_requests,
            "cached_requests": self.cached_requests,
        }


class UsageLedger:
    """Running totals per model name, safe from any thread or task (a lock around plain additions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: Dict[str, ModelUsage] = {}

    def record(self, model: str, response: Any) -> Optional[float]:
        """Add one answer; returns its cost (``answer_cost``)."""
        cost = answer_cost(response)
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None) or 0
        completion = getattr(usage, "completion_tokens", None) or 0
        with self._lock:
            row = self._models.setdefault(model, ModelUsage())
            row.requests += 1
            row.prompt_tokens += prompt
            row.completion_tokens += completion
            row.cached_requests += bool(getattr(response, "cached", False))
            if cost is None:
                row.unknown_cost_requests += 1
            else:
                row.priced_requests += 1
                row.known_cost += cost
        return cost

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            rows = {name: ModelUsage(**vars(row)) for name, row in self._models.items()}
        total = ModelUsage()
        for row in rows.values():
            for name, value in vars(row).items():
                setattr(total, name, getattr(total, name) + value)
        return {"object": "usage", "data": [{"model": name, **rows[name].as_dict()} for name in sorted(rows)],
                "total": total.as_dict()}


def via_router(route: ModelRoute) -> bool:
    """Routes the catalogue prices: Hugging Face through the router (no endpoint of its own)."""
    return (route.provider == "huggingface" and not route.options.get("api_base")
            and not route.model.startswith(("http://", "https://")))


class Prices:
    """Loads the router's catalogue into the shared client, lazily and at most once per ``CATALOGUE_TTL``."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._next_try = 0.0
        self._lock: Optional[asyncio.Lock] = None  # made in the server's loop, on first use

    async def ensure(self, route: ModelRoute) -> None:
        if not via_router(route) or time.monotonic() < self._next_try:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent first calls wait for one load
            if time.monotonic() < self._next_try:
                return
            key = route.options.get("api_key") or find_api_key("huggingface", None, self.client.api_keys)
            try:
                await asyncio.to_thread(self.client.catalogue.full, key)
                self._next_try = time.monotonic() + CATALOGUE_TTL
            except errors.LLMInterfaceError as error:
                self._next_try = time.monotonic() + RETRY_AFTER
                logger.warning("The router's catalogue did not load (%s); costs stay unknown, next try in %.0f s.",
                               type(error).__name__, RETRY_AFTER)
