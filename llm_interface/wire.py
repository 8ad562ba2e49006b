"""The wire types: what a provider asks to send (``HttpCall``), what comes back (``HttpResult``) and who
the call is for (``Context``), with the I/O-free helpers both transports share (``timeouts``,
``encoded``). A leaf: it imports nothing of ours but errors and redact, so providers, streams and
clients can speak of calls without loading a transport (and requests with it).

Building a ``Context`` or an ``HttpCall`` registers the secrets it carries with ``redact.remember``:
from then on every error and debug line hides them, whoever builds it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from . import errors, redact

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
MAX_TIMEOUT = 1e6  # seconds (about 11 days); more overflows the socket layer's timeval
POOL_SIZE = 64  # matches the largest batch concurrency we document
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # one answer body, or one SSE event
# What may be left of a stream's body once the answer is complete ([DONE], a chunked body's last chunk): the
# transports read it (at most this much, waiting at most this long) so that the connection goes back to
# the pool; a body with more left, or slower, is closed instead.
DRAIN_BYTES = 65536
DRAIN_SECONDS = 0.2


@dataclass(frozen=True)
class HttpCall:
    """What a provider wants sent. Headers are left out of the repr: they hold the key."""

    method: str
    url: str
    json: Any = None
    headers: Dict[str, str] = field(default_factory=dict, repr=False)
    stream: bool = False
    timeout: Any = None
    retry_headers: Dict[str, str] = field(default_factory=dict, repr=False)  # added on retries only

    def __post_init__(self) -> None:
        redact.remember_headers(self.headers)


@dataclass
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: Any
    elapsed: float
    retries: int = 0

    @property
    def request_id(self) -> Optional[str]:
        return request_id_of(self.headers)


@dataclass(frozen=True)
class Context:
    """Who the call is for, so every error can say it."""

    provider: Optional[str] = None
    model: Optional[str] = None
    # The key this call sends: registered with redact, so that an answer echoing it (some servers quote
    # the Authorization header back) is scrubbed before it reaches an exception, a log line or the proxy.
    secret: Optional[str] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.secret:
            redact.remember(self.secret)


RetryHook = Callable[[int, float, errors.LLMInterfaceError], None]


def request_id_of(headers: Optional[Mapping[str, str]]) -> Optional[str]:
    if not headers:
        return None
    return headers.get("x-request-id") or headers.get("x-amzn-trace-id") or headers.get("cf-ray")


def _seconds_ok(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value) and 0 < value <= MAX_TIMEOUT
    )


def timeouts(value: Any) -> Tuple[float, float]:
    """(connect, read) seconds from a number, a pair, or None (the defaults)."""
    if value is None:
        return (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
    if _seconds_ok(value):
        return (min(float(value), DEFAULT_CONNECT_TIMEOUT), float(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_seconds_ok(v) for v in value):
        return (float(value[0]), float(value[1]))
    raise errors.InvalidRequestError(
        f"timeout must be a finite number of seconds > 0 and <= {MAX_TIMEOUT:g}, or a (connect, read) pair of "
        f"them, got {value!r}; to bound the whole call, set a deadline (docs/retry-and-rate-limits.md)."
    )


def encoded(call: HttpCall) -> Tuple[Optional[bytes], Dict[str, str]]:
    """(body bytes, request headers) of a call, built once for all its attempts (both transports)."""
    headers = dict(call.headers)
    if call.json is None:
        return None, headers
    headers["Content-Type"] = "application/json"
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and no server would read them.
        return json.dumps(call.json, ensure_ascii=False, allow_nan=False).encode("utf-8"), headers
    except (TypeError, ValueError) as exc:  # a set, NaN, a lone surrogate (UnicodeEncodeError)
        raise errors.InvalidRequestError(
            f"The request body cannot be sent as JSON ({exc}); remove NaN/infinite numbers and broken "
            "characters (lone surrogates) from the prompt and options."
        ) from None
