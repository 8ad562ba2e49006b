"""Each self-hosted server's own routes: pure builders of (path, body) and parsers of what comes back.

Facts (checked 2026-12-01): TGI and TEI from their OpenAPI specs (hf-reference/tgi-openapi.json,
tei-openapi.json); vLLM from vllm/entrypoints/openai/protocol.py (``TokenizeResponse {count,
max_model_len, tokens, token_strs}``, ``RerankResponse {results: [{index, document: {text},
relevance_score}]}``, ``ScoreResponse {data: [{index, score}]}``, ``ClassificationResponse {data: [{index,
label, probs, num_classes}]}``); llama.cpp from tools/server/README.md (``/tokenize {content}`` ->
``{tokens}``, ``/rerank {query, documents, top_n}``, ``/props``); llama-cpp-python from
llama_cpp/server/app.py (``/extras/tokenize {input}`` -> ``{tokens}``). No I/O here: tools.py sends.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors
from ..request import Request
from ..types import Classification, ClassificationResponse, Label
from .detect import check_kind, known, root_of
from .results import Scores, ServerInfo, SparseEmbeddingResponse, SparseVector, Tokens

Route = Tuple[str, Dict[str, Any]]

# GET routes that describe the server, read in this order (a later one fills what an earlier left out).
INFO_ROUTES: Dict[str, Tuple[str, ...]] = {
    "tgi": ("/info",),
    "tei": ("/info",),
    "vllm": ("/v1/models", "/version"),
    "sglang": ("/get_model_info", "/v1/models"),
    "llamacpp": ("/props",),
    "llama-cpp-python": ("/v1/models",),
    "transformers": ("/v1/models",),
    "openai": ("/v1/models",),
}
HEALTH_ROUTES = {
    "tgi": "/health", "tei": "/health", "vllm": "/health", "sglang": "/health", "llamacpp": "/health",
    "transformers": "/health", "llama-cpp-python": "/v1/models", "openai": "/v1/models",
}
TOKENIZE_ROUTES = {
    "tgi": "/tokenize", "tei": "/tokenize", "vllm": "/tokenize", "llamacpp": "/tokenize",
    "llama-cpp-python": "/extras/tokenize",
}
DETOKENIZE_ROUTES = {
    "tei": "/decode", "vllm": "/detokenize", "llamacpp": "/detokenize", "llama-cpp-python": "/extras/detokenize",
}
# Servers that apply the chat template themselves when counting a conversation.
CHAT_TOKENIZE_ROUTES = {"tgi": "/chat_tokenize", "vllm": "/tokenize"}
# Servers whose text routes are OpenAI's only (no TGI /generate, and response_format as OpenAI writes it).
OPENAI_SERVERS = frozenset({"vllm", "sglang", "llamacpp", "llama-cpp-python", "transformers", "openai"})
RERANK_ROUTES = {"vllm": "/v1/rerank", "llamacpp": "/rerank", "tei": "/rerank"}
CLASSIFY_ROUTES = {"vllm": "/classify", "tei": "/predict"}


def unsupported(what: str, kind: str, table: Mapping[str, Any]) -> errors.UnsupportedTaskError:
    return errors.UnsupportedTaskError(
        f"{what} is not served by {kind} servers; it is by: {', '.join(sorted(table))}. "
        "Pass {'server': ...} if the server was detected wrongly.",
    )


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None  # JSON may hold NaN or Infinity (Python's json reads them)
    return int(value)


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _first_model(body: Any) -> Dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    return {}


def parse_info(kind: str, bodies: Mapping[str, Any]) -> ServerInfo:
    """A ServerInfo from the bodies of ``INFO_ROUTES[kind]`` (path -> JSON; a missing one is skipped)."""
    fields: Dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if value is not None and fields.get(name) is None:
            fields[name] = value

    for path, body in bodies.items():
        if not isinstance(body, dict):
            continue
        if path == "/info":
            put("model_id", _str(body.get("model_id")))
            put("max_input_tokens", _int(body.get("max_input_tokens", body.get("max_input_length"))))
            put("max_total_tokens", _int(body.get("max_total_tokens")))
            put("dtype", _str(body.get("model_dtype")))
            put("version", _str(body.get("version")))
            model_type = body.get("model_type")
            if isinstance(model_type, dict) and model_type:
                put("task", next(iter(model_type)))
        elif path == "/props":
            settings = body.get("default_generation_settings")
            n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, dict) else None
            put("model_id", _str(body.get("model_alias")) or _str(body.get("model_path")))
            put("max_total_tokens", n_ctx if n_ctx is not None else _int(body.get("n_ctx")))
            put("version", _str(body.get("build_info")))
        elif path == "/get_model_info":
            put("model_id", _str(body.get("model_path")))
        elif path == "/version":
            put("version", _str(body.get("version")))
        elif path == "/v1/models":
            entry = _first_model(body)
            put("model_id", _str(entry.get("id")))
            put("max_total_tokens", _int(entry.get("max_model_len")))
    return ServerInfo(kind, original=dict(bodies), **fields)


# -- tokenize ------------------------------------------------------------------------------------

def tokenize_route(kind: str, text: str, model: Optional[str] = None, add_special_tokens: bool = True) -> Route:
    if kind not in TOKENIZE_ROUTES:
        raise unsupported("tokenize", kind, TOKENIZE_ROUTES)
    path = TOKENIZE_ROUTES[kind]
    if kind == "tgi":
        return path, {"inputs": text}
    if kind == "tei":
        return path, {"inputs": text, "add_special_tokens": add_special_tokens}
    if kind == "vllm":
        body: Dict[str, Any] = {"prompt": text, "add_special_tokens": add_special_tokens}
        if model:
            body["model"] = model
        return path, body
    if kind == "llamacpp":
        return path, {"content": text, "add_special": add_special_tokens}
    return path, {"input": text}  # llama-cpp-python


def _bad(kind: str, body: Any, what: str) -> errors.InvalidResponseError:
    return errors.InvalidResponseError(
        f"The {kind} server's answer is not {what}; check api_base points at that server.", body=body
    )


def _ids(values: Any) -> Optional[Tuple[int, ...]]:
    if isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return tuple(values)
    return None


def _simple_tokens(kind: str, items: Any, body: Any) -> Tokens:
    """TGI/TEI ``[{id, text, start, stop}]``."""
    if not isinstance(items, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), int) for t in items):
        raise _bad(kind, body, "a list of {id, text} tokens")
    return Tokens(tuple(t["id"] for t in items), kind, tuple(str(t.get("text", "")) for t in items))


def parse_tokens(kind: str, body: Any) -> Tokens:
    if kind == "tgi":
        return _simple_tokens(kind, body, body)
    if kind == "tei":  # one list per input; we send one input
        return _simple_tokens(kind, body[0] if isinstance(body, list) and body and isinstance(body[0], list) else body, body)
    tokens = body.get("tokens") if isinstance(body, dict) else None
    if kind == "llamacpp" and isinstance(tokens, list) and tokens and all(isinstance(t, dict) for t in tokens):
        # with_pieces: [{id, piece}]
        ids = _ids([t.get("id") for t in tokens])
        if ids is not None:
            return Tokens(ids, kind, tuple(str(t.get("piece", "")) for t in tokens))
    ids = _ids(tokens)
    if ids is None:
        raise _bad(kind, body, "{tokens: [int]}")
    pieces = body.get("token_strs")
    return Tokens(
        ids, kind,
        tuple(str(p) for p in pieces) if isinstance(pieces, list) and len(pieces) == len(ids) else None,
        _int(body.get("max_model_len")),
    )


def detokenize_route(kind: str, ids: Sequence[int]) -> Route:
    if kind not in DETOKENIZE_ROUTES:
        raise unsupported("detokenize", kind, DETOKENIZE_ROUTES)
    return DETOKENIZE_ROUTES[kind], ({"ids": list(ids)} if kind == "tei" else {"tokens": list(ids)})


def parse_text(kind: str, body: Any) -> str:
    """TEI ``/decode`` ``[text]``, vLLM ``{prompt}``, llama.cpp ``{content}``, llama-cpp-python ``{text}``."""
    if kind == "tei" and isinstance(body, list) and len(body) == 1 and isinstance(body[0], str):
        return body[0]
    field = {"vllm": "prompt", "llamacpp": "content", "llama-cpp-python": "text"}.get(kind)
    text = body.get(field) if isinstance(body, dict) and field else None
    if not isinstance(text, str):
        raise _bad(kind, body, "the decoded text")
    return text


def chat_tokenize_route(kind: str, messages: Sequence[Mapping[str, Any]], model: Optional[str]) -> Optional[Route]:
    """The route that renders the chat template and counts the result, or None (the server has none)."""
    path = CHAT_TOKENIZE_ROUTES.get(kind)
    if path is None:
        return None
    body: Dict[str, Any] = {"messages": [dict(m) for m in messages]}
    if kind == "tgi":
        body["model"] = model or "tgi"
    elif model:
        body["model"] = model
    if kind == "vllm":
        body["add_generation_prompt"] = True
    return path, body


def parse_chat_count(kind: str, body: Any) -> int:
    if kind == "tgi":
        items = body.get("tokenize_response") if isinstance(body, dict) else None
        return _simple_tokens(kind, items, body).count
    count = _int(body.get("count")) if isinstance(body, dict) else None
    if count is None:
        return parse_tokens(kind, body).count
    return count


# -- rerank and classify on servers other than TEI (the Hugging Face provider's endpoint mode) ---------

def kind_for(request: Request) -> Optional[str]:
    """The server kind a request names (``server`` option) or that was detected for its base URL."""
    given = request.settings.get("server")
    if given is not None:
        return check_kind(given)
    base = request.model if (request.model or "").startswith(("http://", "https://")) else request.api_base
    return known(base)


def task_route(request: Request, base: str) -> Optional[Tuple[str, Dict[str, Any]]]:
    """(url, body) for rerank/classify on vLLM or llama.cpp, or None (TEI's routes apply)."""
    kind = kind_for(request)
    if kind in (None, "tei", "openai"):  # TEI's routes, also the guess for a server that told us nothing
        return None
    model = None if (request.model or "").startswith(("http://", "https://")) else request.model
    root = root_of(base)
    if request.task == "rerank":
        if kind not in RERANK_ROUTES:
            raise unsupported("rerank", kind, RERANK_ROUTES)
        params = dict(request.params)
        body: Dict[str, Any] = {"query": request.inputs["query"], "documents": list(request.inputs["documents"])}
        if params.get("top_n"):
            body["top_n"] = params["top_n"]
        if model and kind == "vllm":
            body["model"] = model
        return root + RERANK_ROUTES[kind], body
    if request.task == "classify":
        if kind not in CLASSIFY_ROUTES:
            raise unsupported("classify", kind, CLASSIFY_ROUTES)
        inputs = request.inputs
        body = {"input": inputs if isinstance(inputs, str) else list(inputs)}
        if model:
            body["model"] = model
        return root + CLASSIFY_ROUTES[kind], body
    return None


def _index(item: Mapping[str, Any]) -> int:
    """An answer's ``index`` for ordering; a missing or odd one keeps the server's order."""
    return _int(item.get("index")) or 0


def parse_vllm_classify(body: Any, request: Request, provider: str, request_id: Optional[str]) -> ClassificationResponse:
    """``{data: [{index, label, probs}]}``: the winning label is named, the others by class index."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(d, dict) and isinstance(d.get("probs"), list) for d in data):
        raise _bad("vllm", body, "{data: [{index, label, probs}]}")
    classifications: List[Classification] = []
    for item in sorted(data, key=_index):
        probs = [float(p) for p in item["probs"] if isinstance(p, (int, float))]
        best = max(range(len(probs)), key=probs.__getitem__) if probs else None
        labels = [
            Label(str(item.get("label")) if i == best and item.get("label") else f"LABEL_{i}", p)
            for i, p in enumerate(probs)
        ]
        labels.sort(key=lambda lab: lab.score, reverse=True)
        classifications.append(Classification(tuple(labels)))
    return ClassificationResponse(tuple(classifications), model=request.model, provider=provider, request_id=request_id)


# -- TEI extras and vLLM /score ------------------------------------------------------------------------

def sparse_route(texts: Sequence[str], params: Mapping[str, Any]) -> Route:
    body: Dict[str, Any] = {"inputs": list(texts)}
    for name in ("truncate", "truncation_direction", "prompt_name"):
        if params.get(name) is not None:
            body[name] = params[name]
    return "/embed_sparse", body


def parse_sparse(body: Any, model: Optional[str] = None, request_id: Optional[str] = None) -> SparseEmbeddingResponse:
    if not isinstance(body, list) or not all(isinstance(v, list) for v in body):
        raise _bad("tei", body, "a list of sparse vectors [[{index, value}]]")
    vectors = []
    for vector in body:
        if not all(isinstance(e, dict) and isinstance(e.get("index"), int) and isinstance(e.get("value"), (int, float))
                   for e in vector):
            raise _bad("tei", body, "a list of sparse vectors [[{index, value}]]")
        vectors.append(SparseVector(tuple(e["index"] for e in vector), tuple(float(e["value"]) for e in vector)))
    return SparseEmbeddingResponse(tuple(vectors), model, request_id)


def similarity_route(kind: str, source: str, texts: Sequence[str], model: Optional[str]) -> Route:
    """TEI ``/similarity`` or vLLM ``/score``: one score per text against ``source``."""
    if kind == "tei":
        return "/similarity", {"inputs": {"source_sentence": source, "sentences": list(texts)}}
    if kind == "vllm":
        body: Dict[str, Any] = {"text_1": source, "text_2": list(texts)}
        if model:
            body["model"] = model
        return "/score", body
    raise unsupported("similarity/score", kind, {"tei": 1, "vllm": 1})


def parse_scores(kind: str, body: Any, count: int, model: Optional[str] = None, request_id: Optional[str] = None) -> Scores:
    if kind == "vllm" and isinstance(body, dict) and isinstance(body.get("data"), list):
        items = body["data"]
        if all(isinstance(d, dict) and isinstance(d.get("score"), (int, float)) for d in items):
            ordered = sorted(items, key=_index)
            body = [d["score"] for d in ordered]
    if not isinstance(body, list) or len(body) != count or not all(
        isinstance(s, (int, float)) and not isinstance(s, bool) for s in body
    ):
        raise _bad(kind, body, f"{count} scores")
    return Scores(tuple(float(s) for s in body), model, request_id)
