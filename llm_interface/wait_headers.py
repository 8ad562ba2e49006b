"""The wait a server asks for, read from its headers (and a 503 body): pure functions, a leaf.

First found wins: ``retry-after-ms``; ``Retry-After`` (seconds or an HTTP date); the IETF
``RateLimit`` header (``"api";r=0;t=55``: t is seconds until the window resets, used when r=0);
OpenAI's ``x-ratelimit-reset-requests`` / ``x-ratelimit-reset-tokens`` (Go durations such as
``"1s"``, ``"6m0s"``, ``"20ms"``; used when the matching ``x-ratelimit-remaining-*`` is 0 or absent,
the longest of the spent ones winning); a 503 body's ``estimated_time``.
"""

from __future__ import annotations

import datetime
import math
import re
import time
from typing import Any, Mapping, Optional


def header(headers: Optional[Mapping[str, str]], name: str) -> Optional[str]:
    """A header's value, whatever the case of its name (plain dicts too)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lower:
                return candidate
    return value


def seconds(value: Any, scale: float = 1.0) -> Optional[float]:
    """A finite, non-negative number of seconds, or None (garbage, NaN and infinity are ignored)."""
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        return None
    return max(0.0, number) if math.isfinite(number) else None


def _parse_retry_after(value: str, now: float) -> Optional[float]:
    value = value.strip()
    parsed = seconds(value)
    if parsed is not None:
        return parsed
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
        remaining = seconds(fields["r"]) if "r" in fields else 0.0  # a garbled count: not known to be spent
        if remaining is None or remaining > 0:
            continue
        reset = seconds(fields["t"])
        if reset is not None:
            waits.append(reset)
    return max(waits) if waits else None


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration(value: str) -> Optional[float]:
    """A Go-style duration (``"1s"``, ``"6m0s"``, ``"1h2m3.5s"``, ``"20ms"``) or plain seconds, in
    seconds; None when it is neither."""
    value = value.strip().lower()
    plain = seconds(value)
    if plain is not None or not value:
        return plain
    parts = _DURATION.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        return None
    return seconds(sum(float(number) * _UNIT[unit] for number, unit in parts))


def _parse_openai_resets(headers: Mapping[str, str]) -> Optional[float]:
    waits = []
    for kind in ("requests", "tokens"):
        reset = header(headers, f"x-ratelimit-reset-{kind}")
        if reset is None:
            continue
        remaining = header(headers, f"x-ratelimit-remaining-{kind}")
        if remaining is not None and seconds(remaining) != 0.0:
            continue  # some remain (or the count is garbled): this limit is not what stopped us
        wait = duration(reset)
        if wait is not None:
            waits.append(wait)
    return max(waits) if waits else None


def server_wait(
    headers: Optional[Mapping[str, str]], body: Any = None, *, now: Optional[float] = None
) -> Optional[float]:
    """The wait the server asked for, in seconds, or None if it said nothing."""
    if headers:
        ms = header(headers, "retry-after-ms")
        if ms is not None:
            parsed = seconds(ms, 0.001)
            if parsed is not None:
                return parsed
        after = header(headers, "retry-after")
        if after is not None:
            parsed = _parse_retry_after(after, time.time() if now is None else now)
            if parsed is not None:
                return parsed
        ratelimit = header(headers, "ratelimit")
        if ratelimit is not None:
            parsed = _parse_ratelimit(ratelimit)
            if parsed is not None:
                return parsed
        parsed = _parse_openai_resets(headers)
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
    return seconds(value)
