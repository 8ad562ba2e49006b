"""The call recorder: what happens around a call's I/O, for every call, sync or async, streamed or not.

``started`` tells the ``request`` hooks; ``succeeded`` builds the final Response (timings, retries, the
original body when asked), stores it in the cache and tells the ``response`` hooks; ``failed_with``
tells the ``error`` hooks; ``retry_hook`` forwards the transport's retries to the ``retry`` hooks.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Dict, Optional, Protocol

from . import cache_policy
from .events import Hooks
from .plan import Plan
from .types import Response
from .wire import RetryHook


class Recorded(Protocol):
    """What the recorder reads from its client: the hooks and the cache of the moment."""

    hooks: Hooks
    cache: Any

    def account(self, plan: Plan, response: Response) -> Optional[float]:
        """The answer's cost in USD (None when unknown), counted against the client's budget."""


class Recorder:
    __slots__ = ("_owner",)

    def __init__(self, owner: Recorded) -> None:
        self._owner = owner

    def started(self, plan: Plan) -> None:
        hooks = self._owner.hooks
        if hooks:
            hooks.emit("request", plan.request)

    def succeeded(self, plan: Plan, response: Any, request_time: float, retries: int, original: Any = None) -> Any:
        """The answer with this call's details, stored and told to the hooks."""
        changes = dict(
            retries=retries,
            request_time=request_time,
            total_time=time.perf_counter() - plan.started,
            original=original if plan.options.include_original_response else None,
        )
        if isinstance(response, Response):
            changes["attempt_json_repair"] = plan.options.attempt_json_repair
            changes["cost"] = self._owner.account(plan, response)
        # The provider's parse gives the answer; the call's details are known only here: one copy.
        response = _completed(response, changes)
        owner = self._owner
        cache_policy.store(owner.cache, plan, response)
        if owner.hooks:
            owner.hooks.emit("response", plan.request, response)
        return response

    def failed_with(self, plan: Plan, error: BaseException) -> None:
        hooks = self._owner.hooks
        if hooks:
            hooks.emit("error", plan.request, error)

    def retry_hook(self, plan: Plan) -> Optional[RetryHook]:
        hooks = self._owner.hooks
        if not hooks:
            return None
        return lambda number, wait, error: hooks.emit("retry", plan.request, number, wait, error)


_set = object.__setattr__


def _completed(response: Any, changes: Dict[str, Any]) -> Any:
    """``dataclasses.replace(response, **changes)`` without running ``__init__`` again (half the cost, on
    every call): the provider built and checked the answer, and the changed fields are the recorder's own."""
    kind = type(response)
    names = getattr(kind, "__slots__", None)
    if not names or not set(changes).issubset(names):
        return replace(response, **changes)
    copy = object.__new__(kind)
    for name in names:
        _set(copy, name, changes[name] if name in changes else getattr(response, name))
    return copy
