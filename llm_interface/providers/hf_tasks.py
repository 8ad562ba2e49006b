"""Embeddings, classification and rerank on Hugging Face: the ``hf-inference`` tasks and a self-hosted (or
Dedicated Endpoint) Text Embeddings Inference server. Also OpenAI's ``/v1/embeddings`` shape, shared with the
``openai-compatible`` provider.

Follows (checked 2026-11-21): TEI's OpenAPI spec 1.9.3 in ``tests/fixtures/hf-reference/tei-openapi.json``
(``/embed`` ``{inputs, normalize, truncate, truncation_direction, prompt_name, dimensions}`` -> ``[[float]]``;
``/predict`` ``{inputs, raw_scores, truncate}`` -> ``[{label, score}]`` or one list per input; ``/rerank``
``{query, texts, return_text, raw_scores, truncate}`` -> ``[{index, score, text?}]``; ``/v1/embeddings``
OpenAI's shape; ``max_client_batch_size`` 32 by default), and the ``huggingface_hub`` recordings of the
serverless routes: ``.../models/{id}/pipeline/feature-extraction`` ``{inputs, parameters}`` answering
``[dim]``/``[n, dim]`` (sentence-transformers) or token-level ``[1, seq, dim]``/``[n, 1, seq, dim]`` (plain
transformers; pooled here by mean), ``.../models/{id}`` text-classification ``[[{label, score}]]`` and
zero-shot-classification ``{sequence, labels, scores}`` (newer servers: ``[{label, score}]``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .. import errors
from ..request import Request
from ..types import (
    Classification,
    ClassificationResponse,
    EmbeddingResponse,
    Label,
    RerankResponse,
    RerankResult,
    Usage,
)
from .lenient import as_float, as_int, as_list, as_str, invalid

# TEI's default --max-client-batch-size; the ``batch_size`` option overrides it.
DEFAULT_BATCH_SIZE = 32

EMBEDDING_PARAMS = ("normalize", "truncate", "truncation_direction", "prompt_name")


def _bad(request: Request, provider: str, body: Any, what: str, request_id: Optional[str]) -> errors.InvalidResponseError:
    return invalid(
        f"it is not {what}", body, provider=provider, model=request.model, request_id=request_id,
        hint="Does the model or api_base serve this task?",
    )


def texts_of(request: Request) -> List[str]:
    return list(request.inputs) if isinstance(request.inputs, (list, tuple)) else [request.inputs]


# -- embeddings -----------------------------------------------------------------------------------

def tei_embed_body(request: Request) -> Dict[str, Any]:
    body: Dict[str, Any] = {"inputs": texts_of(request)}
    for name in EMBEDDING_PARAMS + ("dimensions",):
        if request.params.get(name) is not None:
            body[name] = request.params[name]
    return body


def hf_inference_embed_body(request: Request) -> Dict[str, Any]:
    # One string stays a string: that is what the pipeline is documented (and recorded) with.
    inputs = request.inputs if isinstance(request.inputs, str) else texts_of(request)
    parameters = {name: request.params[name] for name in EMBEDDING_PARAMS if request.params.get(name) is not None}
    return {"inputs": inputs, "parameters": parameters}


def openai_embed_body(request: Request, model: Optional[str]) -> Dict[str, Any]:
    body: Dict[str, Any] = {"input": texts_of(request), "encoding_format": "float"}
    if model is not None:
        body["model"] = model
    if request.params.get("dimensions") is not None:
        body["dimensions"] = request.params["dimensions"]
    for name, value in request.params.items():
        if name not in EMBEDDING_PARAMS and name not in ("dimensions", "encoding_format"):
            body[name] = value
    return body


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth += 1
        value = value[0]
    return depth


def _vector(item: Any) -> Optional[List[float]]:
    """A list of finite numbers as floats, else None."""
    if not isinstance(item, list) or not item:
        return None
    vector = [as_float(x) for x in item]
    return [x for x in vector if x is not None] if None not in vector else None


def pool(item: Any) -> Optional[List[float]]:
    """One input's output as one vector: a vector as is; token-level ``[seq, dim]`` (or ``[1, seq, dim]``) by
    mean over the tokens. None when it is neither (the caller says what was expected)."""
    while _depth(item) > 2:
        if len(item) != 1:
            return None
        item = item[0]
    if _depth(item) < 2:
        return _vector(item)
    rows: List[List[float]] = []
    for row in item:
        vector = _vector(row)
        if vector is None or (rows and len(vector) != len(rows[0])):
            return None
        rows.append(vector)
    return [sum(column) / len(rows) for column in zip(*rows)]


def _dimensions(vectors: List[List[float]], request: Request) -> List[List[float]]:
    """``dimensions`` on servers that do not take it: keep the first N (Matryoshka models are trained for it)."""
    size = request.params.get("dimensions")
    if not size:
        return vectors
    return [v[:size] for v in vectors]


def parse_embeddings(body: Any, request: Request, provider: str, request_id: Optional[str], *, server_dims: bool) -> EmbeddingResponse:
    """TEI ``/embed`` (``[n, dim]``) or ``hf-inference`` feature-extraction (any of its shapes)."""
    if isinstance(body, dict) and "data" in body:
        return parse_openai_embeddings(body, request, provider, request_id)
    if not isinstance(body, list) or not body:
        raise _bad(request, provider, body, "a list of vectors", request_id)
    count = len(texts_of(request))
    if isinstance(request.inputs, str):
        items = [body]
    elif len(body) == count:
        items = body
    else:
        raise _bad(request, provider, body, f"{count} embeddings", request_id)
    pooled = [pool(item) for item in items]
    if any(vector is None for vector in pooled):
        raise _bad(request, provider, body, "a list of vectors of numbers", request_id)
    vectors: List[List[float]] = pooled  # type: ignore[assignment]
    if not server_dims:
        vectors = _dimensions(vectors, request)
    return EmbeddingResponse(vectors, model=request.model, provider=provider, request_id=request_id)


def parse_openai_embeddings(body: Any, request: Request, provider: str, request_id: Optional[str]) -> EmbeddingResponse:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise _bad(request, provider, body, "an OpenAI embeddings list ('data')", request_id)
    items = body["data"]
    if not all(isinstance(item, dict) for item in items):
        raise _bad(request, provider, body, "an OpenAI embeddings list of objects", request_id)
    data = sorted(items, key=lambda item: as_int(item.get("index")) or 0)
    vectors = [_vector(item.get("embedding")) for item in data]
    if any(vector is None for vector in vectors):
        raise _bad(request, provider, body, "an OpenAI embeddings list with a vector of numbers per item", request_id)
    return EmbeddingResponse(
        vectors, model=as_str(body.get("model")) or request.model, provider=provider,  # type: ignore[arg-type]
        usage=Usage.from_dict(body.get("usage")), request_id=request_id,
    )


# -- classification -------------------------------------------------------------------------------

def is_zero_shot(request: Request) -> bool:
    return request.params.get("candidate_labels") is not None


def hf_inference_classify_body(request: Request) -> Dict[str, Any]:
    params = dict(request.params)
    if is_zero_shot(request):
        labels = params["candidate_labels"]
        if isinstance(labels, str):  # the pipeline's comma-separated form
            labels = [label.strip() for label in labels.split(",") if label.strip()]
        if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels):
            raise errors.InvalidRequestError("candidate_labels must be a list of strings, e.g. ['sports', 'politics'].")
        params["candidate_labels"] = list(labels)
        return {"inputs": texts_of(request)[0], "parameters": params}  # one text per call (the Client batches)
    inputs = request.inputs if isinstance(request.inputs, str) else texts_of(request)
    return {"inputs": inputs, "parameters": params}


def tei_predict_body(request: Request) -> Dict[str, Any]:
    if is_zero_shot(request):
        raise errors.UnsupportedTaskError(
            "TEI /predict has no zero-shot classification; use a zero-shot model on hf-inference "
            "(no api_base) or drop candidate_labels.", provider=request.provider, model=request.model,
        )
    body: Dict[str, Any] = {"inputs": texts_of(request)}
    body.update(request.params)
    return body


def _labels(items: Any) -> Classification:
    # An item without a finite numeric score is not a label we can rank: skipped, never a raw TypeError.
    labels = [
        Label(i["label"] if isinstance(i.get("label"), str) else json.dumps(i.get("label"), default=str), score)
        for i in items if isinstance(i, Mapping)
        for score in (as_float(i.get("score")),) if score is not None
    ]
    return Classification(tuple(sorted(labels, key=lambda label: label.score, reverse=True)))


def parse_classification(body: Any, request: Request, provider: str, request_id: Optional[str]) -> ClassificationResponse:
    """Any classification shape -> one Classification (labels best first) per input, in input order."""
    count = len(texts_of(request))
    if isinstance(body, dict) and isinstance(body.get("labels"), list):  # zero-shot, older servers
        results = [_labels({"label": lab, "score": s} for lab, s in zip(body["labels"], as_list(body.get("scores"))))]
    elif isinstance(body, list) and body and all(isinstance(i, Mapping) for i in body):
        results = [_labels(body)]  # one input's labels
    elif isinstance(body, list) and body and all(isinstance(i, list) for i in body):
        results = [_labels(i) for i in body]
    else:
        raise _bad(request, provider, body, "a list of {label, score}", request_id)
    if len(results) != count:
        raise _bad(request, provider, body, f"{count} classifications", request_id)
    return ClassificationResponse(tuple(results), model=request.model, provider=provider, request_id=request_id)


# -- rerank ---------------------------------------------------------------------------------------

def tei_rerank_body(request: Request) -> Dict[str, Any]:
    inputs = request.inputs
    params = dict(request.params)
    body: Dict[str, Any] = {"query": inputs["query"], "texts": list(inputs["documents"])}
    body["return_text"] = bool(params.pop("return_documents", False))
    params.pop("top_n", None)  # TEI ranks every text; top_n is applied to the answer
    body.update(params)
    return body


def similarity_body(request: Request) -> Dict[str, Any]:
    """hf-inference sentence-similarity: the query against each document, scores in document order."""
    inputs = request.inputs
    params = {k: v for k, v in request.params.items() if k not in ("top_n", "return_documents")}
    return {"inputs": {"source_sentence": inputs["query"], "sentences": list(inputs["documents"])}, "parameters": params}


def parse_rerank(body: Any, request: Request, provider: str, request_id: Optional[str]) -> RerankResponse:
    """TEI ``[{index, score, text?}]``, sentence-similarity ``[score, ...]`` in document order, or the
    Cohere/Jina ``{"results": [{index, relevance_score}]}``."""
    items = body.get("results") if isinstance(body, dict) else body
    if isinstance(items, list) and items and all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in items):
        items = [{"index": i, "score": score} for i, score in enumerate(items)]
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise _bad(request, provider, body, "a list of {index, score}", request_id)
    documents: Sequence[str] = request.inputs["documents"]
    results = []
    for item in items:
        score = as_float(item.get("score", item.get("relevance_score")))
        index = as_int(item.get("index"))
        if index is None or not 0 <= index < len(documents) or score is None:
            raise _bad(request, provider, body, "a list of {index, score} within the documents given", request_id)
        text = as_str(item.get("text"))
        if isinstance(item.get("document"), Mapping):
            text = as_str(item["document"].get("text"))
        # return_documents governs on every server (vLLM sends the text always, TEI only when asked)
        text = (text if text is not None else documents[index]) if request.params.get("return_documents") else None
        results.append(RerankResult(index, float(score), text))
    results.sort(key=lambda r: r.score, reverse=True)
    top_n = request.params.get("top_n")
    if isinstance(top_n, int) and top_n > 0:
        results = results[:top_n]
    return RerankResponse(tuple(results), model=request.model, provider=provider, request_id=request_id)
