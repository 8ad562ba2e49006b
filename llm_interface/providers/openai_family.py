"""The JS llm-interface's providers that speak OpenAI's wire format, by name: ``send_message("groq", ...)``.

Each is the openai-compatible provider with its own default base URL (the JS package's provider config
``url``, or the vendor's documented OpenAI-compatible endpoint for Anthropic and Gemini) and its own key
variables (``credentials.KEY_ENV_VARS``); its aliases are in ``aliases.json``. ``api_base`` overrides the URL,
as for every provider.

Facts from samestrin/llm-interface 3cb494de643b38c9b6f4c575af033eb8ee3ec09c, ``src/config/providers/*.json``
(``url``, ``model``, ``embeddings``) and ``src/utils/loadApiKeysFromEnv.js`` (key variables); Anthropic's
"OpenAI SDK compatibility" (https://docs.anthropic.com/en/api/openai-sdk, base ``https://api.anthropic.com/v1/``)
and Gemini's "OpenAI compatibility" (https://ai.google.dev/gemini-api/docs/openai, base
``https://generativelanguage.googleapis.com/v1beta/openai/``). Checked 2026-12-01. The JS package's native
(non-OpenAI) providers (cohere, ai21, replicate, watsonxai, ...) are not here.
"""

from __future__ import annotations

from typing import Dict, Tuple, Type

from ..request import Request
from .openai_compatible import OpenAICompatibleProvider

# name -> (the chat completions URL; the other OpenAI routes are derived from it, local server?)
ENDPOINTS: Dict[str, Tuple[str, bool]] = {
    "openai": ("https://api.openai.com/v1/chat/completions", False),
    "groq": ("https://api.groq.com/openai/v1/chat/completions", False),
    "togetherai": ("https://api.together.xyz/v1/chat/completions", False),
    "fireworksai": ("https://api.fireworks.ai/inference/v1/chat/completions", False),
    "deepinfra": ("https://api.deepinfra.com/v1/openai/chat/completions", False),
    "mistralai": ("https://api.mistral.ai/v1/chat/completions", False),
    "perplexity": ("https://api.perplexity.ai/chat/completions", False),
    "nvidia": ("https://integrate.api.nvidia.com/v1/chat/completions", False),
    "deepseek": ("https://api.deepseek.com/chat/completions", False),
    "anyscale": ("https://api.endpoints.anyscale.com/v1/chat/completions", False),
    "novitaai": ("https://api.novita.ai/v3/openai/chat/completions", False),
    "monsterapi": ("https://llm.monsterapi.ai/v1/chat/completions", False),
    "octoai": ("https://text.octoai.run/v1/chat/completions", False),
    "friendliai": ("https://inference.friendli.ai/v1/chat/completions", False),
    "forefront": ("https://api.forefront.ai/v1/chat/completions", False),
    "shuttleai": ("https://api.shuttleai.app/v1/chat/completions", False),
    "thebai": ("https://api.theb.ai/v1/chat/completions", False),
    "hyperbeeai": ("https://api.hyperbee.ai/v1/chat/completions", False),
    "aimlapi": ("https://api.aimlapi.com/chat/completions", False),
    "ailayer": ("https://api.ailayer.ai/api/ailayer/v1/chat/completions", False),
    "neetsai": ("https://api.neets.ai/v1/chat/completions", False),
    "zhipuai": ("https://open.bigmodel.cn/api/paas/v4/chat/completions", False),
    "anthropic": ("https://api.anthropic.com/v1/chat/completions", False),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta/openai/chat/completions", False),
    "ollama": ("http://localhost:11434/v1/chat/completions", True),
    "llamacpp": ("http://localhost:8080/v1/chat/completions", True),
}

# Beyond chat: embeddings where the JS config has OpenAI-style embeddings (and the local servers);
# /v1/completions where the server still serves it.
EMBEDDINGS = frozenset({"openai", "deepinfra", "mistralai", "fireworksai", "togetherai", "anyscale", "aimlapi", "gemini",
                        "ollama", "llamacpp"})
COMPLETIONS = frozenset({"openai", "togetherai", "fireworksai", "deepinfra", "ollama", "llamacpp"})

# The names people also write (the vendors' own short names).
SHORT_NAMES = {"together": "togetherai", "fireworks": "fireworksai", "mistral": "mistralai", "llama.cpp": "llamacpp",
               "llama-cpp": "llamacpp", "google": "gemini"}


class NamedOpenAIProvider(OpenAICompatibleProvider):
    """One vendor's OpenAI-compatible API: its URL unless ``api_base`` says otherwise; its key required
    (local servers excepted), and a key from the environment goes only to the vendor's own URL."""

    default_url = ""
    local = False

    def base_url(self, request: Request) -> str:
        return request.api_base or self.default_url

    def needs_api_key(self, request: Request) -> bool:
        return not self.local

    def trusts_ambient_key(self, request: Request) -> bool:
        return not request.api_base or request.api_base.rstrip("/") == self.default_url


def _provider(name: str, url: str, local: bool) -> Type[NamedOpenAIProvider]:
    title = "".join(part.capitalize() for part in name.split("-")) + "Provider"
    tasks = frozenset({"chat"} | ({"embeddings"} if name in EMBEDDINGS else set())
                      | ({"completion"} if name in COMPLETIONS else set()))
    return type(title, (NamedOpenAIProvider,), {"name": name, "default_url": url, "local": local, "tasks": tasks,
                                                 "__doc__": f"{name}: the OpenAI-compatible API at {url}."})


NAMED_PROVIDERS: Dict[str, Type[NamedOpenAIProvider]] = {
    name: _provider(name, url, local) for name, (url, local) in ENDPOINTS.items()
}
