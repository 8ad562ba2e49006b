"""The provider registry: an explicit map from name to class, so there is no import-time magic.

Add a provider by writing a module with a Provider subclass and naming it here.
"""

from __future__ import annotations

from typing import Dict, Type

from ..errors import UnknownProviderError
from .base import Provider
from .huggingface import HuggingFaceProvider
from .openai_compatible import OpenAICompatibleProvider
from .openai_family import NAMED_PROVIDERS, SHORT_NAMES

PROVIDERS: Dict[str, Type[Provider]] = {
    HuggingFaceProvider.name: HuggingFaceProvider,
    OpenAICompatibleProvider.name: OpenAICompatibleProvider,
    **NAMED_PROVIDERS,  # the JS package's OpenAI-wire providers: groq, togetherai, ollama, ...
}

# Other names users bring from LiteLLM and the JS library.
ALIASES = {"hf": "huggingface", "hugging-face": "huggingface", "openai_compatible": "openai-compatible", **SHORT_NAMES}


def provider_class(name: str) -> Type[Provider]:
    if not isinstance(name, str):
        raise UnknownProviderError(f"The provider must be a string such as 'huggingface', not {type(name).__name__}.")
    key = ALIASES.get(name.lower(), name.lower())
    try:
        return PROVIDERS[key]
    except KeyError:
        raise UnknownProviderError(
            f"Unknown provider {name!r}; known: {', '.join(sorted(PROVIDERS))}.", provider=name
        ) from None


__all__ = ["PROVIDERS", "Provider", "provider_class"]
