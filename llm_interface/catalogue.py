"""The Inference Providers router's catalogue: which providers serve a model, their status, context length,
price per million tokens, tool and structured-output support, latency and throughput.

Follows (checked 2026-12-01) hub-docs ``docs/inference-providers/hub-api.md``, "List OpenAI-compatible models":
``GET https://router.huggingface.co/v1/models`` -> ``{"data": [{id, object, created, owned_by, architecture:
{input_modalities, output_modalities}, providers: [{provider, status, context_length, pricing: {input, output}
(USD per million tokens), is_free, supports_tools, supports_structured_output, first_token_latency_ms,
throughput, is_model_author}]}]}``, every provider field but ``provider`` optional; ``GET /v1/models/{id}`` one
entry. The catalogue lists chat models; other tasks are listed from the Hub (``GET /api/models?
inference_provider=...&pipeline_tag=...&expand[]=inferenceProviderMapping``, the same page), without prices.

Fetched through the client's transport (``get_json``) and kept ``CATALOGUE_TTL`` seconds per URL, per client.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from . import errors
from .credentials import find_api_key
from .providers import hf_hub_mapping, provider_class
from .providers.hf_routes import router_base
from .providers.lenient import as_float, as_int, as_str
from .wire import Context

CATALOGUE_TTL = 300.0  # seconds: prices and statuses move slowly; a probe's latency is minutes old anyway
GetJson = Callable[[str, Mapping[str, str], Context, Any], Any]
# Our task names -> the Hub's pipeline tags, for listings off the chat catalogue.
PIPELINE_TAGS = {"embeddings": "feature-extraction", "completion": "text-generation",
                 "classify": "text-classification", "rerank": "sentence-similarity"}
CHAT_TASKS = (None, "chat", "conversational", "text-generation-chat")


@dataclass(frozen=True)
class ProviderOffer:
    """One provider's offer for a model. Prices in USD per million tokens; None when not published."""

    provider: str
    status: Optional[str] = None
    context_length: Optional[int] = None
    input_price: Optional[float] = None
    output_price: Optional[float] = None
    is_free: Optional[bool] = None
    supports_tools: Optional[bool] = None
    supports_structured_output: Optional[bool] = None
    first_token_latency_ms: Optional[float] = None
    throughput: Optional[float] = None
    is_model_author: Optional[bool] = None
    provider_id: Optional[str] = None  # Hub listings only: the provider's own id

    @property
    def live(self) -> bool:
        return self.status in (None, "live")

    def price_text(self) -> str:
        if self.is_free:
            return "free"
        if self.input_price is None or self.output_price is None:
            return "-"
        return f"${self.input_price:g}/${self.output_price:g}"


@dataclass(frozen=True)
class CatalogueModel:
    id: str
    providers: Tuple[ProviderOffer, ...] = ()
    owned_by: Optional[str] = None
    created: Optional[int] = None
    input_modalities: Tuple[str, ...] = ()
    output_modalities: Tuple[str, ...] = ()
    task: Optional[str] = None
    raw: Any = field(default=None, repr=False, compare=False)

    def offer(self, provider: str) -> Optional[ProviderOffer]:
        for offer in self.providers:
            if offer.provider == provider:
                return offer
        return None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id, "owned_by": self.owned_by, "task": self.task,
            "providers": [{k: v for k, v in vars(offer).items() if v is not None} for offer in self.providers],
        }


def _bool(value: Any) -> Optional[bool]:
    return value if isinstance(value, bool) else None


def _price(pricing: Any, name: str) -> Optional[float]:
    if not isinstance(pricing, dict):
        return None
    value = as_float(pricing.get(name))
    return value if value is not None and value >= 0 else None


def parse_offer(item: Any) -> Optional[ProviderOffer]:
    if not isinstance(item, dict) or not as_str(item.get("provider")):
        return None
    pricing = item.get("pricing")
    return ProviderOffer(
        provider=item["provider"], status=as_str(item.get("status")), context_length=as_int(item.get("context_length")),
        input_price=_price(pricing, "input"), output_price=_price(pricing, "output"), is_free=_bool(item.get("is_free")),
        supports_tools=_bool(item.get("supports_tools")),
        supports_structured_output=_bool(item.get("supports_structured_output")),
        first_token_latency_ms=as_float(item.get("first_token_latency_ms")), throughput=as_float(item.get("throughput")),
        is_model_author=_bool(item.get("is_model_author")),
    )


def parse_model(item: Any) -> Optional[CatalogueModel]:
    """One catalogue entry; None for an entry without an id (skipped, as every lenient parse here)."""
    if not isinstance(item, dict) or not as_str(item.get("id")):
        return None
    arch: Dict[str, Any] = item["architecture"] if isinstance(item.get("architecture"), dict) else {}
    listed = item.get("providers")
    offers = [parse_offer(p) for p in listed] if isinstance(listed, list) else []
    return CatalogueModel(
        id=item["id"], providers=tuple(o for o in offers if o is not None), owned_by=as_str(item.get("owned_by")),
        created=as_int(item.get("created")), task="chat",
        input_modalities=tuple(m for m in arch.get("input_modalities") or () if isinstance(m, str)),
        output_modalities=tuple(m for m in arch.get("output_modalities") or () if isinstance(m, str)),
        raw=item,
    )


def parse_catalogue(body: Any) -> List[CatalogueModel]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise errors.InvalidResponseError(
            "The router's /v1/models answer has no 'data' list; is LLM_INTERFACE_HF_ROUTER pointing at the router?",
            provider="huggingface", body=body,
        )
    return [m for m in (parse_model(item) for item in data) if m is not None]


def parse_hub_listing(body: Any, task: str) -> List[CatalogueModel]:
    """The Hub's model list with each model's provider mapping (no prices: the Hub does not publish them)."""
    if not isinstance(body, list):
        raise errors.InvalidResponseError("The Hub's model list is not a list.", provider="huggingface", body=body)
    out = []
    for item in body:
        if not isinstance(item, dict) or not as_str(item.get("id")):
            continue
        mappings = hf_hub_mapping.parse_mapping(item, item["id"])
        offers = tuple(ProviderOffer(m.provider, m.status, provider_id=m.provider_id) for m in mappings if m.task == task)
        out.append(CatalogueModel(id=item["id"], providers=offers, task=task, raw=item))
    return out


class Catalogue:
    """One client's view of the catalogue, fetched on demand and kept ``CATALOGUE_TTL`` seconds."""

    def __init__(self, get_json: GetJson) -> None:
        self._get_json = get_json
        self._held: Dict[str, Tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _fetch(self, url: str, api_key: Optional[str], refresh: bool = False) -> Any:
        now = time.monotonic()
        with self._lock:
            held = self._held.get(url)
        if held is not None and held[0] > now and not refresh:
            return held[1]
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        body = self._get_json(url, headers, Context("huggingface", None, api_key), 20)
        with self._lock:
            self._held[url] = (now + CATALOGUE_TTL, body)
        return body

    def cached_model(self, model: str) -> Optional[CatalogueModel]:
        """The model's entry if the catalogue is already held (no I/O): what cost reads on every answer."""
        with self._lock:
            held = self._held.get(router_base() + "/v1/models")
        if held is None or held[0] <= time.monotonic():
            return None
        for entry in parse_catalogue(held[1]):
            if entry.id == model:
                return entry
        return None

    def models(self, api_key: Optional[str] = None, *, task: Optional[str] = None,
               provider: Optional[str] = None) -> List[CatalogueModel]:
        if task in CHAT_TASKS:
            found = parse_catalogue(self._fetch(router_base() + "/v1/models", api_key))
        else:
            tag = PIPELINE_TAGS.get(str(task), str(task))
            url = (f"{hf_hub_mapping.hub_base()}/api/models?inference_provider={quote(provider or 'all')}"
                   f"&pipeline_tag={quote(tag)}&expand[]=inferenceProviderMapping&limit=100")
            found = parse_hub_listing(self._fetch(url, api_key), tag)
        if provider:
            found = [m for m in found if m.offer(provider) is not None]
        return found

    def model(self, model: str, api_key: Optional[str] = None) -> CatalogueModel:
        """One model's entry: from the held catalogue when fresh, else ``GET /v1/models/{id}``."""
        held = self.cached_model(model)
        if held is not None:
            return held
        entry = parse_model(self._fetch(f"{router_base()}/v1/models/{quote(model, safe='/')}", api_key))
        if entry is None:
            raise errors.NotFoundError(
                f"The router's catalogue has no model {model!r}; list them with `llm-interface models`.",
                provider="huggingface", model=model,
            )
        return entry

    def full(self, api_key: Optional[str] = None) -> List[CatalogueModel]:
        return parse_catalogue(self._fetch(router_base() + "/v1/models", api_key))


def catalogue_key(client: Any, provider: str) -> Optional[str]:
    """The Hugging Face key for catalogue and Hub reads (they answer without one too); only Hugging Face
    publishes a catalogue."""
    if provider_class(provider).name != "huggingface":
        raise errors.UnsupportedTaskError(f"Only 'huggingface' publishes a model catalogue, not {provider!r}.",
                                          provider=provider)
    return find_api_key("huggingface", None, client.api_keys)


COLUMNS = ("model", "provider", "status", "context", "$in/$out per 1M", "tools", "json", "ttft ms", "tok/s")


def catalogue_rows(models: List[CatalogueModel], only: Optional[str] = None) -> List[str]:
    """A readable table, one line per (model, provider): the ``llm-interface models`` output."""
    def flag(value: Optional[bool]) -> str:
        return "-" if value is None else ("yes" if value else "no")

    def number(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.0f}"

    rows = [COLUMNS]
    for model in models:
        for offer in model.providers or (ProviderOffer("-"),):
            if only and offer.provider != only:
                continue
            rows.append((model.id, offer.provider, offer.status or "-", number(offer.context_length),
                         offer.price_text(), flag(offer.supports_tools), flag(offer.supports_structured_output),
                         number(offer.first_token_latency_ms), number(offer.throughput)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
