"""When to retry, and how long to wait: pure functions, tested as a table of cases.

Retried: 408, 425, 429, 500, 502, 503, 504, connection errors and timeouts. Never another 4xx:
401, 402 and 422 fail at once with their typed error.

The wait, first found wins: ``retry-after-ms``; ``Retry-After`` (seconds or an HTTP date); the IETF
``RateLimit`` header (``"api";r=0;t=55``: t is seconds until the window resets, used when r=0); a 503
body's ``estimated_time``; else exponential backoff with full jitter, ``uniform(0, multiplier * 2**attempt)``.
Every wait is capped at ``max_wait``; the caller also keeps a total budget.
"""

from __future__ import annotations

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


def _parse_retry_after(value: str, now: float) -> Optional[float]:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # lazy: HTTP dates are rare, and email.utils costs import time

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


_RATELIMIT_FIELD = re.compile(r"([a-z]+)=([0-9.]+)")


def _parse_ratelimit(value: str) -> Optional[float]:
    """``"api";r=0;t=55`` -> 55 when nothing remains (r=0); None while requests remain."""
    fields = dict(_RATELIMIT_FIELD.findall(value.lower()))
    if "t" not in fields:
        return None
    if "r" in fields and float(fields["r"]) > 0:
        return None
    return float(fields["t"])


def server_wait(
    headers: Optional[Mapping[str, str]], body: Any = None, *, now: Optional[float] = None
) -> Optional[float]:
    """The wait the server asked for, in seconds, or None if it said nothing."""
    now = time.time() if now is None else now
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
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
    if isinstance(body, dict):
        estimated = body.get("estimated_time")
        if isinstance(estimated, (int, float)) and not isinstance(estimated, bool):
            return max(0.0, float(estimated))
    return None


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
    return min(max_wait, rand() * multiplier * (2 ** attempt))
