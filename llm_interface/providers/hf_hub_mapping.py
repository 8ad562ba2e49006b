"""Which Inference Provider serves a model for a task: the Hub's ``inferenceProviderMapping``, read and chosen
from (pure: the fetch is ``hf_resolution.py``'s, with its caches).

Follows (checked 2026-12-01) huggingface_hub ``inference/_providers/__init__.py`` (``get_provider_helper``:
``provider="auto"`` takes the model's mapping in the order the user set at hf.co/settings/inference-providers;
chat keeps the router's server-side auto routing, no Hub request) and ``_common.py``
(``_fetch_inference_provider_mapping``: ``GET {hub}/api/models/{id}?expand[]=inferenceProviderMapping``;
``_prepare_mapping_info``: a named provider must be in the mapping with the same task; ``staging`` and
``error`` statuses only warn), and ``hf_api.ModelInfo`` (the mapping is a list of
``{provider, providerId, status, task}`` or, in older answers, a dict keyed by provider).

The rules here: ``auto`` picks the first mapping entry whose task is the call's, whose status is ``live``
and which this library has a row for (``hf_routes.PROVIDERS``); a named provider (``provider`` option or a
``model:provider`` suffix) must appear in the mapping for the task; otherwise a NoProviderError lists the
providers that do serve it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Any, List, Optional, Tuple

from .. import errors
from ..hf_hub import HUB_ENV, model_api_url  # the one builder of a model's Hub URL (a mirror, a loopback server)
from ..request import Request
from .hf_routes import (
    ENDPOINT,
    HF_INFERENCE,
    OPENAI_ENDPOINT,
    PROVIDER_MODEL,
    PROVIDERS,
    ROUTER_MODE,
    endpoint_of,
    wire_task,
)

logger = logging.getLogger("llm_interface")

# The provider non-chat tasks use when the call names none: "auto" (the Hub's mapping) unless set,
# e.g. "hf-inference" to skip the Hub request entirely.
DEFAULT_PROVIDER_ENV = "LLM_INTERFACE_HF_PROVIDER"
# The router's policies: on chat the router applies them; elsewhere only "preferred" (the user's order) means
# something without the catalogue, and it is what "auto" does.
POLICIES = ("fastest", "cheapest", "preferred")
# Our wire tasks -> the Hub's task names in the mapping.
HUB_TASKS = {"embeddings": "feature-extraction", "generate": "text-generation", "classify": "text-classification"}


@dataclass(frozen=True)
class ProviderMapping:
    """One entry of a model's mapping: who serves it, under which id, for which task, how healthy."""

    provider: str
    provider_id: str
    task: str
    status: str = "live"

    def as_dict(self) -> dict:
        return {"provider": self.provider, "providerId": self.provider_id, "task": self.task, "status": self.status}


def mapping_url(model: str) -> str:
    return model_api_url(model, "?expand[]=inferenceProviderMapping")


def parse_mapping(body: Any, model: str) -> Tuple[ProviderMapping, ...]:
    """The mapping of a Hub model answer (list or dict form), in the Hub's order; entries without a provider,
    id or task are skipped. An answer that is no model object is an InvalidResponseError."""
    if not isinstance(body, dict):
        raise errors.InvalidResponseError(
            f"The Hub's answer for {model!r} is not a model object; is {HUB_ENV} pointing at the Hub?",
            provider="huggingface", model=model, body=body,
        )
    raw = body.get("inferenceProviderMapping")
    if isinstance(raw, dict):
        items: List[Any] = [{**value, "provider": name} for name, value in raw.items() if isinstance(value, dict)]
    elif isinstance(raw, list):
        items = raw
    else:
        items = []
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        provider, provider_id, task = item.get("provider"), item.get("providerId"), item.get("task")
        if all(isinstance(v, str) and v for v in (provider, provider_id, task)):
            status = item.get("status") if isinstance(item.get("status"), str) else "live"
            out.append(ProviderMapping(provider, provider_id, task, status))  # type: ignore[arg-type]
    return tuple(out)


def hub_task(request: Request) -> Optional[str]:
    """The Hub task this call resolves through the mapping for; None when it needs no mapping (chat, rerank,
    an endpoint, hf-inference named, local)."""
    if endpoint_of(request) or request.task not in ("completion", "embeddings", "classify"):
        return None
    task = wire_task(request)
    if request.task == "classify" and request.params.get("candidate_labels") is not None:
        return "zero-shot-classification"
    return HUB_TASKS.get(task)


def asked_provider(request: Request) -> Tuple[str, str]:
    """(model without a provider suffix, the provider asked for or "auto")."""
    model = request.model or ""
    named = request.settings.get("provider")
    if ":" in model:  # a suffix on the model wins over the option, as on chat
        model, named = model.rsplit(":", 1)
    if not named:
        named = os.environ.get(DEFAULT_PROVIDER_ENV) or "auto"
    return model, str(named)


def needs_mapping(request: Request) -> bool:
    """True when the call must read the model's mapping before it can be sent."""
    if hub_task(request) is None:
        return False
    _, named = asked_provider(request)
    return named != HF_INFERENCE


def _ours(mapping: ProviderMapping, task: str) -> bool:
    return mapping.provider == HF_INFERENCE or task in PROVIDERS.get(mapping.provider, ())


def choose(mappings: Tuple[ProviderMapping, ...], request: Request) -> ProviderMapping:
    """The entry that serves this call (the module docstring's rules), or a NoProviderError."""
    model, named = asked_provider(request)
    task = hub_task(request) or ""
    wire = wire_task(request)
    for_task = [m for m in mappings if m.task == task]
    if named in ("auto", "preferred"):
        for mapping in for_task:
            if mapping.status == "live" and _ours(mapping, wire):
                return mapping
    elif named in POLICIES:
        raise errors.UnsupportedTaskError(
            f"The ':{named}' policy is applied by the router to chat only; for {request.task!r} use "
            "provider='auto' (your order on the Hub) or name a provider.", provider="huggingface", model=model,
        )
    else:
        for mapping in for_task:
            if mapping.provider == named:
                if mapping.status != "live":
                    logger.warning("%s on %s has status %r on the Hub; the call may fail.", model, named, mapping.status)
                if not _ours(mapping, wire):
                    break
                return mapping
    raise no_provider(model, named, task, mappings)


def no_provider(model: str, named: str, task: str, mappings: Tuple[ProviderMapping, ...]) -> errors.NoProviderError:
    serving = [f"{m.provider} ({m.status})" for m in mappings if m.task == task]
    others = sorted({f"{m.provider}: {m.task}" for m in mappings if m.task != task})
    who = "no live provider" if named == "auto" else f"the provider {named!r}"
    text = f"{model!r} is not served for {task} by {who}"
    text += f"; the Hub lists for {task}: {', '.join(serving)}" if serving else f"; no provider serves it for {task}"
    if others:
        text += f" (other tasks: {'; '.join(others)})"
    text += (". Pick one with options={'provider': '<name>'} or 'model:<name>', enable one at "
             "https://hf.co/settings/inference-providers, or pass api_base for your own endpoint.")
    return errors.NoProviderError(
        text, provider="huggingface", model=model,
        providers=tuple(m.provider for m in mappings if m.task == task),
    )


def resolved(request: Request, mapping: ProviderMapping) -> Request:
    """The request as the chosen provider serves it: its name in ``provider``, its own id for the body."""
    model, _ = asked_provider(request)
    settings = {**request.settings, "provider": mapping.provider, PROVIDER_MODEL: mapping.provider_id}
    return replace(request, model=model, settings=settings)


# The router names the provider that answered in this response header (observed in public clients of the
# router, e.g. chat-ui's capture of ``x-inference-provider``; not in the hub-docs pages).
ANSWERED_BY_HEADER = "x-inference-provider"


def answered_by(mode: str, request: Request, headers: Any) -> Optional[str]:
    """The Inference Provider that served an answer: the router's header, else the provider the call was bound
    to (a row of ours, hf-inference, or a ``model:provider`` suffix); None for endpoints and the router's choice."""
    if mode in (ENDPOINT, OPENAI_ENDPOINT):
        return None
    header = headers.get(ANSWERED_BY_HEADER) if headers is not None else None
    if isinstance(header, str) and header.strip():
        return header.strip()
    if mode != ROUTER_MODE:
        return mode  # hf-inference, or a provider's own row
    model = request.model or ""
    named = model.rsplit(":", 1)[1] if ":" in model else request.settings.get("provider")
    return named if isinstance(named, str) and named not in ("auto", *POLICIES) else None
