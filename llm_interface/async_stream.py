"""AsyncStream: a streamed answer, async, with one code path for every source.

A source gives ``await read_events()`` -> a list of ``(event, data)`` pairs, or None at the end: the
aiohttp stream, the thread transport's stream, or ``ChunkFeed`` over chunks an in-process engine makes
(read in a worker thread) or the cache holds. The state (a provider's ``StreamState``, or
``stream.ChunkState``) turns pairs into chunks and the aggregated Response.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Awaitable, Callable, Deque, Iterator, List, Optional, Protocol, Tuple

from . import errors
from .base_client import BaseClient
from .plan import Plan
from .sequence import run_steps_async, stream_steps
from .stream import CHUNK, ChunkState, replay_chunks
from .types import Response, StreamChunk

_END = object()


class AsyncCaller(Protocol):
    """What a stream needs of its async client (``AsyncClient`` is one)."""

    @property
    def client(self) -> BaseClient: ...

    def perform(self, kind: str, argument: Any) -> Awaitable[Any]: ...

    def in_thread(self, function: Any, *args: Any) -> Awaitable[Any]: ...


class ChunkFeed:
    """Ready-made chunks as a source; ``in_thread`` (for an engine that computes as it goes) or inline."""

    def __init__(self, chunks: Iterator[StreamChunk], in_thread: Optional[Callable[..., Awaitable[Any]]]) -> None:
        self._chunks = chunks
        self._in_thread = in_thread
        self.request_id: Optional[str] = None
        self.retries = 0
        self.ended = False
        self.closed = False

    async def read_events(self) -> Optional[List[Tuple[Optional[str], Any]]]:
        if self.ended:
            return None
        if self._in_thread is None:
            chunk = next(self._chunks, _END)
        else:
            chunk = await self._in_thread(next, self._chunks, _END)
        if chunk is _END:
            self.ended = True
            return None
        return [(CHUNK, chunk)]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()

    async def release(self) -> None:
        """The answer is complete (the HTTP sources' way to pool their connection): nothing to read."""
        self.close()


class AsyncStream:
    """A streamed answer, async: ``async for chunk in stream``; ``.response`` is the aggregate at the end.

    ``async with`` (or ``await stream.aclose()``) frees the connection when you stop early. A stream
    that ends before the server says it is complete raises ``StreamError``.
    """

    def __init__(self, owner: AsyncCaller, plan: Plan) -> None:
        self._owner = owner
        self._plan = plan
        self._opened = False
        self._source: Any = None
        self._state: Any = None
        self._replayed: Optional[Response] = None  # a cache hit: the answer is known, nothing to record
        self._pending: Deque[StreamChunk] = deque()
        self._finished = False
        self.response: Optional[Response] = None

    @property
    def request_id(self) -> Optional[str]:
        return self._source.request_id if self._source is not None else None

    async def _open(self) -> None:
        if self._opened:
            return
        self._opened = True
        owner, plan = self._owner, self._plan
        client = owner.client
        hit = client.cached(plan)
        if hit is not None:
            self._replayed = hit
            self._source, self._state = ChunkFeed(iter(replay_chunks(hit)), None), ChunkState(None, None)
            return
        plan, source = await run_steps_async(stream_steps(client.recorder, plan), owner.perform)
        self._plan = plan
        if plan.provider.in_process:  # an engine's chunks, computed in a worker thread as they are read
            self._source = ChunkFeed(source, owner.in_thread)
            self._state = ChunkState(plan.request.model, plan.provider.name)
        else:
            self._source, self._state = source, plan.provider.stream_state(plan.request)

    def __await__(self) -> Any:
        """``stream = await c.stream_message_async(...)`` opens the connection (errors raise here)."""
        async def opened() -> "AsyncStream":
            await self._open()
            return self

        return opened().__await__()

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> StreamChunk:
        if self._finished:
            raise StopAsyncIteration
        await self._open()
        while not self._pending:
            if self._state.done or self._source.ended:
                if not self._source.ended:  # complete: read the body's end, the connection goes back to the pool
                    await self._source.release()
                self._end()
            events = await self._read()
            if events is None:
                self._end()
            try:
                for event, data in events:
                    self._pending.extend(self._state.on_event(event, data))
                    if self._state.done:
                        break  # the answer is complete: don't wait for the server to close the connection
            except errors.LLMInterfaceError as error:  # an error sent inside the stream
                self._fail(error)
                raise
        return self._pending.popleft()

    async def _read(self) -> Any:
        try:
            return await self._source.read_events()
        except errors.LLMInterfaceError as error:
            self._fail(error)
            raise

    def _fail(self, error: errors.LLMInterfaceError) -> None:
        self._finished = True
        self._source.close()
        if self._replayed is None:
            self._owner.client.recorder.failed_with(self._plan, error)

    def _end(self) -> None:
        """The source is done: aggregate, store, tell the hooks, and stop iterating."""
        source, plan = self._source, self._plan
        self._finished = True
        if self._replayed is not None:
            source.close()
            self.response = self._replayed
            raise StopAsyncIteration
        recorder = self._owner.client.recorder
        try:
            response = self._state.finish(source.request_id)
        except errors.LLMInterfaceError as error:
            source.close()
            recorder.failed_with(plan, error)
            raise
        source.close()
        started = getattr(source, "started", plan.started)  # an engine's chunks: timed from the plan
        self.response = recorder.succeeded(plan, response, time.perf_counter() - started, source.retries)
        raise StopAsyncIteration

    async def collect(self) -> Response:
        """Read the rest of the stream and return the aggregated Response."""
        async for _ in self:
            pass
        if self.response is None:
            raise errors.StreamError("The stream was closed before it finished.")
        return self.response

    async def text(self) -> str:
        return (await self.collect()).results

    async def aclose(self) -> None:
        """Stop reading and free the connection (a half-read one is closed, not pooled)."""
        self._finished = True
        if self._source is not None:
            self._source.close()

    async def __aenter__(self) -> "AsyncStream":
        await self._open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # A stream dropped half-way (``break`` without ``async with``) still frees its socket.
        source = getattr(self, "_source", None)
        if source is not None and not source.closed:
            source.close()
