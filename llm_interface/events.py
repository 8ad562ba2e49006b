"""Hooks that let users plug in their own metrics and logging.

Events: ``request`` (a key-free ``Request``), ``response`` (request, response), ``retry``
(request, retry number, wait, error), ``error`` (request, error). A hook that raises is logged and
ignored: user metrics never break a call.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List

logger = logging.getLogger("llm_interface")

EVENTS = ("request", "response", "retry", "error")


class Hooks:
    __slots__ = ("_hooks",)

    def __init__(self) -> None:
        self._hooks: Dict[str, List[Callable[..., Any]]] = {}

    def add(self, event: str, hook: Callable[..., Any]) -> Callable[..., Any]:
        name = event[3:] if event.startswith("on_") else event
        if name not in EVENTS:
            raise ValueError(f"Unknown event {event!r}; use one of {', '.join('on_' + e for e in EVENTS)}.")
        if not callable(hook):
            raise TypeError("A hook must be callable.")
        self._hooks.setdefault(name, []).append(hook)
        return hook

    def remove(self, event: str, hook: Callable[..., Any]) -> None:
        name = event[3:] if event.startswith("on_") else event
        if hook in self._hooks.get(name, ()):
            self._hooks[name].remove(hook)

    def __bool__(self) -> bool:
        return any(self._hooks.values())

    def emit(self, event: str, *args: Any) -> None:
        for hook in self._hooks.get(event, ()):
            try:
                hook(*args)
            except Exception:  # noqa: BLE001 - a user's hook must not break the call
                logger.exception("The %s hook %r raised; ignored.", event, hook)
