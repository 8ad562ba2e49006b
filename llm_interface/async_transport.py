"""The async transport: ``transport.py`` mirrored with aiohttp (the ``[async]`` extra).

Every decision is shared with the sync transport: ``preflight`` for the checks, ``wire.timeouts``
for the limits, ``retry.Retrier`` for when and how long to wait, ``http_errors`` for what an answer
or a failure means, ``redirects`` for the redirect rule, ``SSEDecoder`` for streams. Only the I/O
differs: aiohttp for the bytes, ``asyncio.sleep`` for the waits. aiohttp's exceptions are
translated once, in ``http_errors.SendFailures`` and ``_mapped_read`` (DESIGN rule 2). Redirects
are followed here (not by aiohttp), so that a redirect to another origin drops every secret header,
not only Authorization.

One ``aiohttp.ClientSession`` per transport, with a ``TCPConnector(limit=...)`` that bounds the
open connections. It is created inside the running loop on first use (aiohttp binds a session
to its loop); when a later call runs in another loop (``asyncio.run`` twice), the old session's
connections are dropped and a new one is made.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import time
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urljoin
from urllib.request import getproxies_environment

from . import debug, errors, http_errors, preflight, redact, redirects
from .retry import Retrier, RetryPolicy
from .sse import SSEDecoder
from .wire import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DRAIN_BYTES,
    DRAIN_SECONDS,
    POOL_SIZE,
    Context,
    HttpCall,
    HttpResult,
    RetryHook,
    request_id_of,
    timeouts,
)

wire_log = debug.wire_logger


def aiohttp_module() -> Any:
    """aiohttp, or a MissingDependencyError naming the extra."""
    try:
        import aiohttp
    except ImportError as exc:
        raise errors.MissingDependencyError(
            'The async transport needs aiohttp: pip install "llm-interface-hf[async]".'
        ) from exc
    return aiohttp


def has_aiohttp() -> bool:
    try:
        importlib.import_module("aiohttp")
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def _send_kinds() -> http_errors.SendKinds:
    """What ``http_errors.SendFailures`` maps while sending: aiohttp's timeouts (they subclass
    asyncio's), connection failures, the rest (ValueError: aiohttp refusing a header or URL)."""
    aiohttp = aiohttp_module()
    return (asyncio.TimeoutError, aiohttp.ClientConnectionError, (aiohttp.ClientError, ValueError))


def _is_decode_error(exc: BaseException) -> bool:
    return "content-encoding" in str(exc).lower() or "decompress" in str(exc).lower()


class _mapped_read:
    """Reading a 2xx body: a gzip lie is an InvalidResponseError, a stall a timeout, a break a
    ConnectionError."""

    __slots__ = ("ctx", "call", "response")

    def __init__(self, ctx: Context, call: HttpCall, response: Any) -> None:
        self.ctx, self.call, self.response = ctx, call, response

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, _tb: Any) -> None:
        if exc is None or isinstance(exc, errors.LLMInterfaceError):
            return
        aiohttp, ctx, call, response = aiohttp_module(), self.ctx, self.call, self.response
        if isinstance(exc, asyncio.TimeoutError):
            raise http_errors.read_error(ctx, call, exc, timed_out=True) from exc
        if isinstance(exc, aiohttp.ClientError):
            if _is_decode_error(exc):
                raise http_errors.bad_encoding_error(ctx, call, response.status, response.headers) from exc
            raise http_errors.read_error(ctx, call, exc, timed_out=False) from exc


class AsyncHttpStream:
    """An open SSE answer. ``await read_events()`` gives the next events ([] at a keep-alive, None at
    the end); ``close()`` drops the connection (a half-read answer cannot go back to the pool).
    One event larger than ``max_event_bytes``, or the deadline passing, ends it with a typed error."""

    def __init__(
        self, response: Any, ctx: Context, retries: int, started: float, call: Optional[HttpCall] = None,
        max_event_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, retrier: Optional[Retrier] = None,
    ) -> None:
        self._response = response
        self._ctx = ctx
        self._call = call or HttpCall("GET", str(response.url))
        self._max = max_event_bytes
        self._retrier = retrier
        self._decoder = SSEDecoder()
        self._logged = wire_log.isEnabledFor(logging.DEBUG)
        self._secrets = redact.secrets_of(self._call.headers) if self._logged else []
        self.retries = retries
        self.started = started
        self.headers = response.headers
        self.request_id = request_id_of(response.headers)
        self.closed = False
        self.ended = False

    async def read_events(self) -> Optional[List[Tuple[Optional[str], bytes]]]:
        if self.ended:
            return None
        aiohttp = aiohttp_module()
        try:
            chunk = await self._response.content.readany()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.close()
            if isinstance(exc, aiohttp.ClientError) and _is_decode_error(exc):
                raise http_errors.bad_encoding_error(self._ctx, self._call, self._response.status, self.headers) from exc
            reason = "read timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            raise http_errors.broken_stream_error(self._ctx, self.request_id, reason) from exc
        except BaseException:  # cancelled mid-read: the connection is half-read, drop it
            self.close()
            raise
        if not chunk:
            self.ended = True
            return self._decoder.close()
        if self._logged:
            debug.log_event(chunk, self._secrets)
        events = self._decoder.feed(chunk)
        if self._decoder.pending > self._max or any(len(data) > self._max for _, data in events):
            self.close()
            raise http_errors.too_large_error(self._ctx, self._call, self._max, self._response.status, self.headers, "stream event")
        if self._retrier is not None and self._retrier.left() == 0.0:
            self.close()
            raise http_errors.deadline_error(self._ctx, self._call, self._retrier.policy.deadline, self.request_id)
        return events

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.ended:
                self._response.release()  # fully read: the connection can be reused
            else:
                self._response.close()

    async def release(self) -> None:
        """The answer is complete: read the few bytes left of the body (at most ``DRAIN_BYTES``, waiting at
        most ``DRAIN_SECONDS``, as the sync transport) so that the connection goes back to the pool; a body
        with more left, slower, or broken is closed instead."""
        aiohttp = aiohttp_module()
        size = 0
        try:
            while not self.ended and not self.closed and size <= DRAIN_BYTES:
                data = await asyncio.wait_for(self._response.content.readany(), DRAIN_SECONDS)
                self.ended = not data
                size += len(data)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            self.ended = False  # the connection is closed, not pooled
        self.close()


async def _close_at_loop_end(session: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


def _redirected(call_method: str, url: str, status: int, location: str, data: Optional[bytes],
                headers: Dict[str, str]) -> Tuple[str, str, Optional[bytes], Dict[str, str]]:
    """(method, url, body, headers) of the request a redirect asks for, by requests' rules: 303 (and
    301/302 after a POST) become a GET without body; another origin drops every secret header."""
    target = urljoin(url, location)
    method = call_method
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        method, data = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    if redirects.crosses_origin(url, target):
        headers = redirects.without_secrets(headers)
    return method, target, data, headers


class AsyncTransport:
    """aiohttp with a bounded connection pool; safe for many concurrent calls in one loop.
    ``max_response_bytes`` caps one answer's body (and one SSE event): past it, InvalidResponseError."""

    def __init__(self, limit: int = POOL_SIZE, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise errors.InvalidRequestError(f"max_connections must be an int >= 1, got {limit!r}")
        if not isinstance(max_response_bytes, int) or isinstance(max_response_bytes, bool) or max_response_bytes < 1:
            raise errors.InvalidRequestError(f"max_response_bytes must be an int >= 1, got {max_response_bytes!r}")
        aiohttp_module()  # fail at construction, naming the extra, rather than at the first call
        self.limit = limit
        self.max_response_bytes = max_response_bytes
        self._session: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closer: Any = None
        self._timeouts: Dict[Tuple[float, float], Any] = {}  # (connect, read) -> aiohttp.ClientTimeout

    async def session(self) -> Any:
        """The ClientSession of the running loop (made on first use in that loop)."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        self.detach()
        aiohttp = aiohttp_module()
        connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=0, ttl_dns_cache=300)
        # Proxies from the environment apply, as with requests. Only when some are set: with
        # trust_env aiohttp looks them up (and reads .netrc) in a thread for every request, which
        # cost about a third of the client's CPU at concurrency 64 (benchmarks/RESULTS.md).
        session = aiohttp.ClientSession(connector=connector, trust_env=bool(getproxies_environment()))
        # Closed when the loop ends: asyncio.run() closes every pending async generator
        # (shutdown_asyncgens) before closing the loop, so a session nobody closed still is.
        closer = _close_at_loop_end(session)
        await closer.__anext__()
        self._session, self._loop, self._closer = session, loop, closer
        return session

    def detach(self) -> None:
        """Forget the session without awaiting (it belongs to another loop, maybe gone)."""
        session, self._session, self._loop, self._closer = self._session, None, None, None
        if session is not None and not session.closed and session.connector is not None:
            session.connector._close()  # the synchronous part of close(); no loop needed

    async def close(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None and self._loop is asyncio.get_running_loop():
            self._session = self._loop = None
            await closer.aclose()  # its finally closes the session
        else:
            self.detach()

    def _timeout(self, limits: Tuple[float, float]) -> Any:
        timeout = self._timeouts.get(limits)
        if timeout is None:
            timeout = aiohttp_module().ClientTimeout(total=None, sock_connect=limits[0], sock_read=limits[1])
            if len(self._timeouts) < 64:
                self._timeouts[limits] = timeout  # a handful of distinct values in practice
        return timeout

    async def _request(self, session: Any, call: HttpCall, data: Optional[bytes], headers: Dict[str, str], timeout: Any) -> Any:
        """The final response of a request, its redirects followed by ``_redirected``'s rule."""
        method, url = call.method, call.url
        for _ in range(redirects.MAX_REDIRECTS + 1):
            response = await session.request(method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
            location = response.headers.get("Location")
            if response.status not in redirects.REDIRECT_STATUSES or not location:
                return response
            response.release()
            method, url, data, headers = _redirected(method, url, response.status, location, data, headers)
        response.close()
        raise errors.ConnectionError(
            f"{http_errors.where(call.url)} redirected more than {redirects.MAX_REDIRECTS} times; check api_base."
        )

    async def _read(self, response: Any, ctx: Context, call: HttpCall, retrier: Retrier, strict: bool) -> bytes:
        """The whole body, at most ``max_response_bytes`` (past it: an error when ``strict``, else cut),
        checking the deadline between arrivals."""
        limit = self.max_response_bytes
        if strict and response.content_length is not None and response.content_length > limit:
            response.close()
            raise http_errors.too_large_error(ctx, call, limit, response.status, response.headers)
        parts: List[bytes] = []
        size = 0
        try:
            with _mapped_read(ctx, call, response):
                while True:
                    left = retrier.left()
                    if left is None:
                        data = await response.content.readany()
                    else:
                        try:
                            data = await asyncio.wait_for(response.content.readany(), left)
                        except asyncio.TimeoutError:
                            raise http_errors.deadline_error(
                                ctx, call, retrier.policy.deadline, request_id_of(response.headers)
                            ) from None
                    if not data:
                        break
                    parts.append(data)
                    size += len(data)
                    if size > limit:
                        if strict:
                            raise http_errors.too_large_error(ctx, call, limit, response.status, response.headers)
                        break
        except BaseException:  # cancelled or failed: a half-read connection must not go back to the pool
            response.close()
            raise
        if size > limit:
            response.close()
        else:
            response.release()
        return b"".join(parts)[:limit]

    async def _attempts(self, call: HttpCall, ctx: Context, retrier: Retrier) -> Any:
        """The first 2xx aiohttp response; the typed error once retries are spent."""
        data, headers, retry_headers = preflight.ready(call)
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop() or session.closed:
            session = await self.session()
        connect, read = timeouts(call.timeout)  # whatever shape call.timeout has (a list too)
        while True:
            answer_headers: Optional[Mapping[str, str]] = None
            left = retrier.left()
            if left == 0.0:
                raise http_errors.deadline_error(ctx, call, retrier.policy.deadline)
            clamped = left is not None and left < read
            limits = (connect, read) if left is None else (min(connect, left), min(read, left))
            if wire_log.isEnabledFor(logging.DEBUG):
                debug.log_call(call.method, call.url, headers, data)
            try:
                with http_errors.SendFailures(_send_kinds(), ctx, call, clamped, retrier.policy.deadline):
                    response = await self._request(session, call, data, headers, self._timeout(limits))
                if response.status < 400:
                    return response
                try:
                    content = await self._read(response, ctx, call, retrier, strict=False)
                except errors.LLMInterfaceError:
                    content = b""
                answer_headers = response.headers
                if wire_log.isEnabledFor(logging.DEBUG):
                    debug.log_answer(call.url, response.status, content, redact.secrets_of(headers))
                raise http_errors.error_for_answer(response.status, answer_headers, content, ctx, redact.secrets_of(headers))
            except errors.LLMInterfaceError as error:
                delay = retrier.wait_or_raise(error, answer_headers)
            if delay > 0:
                await asyncio.sleep(delay)
            headers.update(retry_headers)

    async def send(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpResult:
        started = time.perf_counter()
        retrier = Retrier(policy, ctx, on_retry)
        response = await self._attempts(call, ctx, retrier)
        content = await self._read(response, ctx, call, retrier, strict=True)  # read failures are not retried
        if wire_log.isEnabledFor(logging.DEBUG):
            debug.log_answer(call.url, response.status, content, redact.secrets_of(call.headers))
        body = http_errors.success_body(response.status, response.headers, content, ctx)
        return HttpResult(response.status, response.headers, body, time.perf_counter() - started, retrier.retries)

    async def open_stream(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> AsyncHttpStream:
        """Retried only until the answer starts: once bytes flow, a failure is a StreamError."""
        started = time.perf_counter()
        retrier = Retrier(policy, ctx, on_retry)
        response = await self._attempts(call, ctx, retrier)
        return AsyncHttpStream(response, ctx, retrier.retries, started, call, self.max_response_bytes,
                               retrier if policy.deadline is not None else None)
