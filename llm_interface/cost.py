"""What a call cost in USD, from the router's catalogue prices (per million tokens, input and output) and the
answer's usage, for the provider that answered; and a client budget that refuses a call that would pass it.

The provider that answered (``Response.inference_provider``, hf_hub_mapping.answered_by) is the one the call
named (``model:provider``, ``{"provider": ...}``) or was resolved to, else the one the router's
``x-inference-provider`` header reports. A call left to the router's choice without that header has
``cost=None`` unless every live provider charges the same. No usage, no published price, or no catalogue held: ``None`` too, never a made-up 0;
a provider the catalogue marks ``is_free`` costs a true 0. Costs are computed from the catalogue the client
already holds (no request of its own): ``configure_budget`` (or ``list_models``, or a preflight) loads it.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Optional

from . import errors
from .catalogue import Catalogue, CatalogueModel, ProviderOffer
from .ratelimit import estimate_tokens
from .request import Request
from .router_preflight import applies, split_model
from .types import Response

PER = 1_000_000


def offer_for(entry: Optional[CatalogueModel], request: Request, answered_by: Optional[str] = None) -> Optional[ProviderOffer]:
    """The offer that priced this call: the answering provider's (the router's header, or the one the call
    named), else the one price all live providers share."""
    if entry is None:
        return None
    _, named = split_model(request)
    named = answered_by or named  # who answered (Response.inference_provider) over who was asked
    if named:
        return entry.offer(named)
    live = [o for o in entry.providers if o.live]
    prices = {(o.input_price, o.output_price, bool(o.is_free)) for o in live}
    return live[0] if len(prices) == 1 else None


def priced(offer: Optional[ProviderOffer], prompt_tokens: Optional[int], completion_tokens: Optional[int]) -> Optional[float]:
    if offer is None or prompt_tokens is None or completion_tokens is None:
        return None
    if offer.is_free:
        return 0.0
    if offer.input_price is None or offer.output_price is None:
        return None
    try:
        return (prompt_tokens * offer.input_price + completion_tokens * offer.output_price) / PER
    except OverflowError:  # a server's count past float's range: no cost anyone can know
        return None


def cost_of(catalogue: Catalogue, request: Request, response: Any) -> Optional[float]:
    """The USD cost of one answer, or None when it cannot be known (the module docstring)."""
    if not isinstance(response, Response) or response.usage is None or not applies(request):
        return None
    model, _ = split_model(request)
    entry = catalogue.cached_model(model)
    usage = response.usage
    return priced(offer_for(entry, request, response.inference_provider), usage.prompt_tokens, usage.completion_tokens)


def total_cost(responses: Iterable[Any]) -> Optional[float]:
    """The sum of the known costs of a batch's (or a session's) answers, errors and cached answers left out;
    None when no answer's cost is known."""
    known = [r.cost for r in responses if isinstance(r, Response) and not r.cached and r.cost is not None]
    return sum(known) if known else None


class Budget:
    """A client's spending limit in USD; ``spent`` grows by each answer's known cost."""

    def __init__(self, usd: Optional[float]) -> None:
        if usd is not None and (not isinstance(usd, (int, float)) or isinstance(usd, bool) or not usd >= 0):
            raise errors.InvalidRequestError(f"configure_budget(usd=...) takes dollars >= 0 or None, got {usd!r}.")
        self.usd = usd
        self.spent = 0.0
        self._lock = threading.Lock()

    def add(self, cost: Optional[float]) -> None:
        if cost:
            with self._lock:
                self.spent += cost

    def check(self, catalogue: Catalogue, request: Request) -> None:
        """BudgetExceededError when the call's estimated cost (the most any live provider would charge for the
        prompt and ``max_tokens``) would take ``spent`` past the limit. A call with no known price passes."""
        if self.usd is None:
            return
        estimate = 0.0
        if applies(request):
            model, named = split_model(request)
            entry = catalogue.cached_model(model)
            offers = [o for o in (entry.providers if entry else ()) if o.live and (named is None or o.provider == named)]
            asked = request.params.get("max_tokens") or request.params.get("max_new_tokens") or 0
            asked = asked if isinstance(asked, int) else 0
            prompt = max(estimate_tokens(request) - asked, 0)
            estimates = [c for c in (priced(o, prompt, asked) for o in offers) if c is not None]
            estimate = max(estimates, default=0.0)
        with self._lock:
            spent = self.spent
        if spent + estimate > self.usd or 0 < self.usd <= spent:
            raise errors.BudgetExceededError(
                f"This call (about ${estimate:.6f}) would take the client past its budget: ${spent:.6f} spent of "
                f"${self.usd:.6f}. Raise it with configure_budget(usd=...), or lower max_tokens.",
                spent=spent, budget=self.usd, provider=request.provider, model=request.model,
            )
