"""The async transport: ``transport.py`` mirrored with aiohttp (the ``[async]`` extra).

Every decision is shared with the sync transport: ``timeouts`` for the limits, ``Retrier`` for when
and how long to wait, ``answer_error`` / ``success_body`` for what an answer means,
``SSEDecoder`` for streams. Only the I/O differs: aiohttp for the bytes, ``asyncio.sleep`` for
the waits. Foreign exceptions are translated here, once (DESIGN rule 2).

One ``aiohttp.ClientSession`` per transport, with a ``TCPConnector(limit=...)`` that bounds the
open connections. It is created inside the running loop on first use (aiohttp binds a session
to its loop); when a later call runs in another loop (``asyncio.run`` twice), the old session's
connections are dropped and a new one is made.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Tuple
from urllib.request import getproxies_environment

from . import debug, errors
from .retry import RetryPolicy
from .sse import SSEDecoder
from .transport import (
    POOL_SIZE,
    Context,
    HttpCall,
    HttpResult,
    Retrier,
    RetryHook,
    answer_error,
    connection_error,
    encoded,
    read_error,
    request_failed_error,
    request_id_of,
    success_body,
    timeout_error,
    timeouts,
)

_wire = debug.wire_logger
READ_CHUNK = 65536


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


class AsyncHttpStream:
    """An open SSE answer. ``await read_events()`` gives the next events ([] at a keep-alive, None at
    the end); ``close()`` drops the connection (a half-read answer cannot go back to the pool)."""

    def __init__(self, response: Any, ctx: Context, retries: int, started: float) -> None:
        self._response = response
        self._ctx = ctx
        self._decoder = SSEDecoder()
        self._logged = _wire.isEnabledFor(logging.DEBUG)
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
            raise self._broken(exc) from exc
        except BaseException:  # cancelled mid-read: the connection is half-read, drop it
            self.close()
            raise
        if not chunk:
            self.ended = True
            return self._decoder.close()
        if self._logged:
            debug.log_event(chunk)
        return self._decoder.feed(chunk)

    def _broken(self, exc: BaseException) -> errors.StreamError:
        reason = "read timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        return errors.StreamError(
            f"The stream broke before it finished ({reason}); the answer so far is incomplete.",
            provider=self._ctx.provider, model=self._ctx.model, request_id=self.request_id,
        )

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.ended:
                self._response.release()  # fully read: the connection can be reused
            else:
                self._response.close()


async def _close_at_loop_end(session: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


class AsyncTransport:
    """aiohttp with a bounded connection pool; safe for many concurrent calls in one loop."""

    def __init__(self, limit: int = POOL_SIZE) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise errors.InvalidRequestError(f"max_connections must be an int >= 1, got {limit!r}")
        aiohttp_module()  # fail at construction, naming the extra, rather than at the first call
        self.limit = limit
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

    async def _attempts(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook]
    ) -> Tuple[Any, int]:
        """The first 2xx aiohttp response; the typed error once retries are spent."""
        aiohttp = aiohttp_module()
        session = self._session
        if session is None or self._loop is not asyncio.get_running_loop() or session.closed:
            session = await self.session()
        retrier = Retrier(policy, ctx, on_retry)
        data, headers = encoded(call)
        limits = timeouts(call.timeout)  # (connect, read), whatever shape call.timeout has (a list too)
        timeout = self._timeouts.get(limits)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=limits[0], sock_read=limits[1])
            if len(self._timeouts) < 64:
                self._timeouts[limits] = timeout  # a handful of distinct values in practice
        while True:
            if _wire.isEnabledFor(logging.DEBUG):
                debug.log_call(call.method, call.url, headers, data)
            cause: Optional[BaseException] = None
            answer_headers: Optional[Mapping[str, str]] = None
            try:
                response = await session.request(call.method, call.url, data=data, headers=headers, timeout=timeout)
            except asyncio.TimeoutError as exc:  # aiohttp's timeouts subclass it
                error: errors.LLMInterfaceError = timeout_error(ctx, call, "The request")
                cause = exc
            except aiohttp.ClientConnectionError as exc:
                error = connection_error(ctx, call, exc)
                cause = exc
            except aiohttp.ClientError as exc:
                error = request_failed_error(ctx, call, exc)
                cause = exc
            else:
                if response.status < 400:
                    return response, retrier.retries
                try:
                    content = await response.read()
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    content = b""
                finally:
                    response.release()
                answer_headers = response.headers
                error = answer_error(call, response.status, answer_headers, content, ctx)
            delay = retrier.wait_or_raise(error, answer_headers, cause)
            if delay > 0:
                await asyncio.sleep(delay)
            headers.update(call.retry_headers)

    async def send(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpResult:
        aiohttp = aiohttp_module()
        started = time.perf_counter()
        response, retries = await self._attempts(call, ctx, policy, on_retry)
        try:
            content = await response.read()  # read() hands the connection back to the pool
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            response.close()
            raise read_error(ctx, call, exc, isinstance(exc, asyncio.TimeoutError)) from exc
        except BaseException:  # cancelled: a half-read connection must not go back to the pool
            response.close()
            raise
        if _wire.isEnabledFor(logging.DEBUG):
            debug.log_answer(call.url, response.status, content, debug.secrets_of(call.headers))
        body = success_body(response.status, response.headers, content, ctx)
        return HttpResult(response.status, response.headers, body, time.perf_counter() - started, retries)

    async def open_stream(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> AsyncHttpStream:
        """Retried only until the answer starts: once bytes flow, a failure is a StreamError."""
        started = time.perf_counter()
        response, retries = await self._attempts(call, ctx, policy, on_retry)
        return AsyncHttpStream(response, ctx, retries, started)
