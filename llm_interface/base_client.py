"""BaseClient: a client's configuration and its I/O-free steps (httpx's BaseClient shape).

It holds the state (keys, aliases, cache and its mode, rate limiter, hooks, interface-option defaults,
prompt templates, provider instances) and answers the questions a call asks before and after its I/O:
``plan`` (plan.py), ``cached`` (cache_policy.py), and the recorder (recorder.py). ``Client`` adds the
sync I/O; ``AsyncClient`` drives the same steps over a ``Client`` with async I/O.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from . import cache_policy, errors
from .aliases import AliasTable
from .cache import CacheBackend, make_cache
from .cache.entries import check_mode
from .debug import debug_from_env
from .debug import enable as enable_debug
from .events import Hooks
from .plan import Plan, build_plan, merge_interface_options
from .prompts import PromptTemplate, PromptTemplates
from .providers import PROVIDERS, Provider, provider_class
from .providers.huggingface import ROUTER
from .recorder import Recorder
from .request import NOT_GIVEN, InterfaceOptions
from .types import EmbeddingResponse, Usage


class BaseClient:
    """Configuration and the I/O-free steps of a call; see ``Client``."""

    def __init__(
        self,
        api_keys: Optional[Mapping[str, str]] = None,
        *,
        aliases: Optional[AliasTable] = None,
        cache: Optional[CacheBackend] = None,
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
        self.hooks = Hooks()
        self.rate_limiter: Any = None  # a ratelimit.RateLimiter, set by configure_rate_limit
        self.cache_mode: Optional[str] = None  # None: $LLM_INTERFACE_CACHE_MODE, else "auto"
        self.cache_scope: Optional[str] = None  # None: entries scoped by the key's fingerprint
        self.defaults = InterfaceOptions.from_mapping(interface_options)
        self._providers: Dict[type, Provider] = {}
        self.prompt_templates = PromptTemplates()
        self.recorder = Recorder(self)
        self.call_log: Any = None  # a call_log.CallLog, set by configure_log

    def __repr__(self) -> str:
        # Which providers have keys, never the keys.
        return f"{type(self).__name__}(keys_for={sorted(self._keys)}, cache={type(self.cache).__name__ if self.cache else None})"

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

    @property
    def api_keys(self) -> Dict[str, str]:
        """The keys given to this client, by provider (read by planning; never logged)."""
        return self._keys

    def set_model_alias(self, provider: str, alias: str, model: str) -> None:
        self.aliases.set(provider_class(provider).name, alias, model, "chat")

    def set_embeddings_model_alias(self, provider: str, alias: str, model: str) -> None:
        self.aliases.set(provider_class(provider).name, alias, model, "embeddings")

    def get_model_by_alias(self, provider: str, alias: str = "default") -> Optional[str]:
        return self.aliases.get(provider_class(provider).name, alias, "chat")

    def get_embeddings_model_by_alias(self, provider: str, alias: str = "default") -> Optional[str]:
        return self.aliases.get(provider_class(provider).name, alias, "embeddings")

    def get_all_model_names(self) -> Dict[str, Dict[str, Dict[str, str]]]:
        """Every provider with its chat and embeddings aliases."""
        table = self.aliases.all()
        return {name: table.get(name, {"chat": {}, "embeddings": {}}) for name in PROVIDERS}

    def get_interface_config_value(self, provider: str, key: str) -> Any:
        """A provider's configuration value: ``url``, ``model`` (chat aliases), ``embeddings``, ``tasks``."""
        cls = provider_class(provider)
        aliases = self.get_all_model_names()[cls.name]
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
        """Remove every entry of the configured cache (a no-op without one).

        Unlike a call's cache reads and writes, which go on without an unavailable store, this was asked
        for itself: a store that cannot be cleared raises CacheUnavailableError, never a silent success."""
        cache = self.cache
        if cache is None:
            return
        try:
            cache.clear()
        except cache.failures as exc:
            raise errors.CacheUnavailableError(
                f"The {cache.name} cache is unavailable ({type(exc).__name__}: {exc}); nothing was cleared. "
                "Check that the store is running and reachable (its url or path), then call flush_cache() again."
            ) from exc

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
        from .ratelimit import RateLimiter  # lazy: redis support loads only when limits are configured

        if self.rate_limiter is None:
            self.rate_limiter = RateLimiter()
        self.rate_limiter.configure(
            provider_class(provider).name, requests_per_minute, tokens_per_minute, redis_url, max_wait=max_wait
        )

    def configure_log(self, path: Any = None, **kwargs: Any) -> Any:
        """Log every call from now on to an SQLite file (``path``, default ``$LLM_INTERFACE_LOG``, else
        ``~/.local/share/llm_interface/calls.db``), off the hot path; ``max_bytes``, ``backups``,
        ``queue_size`` as in docs/call-log.md. Returns the ``CallLog``; ``close()`` it to stop."""
        from .call_log import CallLog

        if self.call_log is not None:
            self.call_log.close()
        self.call_log = CallLog(self, path, **kwargs)
        return self.call_log

    def on(self, event: str, hook: Optional[Callable[..., Any]] = None) -> Any:
        """Call ``hook`` on ``event`` (``request``, ``response``, ``retry``, ``error``; ``on_`` prefix
        accepted). Without ``hook``, a decorator: ``@client.on("response")``. See ``events.py``."""
        if hook is None:
            return lambda function: self.hooks.add(event, function)
        return self.hooks.add(event, hook)

    def off(self, event: str, hook: Callable[..., Any]) -> None:
        """Stop calling ``hook`` on ``event``."""
        self.hooks.remove(event, hook)

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

    def provider(self, name: str) -> Provider:
        cls = provider_class(name)
        instance = self._providers.get(cls)
        if instance is None:
            instance = self._providers[cls] = cls()
        return instance

    def account(self, plan: Plan, response: Any) -> Optional[float]:
        """An answer's cost in USD; None here: ``Client`` prices answers from the catalogue it holds (cost.py)."""
        return None

    # -- the I/O-free steps ---------------------------------------------------------------------

    def interface_options(self, given: Any) -> InterfaceOptions:
        """Call-level interface options over this client's defaults, field by field (and checked)."""
        return merge_interface_options(self.defaults, given)

    def current_cache_mode(self) -> str:
        return cache_policy.current_mode(self.cache_mode)

    def cache_for(self, options: InterfaceOptions) -> Optional[CacheBackend]:
        """The cache this call uses, or None. A TTL given with no cache configured turns a memory cache on
        (the JS library's behaviour)."""
        if not cache_policy.takes_part(options):
            return None
        if self.cache is None and options.cache_timeout_seconds is not NOT_GIVEN:
            self.cache = make_cache("memory")
        return self.cache

    # Everything one call needs, decided before any I/O: ``plan(provider_name, task, message, options=None,
    # interface_options=None, *, stream=False, inputs=None) -> Plan`` (plan.py). The function itself, not a
    # wrapper: planning is on every call's path, a cache hit's too.
    plan = build_plan

    def cached(self, plan: Plan) -> Any:
        """The cached answer for ``plan``, or None (see cache_policy.py; replay mode raises on a miss)."""
        hit = cache_policy.lookup(self.cache, plan)
        if hit is not None and self.hooks:
            self.hooks.emit("cache_hit", plan.request, hit)
        return hit

    def batch_plans(self, provider: str, task: str, text_or_list: Any, options: Any, interface_options: Any) -> List[Plan]:
        """One plan per server-sized batch of an embeddings/classify input (shared with the async client)."""
        single = isinstance(text_or_list, str)
        texts = check_texts([text_or_list] if single else text_or_list, "input")
        plan = self.plan(provider, task, None, options, interface_options, inputs=text_or_list if single else texts)
        size = plan.provider.batch_size(plan.request)
        if single or not size or len(texts) <= size:
            return [plan]
        return [
            self.plan(provider, task, None, options, interface_options, inputs=texts[at:at + size])
            for at in range(0, len(texts), size)
        ]

    def rerank_plan(
        self, provider: str, query: Any, documents: Any, options: Any, interface_options: Any
    ) -> Plan:
        """The plan of a rerank call, its query and documents checked."""
        if not isinstance(query, str) or not query.strip():
            raise errors.InvalidRequestError("rerank needs a non-empty query string.")
        if isinstance(documents, Iterable) and not isinstance(documents, (str, list, tuple, Mapping)):
            documents = list(documents)  # the async twin has always taken any iterable
        inputs = {"query": query, "documents": check_texts(documents, "documents")}
        return self.plan(provider, "rerank", None, options, interface_options, inputs=inputs)


def check_texts(value: Any, name: str) -> List[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise errors.InvalidRequestError(f"{name} must be a string or a non-empty list of strings.")
    for position, text in enumerate(value):
        if not isinstance(text, str) or not text:
            raise errors.InvalidRequestError(f"{name}[{position}] must be a non-empty string, got {text!r}.")
    return list(value)


def merge_batches(parts: List[Any], started: float) -> Any:
    """Batches of one embeddings/classify call, joined back into one answer in input order."""
    first = parts[0]
    common = dict(
        retries=sum(p.retries for p in parts),
        cached=all(p.cached for p in parts),
        request_time=sum(p.request_time or 0.0 for p in parts),
        total_time=time.perf_counter() - started,
    )
    if isinstance(first, EmbeddingResponse):
        usages = [p.usage for p in parts if p.usage is not None]
        usage = Usage.from_dict({
            "prompt_tokens": sum(u.prompt_tokens or 0 for u in usages),
            "total_tokens": sum(u.total_tokens or 0 for u in usages),
        }) if usages else None
        return replace(first, embeddings=[v for p in parts for v in p.embeddings], usage=usage, **common)
    return replace(first, classifications=tuple(c for p in parts for c in p.classifications), **common)
