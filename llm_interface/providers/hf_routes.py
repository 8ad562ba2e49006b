"""Hugging Face's routes as one explicit table: ``PROVIDERS[mode][task]`` -> the small helper that builds
the call and reads the answer (the shape of huggingface_hub's ``inference/_providers``). ``resolve`` picks
the helper for a request once per provider hook, and nothing after it asks the mode or the task again.

Modes, the first that applies (huggingface.py's docstring has the user's view):
  ENDPOINT         the model is a URL, or ``api_base`` is set: TGI/TEI's native routes
  OPENAI_ENDPOINT  the same, when that URL ends in ``/v1`` (or ``openai_format=True``): OpenAI's routes
  a row's name     ``provider="hf-inference"`` (or any provider with a row below) for a task its row serves
  ROUTER           chat on the Inference Providers router (``provider="together"`` becomes ``model:together``)
  HF_INFERENCE     every other task without a named provider: Hugging Face's own inference serves it
Tasks as the wire sees them: "chat" (Messages API), "generate" (raw generation: ``complete`` and chat rendered
with a prompt template), "embeddings", "classify" (also chat on a ``text-classification/`` model), "rerank",
"respond" (the Responses API, on the router and OpenAI endpoints), and the pipeline tasks of hf_text_tasks
("summarization", "translation", ... on hf-inference and endpoints, one ``PipelineTask`` helper each).

To serve a task on one more Inference Provider: write a ``TaskHelper`` (``url``, ``body``, ``parse``, and
``stream_state`` if it streams) and add one line to its row in ``PROVIDERS``. A row named after the provider
is served at ``{ROUTER}/{provider}`` (``base_of``), the router's proxy to that provider's own API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Dict, Mapping, NamedTuple, Optional

from .. import errors
from ..request import Request
from ..servers import routes as server_routes
from ..types import Choice, ClassificationResponse, Response
from . import hf_generate, hf_tasks, hf_text_tasks, responses_api
from .base import StreamState
from .inference_providers import THIRD_PARTY_ROWS
from .openai_compatible import (
    ChatStreamState,
    chat_request_body,
    completion_request_body,
    join_url,
    parse_chat_completion,
    swap_route,
)

ROUTER = "https://router.huggingface.co"
# The provider's own id for the model, set when the Hub's inferenceProviderMapping resolved the call
# (hf_hub_mapping.py); not a user option (it is no TRANSPORT_OPTIONS name, so options cannot set it).
PROVIDER_MODEL = "provider_model"
# Another router base (a gateway, a mirror, the docs test's fake), read per call; docs/huggingface.md.
ROUTER_ENV = "LLM_INTERFACE_HF_ROUTER"
ENDPOINT, OPENAI_ENDPOINT, HF_INFERENCE, ROUTER_MODE = "endpoint", "openai-endpoint", "hf-inference", "router"
ENDPOINT_MODES = (ENDPOINT, OPENAI_ENDPOINT)
# The model name TGI expects when it serves one model and ignores the field.
TGI_MODEL = "tgi"
CLASSIFICATION_PREFIX = "text-classification/"
# The routes a TGI/TEI api_base may already name, longest first.
NATIVE_ROUTES = ("/v1/chat/completions", "/generate_stream", "/generate", "/embed", "/predict", "/rerank")
OPENAI_SUFFIXES = ("/v1", "/v1/completions", "/v1/embeddings")


def is_url(value: Optional[str]) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))  # type: ignore[union-attr]


def endpoint_route(base: str, route: str) -> str:
    """``{base}{route}`` for TGI/TEI native routes; a base that already names a route has it replaced."""
    base = base.rstrip("/")
    return swap_route(base, route, NATIVE_ROUTES) or base + route


class TaskHelper:
    """One (mode, task): pure ``url``/``body`` for the call, ``parse`` for the answer, ``stream_state`` for a stream."""

    task: ClassVar[str] = ""

    def url(self, base: str, request: Request) -> str:  # pragma: no cover - protocol
        raise NotImplementedError

    def body(self, request: Request, route: "Route") -> Any:  # pragma: no cover - protocol
        raise NotImplementedError

    def parse(self, body: Any, request: Request, route: "Route", request_id: Optional[str],
              headers: Mapping[str, str]) -> Any:  # pragma: no cover - protocol
        raise NotImplementedError

    def stream_state(self, request: Request, provider: str) -> StreamState:
        raise errors.UnsupportedTaskError(f"{request.task!r} cannot be streamed.", provider=provider, model=request.model)


class Route(NamedTuple):
    """A request's resolved route: who serves it (``mode``), the helper, the base URL, the model name the body
    carries, and the request as the task sees it (a ``text-classification/`` chat call is a classify call)."""

    mode: str
    helper: TaskHelper
    base: str
    wire_model: Optional[str]
    request: Request
    provider: str


# -- the helpers -----------------------------------------------------------------------------------------

class Chat(TaskHelper):
    """OpenAI's Messages API (router, hf-inference's ``/v1/chat/completions``, TGI and any OpenAI server)."""

    task = "chat"

    def url(self, base: str, request: Request) -> str:
        return join_url(base)

    def body(self, request: Request, route: Route) -> Any:
        body = chat_request_body(request, route.wire_model)
        if body.get("response_format") is not None:
            tgi = route.mode in ENDPOINT_MODES and server_routes.kind_for(request) not in server_routes.OPENAI_SERVERS
            translate = hf_generate.tgi_grammar if tgi else hf_generate.openai_response_format
            body["response_format"] = translate(body["response_format"])
            if body["response_format"] is None:
                del body["response_format"]
        return body

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return parse_chat_completion(body, request, route.provider, request_id)

    def stream_state(self, request: Request, provider: str) -> StreamState:
        return ChatStreamState(request, provider)


def _rendered(request: Request, provider: str) -> None:
    if request.prompt is None:
        raise errors.ConfigurationError(
            "Chat messages for a raw-generation route must be rendered first; use Client.answer, "
            "which applies the prompt template.", provider=provider, model=request.model,
        )


class TGIGenerate(TaskHelper):
    """TGI ``/generate`` and ``/generate_stream`` (the stream is chosen by the URL)."""

    task = "generate"

    def url(self, base: str, request: Request) -> str:
        return endpoint_route(base, "/generate_stream" if request.stream else "/generate")

    def body(self, request: Request, route: Route) -> Any:
        _rendered(request, route.provider)
        return hf_generate.generate_body(request, stream_flag=False)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return hf_generate.parse_generate(body, request, route.provider, request_id, headers)

    def stream_state(self, request: Request, provider: str) -> StreamState:
        return hf_generate.GenerateStreamState(request, provider)


class HFInferenceGenerate(TGIGenerate):
    """hf-inference text-generation: ``POST .../models/{id}``, ``"stream": true`` in the body."""

    def url(self, base: str, request: Request) -> str:
        return base

    def body(self, request: Request, route: Route) -> Any:
        _rendered(request, route.provider)
        return hf_generate.generate_body(request, stream_flag=True)


class OpenAICompletions(Chat):
    """OpenAI's ``/v1/completions`` on an endpoint whose api_base ends in ``/v1``; answers read as chat's."""

    task = "generate"

    def url(self, base: str, request: Request) -> str:
        return join_url(base, "/v1/completions")

    def body(self, request: Request, route: Route) -> Any:
        _rendered(request, route.provider)
        return completion_request_body(request, route.wire_model)


class Embeddings(TaskHelper):
    """TEI ``/embed`` (and the shape of every embeddings answer: a dict is OpenAI's list object)."""

    task = "embeddings"
    server_dims = True  # the server applies ``dimensions`` itself

    def url(self, base: str, request: Request) -> str:
        return endpoint_route(base, "/embed")

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.tei_embed_body(request)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        if isinstance(body, dict):
            return hf_tasks.parse_openai_embeddings(body, request, route.provider, request_id)
        return hf_tasks.parse_embeddings(body, request, route.provider, request_id, server_dims=self.server_dims)


class OpenAIEmbeddings(Embeddings):
    def url(self, base: str, request: Request) -> str:
        return join_url(base, "/v1/embeddings")

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.openai_embed_body(request, route.wire_model)


class FeatureExtraction(Embeddings):
    """hf-inference ``.../pipeline/feature-extraction``; ``dimensions`` is applied here."""

    server_dims = False

    def url(self, base: str, request: Request) -> str:
        return base + "/pipeline/feature-extraction"

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.hf_inference_embed_body(request)


class TEIPredict(TaskHelper):
    task = "classify"

    def url(self, base: str, request: Request) -> str:
        return endpoint_route(base, "/predict")

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.tei_predict_body(request)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return hf_tasks.parse_classification(body, request, route.provider, request_id)


class HFInferenceClassify(TEIPredict):
    """hf-inference text-classification (or zero-shot with ``candidate_labels``) at ``.../models/{id}``."""

    def url(self, base: str, request: Request) -> str:
        return base

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.hf_inference_classify_body(request)


class TEIRerank(TaskHelper):
    task = "rerank"

    def url(self, base: str, request: Request) -> str:
        return endpoint_route(base, "/rerank")

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.tei_rerank_body(request)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return hf_tasks.parse_rerank(body, request, route.provider, request_id)


class OnServer(TaskHelper):
    """rerank/classify on an endpoint: the server's own route when it is known to be vLLM or llama.cpp
    (``{"server": ...}`` or detected earlier: ``servers.routes``), else TEI's (``fallback``)."""

    def __init__(self, fallback: TaskHelper) -> None:
        self.fallback = fallback

    def url(self, base: str, request: Request) -> str:
        own = server_routes.task_route(request, base)
        return own[0] if own is not None else self.fallback.url(base, request)

    def body(self, request: Request, route: Route) -> Any:
        own = server_routes.task_route(request, route.base)
        return own[1] if own is not None else self.fallback.body(request, route)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        if request.task == "classify" and isinstance(body, dict) and "data" in body:  # vLLM /classify
            return server_routes.parse_vllm_classify(body, request, route.provider, request_id)
        return self.fallback.parse(body, request, route, request_id, headers)


class SentenceSimilarity(TEIRerank):
    """hf-inference sentence-similarity: scores in document order, sorted by ``parse_rerank``."""

    def url(self, base: str, request: Request) -> str:
        return base + "/pipeline/sentence-similarity"

    def body(self, request: Request, route: Route) -> Any:
        return hf_tasks.similarity_body(request)


class Responses(TaskHelper):
    """OpenAI's Responses API: the router's ``/v1/responses`` (beta), or an OpenAI-compatible endpoint's."""

    task = "respond"

    def url(self, base: str, request: Request) -> str:
        return join_url(base, "/v1/responses")

    def body(self, request: Request, route: Route) -> Any:
        return responses_api.responses_body(request, route.wire_model)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return responses_api.parse_response(body, request, route.provider, request_id)

    def stream_state(self, request: Request, provider: str) -> StreamState:
        return responses_api.ResponsesStreamState(request, provider)


class PipelineTask(TaskHelper):
    """A pipeline task of hf_text_tasks (summarization, translation, ...): ``{inputs, parameters}`` at the
    model's URL (an endpoint's own URL: its container serves the one model's task there)."""

    def __init__(self, spec: hf_text_tasks.TaskSpec, at_root: bool = False) -> None:
        self.spec, self.at_root = spec, at_root

    def url(self, base: str, request: Request) -> str:
        return base.rstrip("/") if self.at_root else base + self.spec.suffix

    def body(self, request: Request, route: Route) -> Any:
        return self.spec.body(request)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        return self.spec.parse(body, request, route.provider, request_id)


class HFInferenceRerank(SentenceSimilarity):
    """hf-inference rerank: a cross-encoder scores (query, document) pairs on its text-classification
    pipeline; any other model compares embeddings on sentence-similarity (``hf_text_tasks.is_cross_encoder``)."""

    def url(self, base: str, request: Request) -> str:
        return base if hf_text_tasks.is_cross_encoder(request) else super().url(base, request)

    def body(self, request: Request, route: Route) -> Any:
        return hf_text_tasks.cross_encoder_body(request) if hf_text_tasks.is_cross_encoder(request) else super().body(request, route)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        if hf_text_tasks.is_cross_encoder(request):
            return hf_text_tasks.parse_cross_encoder(body, request, route.provider, request_id)
        return super().parse(body, request, route, request_id, headers)


@dataclass(frozen=True)
class ClassifyAsChat(TaskHelper):
    """A chat call on a ``text-classification/`` model (LiteLLM's prefix): the classify helper of the mode,
    its answer given as chat (the best label is the text, every label a choice)."""

    classify: TaskHelper
    task = "classify"

    def url(self, base: str, request: Request) -> str:
        return self.classify.url(base, request)

    def body(self, request: Request, route: Route) -> Any:
        return self.classify.body(request, route)

    def parse(self, body: Any, request: Request, route: Route, request_id: Optional[str], headers: Mapping[str, str]) -> Any:
        classified: ClassificationResponse = self.classify.parse(body, request, route, request_id, headers)
        labels = classified.classifications[0].labels
        return Response(
            results=labels[0].label if labels else "",
            model=request.model, provider=route.provider, finish_reason="stop", request_id=request_id,
            choices=tuple(Choice(i, label.label, "stop") for i, label in enumerate(labels)),
        )


CHAT = Chat()

PROVIDERS: Dict[str, Dict[str, TaskHelper]] = {
    ENDPOINT: {
        "chat": CHAT, "generate": TGIGenerate(), "embeddings": Embeddings(), "classify": OnServer(TEIPredict()),
        "rerank": OnServer(TEIRerank()),
        **{task: PipelineTask(spec, at_root=True) for task, spec in hf_text_tasks.SPECS.items()},
    },
    OPENAI_ENDPOINT: {
        "chat": CHAT, "generate": OpenAICompletions(), "embeddings": OpenAIEmbeddings(),
        "classify": OnServer(TEIPredict()), "rerank": OnServer(TEIRerank()), "respond": Responses(),
    },
    HF_INFERENCE: {
        "chat": CHAT, "generate": HFInferenceGenerate(), "embeddings": FeatureExtraction(),
        "classify": HFInferenceClassify(), "rerank": HFInferenceRerank(),
        **{task: PipelineTask(spec) for task, spec in hf_text_tasks.SPECS.items()},
    },
    ROUTER_MODE: {"chat": CHAT, "respond": Responses()},
    **THIRD_PARTY_ROWS,  # together, deepinfra, scaleway, novita, featherless-ai (inference_providers.py)
}
# The tasks the router itself serves, for every provider (``model:provider``); all others go to a provider's row.
ROUTED_TASKS = frozenset(PROVIDERS[ROUTER_MODE])
# Our own mode names, and the router's own policy: no provider's row.
_NOT_PROVIDERS = frozenset({ENDPOINT, OPENAI_ENDPOINT, ROUTER_MODE, "auto", "fastest", "cheapest", "preferred"})
# ClassifyAsChat per mode, built once.
_CLASSIFY_AS_CHAT = {mode: ClassifyAsChat(row["classify"]) for mode, row in PROVIDERS.items() if "classify" in row}


# -- resolving -------------------------------------------------------------------------------------------

def wire_task(request: Request) -> str:
    """The task as the wire sees it (see the module docstring)."""
    task = request.task
    if task == "completion":
        return "generate"
    if task == "chat":
        if (request.model or "").startswith(CLASSIFICATION_PREFIX):
            return "classify"
        if request.settings.get("raw") or request.settings.get("prompt_template"):
            return "generate"
    return task


def endpoint_of(request: Request) -> Optional[str]:
    """The endpoint's URL (the model when it is a URL, else api_base), or None off the endpoint modes."""
    return request.model if is_url(request.model) else request.api_base


def router_base() -> str:
    """The router's base URL: ``$LLM_INTERFACE_HF_ROUTER`` when set, else the public router."""
    return (os.environ.get(ROUTER_ENV) or ROUTER).rstrip("/")


def base_of(mode: str, request: Request) -> str:
    if mode in ENDPOINT_MODES:
        return endpoint_of(request) or ""
    router = router_base()
    if mode == HF_INFERENCE:
        return f"{router}/hf-inference/models/{request.model}"
    if mode == ROUTER_MODE:
        return router
    return f"{router}/{mode}"  # an Inference Provider's own API, proxied by the router


def _endpoint_mode(url: str, request: Request) -> str:
    if request.settings.get("openai_format") or url.rstrip("/").endswith(OPENAI_SUFFIXES):
        return OPENAI_ENDPOINT
    if server_routes.kind_for(request) in server_routes.OPENAI_SERVERS:  # named or detected: no TGI routes
        return OPENAI_ENDPOINT
    return ENDPOINT


def mode_of(request: Request, task: str) -> str:
    """Who serves ``task`` for this request (the module docstring's order); UnsupportedTaskError if nobody."""
    url = endpoint_of(request)
    if url:
        return _endpoint_mode(url, request)
    named = request.settings.get("provider")
    if not isinstance(named, str) or named in _NOT_PROVIDERS:
        named = None
    elif task in PROVIDERS.get(named, ()):
        return named
    if task in ROUTED_TASKS:
        return ROUTER_MODE
    model = request.model or ""
    if named or ":" in model:
        asked = named or model.split(":")[-1]
        if asked in _NOT_PROVIDERS:  # a policy suffix: hf_hub_mapping.choose decides (auto) or refuses
            return HF_INFERENCE
        if task in PROVIDERS.get(asked, ()):
            return asked
        served = sorted({"chat", *PROVIDERS.get(asked, ())})
        others = ", ".join(serving(task)) or "none"
        raise errors.UnsupportedTaskError(
            f"{request.task!r} is not served by the inference provider {asked!r} (which serves: {', '.join(served)}); "
            f"it is served by hf-inference, endpoints and these providers: {others}. Name one of them, drop the "
            "provider option (provider='auto' picks one from the model's Hub mapping), or pass api_base.",
            provider=request.provider, model=request.model,
        )
    return HF_INFERENCE


def serving(task: str) -> list:
    """The Inference Providers (rows named after a provider) that serve a wire task, in name order."""
    return sorted(name for name, row in PROVIDERS.items() if task in row and name not in _NOT_PROVIDERS
                  and name != HF_INFERENCE)


def resolve(request: Request) -> Route:
    """The request's Route: every question about mode and task is asked here, once."""
    task = wire_task(request)
    mode = mode_of(request, task)
    row = PROVIDERS[mode]
    if task == "classify" and request.task == "chat":
        helper: TaskHelper = _CLASSIFY_AS_CHAT[mode]
        request = as_classify(request)
    elif task in row:
        helper = row[task]
    else:
        raise errors.UnsupportedTaskError(
            f"{request.task!r} has no route in {mode} mode; serves: {', '.join(sorted(row))}. Drop api_base's /v1 "
            "(or openai_format) for an Inference Endpoint, or pass no api_base for hf-inference.",
            provider=request.provider, model=request.model,
        )
    wire_model = request.settings.get(PROVIDER_MODEL) or request.model
    if mode in ENDPOINT_MODES and (request.model is None or is_url(request.model)):
        wire_model = TGI_MODEL
    return Route(mode, helper, base_of(mode, request), wire_model, request, request.provider)


def as_classify(request: Request) -> Request:
    """A chat call on a ``text-classification/`` model, as the classification of its last user message."""
    model = request.model or ""
    return replace(request, task="classify", inputs=_last_user_text(request), model=model[len(CLASSIFICATION_PREFIX):])


def _last_user_text(request: Request) -> str:
    for message in reversed(request.messages or ()):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    raise errors.InvalidRequestError("A text-classification/ model classifies the last user message; there is none.")
