"""AsyncClient: the async twin of every call, over the same Client.

An ``AsyncClient`` composes a ``Client`` and shares all of its state (keys, aliases, cache, hooks,
rate limiter, defaults) and all of its steps: ``client.plan`` builds the request, ``client.cached``
answers from the cache, and the one call sequence (sequence.py) runs with async I/O here.

Transport: aiohttp (``pip install "llm-interface-hf[async]"``), the fastest measured (see
``benchmarks/RESULTS.md``). Without it, ``ThreadTransport`` runs the sync transport's calls in a bounded
thread pool, and one log line says how to go faster.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import errors, rerank_pipeline, router_preflight
from .async_stream import AsyncStream
from .async_transport import AsyncTransport, has_aiohttp
from .base_client import merge_batches
from .client import Client
from .fanout import run_in_tasks
from .plan import Plan
from .sequence import ACQUIRE, CHUNKS, COMPUTE, OPEN, RENDER, RESOLVE, SEND, call_steps, run_steps_async
from .text_tasks import AsyncTextTaskCalls
from .thread_transport import ThreadTransport
from .types import Response
from .wire import POOL_SIZE

logger = logging.getLogger("llm_interface")

BACKENDS = ("auto", "aiohttp", "threads")
_told_about_threads = False


def _tell_once_about_threads(workers: int) -> None:
    global _told_about_threads
    if not _told_about_threads:
        _told_about_threads = True
        logger.warning(
            "aiohttp is not installed: async calls run the sync transport in %d threads; "
            'pip install "llm-interface-hf[async]" for the faster aiohttp transport.', workers,
        )


class AsyncClient(AsyncTextTaskCalls):
    """``await AsyncClient().send_message_async("huggingface", "Hello")``.

    ``client``: the ``Client`` to share, or a ``{provider: api_key}`` dict as ``Client`` takes (a new
    Client is made from it and ``client_kwargs``, e.g. ``max_response_bytes``).
    ``max_connections``: the most connections (or threads, without aiohttp) open at once.
    ``backend``: ``"auto"`` (aiohttp when installed), ``"aiohttp"``, or ``"threads"``.
    Use ``async with AsyncClient() as c:`` or ``await c.aclose()`` to close its connections.
    """

    def __init__(
        self,
        client: Union[Client, Mapping[str, str], None] = None,
        *,
        max_connections: int = POOL_SIZE,
        backend: str = "auto",
        **client_kwargs: Any,
    ) -> None:
        if backend not in BACKENDS:
            raise errors.InvalidRequestError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if isinstance(client, Mapping):  # ``AsyncClient({"huggingface": key})``, as ``Client({...})``
            if "api_keys" in client_kwargs:
                raise errors.InvalidRequestError("Pass the API keys once: AsyncClient({...}) or AsyncClient(api_keys={...}).")
            client, client_kwargs = None, {**client_kwargs, "api_keys": client}
        if client is not None and not isinstance(client, Client):
            raise errors.InvalidRequestError(
                f"AsyncClient's first argument is a Client to share or a {{provider: api_key}} dict, "
                f"not {type(client).__name__}."
            )
        if client is not None and client_kwargs:
            raise errors.InvalidRequestError("Pass either client= or Client arguments, not both.")
        self.client = client if client is not None else Client(**client_kwargs)
        self._owns_client = client is None
        self.max_connections = max_connections
        self._executor: Optional[ThreadPoolExecutor] = None
        self.transport: Union[AsyncTransport, ThreadTransport]
        if backend == "aiohttp" or (backend == "auto" and has_aiohttp()):
            # The shared Client's size cap holds here too (Client(max_response_bytes=...)).
            cap = getattr(self.client.transport, "max_response_bytes", None)
            self.transport = AsyncTransport(limit=max_connections) if cap is None else AsyncTransport(
                limit=max_connections, max_response_bytes=cap)
        else:
            if backend == "auto":
                _tell_once_about_threads(max_connections)
            if not isinstance(max_connections, int) or isinstance(max_connections, bool) or max_connections < 1:
                raise errors.InvalidRequestError(f"max_connections must be an int >= 1, got {max_connections!r}")
            self.transport = ThreadTransport(self.client, self.in_thread)
        self._steps: Dict[str, Callable[[Any], Awaitable[Any]]] = {
            ACQUIRE: self._acquire, RENDER: self._render, COMPUTE: self._compute, CHUNKS: self._chunks,
            SEND: self._send, OPEN: self._open, RESOLVE: self._resolve,
        }

    @property
    def backend(self) -> str:
        return "aiohttp" if isinstance(self.transport, AsyncTransport) else "threads"

    def __repr__(self) -> str:
        return f"AsyncClient({self.client!r}, backend={self.backend!r}, max_connections={self.max_connections})"

    # -- lifetime -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connections (and the Client, when this AsyncClient made it)."""
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

    def in_thread(self, function: Any, *args: Any) -> "asyncio.Future[Any]":
        """``function(*args)`` in this client's bounded worker pool (blocking I/O and in-process compute)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.max_connections, thread_name_prefix="llm_interface")
        return asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    # -- the sequence's I/O ---------------------------------------------------------------------

    def perform(self, kind: str, argument: Any) -> Awaitable[Any]:
        """One I/O step of the call sequence (sequence.py), awaitable."""
        return self._steps[kind](argument)

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

    async def _render(self, plan: Plan) -> Plan:
        """The Hub template fetch is sync I/O: rendering runs in a thread."""
        rendered: Plan = await self.in_thread(self.client.renderer.render, plan)
        return rendered

    async def _resolve(self, plan: Plan) -> Plan:
        """The Hub mapping fetch is sync I/O (once per model and process): it runs in a thread."""
        resolved: Plan = await self.in_thread(self.client.resolver.resolve, plan)
        return resolved

    async def _compute(self, plan: Plan) -> Any:
        return await self.in_thread(plan.provider.compute, plan.request)

    async def _chunks(self, plan: Plan) -> Any:
        return await self.in_thread(plan.provider.stream, plan.request)  # loads the model: not on the loop

    async def _send(self, argument: Tuple[Any, Plan]) -> Any:
        return await self._through(self.transport.send, argument)

    async def _open(self, argument: Tuple[Any, Plan]) -> Any:
        return await self._through(self.transport.open_stream, argument)

    async def _through(self, transport_call: Callable[..., Awaitable[Any]], argument: Tuple[Any, Plan]) -> Any:
        """``transport_call`` (send or open_stream) after the checks, a router refusal explained."""
        call, plan = argument
        await self._preflight(plan)
        try:
            return await transport_call(call, plan.context, plan.policy, self.client.recorder.retry_hook(plan))
        except errors.ValidationError as error:  # the router's model_not_supported, with the alternatives
            better = await self.in_thread(router_preflight.explained, self.client.catalogue, plan.request, error)
            if better is not error:
                raise better from error
            raise

    async def _preflight(self, plan: Plan) -> None:
        """``{"preflight": True}`` and the budget: the catalogue checks (sync I/O, cached) in a thread."""
        if plan.request.settings.get("preflight") or self.client.budget is not None:
            await self.in_thread(self.client.check_before_sending, plan)

    # -- running planned calls ------------------------------------------------------------------

    async def answer(self, plan: Plan) -> Any:
        """Run a planned, non-streaming call (any task): the async ``Client.answer``."""
        hit = self.client.cached(plan)
        return hit if hit is not None else await self.send_uncached(plan)

    async def send_uncached(self, plan: Plan) -> Any:
        """The network half of ``answer``, for callers that have looked in the cache (batches)."""
        return await run_steps_async(call_steps(self.client.recorder, plan), self.perform)

    def open_stream(self, plan: Plan) -> AsyncStream:
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
        return await self.answer(self.client.plan(provider, "chat", message, options, interface_options))

    def stream_message_async(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> AsyncStream:
        """The async ``stream_message``: ``async for chunk in c.stream_message_async(...)``.

        Bad input raises here; the connection opens on first iteration (or ``await`` / ``async with``).
        """
        return self.open_stream(self.client.plan(provider, "chat", message, options, interface_options, stream=True))

    async def complete_async(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """The async ``complete`` (raw text generation)."""
        return await self.answer(self.client.plan(provider, "completion", {"prompt": prompt}, options, interface_options))

    def stream_complete_async(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> AsyncStream:
        """The async ``stream_complete``."""
        return self.open_stream(
            self.client.plan(provider, "completion", {"prompt": prompt}, options, interface_options, stream=True)
        )

    async def embeddings_async(
        self,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``embeddings``."""
        return await self._batched(provider, "embeddings", text_or_list, options, interface_options)

    async def classify_async(
        self,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``classify``."""
        return await self._batched(provider, "classify", text_or_list, options, interface_options)

    async def _batched(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> Any:
        """``Client._batched``, with the server-sized batches sent concurrently."""
        plans = self.client.batch_plans(provider, task, text_or_list, options, interface_options)
        if len(plans) == 1:
            return await self.answer(plans[0])
        started = time.perf_counter()
        parts = await asyncio.gather(*(self.answer(plan) for plan in plans))
        return merge_batches(list(parts), started)

    async def rerank_async(
        self,
        provider: str,
        query: str,
        documents: List[str],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """The async ``rerank``."""
        plan = self.client.rerank_plan(provider, query, documents, options, interface_options)

        def replan(extra: Dict[str, Any]) -> Plan:
            return self.client.rerank_plan(provider, query, documents, {**(options or {}), **extra}, interface_options)

        if rerank_pipeline.known(plan):
            plan = rerank_pipeline.resolve(plan, self.client._get_json, replan)
        else:  # the Hub's pipeline tag, read once per model: sync I/O, in a thread
            plan = await self.in_thread(rerank_pipeline.resolve, plan, self.client._get_json, replan)
        return await self.answer(plan)

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
        deadline: Optional[float] = None,
    ) -> List[Any]:
        """A batch, answers in input order: the async ``Client.send_messages`` (see ``llm_interface.fanout``)."""
        return await run_in_tasks(
            self, provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
        )
