"""When to retry, and how long to wait: pure functions, tested as a table of cases.

Retried: 408, 425, 429, 500, 502, 503, 504, connection errors and timeouts. Never another 4xx:
401, 402 and 422 fail at once with their typed error.

The wait, first found wins: ``retry-after-ms``; ``Retry-After`` (seconds or an HTTP date); the IETF
``RateLimit`` header (``"api";r=0;t=55``: t is seconds until the window resets, used when r=0); a 503
body's ``estimated_time``; else exponential backoff with full jitter, ``uniform(0, multiplier * 2**attempt)``.
Every wait is capped at ``max_wait``; the caller also keeps a total budget.
"""

from __future__ import annotations

import datetime
import functools
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 2  # retries after the first attempt
    multiplier: float = 0.5  # seconds, base of the backoff
    max_wait: float = 30.0  # cap on one wait
    budget: float = 60.0  # cap on all waits of one call

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def of(attempts: int, multiplier: float, budget: float) -> "RetryPolicy":
        """One shared (frozen) policy per setting: built once, not on every call's planning."""
        return RetryPolicy(attempts=attempts, multiplier=multiplier, budget=budget)

    def should_retry(self, retries_done: int, status: Optional[int]) -> bool:
        return retries_done < self.attempts and (status is None or status in RETRY_STATUSES)


def _header(headers: Optional[Mapping[str, str]], name: str) -> Optional[str]:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lower:
                return candidate
    return value


def _seconds(value: str, scale: float = 1.0) -> Optional[float]:
    """A finite, non-negative number of seconds, or None (garbage, NaN and infinity are ignored)."""
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        return None
    return max(0.0, number) if math.isfinite(number) else None


def _parse_retry_after(value: str, now: float) -> Optional[float]:
    value = value.strip()
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    import email.utils  # lazy: HTTP dates are rare, and email.utils costs import time

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT (RFC 9110)
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - now)


_RATELIMIT_FIELD = re.compile(r"([a-z]+)=([0-9.]+)")


def _parse_ratelimit(value: str) -> Optional[float]:
    """``"api";r=0;t=55`` -> 55 when nothing remains (r=0); None while requests remain.

    The header may list several policies (``"api";r=0;t=55, "burst";r=3;t=1``): the longest reset
    among the exhausted ones wins, since every exhausted policy must reset before a retry can pass.
    """
    waits = []
    for item in value.lower().split(","):
        fields = dict(_RATELIMIT_FIELD.findall(item))
        if "t" not in fields:
            continue
        remaining = _seconds(fields["r"]) if "r" in fields else 0.0  # a garbled count: not known to be spent
        if remaining is None or remaining > 0:
            continue
        seconds = _seconds(fields["t"])
        if seconds is not None:
            waits.append(seconds)
    return max(waits) if waits else None


def server_wait(
    headers: Optional[Mapping[str, str]], body: Any = None, *, now: Optional[float] = None
) -> Optional[float]:
    """The wait the server asked for, in seconds, or None if it said nothing."""
    now = time.time() if now is None else now
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        seconds = _seconds(ms, 0.001)
        if seconds is not None:
            return seconds
    after = _header(headers, "retry-after")
    if after is not None:
        parsed = _parse_retry_after(after, now)
        if parsed is not None:
            return parsed
    ratelimit = _header(headers, "ratelimit")
    if ratelimit is not None:
        parsed = _parse_ratelimit(ratelimit)
        if parsed is not None:
            return parsed
    return estimated_time(body)


def estimated_time(body: Any) -> Optional[float]:
    """A 503 body's ``estimated_time`` in seconds (a number or numeric text, finite, negative read
    as 0), else None. The one reading, for the wait and for ``ModelLoadingError.estimated_time``."""
    if not isinstance(body, dict):
        return None
    value = body.get("estimated_time")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return _seconds(value)


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
