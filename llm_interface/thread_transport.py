"""The async transport used without aiohttp: the sync transport's calls, each run in a worker thread.

It has the async transport's shape (``send``, ``open_stream``, ``close``, ``detach``; streams with
``read_events``), so the async client and ``AsyncStream`` have one code path whatever the backend.
Slower than aiohttp under load (see ``benchmarks/RESULTS.md``), but nothing extra to install.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, List, Optional, Tuple

from .wire import Context, HttpCall, HttpResult, RetryHook

InThread = Callable[..., Awaitable[Any]]  # (function, *args) -> awaitable result, run in a worker thread
_END = object()


class ThreadHttpStream:
    """A sync HTTP stream read from a worker thread, one ``(event, data)`` pair at a time."""

    def __init__(self, http: Any, in_thread: InThread) -> None:
        self._http = http
        self._pairs = iter(http)
        self._in_thread = in_thread
        self.retries = http.retries
        self.started = http.started
        self.headers = http.headers
        self.request_id = http.request_id
        self.ended = False

    @property
    def closed(self) -> bool:
        return bool(self._http.closed)

    async def read_events(self) -> Optional[List[Tuple[Optional[str], bytes]]]:
        if self.ended:
            return None
        pair = await self._in_thread(next, self._pairs, _END)
        if pair is _END:
            self.ended = True
            return None
        return [pair]

    def close(self) -> None:
        self._http.close()

    async def release(self) -> None:
        """The answer is complete: the rest of the body is read in the worker, the connection pooled."""
        await self._in_thread(self._http.release)


class ThreadTransport:
    """The blocking calls of ``owner.transport`` (a Client's, read at each call: it may be replaced) behind
    awaitables; ``in_thread`` is the bounded pool they run in."""

    def __init__(self, owner: Any, in_thread: InThread) -> None:
        self._owner = owner
        self._in_thread = in_thread

    async def send(self, call: HttpCall, ctx: Context, policy: Any, on_retry: Optional[RetryHook] = None) -> HttpResult:
        result: HttpResult = await self._in_thread(self._owner.transport.send, call, ctx, policy, on_retry)
        return result

    async def open_stream(
        self, call: HttpCall, ctx: Context, policy: Any, on_retry: Optional[RetryHook] = None
    ) -> ThreadHttpStream:
        http = await self._in_thread(self._owner.transport.open_stream, call, ctx, policy, on_retry)
        return ThreadHttpStream(http, self._in_thread)

    def detach(self) -> None:
        """Nothing is bound to an event loop (the sync transport belongs to the shared Client)."""

    async def close(self) -> None:
        """The sync transport belongs to the Client; the AsyncClient shuts its worker pool."""
