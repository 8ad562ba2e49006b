"""What the self-hosted server routes answer, as frozen dataclasses parsed leniently (types.py's rules):
unknown keys ignored, missing optional keys ``None``, the raw body kept in ``original`` (out of repr)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a server says about itself (``/info``, ``/props``, ``/v1/models``, ``/version``...)."""

    kind: str  # tgi, tei, vllm, sglang, llamacpp, llama-cpp-python, transformers, openai
    model_id: Optional[str] = None
    max_input_tokens: Optional[int] = None
    max_total_tokens: Optional[int] = None
    dtype: Optional[str] = None
    version: Optional[str] = None
    task: Optional[str] = None  # TEI: embedding, classifier or reranker
    original: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Health:
    """``ok`` is True when the server answers its health route with a 2xx; ``detail`` says what it said."""

    ok: bool
    kind: str
    status: Optional[int] = None
    detail: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text's token ids as the server's own tokenizer sees them."""

    ids: Tuple[int, ...]
    kind: str
    pieces: Optional[Tuple[str, ...]] = None
    max_model_len: Optional[int] = None

    @property
    def count(self) -> int:
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class TokenCount:
    """How many tokens a conversation takes. ``exact`` is False for an estimate (``source`` says which)."""

    count: int
    exact: bool
    source: str

    def __int__(self) -> int:
        return self.count


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A SPLADE vector: (vocabulary index, weight) pairs, the non-zero ones only."""

    indices: Tuple[int, ...]
    values: Tuple[float, ...]

    def as_dict(self) -> dict:
        return dict(zip(self.indices, self.values))


@dataclass(frozen=True, slots=True)
class SparseEmbeddingResponse:
    vectors: Tuple[SparseVector, ...]
    model: Optional[str] = None
    request_id: Optional[str] = None

    def __len__(self) -> int:
        return len(self.vectors)

    def __getitem__(self, index: int) -> SparseVector:
        return self.vectors[index]


@dataclass(frozen=True, slots=True)
class Scores:
    """One score per text, in the order given (TEI ``/similarity``, vLLM ``/score``)."""

    scores: Tuple[float, ...]
    model: Optional[str] = None
    request_id: Optional[str] = None

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: int) -> float:
        return self.scores[index]


@dataclass(frozen=True, slots=True)
class Metrics:
    """A server's Prometheus ``/metrics``: ``values`` maps each sample as written (``name{labels}``) to
    its number; ``value(name, **labels)`` adds up the samples of one metric; ``text`` is the raw page."""

    values: Mapping[str, float]
    kind: str
    text: str = field(default="", repr=False)
    samples: Tuple[Tuple[str, Mapping[str, str], float], ...] = field(default=(), repr=False, compare=False)

    def value(self, name: str, **labels: str) -> Optional[float]:
        """The sum of ``name``'s samples whose labels include ``labels``; None when there is none."""
        found = [v for n, have, v in self.samples if n == name and all(have.get(k) == w for k, w in labels.items())]
        return sum(found) if found else None

    def names(self) -> Tuple[str, ...]:
        return tuple(sorted({n for n, _labels, _value in self.samples}))

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class Slot:
    """One llama.cpp ``/slots`` entry: its id, context size and whether it is busy (the rest in ``original``)."""

    id: int
    n_ctx: Optional[int] = None
    is_processing: Optional[bool] = None
    original: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PoolingResponse:
    """The pooler's output per input, as nested tuples of floats: TEI ``/embed_all`` gives one vector per
    token (``data[i][token][dim]``), vLLM ``/pooling`` whatever its pooler gives (a vector, or one per token)."""

    data: Tuple[Any, ...]
    model: Optional[str] = None
    request_id: Optional[str] = None

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Any:
        return self.data[index]
