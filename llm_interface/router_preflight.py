"""Which Inference Providers can serve this chat request, from the router's catalogue: the explanation of the
router's 400 ``model_not_supported`` ("The requested model 'x' is not supported by any provider you have
enabled.", hf-reference/error_bodies.json ``router_400_model_not_supported``), and the opt-in check before
sending (``options={"preflight": True}``), which spends no call on a request no provider can take.

What a request needs: tools (``tools`` given), structured output (``response_format`` json_schema/json_object),
and a context length (prompt characters / 4 + ``max_tokens``, ratelimit.estimate_tokens). A provider fits when
it is live and, where the catalogue says, supports each; an unknown capability (field absent) is not held
against it. Pure but for ``catalogue``, which the client hands in.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from . import errors
from .catalogue import Catalogue, CatalogueModel, ProviderOffer
from .providers.hf_hub_mapping import POLICIES
from .providers.hf_routes import wire_task
from .ratelimit import estimate_tokens
from .request import Request

NOT_SUPPORTED_CODE = "model_not_supported"


def needs(request: Request) -> Dict[str, Any]:
    """What the request asks of a provider (only what it asks)."""
    wanted: Dict[str, Any] = {"context": estimate_tokens(request)}
    if request.params.get("tools"):
        wanted["tools"] = True
    response_format = request.params.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object"):
        wanted["structured_output"] = True
    return wanted


def misfits(offer: ProviderOffer, wanted: Dict[str, Any]) -> List[str]:
    """Why ``offer`` cannot serve the request; empty when it can."""
    why = []
    if not offer.live:
        why.append(f"status {offer.status}")
    if wanted.get("tools") and offer.supports_tools is False:
        why.append("no tool calling")
    if wanted.get("structured_output") and offer.supports_structured_output is False:
        why.append("no structured output")
    if offer.context_length is not None and wanted["context"] > offer.context_length:
        why.append(f"context {offer.context_length} < ~{wanted['context']} tokens")
    return why


def split_model(request: Request) -> Tuple[str, Optional[str]]:
    """(Hub id, the provider the request names or None for the router's choice)."""
    model = request.model or ""
    named = request.settings.get("provider")
    if ":" in model:  # a suffix on the model wins over the provider option (huggingface.py)
        model, named = model.rsplit(":", 1)
    if named in (None, "auto", *POLICIES):
        named = None
    return model, named


def _describe(offer: ProviderOffer, why: List[str]) -> str:
    facts = [offer.price_text() + " per 1M in/out" if offer.price_text() != "-" else "price not published"]
    if offer.context_length is not None:
        facts.append(f"context {offer.context_length}")
    text = f"{offer.provider} ({', '.join(facts)})"
    return text + (f": {'; '.join(why)}" if why else "")


def verdict(entry: Optional[CatalogueModel], request: Request, status: Optional[int] = None,
            server_message: Optional[str] = None) -> Optional[errors.ModelNotSupportedError]:
    """The typed error explaining why no provider takes this request, or None when one does."""
    model, named = split_model(request)
    wanted = needs(request)
    asked = ", ".join(k if k != "context" else f"~{v} tokens of context" for k, v in wanted.items())
    if entry is None or not entry.providers:
        return errors.ModelNotSupportedError(
            f"{model!r} is not in the router's catalogue: no Inference Provider serves it for chat"
            + (f" (the router said: {server_message})" if server_message else "")
            + ". Use a model listed by `llm-interface models`, hf-inference ({'provider': 'hf-inference'}) if it "
            "serves it, or your own endpoint (api_base).",
            provider="huggingface", model=model, status=status, server_message=server_message,
        )
    offers = [o for o in entry.providers if named is None or o.provider == named]
    fit = [o for o in offers if not misfits(o, wanted)]
    if fit and status is None:
        return None
    lines = [_describe(o, misfits(o, wanted)) for o in entry.providers]
    fitting = [o for o in entry.providers if not misfits(o, wanted)]
    cheapest = sorted(fitting, key=lambda o: (o.input_price is None, (o.input_price or 0) + (o.output_price or 0)))
    how = (f"Pick one with model='{model}:{cheapest[0].provider}' (or options={{'provider': '{cheapest[0].provider}'}}), "
           "or enable it at https://hf.co/settings/inference-providers" if cheapest
           else "No provider in the catalogue fits; drop what the request needs or use another model")
    who = f"the provider {named!r}" if named else "any provider you have enabled"
    head = f"{model!r} cannot be served by {who} for this request (needs: {asked})"
    if server_message:
        head += f"; the router said: {server_message}"
    return errors.ModelNotSupportedError(
        f"{head}. Providers serving it: {' | '.join(lines)}. {how}.",
        provider="huggingface", model=model, status=status, server_message=server_message,
        alternatives=tuple(fitting),
    )


def is_not_supported(error: errors.LLMInterfaceError) -> bool:
    body = error.body
    if not isinstance(error, errors.ValidationError) or isinstance(error, errors.ModelNotSupportedError):
        return False
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code") == NOT_SUPPORTED_CODE:
        return True
    return "not supported by any provider" in (error.server_message or "")


def applies(request: Request) -> bool:
    """Chat on the router (no endpoint, not hf-inference): what the catalogue describes."""
    return (request.provider == "huggingface" and wire_task(request) == "chat" and not request.api_base
            and not (request.model or "").startswith(("http://", "https://"))
            and request.settings.get("provider") != "hf-inference")


def _entry(catalogue: Catalogue, model: str, api_key: Optional[str]) -> Optional[CatalogueModel]:
    try:
        return catalogue.model(model, api_key)
    except errors.NotFoundError:
        return None


def before_sending(catalogue: Catalogue, request: Request) -> None:
    """``{"preflight": True}``: raise the explanation now when no provider in the catalogue fits."""
    if not request.settings.get("preflight") or not applies(request):
        return
    model, _ = split_model(request)
    problem = verdict(_entry(catalogue, model, request.api_key), request)
    if problem is not None:
        raise problem


def explained(catalogue: Catalogue, request: Request, error: errors.LLMInterfaceError) -> errors.LLMInterfaceError:
    """The router's model_not_supported as a ModelNotSupportedError naming the alternatives; else ``error``.
    A catalogue that cannot be read leaves the router's own error as it was."""
    if not applies(request) or not is_not_supported(error):
        return error
    model, _ = split_model(request)
    try:
        entry = _entry(catalogue, model, request.api_key)
    except errors.LLMInterfaceError:
        return error
    explanation = verdict(entry, request, error.status or 400, error.server_message)
    if explanation is None:  # pragma: no cover - verdict always explains when given a status
        return error
    explanation.request_id = error.request_id
    return explanation
