"""The Hugging Face Hub's own API (not inference): its base URL, and what ``whoami`` says of a token.

Facts (checked 2026-12-01): ``GET {hub}/api/whoami-v2`` with ``Authorization: Bearer <token>`` answers the
account (huggingface_hub ``HfApi.whoami``; the shape is @huggingface/hub's ``ApiWhoAmIResponse``):
``type`` (user, org, app), ``name``, ``fullname``, ``isPro``, ``canPay``, ``periodEnd`` (Unix seconds),
``orgs`` (each with ``name`` and ``canPay``), and ``auth.accessToken`` with ``displayName`` (the token's
name), ``role`` (``read``, ``write`` or ``fineGrained``) and, for a fine-grained token, ``fineGrained``:
``global`` permissions and ``scoped`` ones per entity. Calling Inference Providers needs a classic token or
the fine-grained permission ``inference.serverless.write`` ("Make calls to Inference Providers"). A bad
token answers 401.

What the Hub does not publish through its API (hub-docs ``inference-providers/pricing.md`` and
``hub-integration.md``): the credits left this month and the providers enabled in the account's
settings. Free accounts get a small monthly credit and no pay-as-you-go (``canPay`` false), so a 402
from the router means those credits are spent until ``periodEnd``.

``$LLM_INTERFACE_HF_HUB`` points every Hub URL of the library elsewhere (a mirror, a test's loopback
server), as ``$LLM_INTERFACE_HF_ROUTER`` does for the router. A leaf module: pure, no I/O.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple
from urllib.parse import quote

HUB = "https://huggingface.co"
HUB_ENV = "LLM_INTERFACE_HF_HUB"
WHOAMI = "/api/whoami-v2"
INFERENCE_PERMISSION = "inference.serverless.write"
TOKENS_PAGE = "https://huggingface.co/settings/tokens"
BILLING_PAGE = "https://huggingface.co/settings/billing"
PROVIDERS_PAGE = "https://huggingface.co/settings/inference-providers"


def hub_url() -> str:
    """The Hub's base URL: ``$LLM_INTERFACE_HF_HUB``, else ``$HF_ENDPOINT`` (huggingface_hub's own variable, so a
    mirror set up for it applies here too), else https://huggingface.co."""
    return (os.environ.get(HUB_ENV) or os.environ.get("HF_ENDPOINT") or HUB).rstrip("/")


def model_api_url(model: str, query: str = "") -> str:
    """``{hub}/api/models/{id}{query}``, the id quoted (its ``/`` kept): the one builder of a model's Hub URL."""
    return f"{hub_url()}/api/models/{quote(model, safe='/')}{query}"


@dataclass(frozen=True)
class Account:
    """What whoami says, with the token's own permissions; never the token."""

    name: Optional[str]
    kind: Optional[str]  # user, org, app
    token_name: Optional[str]
    role: Optional[str]  # read, write, fineGrained
    permissions: Tuple[str, ...] = ()  # a fine-grained token's, global and scoped together
    is_pro: Optional[bool] = None
    can_pay: Optional[bool] = None
    period_end: Optional[int] = None
    orgs: Tuple[Tuple[str, Optional[bool]], ...] = field(default=())  # (name, can_pay)

    @property
    def may_call_inference(self) -> bool:
        if self.role in ("read", "write"):
            return True
        return self.role == "fineGrained" and INFERENCE_PERMISSION in self.permissions

    @classmethod
    def from_whoami(cls, body: Any) -> "Account":
        """Read leniently: an absent or odd field is None, never an exception."""
        body = _mapping(body)
        auth = _mapping(body.get("auth"))
        token = _mapping(auth.get("accessToken"))
        grained = _mapping(token.get("fineGrained"))
        permissions = [p for p in _list(grained.get("global")) if isinstance(p, str)]
        for scope in _list(grained.get("scoped")):
            if isinstance(scope, Mapping):
                permissions += [p for p in _list(scope.get("permissions")) if isinstance(p, str)]
        orgs = tuple(
            (str(org.get("name")), _bool(org.get("canPay")))
            for org in _list(body.get("orgs")) if isinstance(org, Mapping) and org.get("name")
        )
        period_end = body.get("periodEnd")
        return cls(
            name=_str(body.get("name")),
            kind=_str(body.get("type")),
            token_name=_str(token.get("displayName")),
            role=_str(token.get("role")),
            permissions=tuple(dict.fromkeys(permissions)),
            is_pro=_bool(body.get("isPro")),
            can_pay=_bool(body.get("canPay")),
            period_end=int(period_end) if isinstance(period_end, (int, float)) and not isinstance(period_end, bool) else None,
            orgs=orgs,
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _bool(value: Any) -> Optional[bool]:
    return value if isinstance(value, bool) else None


__all__ = ["Account", "HUB", "HUB_ENV", "INFERENCE_PERMISSION", "WHOAMI", "hub_url", "model_api_url"]
