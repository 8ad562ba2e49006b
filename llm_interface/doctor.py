"""``llm-interface doctor``: why a call fails, and what to do about it.

Each check gives one of four verdicts:
  ok    checked, fine
  info  told, not checked (what the Hub does not publish: credits left, enabled providers)
  skip  could not check (nothing configured, no key, the host unreachable): the line says why
  fail  checked, broken: the line says how to fix it

The report is well (exit code 0) when no check failed; skipped checks, offline ones included, do not fail
it: the report lists what it could not check. Never the key: the report names where the key was found.

The Hub and the router are asked at ``$LLM_INTERFACE_HF_HUB`` and ``$LLM_INTERFACE_HF_ROUTER`` when set.
A face (like cli.py): it builds on the Client's public pieces and nothing imports it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from . import errors, redact
from .cache import make_cache
from .catalogue import parse_catalogue
from .client import Client
from .credentials import find_api_base, find_api_key, how_to_set_key, key_source
from .hf_hub import BILLING_PAGE, INFERENCE_PERMISSION, PROVIDERS_PAGE, TOKENS_PAGE, WHOAMI, Account, hub_url
from .providers.hf_routes import router_base
from .providers.huggingface import HF_HOSTS
from .retry import RetryPolicy
from .wire import Context, HttpCall

OK, INFO, SKIP, FAIL = "ok", "info", "skip", "fail"
PROVIDER = "huggingface"
NEW_INFERENCE_TOKEN = f"{TOKENS_PAGE}/new?ownUserPermissions={INFERENCE_PERMISSION}&tokenType=fineGrained"
# Model suffixes the router reads as a policy, not a provider name.
POLICIES = frozenset({"fastest", "cheapest", "preferred"})
UNREACHABLE = (errors.ConnectionError, errors.TimeoutError)


@dataclass
class Check:
    name: str
    status: str
    summary: str
    fix: Optional[str] = None
    details: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A check quotes what a server said (whoami's names, /info, the catalogue's ids); a server that
        # echoes the Authorization header back must not get the key printed: scrub as errors do.
        self.summary = redact.text(self.summary)
        self.fix = None if self.fix is None else redact.text(self.fix)
        self.details = redact.scrub_value(self.details)

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "status": self.status, "summary": self.summary, "fix": self.fix, "details": self.details}


@dataclass
class Report:
    checks: List[Check]

    @property
    def ok(self) -> bool:
        return not any(check.status == FAIL for check in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> Dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_dict() for check in self.checks]}

    def text(self) -> str:
        lines = []
        for check in self.checks:
            lines.append(f"[{check.status}] {check.name}: {check.summary}")
            if check.fix:
                lines.append(f"       fix: {check.fix}")
        failed = [c.name for c in self.checks if c.status == FAIL]
        skipped = [c.name for c in self.checks if c.status == SKIP]
        verdict = f"{len(failed)} failed ({', '.join(failed)})" if failed else "nothing failed"
        if skipped:
            verdict += f"; not checked: {', '.join(skipped)}"
        lines.append(verdict)
        return "\n".join(lines)


class _Http:
    """Plain GETs through the library's transport (typed errors, secrets scrubbed), no retries."""

    def __init__(self, client: Client, timeout: float) -> None:
        self._transport = client.transport
        self._timeout = timeout

    def get(self, url: str, key: Optional[str] = None) -> Tuple[int, Any]:
        """(status, JSON body or None for an empty/non-JSON 2xx); an error status raises its typed error."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        call = HttpCall("GET", url, None, headers, timeout=self._timeout)
        try:
            result = self._transport.send(call, Context(PROVIDER, None, key), RetryPolicy(attempts=0))
        except errors.InvalidResponseError as error:
            if error.status is not None and 200 <= error.status < 300:
                return error.status, None  # /health answers 200 with an empty body
            raise
        return result.status, result.body


def diagnose(
    client: Optional[Client] = None,
    *,
    api_base: Optional[str] = None,
    cache_backend: Optional[str] = None,
    cache_path: Optional[str] = None,
    redis_url: Optional[str] = None,
    timeout: float = 5.0,
) -> Report:
    """Run every check for the Hugging Face provider of ``client`` (a fresh Client if None)."""
    owned = client is None
    client = client or Client()
    try:
        http = _Http(client, timeout)
        configured: Mapping[str, str] = getattr(client, "_keys", {})
        key = find_api_key(PROVIDER, None, dict(configured))
        checks = [check_key(key, key_source(PROVIDER, dict(configured)))]
        account, account_check = check_account(http, key)
        checks += [account_check, check_credits(account)]
        checks.append(check_api_base(http, find_api_base(PROVIDER, api_base), key))
        checks.append(check_cache(cache_backend, cache_path, client))
        checks.append(check_redis(redis_url if redis_url is not None else os.environ.get("REDIS_URL")))
        checks.append(check_aliases(http, key, client.get_all_model_names().get(PROVIDER, {})))
        return Report(checks)
    finally:
        if owned:
            client.close()


# -- the checks ----------------------------------------------------------------------------------


def check_key(key: Optional[str], source: Optional[str]) -> Check:
    if not key:
        return Check("key", FAIL, "no Hugging Face key found", f"{how_to_set_key(PROVIDER)}.")
    shape = "an hf_ token" if key.startswith("hf_") else "not shaped like a Hugging Face token (hf_...)"
    return Check("key", OK, f"found in {source} ({shape})", details={"source": source, "hf_shaped": key.startswith("hf_")})


def check_account(http: _Http, key: Optional[str]) -> Tuple[Optional[Account], Check]:
    name = "account"
    if not key:
        return None, Check(name, SKIP, "no key to ask the Hub about")
    url = hub_url() + WHOAMI
    try:
        _, body = http.get(url, key)
    except errors.AuthenticationError as error:
        return None, Check(name, FAIL, f"the Hub rejects this key ({error.status}): it is wrong, revoked or expired",
                           f"create a token at {NEW_INFERENCE_TOKEN} and set it again")
    except UNREACHABLE as error:
        return None, Check(name, SKIP, f"could not reach the Hub at {hub_url()} ({type(error).__name__})")
    except errors.LLMInterfaceError as error:
        return None, Check(name, SKIP, f"the Hub's whoami did not answer as expected ({_one_line(error)})")
    account = Account.from_whoami(body)
    details: Dict[str, Any] = {"user": account.name, "type": account.kind, "token_name": account.token_name, "role": account.role,
               "may_call_inference_providers": account.may_call_inference}
    if account.role == "fineGrained":
        details["permissions"] = list(account.permissions)
    who = f"{account.kind or 'account'} {account.name or '?'}, token {account.token_name or '?'!r} ({account.role or 'unknown role'})"
    if not account.may_call_inference:
        return account, Check(
            name, FAIL, f"valid key of {who}, but it may not call Inference Providers",
            f"give the token the permission 'Make calls to Inference Providers' ({INFERENCE_PERMISSION}) at "
            f"{TOKENS_PAGE}, or create one at {NEW_INFERENCE_TOKEN}", details)
    return account, Check(name, OK, f"valid key of {who}; it may call Inference Providers", details=details)


def check_credits(account: Optional[Account]) -> Check:
    not_published = (f"the Hub does not publish the credits left or the enabled providers through its API: "
                     f"see {BILLING_PAGE} and {PROVIDERS_PAGE}")
    if account is None:
        return Check("credits", INFO, not_published, "a 402 (PaymentRequiredError) means the account's included "
                     f"credits are spent: add credits or pay-as-you-go at {BILLING_PAGE}")
    details: Dict[str, Any] = {"is_pro": account.is_pro, "can_pay": account.can_pay, "period_end": account.period_end,
                               "orgs_that_can_pay": [org for org, can_pay in account.orgs if can_pay]}
    reset = f" (the monthly credits renew on {time.strftime('%Y-%m-%d', time.gmtime(account.period_end))})" \
        if account.period_end else ""
    if account.can_pay:
        explain = ("a 402 (PaymentRequiredError) means the included credits are spent and pay-as-you-go is not set up or "
                   f"was refused: check the payment method at {BILLING_PAGE}")
    else:
        explain = (f"this account has monthly credits only, no pay-as-you-go: a 402 (PaymentRequiredError) means they "
                   f"are spent{reset}; upgrade to PRO at {BILLING_PAGE}")
    payers = details["orgs_that_can_pay"]
    if payers:
        explain += f", or bill an organisation with the option bill_to={payers[0]!r}"
    return Check("credits", INFO, not_published, explain, details)


def check_api_base(http: _Http, base: Optional[str], key: Optional[str]) -> Check:
    name = "api_base"
    if not base:
        return Check(name, SKIP, "no api_base configured (HUGGINGFACE_API_BASE, --api-base): calls go to the router")
    root = _server_root(base)
    host = (urlsplit(root).hostname or "").lower()
    # The key goes only where Hugging Face runs the server (an Inference Endpoint); TGI's /health needs none.
    sent_key = key if host == "huggingface.co" or host.endswith(HF_HOSTS) else None
    fix = "start the server, or point HUGGINGFACE_API_BASE / --api-base at one that runs"
    try:
        status, _ = http.get(root + "/health", sent_key)
    except UNREACHABLE as error:
        return Check(name, FAIL, f"{root} does not answer ({type(error).__name__}: {_one_line(error)})", fix)
    except errors.ModelLoadingError as error:
        return Check(name, FAIL, f"{root}/health answers {error.status}: the model is loading or scaled to zero",
                     "wait and try again, or send the option scale_up_timeout for an endpoint scaled to zero")
    except errors.LLMInterfaceError as error:
        return Check(name, FAIL, f"{root}/health answers {error.status}: {_one_line(error)}", fix)
    details: Dict[str, Any] = {"url": root, "health": status}
    try:
        _, info = http.get(root + "/info", sent_key)
    except errors.LLMInterfaceError as error:
        details["info"] = None
        return Check(name, OK, f"{root}/health answers {status}; no /info ({_one_line(error)})", details=details)
    info = info if isinstance(info, dict) else {}
    details["info"] = {k: info.get(k) for k in ("model_id", "model_sha", "max_total_tokens", "max_input_tokens",
                                                "version", "max_client_batch_size") if k in info}
    model = info.get("model_id") or "a model"
    return Check(name, OK, f"{root}/health answers {status}; /info says it serves {model}", details=details)


def check_cache(backend: Optional[str], path: Optional[str], client: Client) -> Check:
    name = "cache"
    if backend is None and client.cache is not None and client.cache.name != "memory":
        return _reach_store(name, client.cache, client.cache.name, close=False)
    if backend is None or backend == "memory":
        return Check(name, SKIP, "no persistent cache named (--cache files|sqlite|redis --cache-path ...)")
    try:
        store = make_cache(backend, path=path)
    except errors.LLMInterfaceError as error:
        return Check(name, FAIL, f"the {backend} cache cannot be opened: {_one_line(error)}", "fix --cache-path")
    return _reach_store(name, store, backend, close=True)


def check_redis(url: Optional[str]) -> Check:
    name = "redis"
    if not url:
        return Check(name, SKIP, "no Redis URL (--redis-url or $REDIS_URL)")
    try:
        store = make_cache("redis", url=url)
    except errors.MissingDependencyError as error:
        return Check(name, FAIL, _one_line(error), "pip install 'llm_interface[redis]'")
    except errors.LLMInterfaceError as error:
        return Check(name, FAIL, f"the Redis URL is not usable: {_one_line(error)}", "use redis://host:port/db")
    return _reach_store(name, store, "redis", close=True)


def _reach_store(name: str, store: Any, label: str, close: bool) -> Check:
    try:
        entries = len(store)
    except store.failures as exc:
        line = " ".join(f"{type(exc).__name__}: {exc}".split())
        return Check(name, FAIL, f"the {label} store is unreachable ({redact.text(line)})",
                     "check that it runs and that its path or URL is right")
    finally:
        if close:
            store.close()
    return Check(name, OK, f"the {label} store answers ({entries} entries)", details={"entries": entries})


def check_aliases(http: _Http, key: Optional[str], aliases: Mapping[str, Mapping[str, str]]) -> Check:
    name = "aliases"
    router = router_base()
    try:
        _, body = http.get(router + "/v1/models", key)
        # model id -> the providers serving it live, read by the catalogue's own parser (llm-interface models)
        catalogue = {model.id: tuple(o.provider for o in model.providers if o.live) for model in parse_catalogue(body)}
    except errors.LLMInterfaceError as error:
        return Check(name, SKIP, f"could not read the router's catalogue at {router}/v1/models ({type(error).__name__})")
    chat = dict(aliases.get("chat", {}))
    unserved = {alias: why for alias, why in ((a, _unserved(m, catalogue)) for a, m in sorted(chat.items())) if why}
    details = {"checked": sorted(a for a, m in chat.items() if not _not_on_router(m)), "unserved": unserved,
               "providers": {a: list(catalogue.get(m.partition(":")[0], ())) for a, m in sorted(chat.items())
                             if not _not_on_router(m) and a not in unserved},
               "not_checked": sorted(aliases.get("embeddings", {}))}
    if unserved:
        listing = "; ".join(f"{alias} -> {why}" for alias, why in unserved.items())
        return Check(name, FAIL, f"{len(unserved)} chat alias(es) point to models no provider serves: {listing}",
                     "point them at a served model: llm-interface aliases set huggingface ALIAS MODEL "
                     "(served models: https://huggingface.co/models?inference_provider=all)", details)
    return Check(name, OK, f"every chat alias points to a model the router serves ({len(details['checked'])} checked; "
                           "embeddings aliases are not in the router's chat catalogue)", details=details)


def _not_on_router(model: str) -> bool:
    return "://" in model or model.startswith(("/", ".", "~")) or model.startswith("local:")


def _unserved(model: str, catalogue: Mapping[str, Sequence[str]]) -> Optional[str]:
    """Why the router cannot serve ``model``, or None when it can (or the model is not a router model)."""
    if _not_on_router(model):
        return None
    base, _, suffix = model.partition(":")
    if base not in catalogue:
        return f"{model} (not in the router's catalogue)"
    if suffix and suffix not in POLICIES and suffix not in catalogue[base]:
        return f"{model} ({suffix} does not serve it; served by {', '.join(catalogue[base]) or 'nobody live'})"
    return None


def _server_root(base: str) -> str:
    """``/health`` and ``/info`` live at the server's root: an OpenAI-style base loses its route."""
    root = base.rstrip("/")
    for suffix in ("/chat/completions", "/completions", "/v1"):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
    return root


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


# -- the command -----------------------------------------------------------------------------------


def run_cli(args: Any) -> int:
    """``llm-interface doctor``: the report as text (or ``--json``); exit 1 when a check failed."""
    report = diagnose(api_base=args.api_base, cache_backend=args.cache, cache_path=args.cache_path,
                      redis_url=args.redis_url, timeout=args.timeout)
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else report.text())
    return report.exit_code


__all__ = ["Check", "Report", "diagnose", "run_cli"]
