"""The values llm_interface returns: frozen dataclasses, parsed leniently from any server's JSON.

Unknown keys are ignored and missing optional keys take defaults, so a provider that adds a field
or leaves one out never breaks a caller. The raw body is kept in ``original`` only when asked
(``include_original_response``), so that the common path stays cheap.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Tuple

from .errors import InvalidResponseError


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None

    @classmethod
    def from_dict(cls, data: Any) -> Optional["Usage"]:
        if not isinstance(data, dict):
            return None
        prompt = _int(data.get("prompt_tokens", data.get("input_tokens")))
        completion = _int(data.get("completion_tokens", data.get("output_tokens")))
        total = _int(data.get("total_tokens"))
        if total is None and prompt is not None and completion is not None:
            total = prompt + completion
        return cls(prompt, completion, total)

    def as_dict(self) -> Dict[str, Optional[int]]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


def _int(value: Any) -> Optional[int]:
    """A token count from any JSON: an int, or a float with an integral value; else (NaN, "3", true) absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _number(value: Any) -> Optional[float]:
    """A finite float, else None (the cache writes strict JSON, and NaN is none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _seq(value: Any) -> list:
    return value if isinstance(value, list) else list(value) if isinstance(value, tuple) else []


@dataclass(frozen=True, slots=True)
class Logprobs:
    """OpenAI text-completion style logprobs (also filled from TGI ``details``)."""

    tokens: Tuple[str, ...] = ()
    token_logprobs: Tuple[Optional[float], ...] = ()
    top_logprobs: Optional[Tuple[Dict[str, float], ...]] = None
    text_offset: Tuple[int, ...] = ()

    @property
    def sum(self) -> float:
        """The sequence's log-probability: the sum over tokens that have one (a prompt's first has none)."""
        return float(sum(lp for lp in self.token_logprobs if lp is not None))

    def as_dict(self) -> Dict[str, Any]:
        return {
            "tokens": list(self.tokens),
            "token_logprobs": list(self.token_logprobs),
            "top_logprobs": None if self.top_logprobs is None else [dict(t) for t in self.top_logprobs],
            "text_offset": list(self.text_offset),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Optional["Logprobs"]:
        """OpenAI's text-completion logprobs from any JSON (a server's or the cache's): entries of the wrong
        type read as absent, never as an exception."""
        if not isinstance(data, dict):
            return None
        top = data.get("top_logprobs")
        tops = None
        if isinstance(top, (list, tuple)):
            tops = tuple(
                {k: v for k, v in t.items() if isinstance(k, str) and _number(v) is not None} if isinstance(t, dict) else {}
                for t in top
            )
        return cls(
            tuple(t if isinstance(t, str) else "" for t in _seq(data.get("tokens"))),
            tuple(_number(v) for v in _seq(data.get("token_logprobs"))),
            tops,
            tuple(_int(o) or 0 for o in _seq(data.get("text_offset"))),
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """One of several answers (``n`` > 1, or TGI ``best_of`` sequences)."""

    index: int
    text: str
    finish_reason: Optional[str] = None
    tool_calls: Tuple[Dict[str, Any], ...] = ()
    logprobs: Optional[Logprobs] = None
    reasoning: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Response:
    """The answer to one call. ``results`` is the text; everything else is detail."""

    results: str
    model: Optional[str] = None
    provider: Optional[str] = None
    finish_reason: Optional[str] = None
    usage: Optional[Usage] = None
    tool_calls: Tuple[Dict[str, Any], ...] = ()
    logprobs: Optional[Logprobs] = None
    choices: Tuple[Choice, ...] = ()
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    # A reasoning model's thinking (llm_interface/reasoning.py), never part of ``results``.
    reasoning: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)
    attempt_json_repair: bool = field(default=False, repr=False, compare=False)
    cost: Optional[float] = None  # USD, from the router catalogue's prices and the usage (cost.py); None: unknown
    inference_provider: Optional[str] = None  # Hugging Face: the Inference Provider that answered, when known

    def __str__(self) -> str:
        return self.results

    def json(self) -> Any:
        """The text parsed as JSON (JSON mode). With ``attempt_json_repair`` a malformed answer is repaired."""
        text = _strip_code_fence(self.results)
        try:
            return json.loads(text)
        except ValueError as exc:
            if not self.attempt_json_repair:
                raise InvalidResponseError(
                    "The model's answer is not valid JSON; pass interface option attempt_json_repair=True "
                    "to repair it, or ask for response_format={'type': 'json_object'}.",
                    provider=self.provider,
                    model=self.model,
                    request_id=self.request_id,
                ) from exc
        from json_repair import repair_json  # lazy: only needed when the model misbehaves

        return repair_json(text, return_objects=True)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (used by the cache and the CLI)."""
        return {
            "results": self.results,
            "model": self.model,
            "provider": self.provider,
            "finish_reason": self.finish_reason,
            "usage": self.usage.as_dict() if self.usage else None,
            "tool_calls": [dict(t) for t in self.tool_calls],
            "logprobs": self.logprobs.as_dict() if self.logprobs else None,
            "choices": [
                {
                    "index": c.index,
                    "text": c.text,
                    "finish_reason": c.finish_reason,
                    "tool_calls": [dict(t) for t in c.tool_calls],
                    "logprobs": c.logprobs.as_dict() if c.logprobs else None,
                    **({"reasoning": c.reasoning} if c.reasoning is not None else {}),
                }
                for c in self.choices
            ],
            "request_id": self.request_id,
            **({"reasoning": self.reasoning} if self.reasoning is not None else {}),
            "cost": self.cost,
            "inference_provider": self.inference_provider,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "Response":
        return cls(
            results=data.get("results") or "",
            model=data.get("model"),
            provider=data.get("provider"),
            finish_reason=data.get("finish_reason"),
            usage=Usage.from_dict(data.get("usage")),
            tool_calls=tuple(data.get("tool_calls") or ()),
            logprobs=Logprobs.from_dict(data.get("logprobs")),
            choices=tuple(
                Choice(
                    index=c.get("index", i),
                    text=c.get("text") or "",
                    finish_reason=c.get("finish_reason"),
                    tool_calls=tuple(c.get("tool_calls") or ()),
                    logprobs=Logprobs.from_dict(c.get("logprobs")),
                    reasoning=_text(c.get("reasoning")),
                )
                for i, c in enumerate(data.get("choices") or ())
            ),
            request_id=data.get("request_id"),
            reasoning=_text(data.get("reasoning")),
            cost=_number(data.get("cost")),
            inference_provider=data.get("inference_provider") if isinstance(data.get("inference_provider"), str) else None,
            **call,  # the per-call fields (cached, timings), so that a hit is built complete
        )

    def evolve(self, **changes: Any) -> "Response":
        return replace(self, **changes)


def _strip_code_fence(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped.strip()


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One piece of a streamed answer. ``text`` is the new text (may be empty on a usage-only chunk)."""

    text: str
    index: int = 0
    finish_reason: Optional[str] = None
    tool_calls: Tuple[Dict[str, Any], ...] = ()
    usage: Optional[Usage] = None
    logprob: Optional[float] = None
    token: Optional[str] = None
    raw: Any = field(default=None, repr=False, compare=False)
    reasoning: Optional[str] = None  # the new piece of a reasoning model's thinking, never in ``text``


@dataclass(frozen=True, slots=True)
class EmbeddingResponse:
    """Vectors in input order."""

    embeddings: List[List[float]]
    model: Optional[str] = None
    provider: Optional[str] = None
    usage: Optional[Usage] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> List[List[float]]:
        return self.embeddings

    def __len__(self) -> int:
        return len(self.embeddings)

    def __getitem__(self, index: int) -> List[float]:
        return self.embeddings[index]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "embeddings": [list(v) for v in self.embeddings],
            "model": self.model,
            "provider": self.provider,
            "usage": self.usage.as_dict() if self.usage else None,
            "request_id": self.request_id,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "EmbeddingResponse":
        return cls(
            [list(v) for v in data.get("embeddings") or ()],
            model=data.get("model"),
            provider=data.get("provider"),
            usage=Usage.from_dict(data.get("usage")),
            request_id=data.get("request_id"),
            **call,  # the per-call fields (cached, timings), so that a hit is built complete
        )


@dataclass(frozen=True, slots=True)
class Label:
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Classification:
    """Labels with scores for one input, best first."""

    labels: Tuple[Label, ...]

    @property
    def label(self) -> Optional[str]:
        return self.labels[0].label if self.labels else None

    @property
    def score(self) -> Optional[float]:
        return self.labels[0].score if self.labels else None


@dataclass(frozen=True, slots=True)
class ClassificationResponse:
    """One Classification per input, in input order."""

    classifications: Tuple[Classification, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> Tuple[Classification, ...]:
        return self.classifications

    def to_dict(self) -> Dict[str, Any]:
        return {
            "classifications": [[{"label": lab.label, "score": lab.score} for lab in c.labels] for c in self.classifications],
            "model": self.model,
            "provider": self.provider,
            "request_id": self.request_id,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "ClassificationResponse":
        return cls(
            tuple(
                Classification(tuple(Label(lab["label"], lab["score"]) for lab in labels))
                for labels in data.get("classifications") or ()
            ),
            model=data.get("model"),
            provider=data.get("provider"),
            request_id=data.get("request_id"),
            **call,  # the per-call fields (cached, timings), so that a hit is built complete
        )


@dataclass(frozen=True, slots=True)
class RerankResult:
    index: int
    score: float
    text: Optional[str] = None


@dataclass(frozen=True, slots=True)
class RerankResponse:
    """Documents by relevance, best first; ``index`` points into the documents given."""

    results: Tuple[RerankResult, ...]
    model: Optional[str] = None
    provider: Optional[str] = None
    retries: int = 0
    cached: bool = False
    request_time: Optional[float] = None
    total_time: Optional[float] = None
    request_id: Optional[str] = None
    original: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "results": [{"index": r.index, "score": r.score, "text": r.text} for r in self.results],
            "model": self.model,
            "provider": self.provider,
            "request_id": self.request_id,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], **call: Any) -> "RerankResponse":
        return cls(
            tuple(RerankResult(r["index"], r["score"], r.get("text")) for r in data.get("results") or ()),
            model=data.get("model"),
            provider=data.get("provider"),
            request_id=data.get("request_id"),
            **call,  # the per-call fields (cached, timings), so that a hit is built complete
        )
