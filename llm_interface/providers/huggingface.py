"""Hugging Face: the Inference Providers router, ``hf-inference``, Dedicated Inference Endpoints and
self-hosted TGI/TEI, chosen per call, for every task: chat, completion, embeddings, classify, rerank.

Follows (facts checked 2026-11-21 against ``hf-reference/README.md`` and its recordings):
- https://huggingface.co/docs/inference-providers (router: ``POST https://router.huggingface.co/v1/chat/completions``,
  ``model`` = Hub id with an optional ``:provider``, ``:fastest`` or ``:cheapest`` suffix);
- ``hf-inference``: ``https://router.huggingface.co/hf-inference/models/{id}/v1/chat/completions`` for chat,
  ``.../models/{id}`` for text-generation and classification, ``.../models/{id}/pipeline/feature-extraction``;
- TGI on an endpoint: Messages API ``{base}/v1/chat/completions`` (URL joining in ``join_url``), raw generation
  ``{base}/generate`` and ``/generate_stream``; TEI: ``/embed``, ``/v1/embeddings``, ``/predict``, ``/rerank``;
  ``X-Scale-Up-Timeout`` for endpoints scaled to zero. ``api-inference.huggingface.co`` is retired.

Local models (transformers, GGUF) run in process instead when ``local_engine`` says so (``local=True``,
``model_path``, a ``.gguf`` file or an existing folder; see that function and docs/local-models.md).

The mode, first rule that applies:
  1. ``model`` is a URL                           -> endpoint at that URL
  2. ``api_base`` (option, HUGGINGFACE_API_BASE)  -> endpoint (TGI, TEI, Dedicated Endpoint, any Messages API)
  3. ``provider="hf-inference"``                  -> Hugging Face's own inference
  4. otherwise                                    -> the router (``provider="together"`` becomes ``model:together``)
For tasks other than chat the router has no route: they go to ``hf-inference`` (rule 4 becomes rule 3), and a
third-party provider asked for them is an ``UnsupportedTaskError``.

Routes per task (endpoint / hf-inference):
  chat        /v1/chat/completions  / .../v1/chat/completions  (raw generation when the prompt is rendered, below)
  completion  /generate[_stream], or /v1/completions when api_base ends in /v1  / .../models/{id}
  embeddings  TEI /embed, or /v1/embeddings when api_base ends in /v1 or openai_format=True  / .../pipeline/feature-extraction
  classify    TEI /predict  / .../models/{id} (text-classification, or zero-shot with candidate_labels)
  rerank      TEI /rerank  / .../pipeline/sentence-similarity (scores in input order, sorted here)
Chat messages go to the raw-generation route instead of the Messages API when ``raw=True`` or a
``prompt_template`` is given; the Client renders them with the prompt templates first (``renders_prompt``).
A ``text-classification/`` model prefix (LiteLLM's) turns a chat call into classification of the last message.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from .. import errors
from ..request import Request
from ..servers import routes as server_routes
from ..types import Choice, Response
from ..wire import HttpCall, HttpResult, request_id_of
from . import hf_generate, hf_tasks
from .base import Provider
from .openai_compatible import ChatStreamState, OpenAICompatibleProvider, join_url, parse_chat_completion, swap_route

ROUTER = "https://router.huggingface.co"
# Hosts run by Hugging Face (router, Dedicated Inference Endpoints, Spaces): ambient tokens may go there.
HF_HOSTS = (".huggingface.co", ".huggingface.cloud", ".hf.space")
ENDPOINT, HF_INFERENCE, ROUTER_MODE = "endpoint", "hf-inference", "router"
# The model name TGI expects when it serves one model and ignores the field.
TGI_MODEL = "tgi"
CLASSIFICATION_PREFIX = "text-classification/"


def split_litellm_model(rest: str) -> Tuple[str, Optional[str]]:
    """What follows LiteLLM's ``huggingface/``: ``[inference_provider/]org/name`` -> (``org/name``, provider or None).

    URLs and ``text-classification/org/name`` stay whole (the prefix picks the classify task, it names no provider).
    The LiteLLM adapter and the proxy's config both read model strings with this one function.
    """
    if rest.startswith(("http://", "https://", CLASSIFICATION_PREFIX)):
        return rest, None
    parts = rest.split("/")
    if len(parts) >= 3:  # together/deepseek-ai/DeepSeek-R1: an Inference Provider, then the Hub id
        return "/".join(parts[1:]), parts[0]
    return rest, None

# What each mode can do, for UnsupportedTaskError messages and checks.
MODE_TASKS = {
    ENDPOINT: ("chat", "completion", "embeddings", "classify", "rerank"),
    HF_INFERENCE: ("chat", "completion", "embeddings", "classify", "rerank"),
    ROUTER_MODE: ("chat",),
}


def is_url(value: Optional[str]) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


# The routes a TGI/TEI api_base may already name, longest first.
NATIVE_ROUTES = ("/v1/chat/completions", "/generate_stream", "/generate", "/embed", "/predict", "/rerank")


def endpoint_route(base: str, route: str) -> str:
    """``{base}{route}`` for TGI/TEI native routes; a base that already names a route has it replaced."""
    base = base.rstrip("/")
    return swap_route(base, route, NATIVE_ROUTES) or base + route


def _is_openai_base(request: Request) -> bool:
    base = (request.model if is_url(request.model) else request.api_base or "").rstrip("/")
    return bool(request.settings.get("openai_format")) or base.endswith(("/v1", "/v1/completions", "/v1/embeddings"))


def _is_model_folder(model: str) -> bool:
    path = os.path.expanduser(model)
    if model.startswith(("/", ".", "~")):
        return os.path.isdir(path)  # clearly a path: a wrong one is ModelNotFoundError, not a router call
    return os.path.isfile(os.path.join(path, "config.json"))


def local_engine(request: Request) -> Optional[str]:
    """``"transformers"``, ``"gguf"`` or None (remote): THE rule that runs a Hugging Face call in process.

      1. ``local=False``                                   -> remote, whatever the model looks like
      2. ``local=True``, or a ``model_path`` option         -> local
      3. the model is a URL, or ``api_base`` is set          -> remote endpoint (a server can be named by a path)
      4. the model ends in ``.gguf``, or is an existing folder given as a path (``/``, ``.``, ``~`` first),
         or a folder holding a model (``config.json``) -> local
    (a bare name such as the alias ``small`` stays an alias when an unrelated ``./small`` folder exists)
    The engine is llama.cpp when the model (or ``model_path``) ends in ``.gguf``, else transformers.
    """
    local = request.settings.get("local")
    if local is not None and not isinstance(local, bool):
        raise errors.InvalidRequestError(f"local must be True or False, got {local!r}.", provider="huggingface")
    model = str(request.settings.get("model_path") or request.model or "")
    if local is False:
        return None
    if not local and not request.settings.get("model_path"):
        if is_url(model) or request.api_base:
            return None
        if not (model.lower().endswith(".gguf") or (model and _is_model_folder(model))):
            return None
    return "gguf" if model.lower().endswith(".gguf") else "transformers"


class HuggingFaceProvider(OpenAICompatibleProvider):
    name = "huggingface"
    tasks = frozenset({"chat", "completion", "embeddings", "classify", "rerank"})

    def engine_for(self, request: Request) -> Provider:
        """Local mode (``local_engine``): the transformers or llama.cpp engine computes the answer in process."""
        kind = local_engine(request)
        if kind == "gguf":
            from .gguf import GGUFEngine

            return GGUFEngine()
        if kind == "transformers":
            from .local import TransformersEngine

            return TransformersEngine()
        return self

    def supports(self, request: Request) -> None:
        # Checked before any I/O, so that a typo fails with a typed error rather than a ValueError
        # deep in header building or a model id such as "org/model:123" that the router rejects.
        super().supports(request)
        settings = request.settings
        inference_provider = settings.get("provider")
        if inference_provider is not None and (not isinstance(inference_provider, str) or not inference_provider.strip()):
            raise errors.InvalidRequestError(
                f"provider must be an Inference Provider name such as 'together', 'hf-inference', 'fastest' "
                f"or 'cheapest', got {inference_provider!r}.",
                provider=self.name,
            )
        timeout = settings.get("scale_up_timeout")
        if timeout is not None and (
            not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0
        ):
            raise errors.InvalidRequestError(
                f"scale_up_timeout must be seconds > 0 (e.g. 600), got {timeout!r}.", provider=self.name
            )
        self.task_mode(request)

    def mode(self, request: Request) -> str:
        if is_url(request.model) or request.api_base:
            return ENDPOINT
        if request.settings.get("provider") == HF_INFERENCE:
            return HF_INFERENCE
        return ROUTER_MODE

    def task_mode(self, request: Request) -> str:
        """The mode that serves this request's task: chat as ``mode``; other tasks go to hf-inference."""
        mode = self.mode(request)
        if request.task == "chat" and not self.renders_prompt(request) and not self._classifies(request):
            return mode
        if mode == ROUTER_MODE:
            third_party = request.settings.get("provider")
            if (third_party and third_party not in (HF_INFERENCE, "auto")) or ":" in (request.model or ""):
                raise errors.UnsupportedTaskError(
                    f"{request.task!r} is served by hf-inference and endpoints, not by the inference provider "
                    f"{third_party or (request.model or '').split(':')[-1]!r} (which serves: chat). Drop the provider "
                    "option, or pass api_base for your endpoint.", provider=self.name, model=request.model,
                )
            mode = HF_INFERENCE
        task = "classify" if self._classifies(request) else request.task
        if task not in MODE_TASKS[mode]:
            raise errors.UnsupportedTaskError(
                f"{task!r} is not served in {mode} mode, which supports: {', '.join(MODE_TASKS[mode])}.",
                provider=self.name, model=request.model,
            )
        return mode

    def renders_prompt(self, request: Request) -> bool:
        """Chat messages sent to a raw-generation route, to be rendered with a prompt template first."""
        return request.task == "chat" and bool(request.settings.get("raw") or request.settings.get("prompt_template"))

    def _classifies(self, request: Request) -> bool:
        return request.task == "chat" and (request.model or "").startswith(CLASSIFICATION_PREFIX)

    def needs_api_key(self, request: Request) -> bool:
        return self.mode(request) != ENDPOINT

    def trusts_ambient_key(self, request: Request) -> bool:
        """HF_TOKEN from the environment goes to Hugging Face's own hosts only, never to an arbitrary
        self-hosted api_base (that server would learn the user's Hub token). Pass ``api_key`` or use
        ``set_api_key`` to send a key to another host."""
        if self.mode(request) != ENDPOINT:
            return True
        host = urlsplit(self.base_url(request)).hostname or ""
        return host == "huggingface.co" or host.endswith(HF_HOSTS)

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        kind = "embeddings" if request.task == "embeddings" else "chat"
        model = request.model
        if model and model.startswith(CLASSIFICATION_PREFIX) and request.task == "classify":
            model = model[len(CLASSIFICATION_PREFIX):]
        if self.mode(request) == ENDPOINT:
            if model is None or is_url(model):
                return model
            return aliases.resolve(self.name, model, kind, strict=False)
        if request.task in ("classify", "rerank") or self._classifies(request):
            if not model:
                raise errors.UnknownModelError(
                    f"{request.task} needs a model: pass options={{'model': 'org/name'}}, e.g. "
                    "'distilbert/distilbert-base-uncased-finetuned-sst-2-english'.", provider=self.name,
                )
            return model
        model = aliases.resolve(self.name, model, kind, strict=True)
        inference_provider = request.settings.get("provider")
        if (
            request.task == "chat" and not self.renders_prompt(request)
            and inference_provider and inference_provider not in (HF_INFERENCE, "auto") and ":" not in model
        ):
            model = f"{model}:{inference_provider}"
        return model

    def base_url(self, request: Request, mode: Optional[str] = None) -> str:
        mode = mode or self.task_mode(request)
        if mode == ENDPOINT:
            return request.model if is_url(request.model) else request.api_base  # type: ignore[return-value]
        model = request.model or ""
        if model.startswith(CLASSIFICATION_PREFIX):
            model = model[len(CLASSIFICATION_PREFIX):]
        if mode == HF_INFERENCE:
            return f"{ROUTER}/hf-inference/models/{model}"
        return ROUTER

    def wire_model(self, request: Request) -> Optional[str]:
        if self.mode(request) == ENDPOINT and (request.model is None or is_url(request.model)):
            return TGI_MODEL
        return request.model

    def auth_headers(self, request: Request) -> Dict[str, str]:
        headers = super().auth_headers(request)
        timeout = request.settings.get("scale_up_timeout")
        if timeout is not None:
            headers["X-Scale-Up-Timeout"] = str(int(timeout))
        if request.settings.get("bill_to"):
            headers["X-HF-Bill-To"] = str(request.settings["bill_to"])
        return headers

    def chat_body(self, request: Request) -> Dict[str, Any]:
        body = super().chat_body(request)
        if body.get("response_format") is not None:
            if self.mode(request) == ENDPOINT:
                body["response_format"] = hf_generate.tgi_grammar(body["response_format"])
            else:
                body["response_format"] = hf_generate.openai_response_format(body["response_format"])
            if body["response_format"] is None:
                del body["response_format"]
        return body

    # -- routing ------------------------------------------------------------------------------------

    def _wire(self, request: Request, mode: str) -> str:
        """How a chat or completion travels: "chat" (Messages API), "openai" (``/v1/completions``) or
        "generate" (TGI ``/generate``, hf-inference text-generation). One rule for route, parse and stream."""
        if request.prompt is None:
            return "chat"
        return "openai" if mode == ENDPOINT and _is_openai_base(request) else "generate"

    def _route(self, request: Request, mode: str):
        """(url, body) for the request's task and mode."""
        base = self.base_url(request, mode)
        if self._classifies(request):
            request = _as_classify(request)
        task = request.task
        if task in ("chat", "completion"):
            wire = self._wire(request, mode)
            if wire == "chat":
                if self.renders_prompt(request):
                    raise errors.ConfigurationError(
                        "Chat messages for a raw-generation route must be rendered first; use Client.run, "
                        "which applies the prompt template.", provider=self.name, model=request.model,
                    )
                return self.chat_url(request), self.chat_body(request)
            if wire == "openai":
                return join_url(base, "/v1/completions"), self.completion_body(request)
            if mode == ENDPOINT:
                route = "/generate_stream" if request.stream else "/generate"
                return endpoint_route(base, route), hf_generate.generate_body(request, stream_flag=False)
            return base, hf_generate.generate_body(request, stream_flag=True)
        if task == "embeddings":
            if mode == ENDPOINT and _is_openai_base(request):
                return join_url(base, "/v1/embeddings"), hf_tasks.openai_embed_body(request, self.wire_model(request))
            if mode == ENDPOINT:
                return endpoint_route(base, "/embed"), hf_tasks.tei_embed_body(request)
            return base + "/pipeline/feature-extraction", hf_tasks.hf_inference_embed_body(request)
        if mode == ENDPOINT and task in ("classify", "rerank"):
            on_server = server_routes.task_route(request, base)  # vLLM, llama.cpp: their own routes
            if on_server is not None:
                return on_server
        if task == "classify":
            if mode == ENDPOINT:
                return endpoint_route(base, "/predict"), hf_tasks.tei_predict_body(request)
            return base, hf_tasks.hf_inference_classify_body(request)
        if mode == ENDPOINT:
            return endpoint_route(base, "/rerank"), hf_tasks.tei_rerank_body(request)
        return base + "/pipeline/sentence-similarity", hf_tasks.similarity_body(request)

    def prepare(self, request: Request) -> HttpCall:
        self.supports(request)
        mode = self.task_mode(request)
        url, body = self._route(request, mode)
        call = self.post(request, url, body)
        if mode == HF_INFERENCE:
            # A cold model answers 503 at once; on the retry, ask the server to hold the request instead.
            call.retry_headers["x-wait-for-model"] = "true"
        return call

    def batch_size(self, request: Request) -> int:
        """How many inputs one call may carry (the Client splits longer lists)."""
        if request.task == "classify" and hf_tasks.is_zero_shot(request):
            return 1
        size = request.settings.get("batch_size") or hf_tasks.DEFAULT_BATCH_SIZE
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise errors.InvalidRequestError(f"batch_size must be a positive int, got {size!r}")
        return size

    def parse(self, request: Request, result: HttpResult) -> Any:
        request_id = request_id_of(result.headers)
        body = result.body
        mode = self.task_mode(request)
        if self._classifies(request):
            classified = hf_tasks.parse_classification(body, _as_classify(request), self.name, request_id)
            labels = classified.classifications[0].labels
            return Response(
                results=labels[0].label if labels else "",
                model=request.model, provider=self.name, finish_reason="stop", request_id=request_id,
                choices=tuple(Choice(i, label.label, "stop") for i, label in enumerate(labels)),
            )
        if request.task in ("chat", "completion"):
            if self._wire(request, mode) == "generate":
                return hf_generate.parse_generate(body, request, self.name, request_id, result.headers)
            return parse_chat_completion(body, request, self.name, request_id)
        if request.task == "embeddings":
            if isinstance(body, dict):
                return hf_tasks.parse_openai_embeddings(body, request, self.name, request_id)
            return hf_tasks.parse_embeddings(body, request, self.name, request_id, server_dims=mode == ENDPOINT)
        if request.task == "classify":
            if isinstance(body, dict) and "data" in body:  # vLLM /classify
                return server_routes.parse_vllm_classify(body, request, self.name, request_id)
            return hf_tasks.parse_classification(body, request, self.name, request_id)
        return hf_tasks.parse_rerank(body, request, self.name, request_id)

    def stream_state(self, request: Request):
        if request.task not in ("chat", "completion"):
            raise errors.UnsupportedTaskError(f"{request.task!r} cannot be streamed.", provider=self.name)
        if self._wire(request, self.task_mode(request)) == "generate":
            return hf_generate.GenerateStreamState(request, self.name)
        return ChatStreamState(request, self.name)


def _as_classify(request: Request) -> Request:
    """A chat call on a ``text-classification/`` model, as the classification of its last user message."""
    return replace(
        request, task="classify", inputs=_last_user_text(request), model=request.model[len(CLASSIFICATION_PREFIX):]
    )


def _last_user_text(request: Request) -> str:
    for message in reversed(request.messages or ()):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    raise errors.InvalidRequestError("A text-classification/ model classifies the last user message; there is none.")


__all__ = ["HuggingFaceProvider", "join_url", "ROUTER", "endpoint_route"]
