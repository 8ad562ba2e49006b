"""Client: the one object that owns state (keys, aliases, cache, transport, hooks) and runs a call.

A call's way: normalise the message into a Request, resolve the alias and the key, pick the provider
mode -> look in the cache -> ``provider.prepare`` -> transport (with retry) -> ``provider.parse`` ->
store in the cache and tell the hooks. ``plan``, ``cached`` and ``finish`` are the I/O-free steps; the
async client runs the same steps around its own transport, so no logic exists twice.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from . import errors
from .aliases import AliasTable
from .cache import MODE_ENV_VAR, CacheBackend, cache_key, make_cache
from .cache.entries import check_mode, decode_entry, encode_entry
from .credentials import find_api_base, find_api_key, how_to_set_key
from .debug import debug_from_env
from .debug import enable as enable_debug
from .events import Hooks
from .prompts import HubTemplate, PromptTemplate, PromptTemplates, family_of, plain, tokenizer_config_url
from .providers import Provider, provider_class
from .request import (
    NOT_GIVEN,
    InterfaceOptions,
    Request,
    normalize_message,
    split_options,
    take_interface_options,
)
from .retry import RetryPolicy
from .stream import Stream
from .transport import Transport
from .types import ClassificationResponse, EmbeddingResponse, RerankResponse, Response, Usage
from .wire import Context

logger = logging.getLogger("llm_interface")


@dataclass(frozen=True)
class Plan:
    """Everything needed to run one call, decided before any I/O."""

    request: Request
    options: InterfaceOptions
    provider: Provider
    policy: RetryPolicy
    context: Context
    cache_key: Optional[str]
    started: float
    cache_mode: str = "auto"


class Client:
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
    ) -> None:
        if debug or debug_from_env():
            enable_debug()  # wire bodies in the log, keys redacted (debug.py)
        self._keys: Dict[str, str] = {}
        if api_keys:
            self.set_api_key(api_keys)
        self.aliases = aliases or AliasTable()
        self.cache: Optional[CacheBackend] = cache
        self.transport = transport or Transport()
        self.hooks = Hooks()
        self.rate_limiter: Any = None  # a ratelimit.RateLimiter, set by configure_rate_limit
        self.cache_mode: Optional[str] = None  # None: $LLM_INTERFACE_CACHE_MODE, else "auto"
        self.cache_scope: Optional[str] = None  # None: entries scoped by the key's fingerprint
        self.defaults = InterfaceOptions.from_mapping(interface_options)
        self._providers: Dict[type, Provider] = {}
        self.prompt_templates = PromptTemplates()
        self._hub_templates: Dict[str, Optional[HubTemplate]] = {}

    def __repr__(self) -> str:
        # Which providers have keys, never the keys.
        return f"Client(keys_for={sorted(self._keys)}, cache={type(self.cache).__name__ if self.cache else None})"

    # -- configuration --------------------------------------------------------------------------

    def set_api_key(self, provider_or_keys: Union[str, Mapping[str, str]], key: Optional[str] = None) -> None:
        """``set_api_key({"huggingface": "hf_..."})`` or ``set_api_key("huggingface", "hf_...")``."""
        if isinstance(provider_or_keys, Mapping):
            if key is not None:
                raise errors.InvalidRequestError("Pass either a {provider: key} dict or (provider, key), not both.")
            items = list(provider_or_keys.items())
        elif isinstance(provider_or_keys, str) and isinstance(key, str):
            items = [(provider_or_keys, key)]
        else:
            raise errors.InvalidRequestError(
                "set_api_key takes a {provider: key} dict or (provider, key) strings, "
                "e.g. set_api_key({'huggingface': 'hf_...'})."
            )
        for provider, value in items:
            name = provider_class(provider).name
            if not isinstance(value, str) or not value.strip():
                raise errors.InvalidRequestError(f"The key for {provider!r} must be a non-empty string.")
            self._keys[name] = value.strip()

    def set_model_alias(self, provider: str, alias: str, model: str) -> None:
        self.aliases.set(provider_class(provider).name, alias, model, "chat")

    def set_embeddings_model_alias(self, provider: str, alias: str, model: str) -> None:
        self.aliases.set(provider_class(provider).name, alias, model, "embeddings")

    def get_model_by_alias(self, provider: str, alias: str) -> Optional[str]:
        return self.aliases.get(provider_class(provider).name, alias, "chat")

    def get_embeddings_model_by_alias(self, provider: str, alias: str) -> Optional[str]:
        return self.aliases.get(provider_class(provider).name, alias, "embeddings")

    def get_all_model_names(self) -> Dict[str, Dict[str, Dict[str, str]]]:
        """Every provider with its chat and embeddings aliases."""
        from .providers import PROVIDERS

        table = self.aliases.all()
        return {name: table.get(name, {"chat": {}, "embeddings": {}}) for name in PROVIDERS}

    def get_interface_config_value(self, provider: str, key: str) -> Any:
        """A provider's configuration value: ``url``, ``model`` (chat aliases), ``embeddings``, ``tasks``."""
        cls = provider_class(provider)
        aliases = self.get_all_model_names()[cls.name]
        from .providers.huggingface import ROUTER

        config = {
            "url": ROUTER + "/v1/chat/completions" if cls.name == "huggingface" else None,
            "model": aliases.get("chat", {}),
            "embeddings": aliases.get("embeddings", {}),
            "tasks": sorted(cls.tasks),
        }
        if key not in config:
            raise errors.ConfigurationError(f"Unknown config key {key!r}; known: {', '.join(sorted(config))}.")
        return config[key]

    def configure_cache(
        self,
        backend: str = "memory",
        path: Optional[str] = None,
        ttl: Optional[float] = None,
        mode: Optional[str] = None,
        *,
        scope: Optional[str] = None,
        **kwargs: Any,
    ) -> CacheBackend:
        """Cache every call from now on (until a call passes ``cache=False``).

        ``backend``: "memory" (``maxsize``), "files" (``path``: a folder of JSON files), "sqlite" (``path``:
        a folder holding one database), "redis" (``url`` or ``path``: a redis:// URL). ``ttl``: seconds an
        entry lives, None for ever. ``mode``: "auto" (read, and write misses), "record" (always call and
        write), "replay" (read only: a miss raises CacheMissError, the network is never used), "off";
        None takes $LLM_INTERFACE_CACHE_MODE, else "auto". ``scope``: a fixed tenant name instead of the
        API key's fingerprint, so that entries recorded with one key replay with another or none.
        """
        if mode is not None:
            check_mode(mode, "mode")
        cache = make_cache(backend, path=path, ttl=ttl, **kwargs)
        if self.cache is not None:
            self.cache.close()
        self.cache, self.cache_mode, self.cache_scope = cache, mode, scope
        return cache

    def flush_cache(self) -> None:
        """Remove every entry of the configured cache (a no-op without one)."""
        if self.cache is not None:
            self._cache_io(self.cache.clear)

    def configure_rate_limit(
        self,
        provider: str,
        requests_per_minute: Optional[float] = None,
        tokens_per_minute: Optional[float] = None,
        redis_url: Optional[str] = None,
        *,
        max_wait: float = 60.0,
    ) -> None:
        """Keep calls to ``provider`` under a budget per API key, waiting for a slot instead of provoking 429s.

        Tokens are estimated before the call (prompt characters / 4 + max_tokens). With ``redis_url``
        the budget is shared by every process and machine using that Redis. A call that would wait
        more than ``max_wait`` seconds raises RateLimitError instead. Both limits None removes the limit.
        """
        from .ratelimit import RateLimiter

        if self.rate_limiter is None:
            self.rate_limiter = RateLimiter()
        self.rate_limiter.configure(
            provider_class(provider).name, requests_per_minute, tokens_per_minute, redis_url, max_wait=max_wait
        )

    def on(self, event: str, hook: Optional[Callable[..., Any]] = None) -> Any:
        """Call ``hook`` on ``event`` (``request``, ``response``, ``retry``, ``error``; ``on_`` prefix
        accepted). Without ``hook``, a decorator: ``@client.on("response")``. See ``events.py``."""
        if hook is None:
            return lambda function: self.hooks.add(event, function)
        return self.hooks.add(event, hook)

    def off(self, event: str, hook: Callable[..., Any]) -> None:
        """Stop calling ``hook`` on ``event``."""
        self.hooks.remove(event, hook)

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
    ) -> List[Any]:
        """A batch over threads, answers in input order: each a Response or the item's typed error.
        See ``llm_interface.batch``."""
        from .batch import send_messages

        return send_messages(
            self, provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error,
        )

    def provider(self, name: str) -> Provider:
        cls = provider_class(name)
        instance = self._providers.get(cls)
        if instance is None:
            instance = self._providers[cls] = cls()
        return instance

    def close(self) -> None:
        self.transport.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- the I/O-free steps ---------------------------------------------------------------------

    def plan(
        self,
        provider_name: str,
        task: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        stream: bool = False,
        inputs: Any = None,
    ) -> Plan:
        started = time.perf_counter()
        provider = self.provider(provider_name)
        settings, params = split_options(options)
        messages, prompt = None, None
        if task in ("chat", "completion"):
            messages, prompt, carried = normalize_message(message)
            if carried:
                carried_settings, carried_params = split_options(carried)
                settings = {**carried_settings, **settings}
                params = {**carried_params, **params}
            if prompt is not None:
                task = "completion"
        moved = take_interface_options(params)
        if moved:  # interface options given among the options: the explicit interface_options win
            interface_options = {**moved, **_as_mapping(interface_options)}
        iopts = self._interface_options(interface_options)
        explicit_key = settings.pop("api_key", None)
        api_key = find_api_key(provider.name, explicit_key, self._keys)
        # A key found in the environment, .env or the token file is "ambient": the user did not hand it
        # to this call, so the provider decides whether the destination may see it.
        ambient = api_key is not None and not explicit_key and provider.name not in self._keys
        request = Request(
            provider=provider.name,
            task=task,
            model=settings.pop("model", None),
            messages=messages,
            prompt=prompt,
            inputs=inputs,
            params=params,
            stream=stream,
            api_base=find_api_base(provider.name, settings.pop("api_base", None)),
            timeout=settings.pop("timeout", None),
            headers=dict(settings.pop("headers", None) or {}),
            settings=settings,
            api_key=api_key,
        )
        provider = provider.engine_for(request)  # e.g. Hugging Face local mode: an in-process engine
        provider.supports(request)
        # ``request`` was built just above and nobody else holds it yet: completing it in place costs
        # 0.3 us where dataclasses.replace cost about 10 us, a sixth of a memory cache hit (bench_cache.py).
        settle = object.__setattr__
        settle(request, "model", provider.resolve_model(request, self.aliases))
        if ambient and not provider.trusts_ambient_key(request):
            api_key = None
            settle(request, "api_key", None)
        mode = self._cache_mode()
        # Replaying fixtures needs no key: the network is never used (CI runs without secrets).
        if api_key is None and provider.needs_api_key(request) and mode != "replay":
            raise errors.MissingAPIKeyError(
                f"No API key for {provider.name!r}. To set one: {how_to_set_key(provider.name)}.",
                provider=provider.name, model=request.model,
            )
        policy = RetryPolicy.of(iopts.retry_attempts, iopts.retry_multiplier, iopts.max_retry_wait)
        use_cache = mode == "replay" or (mode != "off" and self._cache_for(iopts) is not None)
        key = cache_key(request, self.cache_scope) if use_cache else None
        return Plan(request, iopts, provider, policy, Context(provider.name, request.model, api_key), key, started, mode)

    def _cache_mode(self) -> str:
        if self.cache_mode is not None:
            return self.cache_mode
        mode = os.environ.get(MODE_ENV_VAR)
        return check_mode(mode.strip().lower(), MODE_ENV_VAR) if mode and mode.strip() else "auto"

    def _interface_options(self, given: Optional[Mapping[str, Any]]) -> InterfaceOptions:
        """Call-level interface options over the client's defaults, field by field."""
        if not given:
            return self.defaults
        if isinstance(given, InterfaceOptions):
            return given
        if not isinstance(given, Mapping):
            return InterfaceOptions.from_mapping(given)  # raises the typed error
        return InterfaceOptions.from_mapping({**vars(self.defaults), **given})

    def _cache_for(self, iopts: InterfaceOptions) -> Optional[CacheBackend]:
        if iopts.cache in (False, None) or iopts.cache_timeout_seconds is None or iopts.cache_timeout_seconds == 0:
            return None
        if self.cache is None and iopts.cache_timeout_seconds is not NOT_GIVEN:
            self.cache = make_cache("memory")  # the JS library's behaviour: a TTL given turns caching on
        return self.cache

    def cached(self, plan: Plan) -> Any:
        """The cached answer, or None (a miss, a refresh, record mode, or no cache).

        In replay mode a miss raises CacheMissError naming the request: the network is never used.
        """
        if plan.cache_key is None:
            return None
        mode = plan.cache_mode
        if mode == "record" or (plan.options.refresh and mode != "replay"):
            return None
        entry = self._cache_io(self.cache.get, plan.cache_key) if self.cache is not None else None
        hit = decode_entry(entry, plan.cache_key) if entry is not None else None
        if hit is None:
            if mode == "replay":
                raise errors.CacheMissError(
                    f"Replay mode: no recorded answer for {plan.request.describe()} (cache key "
                    f"{plan.cache_key[:12]}...). Record it with --llm-cache=record, or "
                    f"{MODE_ENV_VAR}=record, or configure_cache(..., mode='record').",
                    provider=plan.request.provider, model=plan.request.model,
                )
            return None
        # ``hit`` was just built from the entry and nobody else holds it: set the per-call fields in place
        # rather than copying it again with replace() (that copy was a third of a memory hit's cost).
        set_field = object.__setattr__
        set_field(hit, "cached", True)
        set_field(hit, "request_time", 0.0)
        set_field(hit, "total_time", time.perf_counter() - plan.started)
        if isinstance(hit, Response):
            set_field(hit, "attempt_json_repair", plan.options.attempt_json_repair)
        return hit

    def store(self, plan: Plan, response: Any) -> None:
        """Keep a successful answer (errors never reach here). Replay mode writes nothing."""
        if plan.cache_key is None or self.cache is None or plan.cache_mode in ("replay", "off"):
            return
        entry = encode_entry(plan.request, response)
        if entry is None:
            return
        ttl = plan.options.cache_timeout_seconds
        # TypeError/ValueError: a value the store cannot serialise (say, a provider's odd tool-call
        # arguments) costs the entry, never the answer already in hand.
        self._cache_io(self.cache.set, plan.cache_key, entry, None if ttl is NOT_GIVEN else ttl, also=(TypeError, ValueError))

    def _cache_io(self, operation: Any, *args: Any, also: Tuple[type, ...] = ()) -> Any:
        """Run one cache operation; if the store is unavailable (full disk, Redis down), warn and go on without it."""
        cache = self.cache
        try:
            return operation(*args)
        except cache.failures + also as exc:  # type: ignore[union-attr, operator]
            logger.warning(
                "The %s cache is unavailable (%s: %s); this call goes on without it.",
                cache.name, type(exc).__name__, exc,  # type: ignore[union-attr]
            )
            return None

    def finish(self, plan: Plan, response: Any, request_time: float, retries: int, original: Any) -> Any:
        changes: Dict[str, Any] = dict(
            retries=retries,
            request_time=request_time,
            total_time=time.perf_counter() - plan.started,
            original=original if plan.options.include_original_response else None,
        )
        if isinstance(response, Response):
            changes["attempt_json_repair"] = plan.options.attempt_json_repair
        response = replace(response, **changes)
        self.store(plan, response)
        if self.hooks:
            self.hooks.emit("response", plan.request, response)
        return response

    def _on_retry(self, plan: Plan):
        if not self.hooks:
            return None
        return lambda number, wait, error: self.hooks.emit("retry", plan.request, number, wait, error)

    def failed(self, plan: Plan, error: BaseException) -> None:
        if self.hooks:
            self.hooks.emit("error", plan.request, error)

    # -- running calls --------------------------------------------------------------------------

    def run(self, plan: Plan) -> Any:
        """Run a planned, non-streaming call: the cache, else the network (and the answer into the cache)."""
        hit = self.cached(plan)
        return hit if hit is not None else self.fetch(plan)

    def fetch(self, plan: Plan) -> Any:
        """The network half of ``run``, for callers that have already looked in the cache (batches)."""
        if self.hooks:
            self.hooks.emit("request", plan.request)
        try:
            if plan.provider.in_process:
                sent = time.perf_counter()
                response = plan.provider.compute(plan.request)
                return self.finish(plan, response, time.perf_counter() - sent, 0, None)
            if self.rate_limiter is not None:
                self.rate_limiter.acquire(plan.request)
            plan = self.render_prompt(plan)
            call = plan.provider.prepare(plan.request)
            result = self.transport.send(call, plan.context, plan.policy, self._on_retry(plan))
            response = plan.provider.parse(plan.request, result)
            return self.finish(plan, response, result.elapsed, result.retries, result.body)
        except errors.LLMInterfaceError as error:
            self.failed(plan, error)
            raise

    def send_message(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """Send a chat message (a string, a list of messages, or a ``{"model", "messages"}`` dict)."""
        return self.run(self.plan(provider, "chat", message, options, interface_options))

    def stream_message(
        self,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> "Stream":
        """Stream a chat answer: iterate for ``StreamChunk``s; ``.response`` holds the aggregate at the end.

        Use it as a context manager (or call ``close()``) to free the connection when you stop early.
        """
        plan = self.plan(provider, "chat", message, options, interface_options, stream=True)
        return self.open_stream(plan)

    # -- prompt templates (chat messages for raw-generation routes) -----------------------------

    def register_prompt_template(
        self,
        model: str,
        roles: Optional[Mapping[str, Mapping[str, str]]] = None,
        initial_prompt_value: str = "",
        final_prompt_value: str = "",
        bos_token: str = "",
        eos_token: str = "",
        stop: Optional[List[str]] = None,
    ) -> PromptTemplate:
        """A template for ``model`` (or a name to pass as ``prompt_template``); it wins over every other.

        ``roles`` maps system/user/assistant/tool to ``{"pre_message": ..., "post_message": ...}``.
        """
        return self.prompt_templates.register(
            model, roles, initial_prompt_value, final_prompt_value, bos_token, eos_token, stop
        )

    def hub_chat_template(self, model: str, api_key: Optional[str] = None) -> Optional[HubTemplate]:
        """The model's own chat template from its ``tokenizer_config.json`` on the Hub, fetched once per Client.

        None when the model has none or it cannot be read (gated, missing, offline): logged, then the
        built-in templates apply.
        """
        if model in self._hub_templates:
            return self._hub_templates[model]
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        template: Optional[HubTemplate] = None
        try:
            config = self.transport.get_json(tokenizer_config_url(model), headers, Context("huggingface", model), timeout=10)
            template = HubTemplate.from_config(config)
        except errors.LLMInterfaceError as error:
            logger.warning("Could not read the Hub chat template of %s (%s); using the built-in templates.", model, error)
        self._hub_templates[model] = template
        return template

    def prompt_for(self, request: Request) -> Tuple[str, Tuple[str, ...]]:
        """(prompt, stop sequences) for chat messages on a raw-generation route; the order is documented in
        ``prompts/templates.py``: forced > registered > Hub > built-in family > plain (with a warning)."""
        messages = list(request.messages or ())
        forced = request.settings.get("prompt_template")
        hub_id = request.model if request.model and "/" in request.model and "://" not in request.model else None
        if forced == "hub":
            hub = self.hub_chat_template(hub_id, request.api_key) if hub_id else None
            if hub is None:
                raise errors.ConfigurationError(
                    f"prompt_template='hub' needs a Hub model id with a chat template; {request.model!r} has none.",
                    provider=request.provider, model=request.model,
                )
            return hub.render(messages), hub.stop
        template = self.prompt_templates.named(forced) if forced else self.prompt_templates.registered(request.model)
        if template is None and hub_id:
            hub = self.hub_chat_template(hub_id.split(":")[0], request.api_key)
            if hub is not None:
                return hub.render(messages), hub.stop
        template = template or family_of(request.model)
        if template is None:
            return plain(messages, request.model), ()
        return template.render(messages), template.stop

    @staticmethod
    def needs_prompt(plan: Plan) -> bool:
        """Chat messages bound for a raw-generation route that ``render_prompt`` must turn into a prompt."""
        return plan.request.prompt is None and plan.provider.renders_prompt(plan.request)

    def render_prompt(self, plan: Plan) -> Plan:
        """Chat messages bound for a raw-generation route, rendered into ``request.prompt`` (may fetch the Hub
        template: an I/O step, run just before ``prepare``). Other plans come back unchanged."""
        if not self.needs_prompt(plan):
            return plan
        request = plan.request
        prompt, stops = self.prompt_for(request)
        params = request.params
        if stops and not params.get("stop"):
            params = {**params, "stop": list(stops)}
        return replace(plan, request=replace(request, prompt=prompt, params=params))

    # -- other tasks ----------------------------------------------------------------------------

    def complete(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """Raw text completion of ``prompt`` (no chat template): TGI ``/generate``, hf-inference text-generation,
        ``/v1/completions``. Supports ``logprobs``, ``echo``, ``n``, ``stop``... (docs/completion.md)."""
        return self.run(self.plan(provider, "completion", {"prompt": prompt}, options, interface_options))

    def stream_complete(
        self,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> "Stream":
        """``complete``, streamed: iterate for ``StreamChunk``s."""
        plan = self.plan(provider, "completion", {"prompt": prompt}, options, interface_options, stream=True)
        return self.open_stream(plan)

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
        """Documents by relevance to ``query``, best first (``top_n``, ``return_documents``)."""
        if not isinstance(query, str) or not query.strip():
            raise errors.InvalidRequestError("rerank needs a non-empty query string.")
        _check_texts(documents, "documents")
        inputs = {"query": query, "documents": list(documents)}
        return self.run(self.plan(provider, "rerank", None, options, interface_options, inputs=inputs))

    def _batched(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> Any:
        plans = self.batch_plans(provider, task, text_or_list, options, interface_options)
        if len(plans) == 1:
            return self.run(plans[0])
        started = time.perf_counter()
        return merge_batches([self.run(plan) for plan in plans], time.perf_counter() - started)

    def batch_plans(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> List[Plan]:
        """One plan per server-sized batch of an embeddings/classify input (shared with the async client)."""
        single = isinstance(text_or_list, str)
        texts = _check_texts([text_or_list] if single else text_or_list, "input")
        plan = self.plan(provider, task, None, options, interface_options, inputs=text_or_list if single else texts)
        size = plan.provider.batch_size(plan.request)
        if single or not size or len(texts) <= size:
            return [plan]
        return [
            self.plan(provider, task, None, options, interface_options, inputs=texts[at:at + size])
            for at in range(0, len(texts), size)
        ]

    def open_stream(self, plan: Plan) -> "Stream":
        hit = self.cached(plan)
        if hit is not None:
            return Stream.replay(hit)
        if self.hooks:
            self.hooks.emit("request", plan.request)
        try:
            if plan.provider.in_process:
                return Stream(self, plan, plan.provider.stream(plan.request), None)
            if self.rate_limiter is not None:
                self.rate_limiter.acquire(plan.request)
            plan = self.render_prompt(plan)
            call = plan.provider.prepare(plan.request)
            http = self.transport.open_stream(call, plan.context, plan.policy, self._on_retry(plan))
        except errors.LLMInterfaceError as error:
            self.failed(plan, error)
            raise
        return Stream(self, plan, None, http)


def _check_texts(value: Any, name: str) -> List[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise errors.InvalidRequestError(f"{name} must be a string or a non-empty list of strings.")
    for position, text in enumerate(value):
        if not isinstance(text, str) or not text:
            raise errors.InvalidRequestError(f"{name}[{position}] must be a non-empty string, got {text!r}.")
    return list(value)


def merge_batches(parts: List[Any], total_time: float) -> Any:
    """Batches of one embeddings/classify call, joined back into one answer in input order."""
    first = parts[0]
    common = dict(
        retries=sum(p.retries for p in parts),
        cached=all(p.cached for p in parts),
        request_time=sum(p.request_time or 0.0 for p in parts),
        total_time=total_time,
    )
    if isinstance(first, EmbeddingResponse):
        usages = [p.usage for p in parts if p.usage is not None]
        usage = Usage.from_dict({
            "prompt_tokens": sum(u.prompt_tokens or 0 for u in usages),
            "total_tokens": sum(u.total_tokens or 0 for u in usages),
        }) if usages else None
        return replace(first, embeddings=[v for p in parts for v in p.embeddings], usage=usage, **common)
    return replace(first, classifications=tuple(c for p in parts for c in p.classifications), **common)


def _as_mapping(interface_options: Any) -> Mapping[str, Any]:
    if isinstance(interface_options, InterfaceOptions):
        return vars(interface_options)
    return interface_options or {}
