"""The proxy's configuration: LiteLLM's ``config.yaml`` format, plus our own section.

    model_list:
      - model_name: llama                       # the name clients send as "model"
        litellm_params:
          model: huggingface/meta-llama/Llama-3.1-8B-Instruct   # provider/model id
          api_key: os.environ/HF_TOKEN           # "os.environ/NAME" reads the environment at load time
          api_base: https://xyz.endpoints.huggingface.cloud    # optional: an Endpoint or TGI server
    router_settings:
      model_group_alias: {gpt-4o: llama}         # extra public names for a model_name
    general_settings:
      master_key: os.environ/PROXY_MASTER_KEY    # clients send "Authorization: Bearer <master key>"
    llm_interface_settings:                      # ours; every key optional
      host: 127.0.0.1
      port: 4000
      max_request_bytes: 1048576
      max_upstream_connections: 1024
      max_response_bytes: 33554432               # the largest upstream answer (or SSE event) read
      interface_options: {retry_attempts: 2, cache_timeout_seconds: 3600}
      cache: {backend: redis, url: redis://localhost:6379/0}   # Client.configure_cache(**cache)
      rate_limits: [{provider: huggingface, requests_per_minute: 600, redis_url: redis://...}]
      aliases: {huggingface: {chat: {small: microsoft/Phi-3-mini-4k-instruct}}}

``huggingface/<org>/<name>`` goes through the router (or ``api_base``); LiteLLM's
``huggingface/<inference provider>/<org>/<name>`` picks an Inference Provider (``provider`` option);
``openai/<name>`` with ``api_base`` is any OpenAI-compatible server. Keys stay in ``ModelRoute.options``
and never appear in a repr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import ConfigurationError
from ..providers.huggingface import split_litellm_model

ENV_PREFIX = "os.environ/"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024  # 1 MiB: plenty for chat, small enough to refuse abuse cheaply
# Upstream connections open at once. Well above any thread pool: slow upstream calls must not starve
# fast ones (each waiting call costs a socket, not a thread); still a bound, against runaway fan-out.
DEFAULT_MAX_UPSTREAM_CONNECTIONS = 1024

# LiteLLM prefixes -> our provider names.
PREFIXES = {"huggingface": "huggingface", "hf": "huggingface", "openai": "openai-compatible",
            "openai-compatible": "openai-compatible", "hosted_vllm": "openai-compatible"}
# litellm_params keys that are LiteLLM routing knobs, not options of a call.
_ROUTER_ONLY = frozenset({"model", "rpm", "tpm", "order", "weight", "litellm_credential_name"})
_OUR_KEYS = frozenset({"host", "port", "max_request_bytes", "max_upstream_connections", "interface_options", "cache",
                       "rate_limits", "aliases", "max_response_bytes"})


def resolve_env(value: Any, where: str) -> Any:
    """``"os.environ/NAME"`` -> the variable's value (an unset variable is an error naming it)."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX):]
        found = os.environ.get(name)
        if not found:
            raise ConfigurationError(f"{where} reads the environment variable {name}, which is not set.")
        return found
    return value


@dataclass(frozen=True)
class ModelRoute:
    """One public model name and how to call it. ``options`` holds the upstream key: never shown."""

    name: str
    provider: str
    model: str
    options: Dict[str, Any] = field(default_factory=dict, repr=False)

    def call_options(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        """Options for one call: the client's generation params, then the route's settings on top."""
        return {**params, **self.options, "model": self.model}


@dataclass(frozen=True)
class ProxyConfig:
    routes: Dict[str, ModelRoute]
    public_aliases: Dict[str, str] = field(default_factory=dict)
    master_key: Optional[str] = field(default=None, repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_upstream_connections: int = DEFAULT_MAX_UPSTREAM_CONNECTIONS
    max_response_bytes: Optional[int] = None  # the largest upstream answer read (None: the library's 32 MiB)
    interface_options: Dict[str, Any] = field(default_factory=dict)
    cache: Optional[Dict[str, Any]] = None
    rate_limits: Tuple[Dict[str, Any], ...] = ()
    aliases: Dict[str, Dict[str, Dict[str, str]]] = field(default_factory=dict)

    def route(self, name: Optional[str]) -> Optional[ModelRoute]:
        if not isinstance(name, str):
            return None
        return self.routes.get(self.public_aliases.get(name, name))

    def model_names(self) -> List[str]:
        return sorted(set(self.routes) | set(self.public_aliases))

    def secrets(self) -> List[str]:
        """Every secret this config holds, so the server can scrub them from anything it sends."""
        found = [self.master_key] if self.master_key else []
        found += [r.options["api_key"] for r in self.routes.values() if r.options.get("api_key")]
        for route in self.routes.values():  # a custom key header (X-Api-Key...) is as secret as the key
            headers = route.options.get("headers")
            if isinstance(headers, Mapping):
                found += [str(v) for v in headers.values() if v and len(str(v)) >= 8]
        return found

    @classmethod
    def from_mapping(cls, data: Any) -> "ProxyConfig":
        if not isinstance(data, Mapping):
            raise ConfigurationError("The proxy config must be a mapping with a 'model_list'.")
        routes: Dict[str, ModelRoute] = {}
        for position, entry in enumerate(data.get("model_list") or ()):
            route = _route(entry, f"model_list[{position}]")
            if route.name in routes:
                raise ConfigurationError(f"model_list names {route.name!r} twice; load balancing is not supported.")
            routes[route.name] = route
        if not routes:
            raise ConfigurationError("The proxy config has no models: add a 'model_list' entry.")
        router = data.get("router_settings") or {}
        public_aliases = dict(router.get("model_group_alias") or {})
        for alias, target in public_aliases.items():
            if target not in routes:
                raise ConfigurationError(f"router_settings.model_group_alias {alias!r} points at unknown {target!r}.")
        general = data.get("general_settings") or {}
        master_key = resolve_env(general.get("master_key"), "general_settings.master_key")
        ours = data.get("llm_interface_settings") or {}
        unknown = set(ours) - _OUR_KEYS
        if unknown:
            raise ConfigurationError(
                f"Unknown llm_interface_settings {sorted(unknown)}; known: {', '.join(sorted(_OUR_KEYS))}."
            )
        cache = ours.get("cache")
        if cache is not None:
            cache = {k: resolve_env(v, f"llm_interface_settings.cache.{k}") for k, v in dict(cache).items()}
        rate_limits = tuple(
            {k: resolve_env(v, f"llm_interface_settings.rate_limits.{k}") for k, v in dict(limit).items()}
            for limit in ours.get("rate_limits") or ()
        )
        limit = ours.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES)
        if not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"max_request_bytes must be a positive int, got {limit!r}.")
        connections = ours.get("max_upstream_connections", DEFAULT_MAX_UPSTREAM_CONNECTIONS)
        if not isinstance(connections, int) or isinstance(connections, bool) or connections < 1:
            raise ConfigurationError(f"max_upstream_connections must be a positive int, got {connections!r}.")
        response_cap = ours.get("max_response_bytes")
        if response_cap is not None and (not isinstance(response_cap, int) or isinstance(response_cap, bool) or response_cap < 1):
            raise ConfigurationError(f"max_response_bytes must be a positive int (bytes), got {response_cap!r}.")
        return cls(
            routes=routes,
            public_aliases=public_aliases,
            master_key=str(master_key) if master_key else None,
            host=str(ours.get("host", DEFAULT_HOST)),
            port=int(ours.get("port", DEFAULT_PORT)),
            max_request_bytes=limit,
            max_upstream_connections=connections,
            max_response_bytes=response_cap,
            interface_options=dict(ours.get("interface_options") or {}),
            cache=cache,
            rate_limits=rate_limits,
            aliases=dict(ours.get("aliases") or {}),
        )

    @classmethod
    def load(cls, path: Any) -> "ProxyConfig":
        try:
            import yaml
        except ImportError as exc:
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                'The proxy needs its extra: pip install "llm-interface-hf[server]"'
            ) from exc
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the proxy config {path}: {exc.strerror}.") from exc
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"The proxy config {path} is not valid YAML: {exc}") from exc
        return cls.from_mapping(data)


def _route(entry: Any, where: str) -> ModelRoute:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("model_name"), str) or not entry["model_name"]:
        raise ConfigurationError(f"{where} needs a 'model_name' string and 'litellm_params'.")
    params = entry.get("litellm_params")
    if not isinstance(params, Mapping) or not isinstance(params.get("model"), str):
        raise ConfigurationError(f"{where} needs litellm_params.model, e.g. 'huggingface/<org>/<model>'.")
    provider, model, inference_provider = split_model(params["model"], where)
    options = {
        key: resolve_env(value, f"{where}.litellm_params.{key}")
        for key, value in params.items()
        if key not in _ROUTER_ONLY and value is not None
    }
    if inference_provider and "provider" not in options:
        options["provider"] = inference_provider
    return ModelRoute(entry["model_name"], provider, model, options)


def split_model(value: str, where: str) -> Tuple[str, str, Optional[str]]:
    """``huggingface/together/org/name`` -> ("huggingface", "org/name", "together")."""
    prefix, _, rest = value.partition("/")
    provider = PREFIXES.get(prefix.lower())
    if provider is None or not rest:
        raise ConfigurationError(
            f"{where}: litellm_params.model {value!r} must start with one of "
            f"{', '.join(sorted(PREFIXES))}/ , e.g. 'huggingface/meta-llama/Llama-3.1-8B-Instruct'."
        )
    if provider == "huggingface":
        return (provider, *split_litellm_model(rest))
    return provider, rest, None
