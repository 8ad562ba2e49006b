"""Is a rerank model a cross-encoder? The rule, for Hugging Face rerank calls without ``api_base``:

  1. the ``cross_encoder`` option (True or False), when given, decides;
  2. else the model's ``pipeline_tag`` on the Hub (``GET {hub}/api/models/{id}``, the Hub's base as
     ``hf_hub.hub_url`` finds it: ``$LLM_INTERFACE_HF_HUB``, ``$HF_ENDPOINT``, https://huggingface.co): ``text-ranking`` or ``text-classification``
     (bge-reranker, ms-marco cross-encoders) is a cross-encoder, and rerank sends it (query, document) pairs on
     the text-classification pipeline; anything else (``sentence-similarity``, ``feature-extraction``) is a
     bi-encoder and goes to the sentence-similarity pipeline.
The tag is read once per model and process (one Hub request, then none). A tag that cannot be read (offline,
gated, unknown model) counts as a bi-encoder, with a WARNING naming the option that decides instead. An
endpoint (``api_base``) has TEI's ``/rerank``, which needs no such choice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, Mapping, Optional

from . import errors
from .hf_hub import model_api_url
from .plan import Plan
from .providers.hf_routes import endpoint_of
from .providers.hf_text_tasks import CROSS_ENCODER_TAGS
from .wire import Context

logger = logging.getLogger("llm_interface")

_tags: Dict[str, Optional[str]] = {}  # model id -> pipeline tag (None: unknown), for this process
_lock = threading.Lock()

GetJson = Callable[[str, Mapping[str, str], Context, Any], Any]


def model_info_url(model: str) -> str:
    return model_api_url(model)


def lookup_needed(plan: Plan) -> Optional[str]:
    """The model whose tag decides this rerank call, or None (not Hugging Face, an endpoint, the option given,
    or already known: then ``known`` holds the answer)."""
    request = plan.request
    if request.provider != "huggingface" or request.task != "rerank" or endpoint_of(request) or plan.provider.in_process:
        return None
    given = request.settings.get("cross_encoder")
    if given is not None:
        if not isinstance(given, bool):
            raise errors.InvalidRequestError(f"cross_encoder must be True or False, got {given!r}.", provider=request.provider)
        return None
    return request.model


def pipeline_tag(model: str, api_key: Optional[str], get_json: GetJson) -> Optional[str]:
    """The model's pipeline tag, from this process's memory or the Hub (once)."""
    if model in _tags:
        return _tags[model]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        info = get_json(model_info_url(model), headers, Context("huggingface", model, api_key), 10)
        tag = info.get("pipeline_tag") if isinstance(info, dict) else None
        tag = tag if isinstance(tag, str) else None
    except errors.LLMInterfaceError as exc:
        logger.warning("The Hub's pipeline tag of %s cannot be read (%s); rerank compares embeddings. "
                       "Pass options={'cross_encoder': True} for a cross-encoder.", model, type(exc).__name__)
        tag = None
    with _lock:
        _tags[model] = tag
    return tag


def resolve(plan: Plan, get_json: GetJson, replan: Callable[[Dict[str, Any]], Plan]) -> Plan:
    """The plan to send: as given, or planned again with ``cross_encoder`` set from the Hub's tag."""
    model = lookup_needed(plan)
    if model is None or plan.cache_mode == "replay":  # replaying fixtures never uses the network (CI has none)
        return plan
    tag = pipeline_tag(model, plan.request.api_key, get_json)
    return replan({"cross_encoder": tag in CROSS_ENCODER_TAGS})


def known(plan: Plan) -> bool:
    """True when ``resolve`` needs no I/O for this plan (the async client skips its thread then)."""
    model = lookup_needed(plan)
    return model is None or model in _tags or plan.cache_mode == "replay"


def forget() -> None:
    """Drop the tags read so far (tests; a model whose tag changed on the Hub)."""
    with _lock:
        _tags.clear()
