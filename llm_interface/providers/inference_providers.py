"""Text tasks on third-party Inference Providers, through the router's proxy ``{router}/{provider}/...``:
one small helper per (provider, task), registered in ``hf_routes.PROVIDERS`` (``THIRD_PARTY_ROWS`` below).

Follows (facts checked 2026-12-01) huggingface_hub ``src/huggingface_hub/inference/_providers/`` at ee0a4510
(``PROVIDERS`` table, each ``_prepare_route`` / ``_prepare_payload_as_dict`` / ``get_response``) and its
``tests/test_inference_providers.py``, which pin these routes and payloads:
  feature-extraction  together /v1/embeddings, scaleway /v1/embeddings, deepinfra /v1/openai/embeddings:
                      ``{"input": <str or list>, **parameters, "model": <provider id>}`` -> OpenAI ``{"data": [...]}``
  text-generation     together /v1/completions, featherless-ai /v1/completions, novita /v3/openai/completions,
                      deepinfra /v1/openai/completions: ``{"prompt", **parameters, "model": <provider id>}``
                      (``max_new_tokens`` sent as ``max_tokens``) -> OpenAI ``{"choices": [{"text", ...}]}``
The provider's own id (from the Hub's ``inferenceProviderMapping``) is the body's ``model``, and it is set last
so a caller's ``model`` parameter cannot override it. No third-party provider serves text-classification in
that table (hf-inference only); nebius, sambanova and hyperbolic rows were removed upstream (PR #4447).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from .. import errors
from ..request import Request
from . import hf_tasks
from .base import StreamState
from .openai_compatible import ChatStreamState, parse_chat_completion

# The helpers follow hf_routes.TaskHelper's protocol (url, body, parse, stream_state) without importing it:
# hf_routes imports this table. ``route`` is hf_routes.Route: its ``wire_model`` is the provider's own id.


def _parameters(request: Request) -> Dict[str, Any]:
    """The caller's parameters without None values and without a ``model`` of their own."""
    return {k: v for k, v in request.params.items() if v is not None and k != "model"}


class ProviderEmbeddings:
    """feature-extraction on a provider's OpenAI-style embeddings route."""

    task = "embeddings"
    server_dims = True  # the provider applies ``dimensions`` itself

    def __init__(self, route: str) -> None:
        self.route = route

    def url(self, base: str, request: Request) -> str:
        return base + self.route

    def body(self, request: Request, route: Any) -> Any:
        inputs = request.inputs if isinstance(request.inputs, str) else hf_tasks.texts_of(request)
        return {"input": inputs, **_parameters(request), "model": route.wire_model}

    def parse(self, body: Any, request: Request, route: Any, request_id: Optional[str],
              headers: Mapping[str, str]) -> Any:
        return hf_tasks.parse_openai_embeddings(body, request, route.provider, request_id)

    def stream_state(self, request: Request, provider: str) -> StreamState:
        raise errors.UnsupportedTaskError("embeddings cannot be streamed.", provider=provider, model=request.model)


class ProviderCompletions:
    """text-generation on a provider's OpenAI ``completions`` route; answers (and streams) read as OpenAI's."""

    task = "generate"

    def __init__(self, route: str) -> None:
        self.route = route

    def url(self, base: str, request: Request) -> str:
        return base + self.route

    def body(self, request: Request, route: Any) -> Any:
        if request.prompt is None:  # chat messages come here only rendered (Client.answer renders them)
            raise errors.ConfigurationError("A completions route needs a prompt; use Client.complete.",
                                     provider=route.provider, model=request.model)
        params = _parameters(request)
        if "max_new_tokens" in params:  # TGI's name, as huggingface_hub's text_generation passes it
            params["max_tokens"] = params.pop("max_new_tokens")
        body: Dict[str, Any] = {"prompt": request.prompt, **params}
        if request.stream:
            body["stream"] = True
        body["model"] = route.wire_model
        return body

    def parse(self, body: Any, request: Request, route: Any, request_id: Optional[str],
              headers: Mapping[str, str]) -> Any:
        return parse_chat_completion(body, request, route.provider, request_id)

    def stream_state(self, request: Request, provider: str) -> StreamState:
        return ChatStreamState(request, provider)


# provider -> {wire task -> helper}; merged into hf_routes.PROVIDERS by hf_routes itself.
THIRD_PARTY_ROWS: Dict[str, Dict[str, Any]] = {
    "deepinfra": {
        "embeddings": ProviderEmbeddings("/v1/openai/embeddings"),
        "generate": ProviderCompletions("/v1/openai/completions"),
    },
    "featherless-ai": {"generate": ProviderCompletions("/v1/completions")},
    "novita": {"generate": ProviderCompletions("/v3/openai/completions")},
    "scaleway": {"embeddings": ProviderEmbeddings("/v1/embeddings")},
    "together": {
        "embeddings": ProviderEmbeddings("/v1/embeddings"),
        "generate": ProviderCompletions("/v1/completions"),
    },
}
