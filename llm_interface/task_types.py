"""The results of the text tasks beyond chat, embeddings, classify and rerank (docs/tasks.md): summarization,
translation, token classification, question answering, fill-mask, sentence similarity and table question
answering. Frozen dataclasses like those in types.py, with the same per-call fields (``model``,
``provider``, ``retries``, ``cached``, timings, ``request_id``, ``original``) and ``to_dict``/``from_dict``
for the cache. ``results`` is the main value of each, as ``Response.results`` is the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple


def _meta(response: Any) -> Dict[str, Any]:
    return {"model": response.model, "provider": response.provider, "request_id": response.request_id}


def _call(data: Dict[str, Any], call: Dict[str, Any]) -> Dict[str, Any]:
    return {"model": data.get("model"), "provider": data.get("provider"), "request_id": data.get("request_id"), **call}


@dataclass(frozen=True, slots=True)
class SummarizationResponse:
    summary: str
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> str:
        return self.summary

    def __str__(self) -> str:
        return self.summary

    def to_dict(self) -> Dict[str, Any]:
        return {"summary": self.summary, **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "SummarizationResponse":
        return cls(data["summary"], **_call(data, call))


@dataclass(frozen=True, slots=True)
class TranslationResponse:
    translation: str
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> str:
        return self.translation

    def __str__(self) -> str:
        return self.translation

    def to_dict(self) -> Dict[str, Any]:
        return {"translation": self.translation, **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "TranslationResponse":
        return cls(data["translation"], **_call(data, call))


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity (or token, without aggregation): its label, score, the text and where it is."""

    entity: str
    score: float
    word: str
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True, slots=True)
class TokenClassificationResponse:
    """Entities in the order of the text."""

    entities: Tuple[Entity, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> Tuple[Entity, ...]:
        return self.entities

    def to_dict(self) -> Dict[str, Any]:
        return {"entities": [
            {"entity": e.entity, "score": e.score, "word": e.word, "start": e.start, "end": e.end} for e in self.entities
        ], **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "TokenClassificationResponse":
        return cls(tuple(Entity(e["entity"], e["score"], e["word"], e.get("start"), e.get("end")) for e in data["entities"]),
                   **_call(data, call))


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """An answer found in the context: the text, its score, and where it is in the context."""

    answer: str
    score: float
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True, slots=True)
class QuestionAnsweringResponse:
    """Answers best first (one unless ``top_k`` asks for more); ``answer`` and ``score`` are the best's."""

    answers: Tuple[AnswerSpan, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def answer(self) -> Optional[str]:
        return self.answers[0].answer if self.answers else None

    @property
    def score(self) -> Optional[float]:
        return self.answers[0].score if self.answers else None

    @property
    def results(self) -> Optional[str]:
        return self.answer

    def to_dict(self) -> Dict[str, Any]:
        return {"answers": [{"answer": a.answer, "score": a.score, "start": a.start, "end": a.end} for a in self.answers],
                **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "QuestionAnsweringResponse":
        return cls(tuple(AnswerSpan(a["answer"], a["score"], a.get("start"), a.get("end")) for a in data["answers"]),
                   **_call(data, call))


@dataclass(frozen=True, slots=True)
class MaskFill:
    """One candidate for the mask: the whole sequence with it filled in, its score, and the token."""

    sequence: str
    score: float
    token_str: str
    token: Optional[int] = None


@dataclass(frozen=True, slots=True)
class FillMaskResponse:
    """Candidates for the mask, best first."""

    predictions: Tuple[MaskFill, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> Tuple[MaskFill, ...]:
        return self.predictions

    def to_dict(self) -> Dict[str, Any]:
        return {"predictions": [
            {"sequence": p.sequence, "score": p.score, "token_str": p.token_str, "token": p.token} for p in self.predictions
        ], **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "FillMaskResponse":
        return cls(tuple(MaskFill(p["sequence"], p["score"], p["token_str"], p.get("token")) for p in data["predictions"]),
                   **_call(data, call))


@dataclass(frozen=True, slots=True)
class SentenceSimilarityResponse:
    """One score per other sentence, in the order given (not sorted: ``rerank`` sorts)."""

    scores: Tuple[float, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> Tuple[float, ...]:
        return self.scores

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: int) -> float:
        return self.scores[index]

    def to_dict(self) -> Dict[str, Any]:
        return {"scores": list(self.scores), **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "SentenceSimilarityResponse":
        return cls(tuple(float(s) for s in data["scores"]), **_call(data, call))


@dataclass(frozen=True, slots=True)
class TableQuestionAnsweringResponse:
    """The answer (``"AVERAGE > 36542"`` when the model aggregates), the cells it comes from as
    (row, column) ``coordinates`` and their values, and the ``aggregator`` (NONE, SUM, AVERAGE, COUNT)."""

    answer: str
    coordinates: Tuple[Tuple[int, int], ...] = ()
    cells: Tuple[str, ...] = ()
    aggregator: Optional[str] = None
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> str:
        return self.answer

    def __str__(self) -> str:
        return self.answer

    def to_dict(self) -> Dict[str, Any]:
        return {"answer": self.answer, "coordinates": [list(c) for c in self.coordinates], "cells": list(self.cells),
                "aggregator": self.aggregator, **_meta(self)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "TableQuestionAnsweringResponse":
        return cls(data["answer"], tuple((int(r), int(c)) for r, c in data.get("coordinates") or ()),
                   tuple(data.get("cells") or ()), data.get("aggregator"), **_call(data, call))


# By name, for the cache (cache/entries.py).
TASK_RESULTS = {cls.__name__: cls for cls in (
    SummarizationResponse, TranslationResponse, TokenClassificationResponse, QuestionAnsweringResponse,
    FillMaskResponse, SentenceSimilarityResponse, TableQuestionAnsweringResponse,
)}

__all__ = ["AnswerSpan", "Entity", "MaskFill", *TASK_RESULTS]
