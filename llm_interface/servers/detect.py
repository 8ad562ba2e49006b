"""Which server sits behind a base URL, told from cheap GET routes each server answers in its own way.

Facts (checked 2026-12-01 against each server's OpenAPI spec or source):
- TGI ``GET /info``: ``{model_id, max_input_tokens, max_total_tokens, router, version...}`` (tgi-openapi.json);
- TEI ``GET /info``: ``{model_id, model_dtype, model_type: {embedding|classifier|reranker: ...},
  max_input_length, version...}`` (tei-openapi.json);
- llama.cpp's ``llama-server`` ``GET /props``: ``{default_generation_settings: {n_ctx...}, total_slots,
  model_path, build_info...}`` (ggml-org/llama.cpp tools/server/README.md);
- SGLang ``GET /get_model_info``: ``{model_path, tokenizer_path, is_generation...}``;
- vLLM ``GET /v1/models``: entries with ``owned_by: "vllm"`` and ``max_model_len``; ``GET /version``;
- llama-cpp-python's server ``GET /v1/models``: ``owned_by: "me"``; no /health, /props or /tokenize (its
  tokenizer is under ``/extras/``);
- ``transformers serve``: ``GET /health`` -> ``{"status": "ok"}`` with an ``x-request-id`` header on every
  answer (src/transformers/cli/serving/server.py); its ``/v1/models`` fails offline.

The probes run in the order below and stop at the first that tells; the answer is cached per base URL
(the same URL is the same server for every client in the process). ``{"server": "vllm"}`` skips them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .. import errors

KINDS = ("tgi", "tei", "vllm", "sglang", "llamacpp", "llama-cpp-python", "transformers", "openai")
# Routes an api_base may already end with; the server's own routes hang off what is left.
_SUFFIXES = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/chat/completions",
             "/generate_stream", "/generate", "/embed", "/predict", "/rerank", "/v1")

# (status, JSON body or None, headers) of a GET, or None when the route is absent or the answer unusable.
Probe = Callable[[str], Optional[Tuple[int, Any, Mapping[str, str]]]]

_lock = threading.Lock()
_known: Dict[str, str] = {}


def root_of(base: str) -> str:
    """The server's root URL: ``http://h:8000/v1`` and ``http://h:8000/v1/chat/completions`` are ``http://h:8000``."""
    root = base.rstrip("/")
    for suffix in _SUFFIXES:
        if root.endswith(suffix):
            return root[: -len(suffix)].rstrip("/")
    return root


def check_kind(value: Any) -> str:
    if value not in KINDS:
        raise errors.InvalidRequestError(
            f"server must be one of {', '.join(KINDS)}, got {value!r}; leave it out to detect the server."
        )
    return value


def known(base: Optional[str]) -> Optional[str]:
    """The kind already detected for this base URL, without any I/O (providers route with it)."""
    if not base:
        return None
    with _lock:
        return _known.get(root_of(base))


def remember(base: str, kind: str) -> None:
    with _lock:
        _known[root_of(base)] = check_kind(kind)


def forget(base: Optional[str] = None) -> None:
    """Drop one base URL's detection (a server was swapped behind it), or all of them."""
    with _lock:
        if base is None:
            _known.clear()
        else:
            _known.pop(root_of(base), None)


def kind_from_info(body: Any) -> Optional[str]:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("model_type"), dict) and body["model_type"].keys() & {"embedding", "classifier", "reranker"}:
        return "tei"
    if "max_total_tokens" in body or ("max_input_tokens" in body and "router" in body):
        return "tgi"
    return None


def kind_from_props(body: Any) -> Optional[str]:
    if isinstance(body, dict) and ("default_generation_settings" in body or "total_slots" in body):
        return "llamacpp"
    return None


def kind_from_model_info(body: Any) -> Optional[str]:
    if isinstance(body, dict) and "model_path" in body and ("is_generation" in body or "tokenizer_path" in body):
        return "sglang"
    return None


_OWNERS = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llamacpp", "me": "llama-cpp-python"}


def kind_from_models(body: Any) -> Optional[str]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    for entry in data:
        owner = entry.get("owned_by") if isinstance(entry, dict) else None
        if isinstance(owner, str) and owner in _OWNERS:  # a list or dict here is unhashable: not a kind
            return _OWNERS[owner]
    return None


def kind_from_health(body: Any, headers: Mapping[str, str]) -> Optional[str]:
    if body == {"status": "ok"} and headers.get("x-request-id"):
        return "transformers"
    return None


# Cheapest and most telling first: one GET settles TGI, TEI and llama.cpp.
PROBES = (
    ("/info", lambda body, _headers: kind_from_info(body)),
    ("/props", lambda body, _headers: kind_from_props(body)),
    ("/v1/models", lambda body, _headers: kind_from_models(body)),
    ("/get_model_info", lambda body, _headers: kind_from_model_info(body)),
    ("/health", kind_from_health),
)


def detect(base: str, probe: Probe, server: Any = None) -> str:
    """The kind of server at ``base``: ``server`` when given, else the cache, else the probes (then cached).

    A server that answers none of them is ``"openai"``: any OpenAI-compatible server.
    """
    if server is not None:
        return check_kind(server)
    cached = known(base)
    if cached is not None:
        return cached
    root = root_of(base)
    kind = "openai"
    for path, tell in PROBES:
        answer = probe(root + path)
        if answer is None:
            continue
        _status, body, headers = answer
        found = tell(body, headers)
        if found is not None:
            kind = found
            break
    remember(root, kind)
    return kind
