"""Planning: everything one call needs, decided before any I/O.

``build_plan`` normalises the message into a ``Request``, resolves the alias, the key and the provider's
engine, checks the task, and decides whether the cache takes part (and under which key). The sync and
the async clients both start every call here; the result is a frozen ``Plan``.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Mapping, NamedTuple, Optional, Protocol

from . import errors
from .cache import cache_key
from .credentials import find_api_base, find_api_key, how_to_set_key
from .providers import Provider
from .request import InterfaceOptions, Request, check_json, normalize_message, split_options, take_interface_options
from .retry import RetryPolicy
from .wire import Context


class Plan(NamedTuple):
    """Everything needed to run one call, decided before any I/O. Immutable; a NamedTuple rather than a
    frozen dataclass because one is built on every call, a cache hit's too (0.5 us instead of 1.7)."""

    request: Request
    options: InterfaceOptions
    provider: Provider
    policy: RetryPolicy
    cache_key: Optional[str]
    started: float
    cache_mode: str = "auto"

    @property
    def context(self) -> Context:
        """Who the call is for, for the transport's errors: built on a miss only, a cache hit never needs it."""
        return Context(self.provider.name, self.request.model, self.request.api_key)


class Planner(Protocol):
    """What planning reads from a client's configuration (``base_client.BaseClient`` is one)."""

    aliases: Any
    cache_scope: Optional[str]
    defaults: InterfaceOptions

    @property
    def api_keys(self) -> Dict[str, str]: ...

    def provider(self, name: str) -> Provider: ...

    def current_cache_mode(self) -> str: ...

    def cache_for(self, options: InterfaceOptions) -> Any: ...


def merge_interface_options(defaults: InterfaceOptions, given: Any) -> InterfaceOptions:
    """Call-level interface options over a client's defaults, field by field."""
    if not given:
        return defaults
    if isinstance(given, InterfaceOptions):
        return given
    if not isinstance(given, Mapping):
        return InterfaceOptions.from_mapping(given)  # raises the typed error
    return InterfaceOptions.from_mapping({**vars(defaults), **given})


def build_plan(
    owner: Planner,
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
    provider = owner.provider(provider_name)
    settings, params = split_options(options)
    check_json(inputs, "input")  # embeddings, classify, rerank: a set, NaN or lone surrogate is a typed error
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
    iopts = merge_interface_options(owner.defaults, interface_options)
    keys = owner.api_keys
    explicit_key = settings.pop("api_key", None)
    api_key = find_api_key(provider.name, explicit_key, keys)
    # A key found in the environment, .env or the token file is "ambient": the user did not hand it
    # to this call, so the provider decides whether the destination may see it.
    ambient = api_key is not None and not explicit_key and provider.name not in keys
    # The provider decides the engine and the model from a draft of the request; the plan's request is
    # then a new one, complete (a frozen dataclass is never patched after it was handed out).
    draft = Request(
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
    provider = provider.engine_for(draft)  # e.g. Hugging Face local mode: an in-process engine
    provider.supports(draft)
    model = provider.resolve_model(draft, owner.aliases)
    if ambient and not provider.trusts_ambient_key(draft):
        api_key = None
    request = draft if model == draft.model and api_key is draft.api_key else _copy(draft, model, api_key)
    mode = owner.current_cache_mode()
    # Replaying fixtures needs no key: the network is never used (CI runs without secrets).
    if api_key is None and provider.needs_api_key(request) and mode != "replay":
        raise errors.MissingAPIKeyError(
            f"No API key for {provider.name!r}. To set one: {how_to_set_key(provider.name)}.",
            provider=provider.name, model=request.model,
        )
    policy = RetryPolicy.of(iopts.retry_attempts, iopts.retry_multiplier, iopts.max_retry_wait, iopts.deadline)
    use_cache = mode == "replay" or (mode != "off" and owner.cache_for(iopts) is not None)
    key = cache_key(request, owner.cache_scope) if use_cache else None
    return Plan(request, iopts, provider, policy, key, started, mode)


def _copy(draft: Request, model: Optional[str], api_key: Optional[str]) -> Request:
    """A new Request: ``draft`` with the provider's model and the key it may see. Built from the draft's
    fields directly (0.4 us) rather than through ``__init__`` again or ``dataclasses.replace`` (2.5 and
    4.6 us: a tenth of a memory cache hit, bench_cache.py); the draft already passed every check, and
    no instance is ever changed once built."""
    request: Request = object.__new__(Request)
    request.__dict__.update(draft.__dict__, model=model, api_key=api_key)
    return request


def _as_mapping(interface_options: Any) -> Mapping[str, Any]:
    if isinstance(interface_options, InterfaceOptions):
        return vars(interface_options)
    return interface_options or {}
