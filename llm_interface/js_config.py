"""The JS llm-interface's configuration getters, with its semantics, over a Client.

``LLMInterface.get_interface_config_value``, ``get_model_by_alias``, ``get_embeddings_model_by_alias``,
``get_all_model_names`` and the inline-key form ``send_message([provider, api_key], ...)`` use these. The
facts (samestrin/llm-interface 3cb494de643b38c9b6f4c575af033eb8ee3ec09c, ``src/utils/config.js`` and
``src/utils/message.js``):

- a config value is read by a dotted key (``url``, ``apiKey``, ``model.default``, ``embeddings.small``,
  ``hasEmbeddings``); only a string or a boolean is a value: a missing provider, a missing key or an object
  (``model``) gives ``False``;
- an alias lookup gives the model for a configured alias and otherwise the name it was given (also for an
  unknown provider): a name that is no alias is a model id;
- ``getAllModelNames()`` is the sorted list of provider names;
- ``[provider, api_key]`` in place of the provider sends with that key and remembers it for the provider.

The Client's own methods of the same names keep their Python shapes (dicts, None); this module is what the
static facade answers with, as the JS library does.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from . import errors
from .credentials import find_api_base, find_api_key
from .providers import PROVIDERS, provider_class
from .providers.huggingface import ROUTER
from .providers.openai_compatible import join_url
from .providers.openai_family import NamedOpenAIProvider

ProviderArg = Union[str, Sequence[str]]


def inline_key(client: Any, provider: ProviderArg) -> str:
    """The provider's name; ``[provider, api_key]`` (JS's inline form) also remembers the key on ``client``."""
    if isinstance(provider, (list, tuple)):
        if len(provider) != 2 or not all(isinstance(part, str) for part in provider):
            raise errors.InvalidRequestError(
                "The inline-key form is [provider, api_key], e.g. send_message(['huggingface', 'hf_...'], 'Hello')."
            )
        name, key = provider
        client.set_api_key(name, key)
        return str(name)
    return str(provider)


def _known(provider: Any) -> Optional[str]:
    try:
        return provider_class(provider).name
    except errors.UnknownProviderError:
        return None


def interface_config(client: Any, provider: str) -> Optional[Dict[str, Any]]:
    """A provider's configuration in the JS package's shape (``src/config/providers/*.json``), or None."""
    name = _known(provider)
    if name is None:
        return None
    cls = PROVIDERS[name]
    table = client.aliases.all().get(name, {})
    chat, embeddings = dict(table.get("chat") or {}), dict(table.get("embeddings") or {})
    base = find_api_base(name, None)
    url: Optional[str]
    embedding_url: Optional[str]
    if name == "huggingface":
        url, embedding_url = ROUTER + "/v1/chat/completions", ROUTER + "/hf-inference/models/"
    elif issubclass(cls, NamedOpenAIProvider) or base:
        server = str(base or getattr(cls, "default_url", ""))
        url = join_url(server)
        embedding_url = join_url(server, "/v1/embeddings") if embeddings else None
    else:
        url = embedding_url = None  # openai-compatible with no server configured
    config: Dict[str, Any] = {
        "model": chat,
        "embeddings": embeddings,
        "hasEmbeddings": bool(embeddings) and "embeddings" in cls.tasks,
        "stream": True,
        "tasks": sorted(cls.tasks),
    }
    if url:
        config["url"] = url
    if embedding_url:
        config["embeddingUrl"] = embedding_url
    key = find_api_key(name, None, getattr(client, "_keys", {}))
    if key:
        config["apiKey"] = key  # the caller's own key, asked for by name; never logged
    return config


def config_value(client: Any, provider: str, key: str) -> Any:
    """``getInterfaceConfigValue``: the string or boolean at dotted ``key``; ``False`` when there is none."""
    value: Any = interface_config(client, provider)
    if value is None or not isinstance(key, str):
        return False
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return value if isinstance(value, (str, bool)) else False


def model_by_alias(client: Any, provider: str, model: str = "default", kind: str = "model") -> str:
    """``getModelByAlias`` (``kind="model"``) / ``getEmbeddingsModelByAlias`` (``kind="embeddings"``)."""
    if not isinstance(model, str):
        raise errors.InvalidRequestError(f"The alias must be a string such as 'default', not {type(model).__name__}.")
    key = model if model.startswith(kind + ".") else f"{kind}.{model}"
    found = config_value(client, provider, key)
    return found if isinstance(found, str) else model


def all_provider_names() -> List[str]:
    """``getAllModelNames``: the providers' names, sorted."""
    return sorted(PROVIDERS)
