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
For embeddings, completion and classification, rule 4 is ``provider="auto"``: the Client reads the model's
``inferenceProviderMapping`` from the Hub and binds the call to the first live provider with a row for the task
(hf_hub_mapping.py; third-party rows in inference_providers.py); a named provider is checked against it, and one
without a row for the task is an ``UnsupportedTaskError``. Rerank stays on ``hf-inference``.

Routes per task (endpoint / hf-inference):
  chat        /v1/chat/completions  / .../v1/chat/completions  (raw generation when the prompt is rendered, below)
  completion  /generate[_stream], or /v1/completions when api_base ends in /v1  / .../models/{id}
  embeddings  TEI /embed, or /v1/embeddings when api_base ends in /v1 or openai_format=True  / .../pipeline/feature-extraction
  classify    TEI /predict  / .../models/{id} (text-classification, or zero-shot with candidate_labels)
  rerank      TEI /rerank  / .../pipeline/sentence-similarity (scores in input order, sorted here)
Chat messages go to the raw-generation route instead of the Messages API when ``raw=True`` or a
``prompt_template`` is given; the Client renders them with the prompt templates first (``renders_prompt``).
A ``text-classification/`` model prefix (LiteLLM's) turns a chat call into classification of the last message.
The routes are one table, ``hf_routes.PROVIDERS[mode][task]``; this module holds what is not routing (keys,
aliases, local models, option checks).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from .. import errors
from ..request import Request
from ..types import Response
from ..wire import HttpCall, HttpResult, request_id_of
from . import hf_hub_mapping, hf_tasks, hf_text_tasks
from .base import Provider, StreamState
from .hf_routes import (
    CLASSIFICATION_PREFIX,
    HF_INFERENCE,
    ROUTER,
    Route,
    endpoint_of,
    endpoint_route,
    is_url,
    resolve,
    wire_task,
)
from .openai_compatible import OpenAICompatibleProvider, join_url

# Hosts run by Hugging Face (router, Dedicated Inference Endpoints, Spaces): ambient tokens may go there.
HF_HOSTS = (".huggingface.co", ".huggingface.cloud", ".hf.space")
# Inference-provider policies that are no provider of their own (no ``:suffix`` on the model).
_POLICIES = (HF_INFERENCE, "auto")
# The last request resolved and its Route: a call asks for its Route when it is checked, prepared and parsed;
# a Request is frozen, so the same object has the same Route (held by identity, never by equality).
_last_resolved: Tuple[Optional[Request], Optional[Route]] = (None, None)


def route_of(request: Request) -> Route:
    """``hf_routes.resolve``, asked once per call (not once per hook)."""
    global _last_resolved
    last, route = _last_resolved  # one read: another thread may replace the pair meanwhile
    if last is request and route is not None:
        return route
    route = resolve(request)
    _last_resolved = (request, route)
    return route


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


def _is_path(model: str) -> bool:
    """Clearly a filesystem path, not a Hub id or an alias."""
    return model.startswith(("/", "./", "../", "~")) or model in (".", "..")


def _is_model_folder(model: str) -> bool:
    path = os.path.expanduser(model)
    if _is_path(model):
        if not os.path.isdir(path):  # clearly a path: a wrong one is ModelNotFoundError, not a router call
            raise errors.ModelNotFoundError(
                f"There is no model folder at {model!r}: it does not exist{' (it is a file)' if os.path.exists(path) else ''}. "
                "Pass the folder that holds the model (config.json and weights), a .gguf file, or a Hub id such as "
                "'Qwen/Qwen2.5-0.5B-Instruct'; to send a path-like name to a server, pass local=False.",
                provider="huggingface", model=model,
            )
        return True
    return os.path.isfile(os.path.join(path, "config.json"))


def local_engine(request: Request) -> Optional[str]:
    """``"transformers"``, ``"gguf"`` or None (remote): THE rule that runs a Hugging Face call in process.

      1. ``local=False``                                   -> remote, whatever the model looks like
      2. ``local=True``, or a ``model_path`` option         -> local
      3. the model is a URL, or ``api_base`` is set          -> remote endpoint (a server can be named by a path)
      4. the model ends in ``.gguf``, or is a path (``/``, ``./``, ``../``, ``~`` first; a missing folder is a
         ModelNotFoundError), or a folder holding a model (``config.json``) -> local
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
    tasks = frozenset({"chat", "completion", "embeddings", "classify", "rerank", "respond"}) | hf_text_tasks.TASKS

    def engine_for(self, request: Request) -> Provider:
        """Local mode (``local_engine``): the transformers or llama.cpp engine computes the answer in process."""
        kind = local_engine(request)
        if kind == "gguf":
            from .gguf import GGUFEngine

            return GGUFEngine()
        if kind == "transformers":
            from .transformers_engine import TransformersEngine

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
        route_of(request)  # a task nobody serves in this mode fails here, before any key is looked for

    def needs_provider_mapping(self, request: Request) -> bool:
        return hf_hub_mapping.needs_mapping(request)

    def renders_prompt(self, request: Request) -> bool:
        """Chat messages sent to a raw-generation route, to be rendered with a prompt template first."""
        return request.task == "chat" and wire_task(request) == "generate"

    def needs_api_key(self, request: Request) -> bool:
        return not endpoint_of(request)

    def trusts_ambient_key(self, request: Request) -> bool:
        """HF_TOKEN from the environment goes to Hugging Face's own hosts only, never to an arbitrary
        self-hosted api_base (that server would learn the user's Hub token). Pass ``api_key`` or use
        ``set_api_key`` to send a key to another host."""
        url = endpoint_of(request)
        if not url:
            return True
        host = urlsplit(url).hostname or ""
        return host == "huggingface.co" or host.endswith(HF_HOSTS)

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        """A configured alias is an alias; any other name is a model id and goes out as given (the JS
        library's rule: ``gpt2`` is a Hub id). A name the server does not know is its 404."""
        kind = "embeddings" if request.task == "embeddings" else "chat"
        model = request.model
        if model and model.startswith(CLASSIFICATION_PREFIX) and request.task == "classify":
            model = model[len(CLASSIFICATION_PREFIX):]
        if endpoint_of(request):
            if model is None or is_url(model):
                return model  # the endpoint serves one model; TGI ignores the field
            return aliases.resolve(self.name, model, kind)
        if request.task in hf_text_tasks.TASKS:  # no alias table for these: the model, else the task's default
            return model or hf_text_tasks.DEFAULT_MODELS[request.task]
        if request.task in ("classify", "rerank") or wire_task(request) == "classify":
            if not model:
                raise errors.UnknownModelError(
                    f"{request.task} needs a model: pass options={{'model': 'org/name'}}, e.g. "
                    "'distilbert/distilbert-base-uncased-finetuned-sst-2-english'.", provider=self.name,
                )
            return model
        model = aliases.resolve(self.name, model, kind)
        inference_provider = request.settings.get("provider")
        if (
            wire_task(request) in ("chat", "respond") and inference_provider and inference_provider not in _POLICIES
            and ":" not in model
        ):
            model = f"{model}:{inference_provider}"
        return model

    def auth_headers(self, request: Request) -> Dict[str, str]:
        headers = super().auth_headers(request)
        timeout = request.settings.get("scale_up_timeout")
        if timeout is not None:
            headers["X-Scale-Up-Timeout"] = str(int(timeout))
        if request.settings.get("bill_to"):
            headers["X-HF-Bill-To"] = str(request.settings["bill_to"])
        return headers

    def prepare(self, request: Request) -> HttpCall:
        route = route_of(request)
        helper = route.helper
        call = self.post(request, helper.url(route.base, route.request), helper.body(route.request, route))
        if route.mode == HF_INFERENCE:
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
        route = route_of(request)
        answer = route.helper.parse(result.body, route.request, route, request_id_of(result.headers), result.headers)
        served_by = hf_hub_mapping.answered_by(route.mode, route.request, result.headers)
        if served_by and isinstance(answer, Response):
            answer = replace(answer, inference_provider=served_by)
        return answer

    def stream_state(self, request: Request) -> StreamState:
        route = route_of(request)
        return route.helper.stream_state(route.request, self.name)


__all__ = ["HuggingFaceProvider", "join_url", "ROUTER", "endpoint_route"]
