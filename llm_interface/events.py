"""Hooks that let users plug in their own metrics and logging.

Events: ``request`` (a key-free ``Request``), ``response`` (request, response), ``retry``
(request, retry number, wait, error), ``error`` (request, error), ``cache_hit`` (request, the cached
answer: a call the cache answered, which no other event sees). The ``Response`` carries the
timings (``request_time``, ``total_time``), ``usage``, ``retries`` and ``cached``. A hook that raises
is logged and ignored: user metrics never break a call. Register with ``Client.on("response", fn)``.

Hooks never see a key: every ``Request`` handed to a hook has ``api_key=None`` and its secret-bearing
headers redacted.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable, Dict, List

from .redact import headers as redact_headers
from .request import Request

logger = logging.getLogger("llm_interface")

EVENTS = ("request", "response", "retry", "error", "cache_hit")


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
        hooks = self._hooks.get(event)
        if not hooks:
            return
        args = tuple(_key_free(arg) for arg in args)
        for hook in tuple(hooks):  # a copy: a batch may add or remove its hook meanwhile
            try:
                hook(*args)
            except Exception:  # noqa: BLE001 - a user's hook must not break the call
                logger.exception("The %s hook %r raised; ignored.", event, hook)


def _key_free(value: Any) -> Any:
    """A Request without its key (and with secret headers redacted); anything else as it is."""
    if isinstance(value, Request) and (value.api_key is not None or value.headers):
        return replace(value, api_key=None, headers=redact_headers(value.headers))
    return value
