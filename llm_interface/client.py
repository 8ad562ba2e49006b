"""Client: the one object that owns state (keys, aliases, cache, transport, hooks) and runs a call.

A call's way: normalise the message into a Request, resolve the alias and the key, pick the provider
mode -> look in the cache -> ``provider.prepare`` -> transport (with retry) -> ``provider.parse`` ->
store in the cache and tell the hooks. ``plan``, ``cached`` and ``finish`` are the I/O-free steps; the
async client runs the same steps around its own transport, so no logic exists twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from . import errors
from .aliases import AliasTable
from .cache import CacheBackend, cache_key, make_cache
from .credentials import find_api_base, find_api_key, how_to_set_key
from .debug import debug_from_env, enable as enable_debug
from .events import Hooks
from .providers import Provider, provider_class
from .request import (
    NOT_GIVEN,
    InterfaceOptions,
    Request,
    normalize_message,
    split_options,
)
from .retry import RetryPolicy
from .transport import Context, HttpStream, Transport
from .types import Response, StreamChunk

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
        self.rate_limiter: Any = None  # set by configure_rate_limit (retry/limits issue)
        self.defaults = InterfaceOptions.from_mapping(interface_options)
        self._providers: Dict[type, Provider] = {}

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
        iopts = self._interface_options(interface_options)
        explicit_key = settings.pop("api_key", None)
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
        )
        provider.supports(request)
        model = provider.resolve_model(request, self.aliases)
        api_key = find_api_key(provider.name, explicit_key, self._keys)
        # One replace for both: dataclasses.replace is the costliest step of planning (batches, RESULTS.md).
        request = replace(request, model=model, api_key=api_key)
        if api_key is None and provider.needs_api_key(request):
            raise errors.MissingAPIKeyError(
                f"No API key for {provider.name!r}. To set one: {how_to_set_key(provider.name)}.",
                provider=provider.name, model=request.model,
            )
        policy = RetryPolicy(
            attempts=iopts.retry_attempts, multiplier=iopts.retry_multiplier, budget=iopts.max_retry_wait
        )
        key = cache_key(request) if self._cache_for(iopts) is not None else None
        return Plan(request, iopts, provider, policy, Context(provider.name, request.model), key, started)

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
        if iopts.cache is False or iopts.cache_timeout_seconds is None or iopts.cache_timeout_seconds == 0:
            return None
        if self.cache is None and iopts.cache_timeout_seconds is not NOT_GIVEN:
            self.cache = make_cache("memory")  # the JS library's behaviour: a TTL given turns caching on
        return self.cache

    def cached(self, plan: Plan) -> Optional[Response]:
        """The cached answer, or None (a miss, a refresh, or no cache)."""
        if plan.cache_key is None or plan.options.refresh:
            return None
        entry = self.cache.get(plan.cache_key) if self.cache is not None else None
        if entry is None:
            return None
        response = Response.from_dict(entry)
        return replace(
            response,
            cached=True,
            total_time=time.perf_counter() - plan.started,
            request_time=0.0,
            attempt_json_repair=plan.options.attempt_json_repair,
        )

    def store(self, plan: Plan, response: Response) -> None:
        if plan.cache_key is None or self.cache is None:
            return
        ttl = plan.options.cache_timeout_seconds
        self.cache.set(plan.cache_key, response.to_dict(), None if ttl is NOT_GIVEN else ttl)

    def finish(self, plan: Plan, response: Response, request_time: float, retries: int, original: Any) -> Response:
        response = replace(
            response,
            retries=retries,
            request_time=request_time,
            total_time=time.perf_counter() - plan.started,
            original=original if plan.options.include_original_response else None,
            attempt_json_repair=plan.options.attempt_json_repair,
        )
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
        """Run a planned, non-streaming call: cache, then network, then cache again."""
        hit = self.cached(plan)
        if hit is not None:
            return hit
        if self.hooks:
            self.hooks.emit("request", plan.request)
        try:
            if plan.provider.in_process:
                sent = time.perf_counter()
                response = plan.provider.complete(plan.request)
                return self.finish(plan, response, time.perf_counter() - sent, 0, None)
            if self.rate_limiter is not None:
                self.rate_limiter.acquire(plan.request)
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
            call = plan.provider.prepare(plan.request)
            http = self.transport.open_stream(call, plan.context, plan.policy, self._on_retry(plan))
        except errors.LLMInterfaceError as error:
            self.failed(plan, error)
            raise
        return Stream(self, plan, None, http)


class Stream:
    """A streamed answer: iterate for chunks; ``.response`` is the aggregated Response once it ends.

    Closing it (``with`` block, ``close()``, or breaking out and letting it go) releases the connection.
    A stream that ends before the server says it is complete raises ``StreamError``, never a silent
    truncation.
    """

    def __init__(
        self,
        client: Optional[Client],
        plan: Optional[Plan],
        chunks: Optional[Iterator[StreamChunk]],
        http: Optional[HttpStream],
    ) -> None:
        self._client = client
        self._plan = plan
        self._chunks = chunks
        self._http = http
        self.response: Optional[Response] = None
        self._consumed = False

    @classmethod
    def replay(cls, response: Response) -> "Stream":
        """A cached answer played back as chunks (one for the text, then the finish)."""
        stream = cls(None, None, None, None)
        chunks: List[StreamChunk] = []
        if response.results:
            chunks.append(StreamChunk(response.results))
        chunks.append(StreamChunk("", 0, response.finish_reason, response.tool_calls, response.usage))
        stream._chunks = iter(chunks)
        stream.response = response
        return stream

    @property
    def request_id(self) -> Optional[str]:
        return self._http.request_id if self._http is not None else None

    def __iter__(self) -> Iterator[StreamChunk]:
        if self._consumed:
            raise errors.StreamError("This stream was already read; streams can be iterated once.")
        self._consumed = True
        if self._http is None:
            yield from self._in_process()
            return
        plan, client, http = self._plan, self._client, self._http
        state = plan.provider.stream_state(plan.request)
        try:
            for event, data in http:
                for chunk in state.on_event(event, data):
                    yield chunk
                if state.done:
                    break  # the answer is complete: don't wait for the server to close the connection
            response = state.finish(http.request_id)
        except errors.LLMInterfaceError as error:
            client.failed(plan, error)
            raise
        finally:
            http.close()
        self.response = client.finish(plan, response, time.perf_counter() - http.started, http.retries, None)

    def _in_process(self) -> Iterator[StreamChunk]:
        parts: List[str] = []
        last: Optional[StreamChunk] = None
        for chunk in self._chunks or ():
            parts.append(chunk.text)
            last = chunk
            yield chunk
        if self._plan is not None and self._client is not None:
            started = self._plan.started
            response = Response(
                results="".join(parts),
                model=self._plan.request.model,
                provider=self._plan.provider.name,
                finish_reason=last.finish_reason if last else None,
                usage=last.usage if last else None,
            )
            self.response = self._client.finish(self._plan, response, time.perf_counter() - started, 0, None)

    def text(self) -> str:
        """Read the whole stream and return its text."""
        return self.collect().results

    def collect(self) -> Response:
        """Read the rest of the stream and return the aggregated Response."""
        if not self._consumed:
            for _ in self:
                pass
        if self.response is None:
            raise errors.StreamError("The stream was closed before it finished.")
        return self.response

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
