"""AsyncClient: the async twin of every call, over the same Client.

An ``AsyncClient`` composes a ``Client`` and shares all of its state (keys, aliases, cache, hooks,
rate limiter, defaults) and all of its logic: ``client.plan`` builds the request, ``client.cached``
answers from the cache, ``provider.prepare`` / ``parse`` / ``stream_state`` translate,
``client.finish`` / ``client.failed`` store and tell the hooks. Only the I/O is async.

Transport: aiohttp (``pip install "llm-interface-hf[async]"``), the fastest measured (see
``benchmarks/RESULTS.md``). Without it, each call runs the sync client in a bounded thread pool, and
one log line says how to go faster.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Deque, Iterable, List, Mapping, Optional, Union

from . import errors
from .async_transport import AsyncHttpStream, AsyncTransport, has_aiohttp
from .client import Client, Plan, merge_batches
from .stream import Stream
from .types import Response, StreamChunk
from .wire import POOL_SIZE

logger = logging.getLogger("llm_interface")

BACKENDS = ("auto", "aiohttp", "threads")
_told_about_threads = False
_END = object()


def _tell_once_about_threads(workers: int) -> None:
    global _told_about_threads
    if not _told_about_threads:
        _told_about_threads = True
        logger.warning(
            "aiohttp is not installed: async calls run the sync client in %d threads; "
            'pip install "llm-interface-hf[async]" for the faster aiohttp transport.', workers,
        )


class AsyncClient:
    """``await AsyncClient().send_message_async("huggingface", "Hello")``.

    ``client``: the ``Client`` to share (a new one from ``client_kwargs`` if None).
    ``max_connections``: the most connections (or threads, without aiohttp) open at once.
    ``backend``: ``"auto"`` (aiohttp when installed), ``"aiohttp"``, or ``"threads"``.
    Use ``async with AsyncClient() as c:`` or ``await c.aclose()`` to close its connections.
    """

    def __init__(
        self,
        client: Optional[Client] = None,
        *,
        max_connections: int = POOL_SIZE,
        backend: str = "auto",
        **client_kwargs: Any,
    ) -> None:
        if backend not in BACKENDS:
            raise errors.InvalidRequestError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if client is not None and client_kwargs:
            raise errors.InvalidRequestError("Pass either client= or Client arguments, not both.")
        self.client = client if client is not None else Client(**client_kwargs)
        self._owns_client = client is None
        self.max_connections = max_connections
        self.transport: Optional[AsyncTransport] = None
        if backend == "aiohttp" or (backend == "auto" and has_aiohttp()):
            self.transport = AsyncTransport(limit=max_connections)
        else:
            if backend == "auto":
                _tell_once_about_threads(max_connections)
            if not isinstance(max_connections, int) or isinstance(max_connections, bool) or max_connections < 1:
                raise errors.InvalidRequestError(f"max_connections must be an int >= 1, got {max_connections!r}")
        self._executor: Optional[ThreadPoolExecutor] = None

    @property
    def backend(self) -> str:
        return "aiohttp" if self.transport is not None else "threads"

    def __repr__(self) -> str:
        return f"AsyncClient({self.client!r}, backend={self.backend!r}, max_connections={self.max_connections})"

    # -- lifetime -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connections (and the Client, when this AsyncClient made it)."""
        if self.transport is not None:
            await self.transport.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self._owns_client:
            self.client.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def _in_thread(self, function: Any, *args: Any) -> "asyncio.Future[Any]":
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.max_connections, thread_name_prefix="llm_interface")
        return asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def _acquire(self, plan: Plan) -> None:
        """The client's rate limiter, awaited (its async form if it has one, else in a thread)."""
        limiter = self.client.rate_limiter
        if limiter is None:
            return
        acquire_async = getattr(limiter, "acquire_async", None)
        if acquire_async is not None:
            await acquire_async(plan.request)
        else:
            await asyncio.get_running_loop().run_in_executor(None, limiter.acquire, plan.request)

    async def _rendered(self, plan: Plan) -> Plan:
        """Chat for a raw-generation route rendered into a prompt; the Hub template fetch is sync I/O, so in a thread."""
        if not self.client.needs_prompt(plan):
            return plan
        return await self._in_thread(self.client.render_prompt, plan)

    # -- running planned calls ------------------------------------------------------------------

    async def run(self, plan: Plan) -> Any:
        """Run a planned, non-streaming call (any task): the async ``Client.run``."""
        hit = self.client.cached(plan)
        return hit if hit is not None else await self.fetch(plan)

    async def fetch(self, plan: Plan) -> Any:
        """The network half of ``run`` (``Client.fetch``), for callers that have looked in the cache."""
        client = self.client
        if self.transport is None or plan.provider.in_process:
            return await self._in_thread(client.fetch, plan)
        if client.hooks:
            client.hooks.emit("request", plan.request)
        try:
            await self._acquire(plan)
            plan = await self._rendered(plan)
            call = plan.provider.prepare(plan.request)
            result = await self.transport.send(call, plan.context, plan.policy, client._on_retry(plan))
            response = plan.provider.parse(plan.request, result)
            return client.finish(plan, response, result.elapsed, result.retries, result.body)
        except errors.LLMInterfaceError as error:
            client.failed(plan, error)
            raise

    def open_stream(self, plan: Plan) -> "AsyncStream":
        """A stream for a planned call; the connection opens on the first ``async for`` / ``await``."""
        return AsyncStream(self, plan)

    # -- the twins ------------------------------------------------------------------------------

    async def send_message_async(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """The async ``send_message``."""
        return await self.run(self.client.plan(provider, "chat", message, options, interface_options))

    def stream_message_async(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> "AsyncStream":
        """The async ``stream_message``: ``async for chunk in c.stream_message_async(...)``.

        Bad input raises here; the connection opens on first iteration (or ``await`` / ``async with``).
        """
        return self.open_stream(self.client.plan(provider, "chat", message, options, interface_options, stream=True))

    async def complete_async(
        self, provider: str, prompt: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """The async ``complete`` (raw text generation)."""
        return await self.run(self.client.plan(provider, "completion", {"prompt": prompt}, options, interface_options))

    def stream_complete_async(
        self, provider: str, prompt: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> "AsyncStream":
        return self.open_stream(
            self.client.plan(provider, "completion", {"prompt": prompt}, options, interface_options, stream=True)
        )

    async def embeddings_async(
        self, provider: str, text_or_list: Union[str, List[str]], options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``embeddings``."""
        return await self._batched(provider, "embeddings", text_or_list, options, interface_options)

    async def classify_async(
        self, provider: str, text_or_list: Union[str, List[str]], options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``classify``."""
        return await self._batched(provider, "classify", text_or_list, options, interface_options)

    async def _batched(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> Any:
        """``Client._batched``, with the server-sized batches sent concurrently."""
        plans = self.client.batch_plans(provider, task, text_or_list, options, interface_options)
        if len(plans) == 1:
            return await self.run(plans[0])
        started = time.perf_counter()
        parts = await asyncio.gather(*(self.run(plan) for plan in plans))
        return merge_batches(list(parts), time.perf_counter() - started)

    async def rerank_async(
        self, provider: str, query: str, documents: Iterable[str], options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``rerank``."""
        inputs = {"query": query, "documents": list(documents)}
        return await self.run(self.client.plan(provider, "rerank", None, options, interface_options, inputs=inputs))

    async def send_messages_async(
        self,
        provider: str,
        messages: Iterable[Any],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        concurrency: int = 8,
        progress: bool = True,
        raise_on_error: bool = False,
    ) -> List[Any]:
        """A batch, answers in input order: see ``llm_interface.batch.send_messages_async``."""
        from .batch import send_messages_async

        return await send_messages_async(
            self, provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error,
        )


class AsyncStream:
    """A streamed answer, async: ``async for chunk in stream``; ``.response`` is the aggregate at the end.

    ``async with`` (or ``await stream.aclose()``) frees the connection when you stop early. A stream
    that ends before the server says it is complete raises ``StreamError``.
    """

    def __init__(self, owner: AsyncClient, plan: Plan) -> None:
        self._owner = owner
        self._plan = plan
        self._opened = False
        self._http: Optional[AsyncHttpStream] = None
        self._state: Any = None
        self._pending: Deque[StreamChunk] = deque()
        self._sync: Optional[Stream] = None  # a cached replay, or the thread backend's sync stream
        self._sync_iter: Any = None
        self._finished = False
        self.response: Optional[Response] = None

    @property
    def request_id(self) -> Optional[str]:
        if self._http is not None:
            return self._http.request_id
        return self._sync.request_id if self._sync is not None else None

    async def _open(self) -> None:
        if self._opened:
            return
        self._opened = True
        owner, plan, client = self._owner, self._plan, self._owner.client
        if owner.transport is None or plan.provider.in_process:
            self._sync = await owner._in_thread(client.open_stream, plan)
            self._sync_iter = iter(self._sync)
            return
        hit = client.cached(plan)
        if hit is not None:
            self._sync = Stream.replay(hit)
            self._sync_iter = iter(self._sync)
            return
        if client.hooks:
            client.hooks.emit("request", plan.request)
        try:
            await owner._acquire(plan)
            plan = self._plan = await owner._rendered(plan)
            call = plan.provider.prepare(plan.request)
            self._http = await owner.transport.open_stream(call, plan.context, plan.policy, client._on_retry(plan))
        except errors.LLMInterfaceError as error:
            client.failed(plan, error)
            raise
        self._state = plan.provider.stream_state(plan.request)

    def __await__(self):
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
        if self._sync_iter is not None:
            return await self._next_sync()
        while not self._pending:
            if self._state.done or self._http.ended:
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
            return await self._http.read_events()
        except errors.LLMInterfaceError as error:
            self._fail(error)
            raise

    def _fail(self, error: errors.LLMInterfaceError) -> None:
        self._finished = True
        self._http.close()
        self._owner.client.failed(self._plan, error)

    def _end(self) -> None:
        """The server is done: aggregate, store, tell the hooks, and stop iterating."""
        http, plan = self._http, self._plan
        self._finished = True
        try:
            response = self._state.finish(http.request_id)
        except errors.LLMInterfaceError as error:
            http.close()
            self._owner.client.failed(plan, error)
            raise
        http.close()
        self.response = self._owner.client.finish(plan, response, time.perf_counter() - http.started, http.retries, None)
        raise StopAsyncIteration

    async def _next_sync(self) -> StreamChunk:
        if self._sync._http is None:  # a replay or an in-process engine's chunks: no I/O to wait on
            chunk = next(self._sync_iter, _END)
        else:
            chunk = await self._owner._in_thread(next, self._sync_iter, _END)
        if chunk is _END:
            self._finished = True
            self.response = self._sync.response
            raise StopAsyncIteration
        return chunk

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
        if self._http is not None:
            self._http.close()
        if self._sync is not None:
            self._sync.close()

    async def __aenter__(self) -> "AsyncStream":
        await self._open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # A stream dropped half-way (``break`` without ``async with``) still frees its socket.
        http = getattr(self, "_http", None)
        if http is not None and not http.closed:
            http.close()
