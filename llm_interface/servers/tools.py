"""Talking to a self-hosted server beyond chat: detection, info, health, tokenize, token counts, the TEI
extras and scores. The facade's ``server_info``/``health``/``tokenize``... forward here.

Each call is planned by the client (``Client.plan``: the api_base, the key, the ``server`` and
``scale_up_timeout`` options, the retry policy, exactly as for an embeddings call) and sent with the
client's transport; the routes and parsers are in routes.py, the detection rule in detect.py.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors, redact
from ..credentials import find_api_base
from ..ratelimit import CHARS_PER_TOKEN  # one rule of thumb for every estimate (the rate limiter's)
from ..request import normalize_message
from ..retry import RetryPolicy
from ..types import Response
from ..wire import HttpCall, HttpResult, request_id_of
from . import detect, native, recorded, routes
from .results import (
    Health,
    Metrics,
    PoolingResponse,
    Scores,
    ServerInfo,
    Slot,
    SparseEmbeddingResponse,
    TokenCount,
    Tokens,
)

ESTIMATE_SOURCE = "estimate: 4 characters per token (no server tokenizer or local tokenizer available)"
_NO_RETRY = RetryPolicy(attempts=0)
# Answers that mean "this route is not here", so the next probe is tried; anything else is raised.
_ABSENT = (errors.NotFoundError, errors.ValidationError, errors.ServerError, errors.InvalidResponseError)


class _Target:
    """One planned call's destination: root URL, headers, timeout, context and policy."""

    def __init__(self, client: Any, provider: str, options: Optional[Mapping[str, Any]], interface_options: Any) -> None:
        # The embeddings task: every provider with an api_base plans it, and it carries no message.
        plan = client.plan(provider, "embeddings", None, options, interface_options, inputs="-")
        request = plan.request
        base = request.model if (request.model or "").startswith(("http://", "https://")) else request.api_base
        if not base:
            raise errors.InvalidRequestError(
                f"This needs a server: pass {{'api_base': 'http://host:port'}} (a self-hosted server or a "
                f"Dedicated Inference Endpoint URL) for {provider!r}.", provider=provider,
            )
        self.client = client
        self.request = request
        self.root = detect.root_of(base)
        self.model = None if request.model == base else request.model
        headers = getattr(plan.provider, "auth_headers", None)
        self.headers: Dict[str, str] = dict(headers(request)) if headers else {}
        self.plan = plan
        self.context = plan.context
        self.policy = plan.policy
        self.server = request.settings.get("server")
        self.patient = True  # False: no retries at all (health checks answer at once)

    def _on_retry(self) -> Optional[Callable[[int, float, errors.LLMInterfaceError], None]]:
        hooks, request = self.client.hooks, self.request
        if not hooks:
            return None
        return lambda number, wait, error: hooks.emit("retry", request, number, wait, error)

    def send(self, method: str, path: str, body: Any = None, *, retry: bool = True) -> HttpResult:
        """A JSON call, answered from the cache when the cache mode says so (recorded.py)."""
        stored = recorded.lookup(self.client, self.plan, method, path, body)
        if stored is not None:
            return HttpResult(200, {}, stored.get("value"), 0.0)
        result = self._send(method, path, body, retry=retry)
        recorded.keep(self.client, self.plan, method, path, body, result.body)
        return result

    def live(self, what: str, path: str, *, text: bool = False) -> HttpResult:
        """A GET that checks the server now (health, metrics): never cached, refused in replay mode."""
        recorded.refuse_live(self.plan, what)
        return self._send("GET", path, retry=False, text=text)

    def _send(self, method: str, path: str, body: Any = None, *, retry: bool = True, text: bool = False) -> HttpResult:
        call = HttpCall(method, self.root + path, body, dict(self.headers), timeout=self.request.timeout)
        policy = self.policy if retry else _NO_RETRY
        send = self.client.transport.send_text if text else self.client.transport.send
        return send(call, self.context, policy, self._on_retry() if retry else None)

    def probe(self, url: str) -> Optional[Tuple[int, Any, Mapping[str, str]]]:
        path = url[len(self.root):]
        # The first probe may meet an endpoint scaled to zero: it waits (and reports) like any call.
        first = self.patient and detect.known(self.root) is None and path == detect.PROBES[0][0]
        try:
            result = self._send("GET", path, retry=first)
        except _ABSENT:
            return None
        return result.status, result.body, result.headers

    def kind(self) -> str:
        """The server's kind; a detection is stored in the cache like an answer (a replay probes nothing)."""
        if self.server is not None or detect.known(self.root) is not None:
            return detect.detect(self.root, self.probe, self.server)
        stored = recorded.lookup(self.client, self.plan, "DETECT", "", None)
        if stored is not None and stored.get("value") in detect.KINDS:
            detect.remember(self.root, stored["value"])
        kind = detect.detect(self.root, self.probe, self.server)
        if stored is None:
            recorded.keep(self.client, self.plan, "DETECT", "", None, kind)
        return kind


def detect_server(client: Any, provider: str, options: Any = None, interface_options: Any = None) -> str:
    return _Target(client, provider, options, interface_options).kind()


def server_info(client: Any, provider: str, options: Any = None, interface_options: Any = None) -> ServerInfo:
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    bodies: Dict[str, Any] = {}
    for number, path in enumerate(routes.INFO_ROUTES[kind]):
        try:
            bodies[path] = target.send("GET", path, retry=number == 0).body
        except _ABSENT:
            if number == 0 and kind not in ("transformers", "openai"):
                raise  # the route that defines this kind of server must answer
    return routes.parse_info(kind, bodies)


def health(client: Any, provider: str, options: Any = None, interface_options: Any = None) -> Health:
    """Never raises for a server that is down or unhealthy: that is the answer (``ok=False``)."""
    target = _Target(client, provider, options, interface_options)
    target.patient = False
    recorded.refuse_live(target.plan, "health")
    try:
        kind = target.kind()
    except (errors.ConnectionError, errors.TimeoutError, errors.APIError) as exc:
        return Health(False, "unknown", getattr(exc, "status", None), exc.message)
    path = routes.HEALTH_ROUTES[kind]
    try:
        result = target.live("health", path)
    except errors.InvalidResponseError as exc:
        if exc.status is not None and 200 <= exc.status < 300:  # TGI, TEI and vLLM answer 200 with no body
            return Health(True, kind, exc.status, f"GET {path}: {exc.status}")
        return Health(False, kind, exc.status, exc.message)
    except (errors.ConnectionError, errors.TimeoutError, errors.APIError) as exc:
        return Health(False, kind, getattr(exc, "status", None), exc.message)
    return Health(True, kind, result.status, f"GET {path}: {result.status} {_short(result.body)}")


def _short(body: Any) -> str:
    text = redact.text(body if isinstance(body, str) else repr(body))  # before the cut: a half key is not found
    return text if len(text) <= 120 else text[:117] + "..."


def tokenize(client: Any, provider: str, text: str, options: Any = None, interface_options: Any = None) -> Tokens:
    if not isinstance(text, str) or not text:
        raise errors.InvalidRequestError("tokenize needs a non-empty string.")
    options = dict(options or {})
    special = options.pop("add_special_tokens", True)
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    path, body = routes.tokenize_route(kind, text, target.model, bool(special))
    return routes.parse_tokens(kind, target.send("POST", path, body).body)


def detokenize(client: Any, provider: str, ids: Sequence[int], options: Any = None, interface_options: Any = None) -> str:
    if not isinstance(ids, (list, tuple)) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise errors.InvalidRequestError("detokenize needs a non-empty list of token ids (ints).")
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    path, body = routes.detokenize_route(kind, ids)
    return routes.parse_text(kind, target.send("POST", path, body).body)


def _messages(messages: Any) -> List[Dict[str, Any]]:
    normalized, prompt, _carried = normalize_message(messages)
    if prompt is not None:
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in normalized or ()]


def _text_of(messages: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
        parts.append(str(content or ""))
    return "\n".join(parts)


def _local_count(tokenizer: str, messages: List[Dict[str, Any]]) -> TokenCount:
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise errors.MissingDependencyError(
            "A local tokenizer needs transformers: pip install 'llm-interface-hf[local]'."
        ) from exc
    loaded = AutoTokenizer.from_pretrained(tokenizer)
    if getattr(loaded, "chat_template", None):
        ids = loaded.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
        if isinstance(ids, Mapping):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return TokenCount(len(ids), True, f"local tokenizer {tokenizer} (chat template)")
    return TokenCount(len(loaded.encode(_text_of(messages))), False, f"local tokenizer {tokenizer} (no chat template)")


def estimate(messages: Any) -> TokenCount:
    """The last resort, and said so: ceil(characters / 4)."""
    return TokenCount(math.ceil(len(_text_of(_messages(messages))) / CHARS_PER_TOKEN), False, ESTIMATE_SOURCE)


def count_tokens(client: Any, provider: str, messages: Any, options: Any = None, interface_options: Any = None) -> TokenCount:
    """Exact from the server when it renders the chat template itself (TGI ``/chat_tokenize``, vLLM
    ``/tokenize``); else a local tokenizer (``{"tokenizer": "path or id"}``); else the server's plain
    ``/tokenize`` of the messages' text (not exact: no template); else the estimate."""
    conversation = _messages(messages)
    options = dict(options or {})
    tokenizer = options.pop("tokenizer", None)
    if tokenizer is not None:
        return _local_count(str(tokenizer), conversation)
    model = str(options.get("model") or "")
    if not find_api_base(provider, options.get("api_base")) and not model.startswith(("http://", "https://")):
        return estimate(conversation)  # the router or a hosted API: no tokenizer route to ask
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    chat = routes.chat_tokenize_route(kind, conversation, target.model)
    if chat is not None:
        path, body = chat
        return TokenCount(routes.parse_chat_count(kind, target.send("POST", path, body).body), True, f"{kind} {path}")
    if kind in routes.TOKENIZE_ROUTES:
        path, body = routes.tokenize_route(kind, _text_of(conversation), target.model)
        count = routes.parse_tokens(kind, target.send("POST", path, body).body).count
        return TokenCount(count, False, f"{kind} {path} of the messages' text (no chat template applied)")
    return estimate(conversation)


def _texts(value: Any, name: str) -> List[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise errors.InvalidRequestError(f"{name} must be a non-empty string or a non-empty list of strings.")
    return list(texts)


def embed_sparse(client: Any, provider: str, texts: Any, options: Any = None, interface_options: Any = None) -> SparseEmbeddingResponse:
    """TEI ``/embed_sparse`` (SPLADE models): one sparse vector per text."""
    inputs = _texts(texts, "texts")
    options = dict(options or {})
    params = {k: options.pop(k) for k in ("truncate", "truncation_direction", "prompt_name") if k in options}
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    if kind != "tei":
        raise routes.unsupported("embed_sparse", kind, {"tei": 1})
    path, body = routes.sparse_route(inputs, params)
    result = target.send("POST", path, body)
    return routes.parse_sparse(result.body, target.model, request_id_of(result.headers))


def similarity(client: Any, provider: str, source: str, texts: Any, options: Any = None, interface_options: Any = None) -> Scores:
    """One score per text against ``source``: TEI ``/similarity``, vLLM ``/score``."""
    if not isinstance(source, str) or not source:
        raise errors.InvalidRequestError("similarity needs a non-empty source string.")
    inputs = _texts(texts, "texts")
    target = _Target(client, provider, options, interface_options)
    kind = target.kind()
    path, body = routes.similarity_route(kind, source, inputs, target.model)
    result = target.send("POST", path, body)
    return routes.parse_scores(kind, result.body, len(inputs), target.model, request_id_of(result.headers))


# -- the servers' own routes beyond introspection (native.py) -------------------------------------------

def _routed(target: _Target, table: Mapping[str, str], what: str) -> str:
    kind = target.kind()
    if kind not in table:
        raise routes.unsupported(what, kind, table)
    return kind


def metrics(client: Any, provider: str, options: Any = None, interface_options: Any = None) -> Metrics:
    """The server's Prometheus ``/metrics`` (TGI, TEI, vLLM; SGLang with --enable-metrics, llama.cpp with
    --metrics), parsed: ``Metrics.value("vllm:num_requests_running")``, or the page in ``Metrics.text``."""
    target = _Target(client, provider, options, interface_options)
    recorded.refuse_live(target.plan, "metrics")
    kind = _routed(target, native.METRICS_ROUTES, "metrics")
    return native.parse_metrics(kind, target.live("metrics", native.METRICS_ROUTES[kind], text=True).body)


def slots(client: Any, provider: str, options: Any = None, interface_options: Any = None) -> Tuple[Slot, ...]:
    """llama.cpp ``GET /slots``: each slot's id, context size and whether it is busy (a live check)."""
    target = _Target(client, provider, options, interface_options)
    recorded.refuse_live(target.plan, "slots")
    _routed(target, native.SLOTS_ROUTES, "slots")
    return native.parse_slots(target.live("slots", "/slots").body)


def generate(client: Any, provider: str, prompt: str, options: Any = None, interface_options: Any = None) -> Response:
    """Raw generation on the server's own route: SGLang ``/generate``, llama.cpp ``/completion``.
    ``max_tokens``, ``temperature``... and ``logprobs`` (alternatives per token: SGLang's
    ``top_logprobs_num``, llama.cpp's ``n_probs``) fill ``Response.logprobs``; other options go as they are."""
    if not isinstance(prompt, str) or not prompt:
        raise errors.InvalidRequestError("generate needs a non-empty prompt string.")
    target = _Target(client, provider, options, interface_options)
    kind = _routed(target, native.GENERATE_ROUTES, "generate")
    path, body = native.generate_route(kind, prompt, target.request.params)
    result = target.send("POST", path, body)
    return native.parse_generate(kind, result.body, target.model, provider, request_id_of(result.headers))


def pooling(client: Any, provider: str, texts: Any, options: Any = None, interface_options: Any = None) -> PoolingResponse:
    """The pooler's raw output per text: TEI ``/embed_all`` (one vector per token; ``truncate``,
    ``truncation_direction``, ``prompt_name``), vLLM ``/pooling`` (its pooler's output; options go as they are)."""
    inputs = _texts(texts, "texts")
    target = _Target(client, provider, options, interface_options)
    kind = _routed(target, native.POOLING_ROUTES, "pooling")
    path, body = native.pooling_route(kind, inputs, target.model, target.request.params)
    result = target.send("POST", path, body)
    return native.parse_pooling(kind, result.body, len(inputs), target.model, request_id_of(result.headers))
