"""A small circuit breaker for a shared store (Redis) that the cache and the rate limiter both ask.

A frozen Redis answers nothing: every command waits its whole socket timeout (0.5 s), and a call asks
three times (cache get, limiter script, cache set). After one failure the breaker opens: nobody asks that
Redis again for ``cool_down`` seconds, and the callers go on without it (no cache, this process's
rate-limit budget). Then one caller probes; a success closes the breaker, a failure opens it again.
The outage is logged once, as one WARNING, when the breaker first opens; its end once, at INFO.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict

logger = logging.getLogger("llm_interface")

COOL_DOWN = 10.0  # seconds: a frozen store costs one timeout per cool-down and process, not three per call


class Breaker:
    def __init__(self, name: str, cool_down: float = COOL_DOWN, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name  # how the log names the store, e.g. "Redis at redis://127.0.0.1:6379/0"
        self.cool_down = cool_down
        self.clock = clock
        self._open = False
        self._until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open

    def allows(self) -> bool:
        """Whether to ask the store now: always while it works; once per cool-down while it does not."""
        if not self._open:  # the hot path: no lock, no clock
            return True
        with self._lock:
            now = self.clock()
            if now < self._until:
                return False
            self._until = now + self.cool_down  # this caller probes; the others keep waiting out the cool-down
            return True

    def record_failure(self, exc: BaseException, what: str, fallback: str) -> None:
        """Record a failure of the store; ``what`` failed, and goes on with ``fallback``."""
        with self._lock:
            first = not self._open
            self._open = True
            self._until = self.clock() + self.cool_down
        level = logging.WARNING if first else logging.DEBUG
        logger.log(
            level, "%s is unavailable (%s: %s); %s. %s is not asked again for %gs.",
            what, type(exc).__name__, exc, fallback, self.name, self.cool_down,
        )

    def record_success(self) -> None:
        if self._open:
            with self._lock:
                self._open = False
                self._until = 0.0
            logger.info("%s answers again.", self.name)


_BREAKERS: Dict[str, Breaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(key: str, name: str) -> Breaker:
    """The one breaker of a store (by its URL), shared by every cache and limiter of this process that uses it."""
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(key)
        if breaker is None:
            breaker = _BREAKERS[key] = Breaker(name)
        return breaker
