"""When to retry, and how long to wait: the policy, the delay and the retry loop's bookkeeping.

Retried: 408, 425, 429, 500, 502, 503, 504, connection errors and timeouts. Never another 4xx:
401, 402 and 422 fail at once with their typed error; never a ConfigurationError (what cannot
succeed is not tried again).

The wait is the server's (``wait_headers.server_wait``: ``retry-after-ms``, ``Retry-After``,
``RateLimit``, ``x-ratelimit-reset-*``, a 503's ``estimated_time``), else exponential backoff with
full jitter, ``uniform(0, multiplier * 2**attempt)``. Every wait is capped at ``max_wait``; all the
waits of a call at ``budget``; and with a ``deadline`` no wait is made that would end past it.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from . import errors
from .wait_headers import estimated_time, server_wait
from .wire import Context, RetryHook

__all__ = ["RETRY_STATUSES", "RetryPolicy", "Retrier", "estimated_time", "retry_delay", "server_wait"]

logger = logging.getLogger("llm_interface")

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 2  # retries after the first attempt
    multiplier: float = 0.5  # seconds, base of the backoff
    max_wait: float = 30.0  # cap on one wait
    budget: float = 60.0  # cap on all waits of one call
    deadline: Optional[float] = None  # seconds for the whole call (attempts, waits, body), None: no limit

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def of(attempts: int, multiplier: float, budget: float, deadline: Optional[float] = None) -> "RetryPolicy":
        """One shared (frozen) policy per setting: built once, not on every call's planning."""
        return RetryPolicy(attempts=attempts, multiplier=multiplier, budget=budget, deadline=deadline)

    def should_retry(self, retries_done: int, status: Optional[int]) -> bool:
        return retries_done < self.attempts and (status is None or status in RETRY_STATUSES)


def retry_delay(
    status: Optional[int],
    headers: Optional[Mapping[str, str]],
    body: Any,
    attempt: int,
    *,
    multiplier: float = 0.5,
    max_wait: float = 30.0,
    now: Optional[float] = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based), capped at ``max_wait``."""
    asked = server_wait(headers, body, now=now)
    if asked is not None:
        return min(asked, max_wait)
    return min(max_wait, rand() * multiplier * (2 ** min(attempt, 32)))  # the exponent is bounded: no overflow


class Retrier:
    """The retry loop's bookkeeping, shared by the sync and async transports (which only sleep)."""

    __slots__ = ("policy", "ctx", "on_retry", "retries", "waited", "ends_at")

    def __init__(self, policy: RetryPolicy, ctx: Context, on_retry: Optional[RetryHook]) -> None:
        self.policy = policy
        self.ctx = ctx
        self.on_retry = on_retry
        self.retries = 0
        self.waited = 0.0
        # perf_counter() time the call must end by (the policy's deadline), or None.
        self.ends_at = None if policy.deadline is None else time.perf_counter() + policy.deadline

    def left(self) -> Optional[float]:
        """Seconds left before the deadline (never below 0), or None without one."""
        return None if self.ends_at is None else max(0.0, self.ends_at - time.perf_counter())

    def wait_or_raise(self, error: errors.LLMInterfaceError, headers: Optional[Mapping[str, str]]) -> float:
        """Seconds to wait before the next attempt; raises ``error`` (keeping its cause) when there is none."""
        delay = self.next_wait(error, headers, error.body if headers is not None else None)
        if delay is None:
            raise error
        return delay

    def next_wait(self, error: errors.LLMInterfaceError, headers: Optional[Mapping[str, str]], body: Any) -> Optional[float]:
        """Seconds to wait before trying again, or None to give up (then raise ``error``).

        Giving up happens before any sleep: there is never a wait after the last attempt. The total
        budget (``max_retry_wait``) counts the waits: a retry whose wait would pass it is not made,
        since sleeping and then failing anyway only delays the error. So is one past the deadline.
        """
        error.retries = self.retries
        retryable = isinstance(error, (errors.APIError, errors.TimeoutError, errors.ConnectionError))
        if not retryable or not self.policy.should_retry(self.retries, error.status):
            if self.retries and retryable:
                error.message += f" (gave up after {self.retries + 1} attempts)"
            return None
        delay = retry_delay(
            error.status, headers, body, self.retries,
            multiplier=self.policy.multiplier, max_wait=self.policy.max_wait,
        )
        if self.waited + delay > self.policy.budget:
            error.message += (
                f" (gave up after {self.retries + 1} attempts: the next wait of {delay:.1f}s would pass "
                f"max_retry_wait={self.policy.budget:g}s)"
            )
            return None
        left = self.left()
        if left is not None and delay >= left:
            error.message += (
                f" (gave up after {self.retries + 1} attempts: the next wait of {delay:.1f}s would pass "
                f"the deadline of {self.policy.deadline:g}s)"
            )
            return None
        self.retries += 1
        self.waited += delay
        logger.warning(
            "Retry %d/%d for %s %s in %.2fs: %s",
            self.retries, self.policy.attempts, self.ctx.provider, self.ctx.model or "(server default model)", delay, error,
        )
        if self.on_retry is not None:
            self.on_retry(self.retries, delay, error)
        return delay
