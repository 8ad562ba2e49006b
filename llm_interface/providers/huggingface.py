"""Hugging Face: the Inference Providers router, ``hf-inference``, Dedicated Inference Endpoints and
self-hosted TGI/TEI, chosen per call.

Follows (facts checked 2026-11-21 against ``hf-reference/README.md`` and its recordings):
- https://huggingface.co/docs/inference-providers (router: ``POST https://router.huggingface.co/v1/chat/completions``,
  ``model`` = Hub id with an optional ``:provider``, ``:fastest`` or ``:cheapest`` suffix);
- ``hf-inference``: ``https://router.huggingface.co/hf-inference/models/{id}/v1/chat/completions``;
- TGI Messages API on an endpoint: ``{base}/v1/chat/completions`` (URL joining in ``join_url``),
  ``X-Scale-Up-Timeout`` for endpoints scaled to zero. ``api-inference.huggingface.co`` is retired.

The mode, first rule that applies:
  1. ``model`` is a URL                           -> endpoint at that URL
  2. ``api_base`` (option, HUGGINGFACE_API_BASE)  -> endpoint (TGI, Dedicated Endpoint, any Messages API)
  3. ``provider="hf-inference"``                  -> Hugging Face's own inference
  4. otherwise                                    -> the router (``provider="together"`` becomes ``model:together``)
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..errors import InvalidRequestError
from ..request import Request
from .openai_compatible import OpenAICompatibleProvider, join_url

ROUTER = "https://router.huggingface.co"
ENDPOINT, HF_INFERENCE, ROUTER_MODE = "endpoint", "hf-inference", "router"
# The model name TGI expects when it serves one model and ignores the field.
TGI_MODEL = "tgi"


def is_url(value: Optional[str]) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


class HuggingFaceProvider(OpenAICompatibleProvider):
    name = "huggingface"
    tasks = frozenset({"chat"})

    def supports(self, request: Request) -> None:
        # Checked before any I/O, so that a typo fails with a typed error rather than a ValueError
        # deep in header building or a model id such as "org/model:123" that the router rejects.
        super().supports(request)
        settings = request.settings
        inference_provider = settings.get("provider")
        if inference_provider is not None and (not isinstance(inference_provider, str) or not inference_provider.strip()):
            raise InvalidRequestError(
                f"provider must be an Inference Provider name such as 'together', 'hf-inference', 'fastest' "
                f"or 'cheapest', got {inference_provider!r}.",
                provider=self.name,
            )
        timeout = settings.get("scale_up_timeout")
        if timeout is not None and (
            not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0
        ):
            raise InvalidRequestError(
                f"scale_up_timeout must be seconds > 0 (e.g. 600), got {timeout!r}.", provider=self.name
            )

    def mode(self, request: Request) -> str:
        if is_url(request.model) or request.api_base:
            return ENDPOINT
        if request.settings.get("provider") == HF_INFERENCE:
            return HF_INFERENCE
        return ROUTER_MODE

    def needs_api_key(self, request: Request) -> bool:
        return self.mode(request) != ENDPOINT

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        if self.mode(request) == ENDPOINT:
            if request.model is None or is_url(request.model):
                return request.model
            return aliases.resolve(self.name, request.model, strict=False)
        model = aliases.resolve(self.name, request.model, strict=True)
        inference_provider = request.settings.get("provider")
        if inference_provider and inference_provider not in (HF_INFERENCE, "auto") and ":" not in model:
            model = f"{model}:{inference_provider}"
        return model

    def base_url(self, request: Request) -> str:
        mode = self.mode(request)
        if mode == ENDPOINT:
            return request.model if is_url(request.model) else request.api_base  # type: ignore[return-value]
        if mode == HF_INFERENCE:
            return f"{ROUTER}/hf-inference/models/{request.model}"
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

    def prepare(self, request: Request):
        call = super().prepare(request)
        if self.mode(request) == HF_INFERENCE:
            # A cold model answers 503 at once; on the retry, ask the server to hold the request instead.
            call.retry_headers["x-wait-for-model"] = "true"
        return call


__all__ = ["HuggingFaceProvider", "join_url", "ROUTER"]
