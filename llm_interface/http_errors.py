"""The typed errors a transport raises, built from what happened on the wire: an error answer, a 2xx
body that cannot be read, a timeout, an unreachable host. Pure (no I/O, no backend types): both
transports' exception mappers call these, so a failure reads the same from requests and aiohttp.
Secrets never need passing: ``LLMInterfaceError`` scrubs every registered one (see ``redact``).
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any, Iterable, Iterator, Mapping, Optional, Tuple, Type, Union
from urllib.parse import urlsplit

from . import errors, redact
from .wait_headers import server_wait
from .wire import Context, HttpCall, request_id_of, timeouts


def where(url: str) -> str:
    """The URL without its query (which may carry a token)."""
    return url.split("?", 1)[0]


def decode_body(content: bytes) -> Any:
    """JSON when the bytes are JSON (whatever the content-type says), else text, else None."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def success_body(status: int, headers: Mapping[str, str], content: bytes, ctx: Context) -> Any:
    """The JSON of a 2xx answer; an empty, HTML or malformed body is an InvalidResponseError."""
    if not content or not content.strip():
        raise errors.InvalidResponseError(
            "The server answered with an empty body; check api_base points at an inference API.",
            provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers),
        )
    try:
        return json.loads(content)
    except ValueError as exc:
        text = redact.clip(content, 200)
        raise errors.InvalidResponseError(
            f"The server's answer is not JSON ({errors.server_message_of(text)!s}); "
            "check api_base points at an inference API.",
            provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers), body=text,
        ) from exc


def error_for_answer(
    status: int, headers: Mapping[str, str], content: bytes, ctx: Context, secrets: Iterable[str] = ()
) -> errors.APIError:
    """The typed error for an error answer (status >= 400), with the wait a 429 asked for. ``secrets``
    (the call's secret header values) are scrubbed too, even those too short for redact to remember."""
    hidden = [*secrets, ctx.secret]
    content = redact.scrub(content, hidden)
    error = errors.error_for_status(
        status,
        decode_body(content),
        headers,
        provider=ctx.provider,
        model=ctx.model,
        request_id=request_id_of(headers),
        retry_after=server_wait(headers, None) if status == 429 else None,
    )
    if error.server_message:  # it may come from a header (X-Error-Message)
        error.server_message = redact.scrub(error.server_message, hidden)
        error.message = redact.scrub(error.message, hidden)
    return error


def timeout_error(ctx: Context, call: HttpCall, what: str) -> errors.TimeoutError:
    connect, read = timeouts(call.timeout)
    return errors.TimeoutError(
        f"{what} timed out (connect {connect:g}s, read {read:g}s) for {where(call.url)}; "
        "raise the timeout option or retry_attempts.",
        provider=ctx.provider, model=ctx.model,
    )


def deadline_error(ctx: Context, call: HttpCall, deadline: Optional[float], request_id: Optional[str] = None) -> errors.TimeoutError:
    return errors.TimeoutError(
        f"The call to {where(call.url)} passed its deadline of {deadline:g}s; raise the deadline "
        "(it bounds the whole call: every attempt, every wait and the whole body).",
        provider=ctx.provider, model=ctx.model, request_id=request_id,
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, a MaxRetryError's reason, an exception in args."""
    seen = set()
    todo = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for inner in (item.__cause__, item.__context__, getattr(item, "reason", None), getattr(item, "os_error", None),
                      *(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))):
            if isinstance(inner, BaseException):
                todo.append(inner)


def _why(exc: BaseException, host: str, port: Optional[int]) -> str:
    """What went wrong, in words, with the fix."""
    chain = list(_chain(exc))
    names = " ".join(type(e).__name__ for e in chain)
    said = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or "NameResolution" in names or "DNSError" in names \
            or "name or service not known" in said or "nodename nor servname" in said:
        return (f"the host name {host!r} could not be resolved (DNS lookup failed); check the host name "
                "(in api_base, if you set one) and the network")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in said:
        return f"{host}:{port} refused the connection; is the server running, and is the port in api_base right?"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "SSL" in names:
        return "the TLS handshake failed; check the certificate (REQUESTS_CA_BUNDLE) or use the right scheme"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset by peer" in said:
        return "the connection was reset by the server or a proxy; check api_base and the network"
    return f"{type(exc).__name__}; check api_base and the network"


def connection_error(ctx: Context, call: HttpCall, exc: BaseException) -> errors.ConnectionError:
    parts = urlsplit(call.url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return errors.ConnectionError(
        f"Could not connect to {where(call.url)}: {_why(exc, parts.hostname or '', port)}.",
        provider=ctx.provider, model=ctx.model,
    )


def request_failed_error(ctx: Context, call: HttpCall, exc: BaseException) -> errors.ConnectionError:
    return errors.ConnectionError(
        f"The request to {where(call.url)} failed: {type(exc).__name__}.",
        provider=ctx.provider, model=ctx.model,
    )


def read_error(ctx: Context, call: HttpCall, exc: BaseException, timed_out: bool) -> errors.LLMInterfaceError:
    """A 2xx answer whose body stalled (``timed_out``) or broke off while being read. Not retried:
    the server may already have done the work."""
    if timed_out:
        return timeout_error(ctx, call, "Reading the answer")
    return errors.ConnectionError(
        f"The answer from {where(call.url)} broke off while being read ({type(exc).__name__}).",
        provider=ctx.provider, model=ctx.model,
    )


def bad_encoding_error(ctx: Context, call: HttpCall, status: int, headers: Mapping[str, str]) -> errors.InvalidResponseError:
    encoding = headers.get("Content-Encoding") or headers.get("content-encoding")
    return errors.InvalidResponseError(
        f"The answer from {where(call.url)} says Content-Encoding: {encoding} but its body does not decode as "
        "such; the server (or a proxy before it) is broken.",
        provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers),
    )


def too_large_error(
    ctx: Context, call: HttpCall, limit: int, status: int, headers: Mapping[str, str], what: str = "answer"
) -> errors.InvalidResponseError:
    return errors.InvalidResponseError(
        f"The {what} from {where(call.url)} is larger than max_response_bytes={limit}; raise it if such "
        "answers are expected, else check api_base points at an inference API.",
        provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers),
    )


def broken_stream_error(ctx: Context, request_id: Optional[str], reason: str) -> errors.StreamError:
    return errors.StreamError(
        f"The stream broke before it finished ({reason}); the answer so far is incomplete.",
        provider=ctx.provider, model=ctx.model, request_id=request_id,
    )


ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]
SendKinds = Tuple[ExceptionTypes, ExceptionTypes, ExceptionTypes]  # (timeout, connection, other failure)


class SendFailures:
    """Sending a request: the backend's exceptions (``kinds``: its timeout, connection-failure and
    other-failure types, checked in that order) become typed errors, raised from the original.
    ``clamped``: the timeouts were cut to the deadline, so a timeout is the deadline's. One class for
    both transports; a class, not a ``contextlib`` generator: it runs on every call."""

    __slots__ = ("kinds", "ctx", "call", "clamped", "deadline")

    def __init__(self, kinds: SendKinds, ctx: Context, call: HttpCall, clamped: bool, deadline: Optional[float]) -> None:
        self.kinds, self.ctx, self.call, self.clamped, self.deadline = kinds, ctx, call, clamped, deadline

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, _tb: Any) -> None:
        # ours already (a deadline, a size cap) pass as they are: they may subclass TimeoutError/OSError
        if exc is None or isinstance(exc, errors.LLMInterfaceError):
            return
        timed_out, unreachable, failed = self.kinds
        ctx, call = self.ctx, self.call
        if isinstance(exc, timed_out):
            if self.clamped:
                raise deadline_error(ctx, call, self.deadline) from exc
            raise timeout_error(ctx, call, "The request") from exc
        if isinstance(exc, unreachable):
            raise connection_error(ctx, call, exc) from exc
        if isinstance(exc, failed):
            raise request_failed_error(ctx, call, exc) from exc
