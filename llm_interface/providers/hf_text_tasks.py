"""The remaining text tasks of ``hf-inference``, and rerank with a cross-encoder: what each sends and how its
answer reads. Pure functions (no I/O); ``hf_routes`` serves them through one helper, ``PipelineTask``.

Follows (checked 2026-12-01): huggingface_hub's ``InferenceClient`` methods (``summarization``, ``translation``,
``token_classification``, ``question_answering``, ``fill_mask``, ``sentence_similarity``,
``table_question_answering``) and its hf-inference helper (``{"inputs", "parameters"}`` at
``.../hf-inference/models/{id}``; sentence-similarity at ``.../models/{id}/pipeline/sentence-similarity``), the
hub-docs pages ``docs/inference-providers/tasks/*.md`` for the answers (``[{summary_text}]``,
``[{translation_text}]``, ``[{entity_group|entity, score, word, start, end}]``, ``{answer, score, start, end}``
or a list of them with ``top_k``, ``[{sequence, score, token, token_str}]``, ``[float]``,
``{answer, coordinates, cells, aggregator}``), and the recorded token-classification and sentence-similarity
exchanges in tests/fixtures/hf-reference. Table QA sends ``{"query", "table"}`` as huggingface_hub does.
A Dedicated Inference Endpoint running the default (transformers) container takes the same payloads at its
own URL, so the endpoint mode serves these tasks too.

Rerank with a cross-encoder (bge-reranker, ms-marco MiniLM...): the text-classification pipeline scores each
``{"text": query, "text_pair": document}`` pair; the score of a pair is its only label's score, or, for two-label
models, the score of ``LABEL_1`` (the "relevant" class), else the best label's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional

from .. import errors
from ..request import Request
from ..task_types import (
    AnswerSpan,
    Entity,
    FillMaskResponse,
    MaskFill,
    QuestionAnsweringResponse,
    SentenceSimilarityResponse,
    SummarizationResponse,
    TableQuestionAnsweringResponse,
    TokenClassificationResponse,
    TranslationResponse,
)
from ..types import RerankResponse
from .hf_tasks import parse_rerank
from .lenient import as_float, as_int, as_list, as_str, invalid

Parse = Callable[[Any, Request, str, Optional[str]], Any]

# What a task uses when no model is given: the models hub-docs recommends on each task's page.
DEFAULT_MODELS = {
    "summarization": "facebook/bart-large-cnn",
    "translation": "google-t5/t5-base",
    "token-classification": "dslim/bert-base-NER",
    "question-answering": "deepset/roberta-base-squad2",
    "fill-mask": "google-bert/bert-base-uncased",
    "sentence-similarity": "sentence-transformers/all-MiniLM-L6-v2",
    "table-question-answering": "google/tapas-base-finetuned-wtq",
}
# The Hub's pipeline tags of cross-encoders: rerank sends them pairs (``rerank_pipeline``).
CROSS_ENCODER_TAGS = frozenset({"text-ranking", "text-classification"})


def _bad(body: Any, request: Request, provider: str, request_id: Optional[str], what: str) -> errors.InvalidResponseError:
    return invalid(f"it is not {what}", body, provider=provider, model=request.model, request_id=request_id,
                   hint=f"Does the model serve {request.task}?")


def _first(body: Any) -> Any:
    """The pipelines answer one input with a list of one object (sometimes nested once more)."""
    while isinstance(body, list) and len(body) == 1:
        body = body[0]
    return body


def _text_field(name: str, build: Callable[..., Any]) -> Parse:
    def parse(body: Any, request: Request, provider: str, request_id: Optional[str]) -> Any:
        item = _first(body)
        text = as_str(item.get(name)) if isinstance(item, Mapping) else None
        if text is None:
            raise _bad(body, request, provider, request_id, f"[{{{name!r}: text}}]")
        return build(text, model=request.model, provider=provider, request_id=request_id)
    return parse


def _objects(body: Any, request: Request, provider: str, request_id: Optional[str], what: str) -> List[Mapping[str, Any]]:
    if isinstance(body, Mapping):
        body = [body]
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], list):
        body = body[0]  # one input, answered as a batch of one
    if not isinstance(body, list) or not all(isinstance(item, Mapping) for item in body):
        raise _bad(body, request, provider, request_id, what)
    return body


def parse_token_classification(body: Any, request: Request, provider: str, request_id: Optional[str]) -> TokenClassificationResponse:
    items = _objects(body, request, provider, request_id, "a list of {entity_group, score, word, start, end}")
    entities = []
    for item in items:
        label = as_str(item.get("entity_group")) or as_str(item.get("entity"))
        score = as_float(item.get("score"))
        if label is None or score is None:
            raise _bad(body, request, provider, request_id, "a list of entities with a label and a score")
        entities.append(Entity(label, score, as_str(item.get("word")) or "", as_int(item.get("start")), as_int(item.get("end"))))
    return TokenClassificationResponse(tuple(entities), model=request.model, provider=provider, request_id=request_id)


def parse_question_answering(body: Any, request: Request, provider: str, request_id: Optional[str]) -> QuestionAnsweringResponse:
    items = _objects(body, request, provider, request_id, "an {answer, score, start, end}")
    answers = []
    for item in items:
        answer, score = as_str(item.get("answer")), as_float(item.get("score"))
        if answer is None or score is None:
            raise _bad(body, request, provider, request_id, "an answer with a score")
        answers.append(AnswerSpan(answer, score, as_int(item.get("start")), as_int(item.get("end"))))
    answers.sort(key=lambda a: a.score, reverse=True)
    return QuestionAnsweringResponse(tuple(answers), model=request.model, provider=provider, request_id=request_id)


def parse_fill_mask(body: Any, request: Request, provider: str, request_id: Optional[str]) -> FillMaskResponse:
    # Several masks in one text answer one list per mask: the first mask's candidates are kept.
    if isinstance(body, list) and body and all(isinstance(item, list) for item in body):
        body = body[0]
    items = _objects(body, request, provider, request_id, "a list of {sequence, score, token, token_str}")
    predictions = []
    for item in items:
        sequence, score = as_str(item.get("sequence")), as_float(item.get("score"))
        if sequence is None or score is None:
            raise _bad(body, request, provider, request_id, "a list of candidates with a sequence and a score")
        predictions.append(MaskFill(sequence, score, as_str(item.get("token_str")) or "", as_int(item.get("token"))))
    predictions.sort(key=lambda p: p.score, reverse=True)
    return FillMaskResponse(tuple(predictions), model=request.model, provider=provider, request_id=request_id)


def _numbers(body: Any, count: int) -> Optional[List[float]]:
    if not isinstance(body, list) or len(body) != count:
        return None
    scores = [as_float(x) if not isinstance(x, bool) else None for x in body]
    return None if None in scores else scores  # type: ignore[return-value]


def parse_sentence_similarity(body: Any, request: Request, provider: str, request_id: Optional[str]) -> SentenceSimilarityResponse:
    count = len(request.inputs["sentences"])
    scores = _numbers(body, count)
    if scores is None:
        raise _bad(body, request, provider, request_id, f"a list of {count} scores")
    return SentenceSimilarityResponse(tuple(scores), model=request.model, provider=provider, request_id=request_id)


def parse_table_question_answering(body: Any, request: Request, provider: str, request_id: Optional[str]) -> TableQuestionAnsweringResponse:
    item = _first(body)
    answer = as_str(item.get("answer")) if isinstance(item, Mapping) else None
    if answer is None:
        raise _bad(body, request, provider, request_id, "an {answer, coordinates, cells, aggregator}")
    coordinates = tuple(
        (row, column) for pair in as_list(item.get("coordinates")) if isinstance(pair, list) and len(pair) == 2
        for row, column in [(as_int(pair[0]), as_int(pair[1]))] if row is not None and column is not None
    )
    cells = tuple(str(cell) for cell in as_list(item.get("cells")) if isinstance(cell, (str, int, float)))
    return TableQuestionAnsweringResponse(answer, coordinates, cells, as_str(item.get("aggregator")),
                                          model=request.model, provider=provider, request_id=request_id)


def pipeline_body(request: Request) -> Dict[str, Any]:
    return {"inputs": request.inputs, "parameters": dict(request.params)}


@dataclass(frozen=True)
class TaskSpec:
    """One pipeline task: the route under the model's URL (``""``: the URL itself), the body, the parse."""

    suffix: str
    parse: Parse
    body: Callable[[Request], Any] = pipeline_body


SPECS: Dict[str, TaskSpec] = {
    "summarization": TaskSpec("", _text_field("summary_text", SummarizationResponse)),
    "translation": TaskSpec("", _text_field("translation_text", TranslationResponse)),
    "token-classification": TaskSpec("", parse_token_classification),
    "question-answering": TaskSpec("", parse_question_answering),
    "fill-mask": TaskSpec("", parse_fill_mask),
    "sentence-similarity": TaskSpec("/pipeline/sentence-similarity", parse_sentence_similarity),
    "table-question-answering": TaskSpec("", parse_table_question_answering),
}
TASKS = frozenset(SPECS)


# -- rerank with a cross-encoder ---------------------------------------------------------------------

def is_cross_encoder(request: Request) -> bool:
    """``cross_encoder`` as planned: the explicit option, or the Hub's pipeline tag (``rerank_pipeline``)."""
    return request.settings.get("cross_encoder") is True


def cross_encoder_body(request: Request) -> Dict[str, Any]:
    query = request.inputs["query"]
    params = {k: v for k, v in request.params.items() if k not in ("top_n", "return_documents")}
    return {"inputs": [{"text": query, "text_pair": document} for document in request.inputs["documents"]],
            "parameters": params}


def _pair_score(labels: Any) -> Optional[float]:
    if isinstance(labels, Mapping):
        labels = [labels]
    if not isinstance(labels, list) or not labels or not all(isinstance(label, Mapping) for label in labels):
        return None
    if len(labels) > 1:
        for label in labels:
            if label.get("label") == "LABEL_1":
                return as_float(label.get("score"))
    scores = [as_float(label.get("score")) for label in labels]
    return None if None in scores else max(scores)  # type: ignore[type-var]


def parse_cross_encoder(body: Any, request: Request, provider: str, request_id: Optional[str]) -> RerankResponse:
    """One {label, score} (or a list of them) per pair, in document order -> documents best first."""
    count = len(request.inputs["documents"])
    scores = [_pair_score(item) for item in body] if isinstance(body, list) and len(body) == count else None
    if scores is None or None in scores:
        raise _bad(body, request, provider, request_id, f"{count} {{label, score}} answers, one per document")
    return parse_rerank(scores, request, provider, request_id)


__all__ = ["CROSS_ENCODER_TAGS", "DEFAULT_MODELS", "SPECS", "TASKS", "TaskSpec"]
