"""Client: a ``BaseClient`` (configuration and the I/O-free steps) with the sync I/O.

A call's way: ``plan`` (plan.py) -> ``cached`` (cache_policy.py) -> on a miss, the one call sequence
(sequence.py: hooks, rate limiter, prompt render, ``provider.prepare``, send, ``provider.parse``, record)
driven here with blocking I/O: the rate limiter waits, the Hub template is fetched, the transport sends.
The async client drives the same sequence with async I/O.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import cache_policy, errors, rerank_pipeline, router_preflight
from .aliases import AliasTable
from .base_client import BaseClient, merge_batches
from .cache import CacheBackend
from .catalogue import Catalogue, CatalogueModel, catalogue_key
from .cost import Budget, cost_of
from .fanout import run_in_threads
from .hf_resolution import ProviderResolver
from .plan import Plan
from .prompt_render import PromptRenderer
from .prompts import HubTemplate
from .request import Request
from .sequence import ACQUIRE, CHUNKS, COMPUTE, OPEN, RENDER, RESOLVE, SEND, call_steps, run_steps, stream_steps
from .stream import Stream
from .text_tasks import TextTaskCalls
from .transport import Transport
from .types import ClassificationResponse, EmbeddingResponse, RerankResponse, Response
from .wire import Context


class Client(TextTaskCalls, BaseClient):
    """Holds keys, aliases, cache and connections. Build several for several configurations."""

    def __init__(
        self,
        api_keys: Optional[Mapping[str, str]] = None,
        *,
        aliases: Optional[AliasTable] = None,
        cache: Optional[CacheBackend] = None,
        transport: Optional[Transport] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        debug: bool = False,
        max_response_bytes: Optional[int] = None,
    ) -> None:
        """``max_response_bytes``: the largest answer body (and SSE event) read, default 32 MiB
        (docs/retry-and-rate-limits.md); it goes to the transport this Client builds."""
        if transport is not None and max_response_bytes is not None:
            raise errors.InvalidRequestError(
                "Pass max_response_bytes either to Client or to the Transport you give it, not both: "
                "Transport(max_response_bytes=...)."
            )
        super().__init__(api_keys, aliases=aliases, cache=cache, interface_options=interface_options, debug=debug)
        if transport is None:
            transport = Transport() if max_response_bytes is None else Transport(max_response_bytes=max_response_bytes)
        self.transport = transport
        self.renderer = PromptRenderer(self.prompt_templates, self._get_json)
        # The mapping goes into the configured cache too, unless the cache is switched off ("off" mode).
        self.resolver = ProviderResolver(self._get_json, lambda: self.cache if self.current_cache_mode() != "off" else None)
        self.catalogue = Catalogue(self._get_json)
        self.budget: Optional[Budget] = None
        self._steps: Dict[str, Callable[[Any], Any]] = {
            ACQUIRE: self._acquire, RENDER: self.renderer.render, COMPUTE: _compute, CHUNKS: _chunks,
            SEND: self._send, OPEN: self._open, RESOLVE: self.resolver.resolve,
        }

    def close(self) -> None:
        if self.call_log is not None:
            self.call_log.close()  # what is queued is written first
        self.transport.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- the sequence's I/O ---------------------------------------------------------------------

    def _perform(self, kind: str, argument: Any) -> Any:
        return self._steps[kind](argument)

    def _acquire(self, plan: Plan) -> None:
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(plan.request)

    def _send(self, argument: Tuple[Any, Plan]) -> Any:
        return self._through(self.transport.send, argument)

    def _open(self, argument: Tuple[Any, Plan]) -> Any:
        return self._through(self.transport.open_stream, argument)

    def _through(self, transport_call: Callable[..., Any], argument: Tuple[Any, Plan]) -> Any:
        """``transport_call`` (send or open_stream) after the checks, a router refusal explained."""
        call, plan = argument
        self.check_before_sending(plan)
        try:
            return transport_call(call, plan.context, plan.policy, self.recorder.retry_hook(plan))
        except errors.ValidationError as error:  # the router's model_not_supported, with the alternatives
            self._explain(plan, error)
            raise

    def check_before_sending(self, plan: Plan) -> None:
        """The opt-in preflight and the budget (both read the catalogue: sync I/O, held ``CATALOGUE_TTL``)."""
        router_preflight.before_sending(self.catalogue, plan.request)
        if self.budget is not None:  # a limit, or tracking only (usd=None): either way the prices are needed
            if router_preflight.applies(plan.request):
                self.catalogue.full(plan.request.api_key)  # prices for the estimate, and for the answer's cost
            self.budget.check(self.catalogue, plan.request)

    def account(self, plan: Plan, response: Any) -> Optional[float]:
        cost = cost_of(self.catalogue, plan.request, response)
        if self.budget is not None:
            self.budget.add(cost)
        return cost

    def configure_budget(self, usd: Optional[float] = None) -> Budget:
        """Refuse (BudgetExceededError) a call that would take this client's spending past ``usd`` dollars, as
        priced by the router's catalogue (cost.py); ``usd=None`` only tracks. ``budget.spent`` is the running total."""
        self.budget = Budget(usd)
        return self.budget

    def _explain(self, plan: Plan, error: errors.ValidationError) -> None:
        better = router_preflight.explained(self.catalogue, plan.request, error)
        if better is not error:
            raise better from error

    def _get_json(self, url: str, headers: Mapping[str, str], context: Context, timeout: Any) -> Any:
        return self.transport.get_json(url, headers, context, timeout=timeout)

    # -- running planned calls ------------------------------------------------------------------

    def answer(self, plan: Plan) -> Any:
        """Run a planned, non-streaming call: the cache, else the network (and the answer into the cache)."""
        hit = cache_policy.lookup(self.cache, plan)  # ``self.cached``, one call less on a hit's path
        if hit is None:
            return self.send_uncached(plan)
        if self.hooks:
            self.hooks.emit("cache_hit", plan.request, hit)
        return hit

    def send_uncached(self, plan: Plan) -> Any:
        """The network half of ``answer``, for callers that have already looked in the cache (batches)."""
        return run_steps(call_steps(self.recorder, plan), self._perform)

    def open_stream(self, plan: Plan) -> Stream:
        """A stream for a planned call: a cached answer played back, or the connection opened now."""
        hit = self.cached(plan)
        if hit is not None:
            return Stream.replay(hit)
        plan, source = run_steps(stream_steps(self.recorder, plan), self._perform)
        if plan.provider.in_process:  # an engine's chunks, computed as they are read
            return Stream(self.recorder, plan, source, None)
        return Stream(self.recorder, plan, None, source)

    # -- the calls ------------------------------------------------------------------------------

    def send_message(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """Send a chat message (a string, a list of messages, or a ``{"model", "messages"}`` dict)."""
        return self.answer(self.plan(provider, "chat", message, options, interface_options))

    def stream_message(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Stream:
        """Stream a chat answer: iterate for ``StreamChunk``s; ``.response`` holds the aggregate at the end.

        Use it as a context manager (or call ``close()``) to free the connection when you stop early.
        """
        return self.open_stream(self.plan(provider, "chat", message, options, interface_options, stream=True))

    def complete(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """Raw text completion of ``prompt`` (no chat template): TGI ``/generate``, hf-inference text-generation,
        ``/v1/completions``. Supports ``logprobs``, ``echo``, ``n``, ``stop``... (docs/completion.md)."""
        return self.answer(self.plan(provider, "completion", {"prompt": prompt}, options, interface_options))

    def stream_complete(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Stream:
        """``complete``, streamed: iterate for ``StreamChunk``s."""
        return self.open_stream(
            self.plan(provider, "completion", {"prompt": prompt}, options, interface_options, stream=True)
        )

    def embeddings(
        self,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> EmbeddingResponse:
        """One vector per input, in input order; long lists are split into batches (``batch_size``)."""
        return self._batched(provider, "embeddings", text_or_list, options, interface_options)

    def classify(
        self,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> ClassificationResponse:
        """Labels with scores (best first) per input; ``candidate_labels`` makes it zero-shot."""
        return self._batched(provider, "classify", text_or_list, options, interface_options)

    def rerank(
        self,
        provider: str,
        query: str,
        documents: List[str],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> RerankResponse:
        """Documents by relevance to ``query``, best first (``top_n``, ``return_documents``); a cross-encoder
        scores pairs, any other model compares embeddings (``cross_encoder``: rerank_pipeline.py)."""
        plan = self.rerank_plan(provider, query, documents, options, interface_options)
        return self.answer(rerank_pipeline.resolve(plan, self._get_json, lambda extra: self.rerank_plan(
            provider, query, documents, {**(options or {}), **extra}, interface_options)))

    def _batched(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> Any:
        plans = self.batch_plans(provider, task, text_or_list, options, interface_options)
        if len(plans) == 1:
            return self.answer(plans[0])
        started = time.perf_counter()
        return merge_batches([self.answer(plan) for plan in plans], started)

    def send_messages(
        self,
        provider: str,
        messages: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        concurrency: int = 8,
        progress: bool = True,
        raise_on_error: bool = False,
        deadline: Optional[float] = None,
    ) -> List[Any]:
        """A batch over threads, answers in input order: each a Response or the item's typed error.
        See ``llm_interface.fanout`` (how a batch paces itself after a 429)."""
        return run_in_threads(
            self, provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
        )

    # -- the Inference Providers catalogue (catalogue.py) --------------------------------------

    def list_models(
        self, provider: str = "huggingface", task: Optional[str] = None, inference_provider: Optional[str] = None
    ) -> List[CatalogueModel]:
        """The router's catalogue (chat models: providers, prices, context, tools), or for another ``task``
        ("embeddings", "completion", "classify") the Hub's served models; ``inference_provider`` filters."""
        return self.catalogue.models(catalogue_key(self, provider), task=task, provider=inference_provider)

    def get_model_info(self, provider: str, model: str) -> CatalogueModel:
        """One model's catalogue entry: every provider serving it, with status, price and capabilities."""
        return self.catalogue.model(model, catalogue_key(self, provider))

    # -- prompt templates (chat messages for raw-generation routes) -----------------------------

    def hub_chat_template(self, model: str, api_key: Optional[str] = None) -> Optional[HubTemplate]:
        """The model's own chat template from its ``tokenizer_config.json`` on the Hub, fetched once per Client.

        None when the model has none or it cannot be read (gated, missing, offline): logged, then the
        built-in templates apply.
        """
        return self.renderer.hub_template(model, api_key)

    def prompt_for(self, request: Request) -> Tuple[str, Tuple[str, ...]]:
        """(prompt, stop sequences) for chat messages on a raw-generation route (see prompt_render.py)."""
        return self.renderer.prompt_for(request)


def _compute(plan: Plan) -> Any:
    return plan.provider.compute(plan.request)


def _chunks(plan: Plan) -> Any:
    return plan.provider.stream(plan.request)
