"""The Provider protocol: translate a Request into an HttpCall, and an answer into a Response.

Providers do no I/O (DESIGN rule 1): ``prepare`` builds the call, ``parse`` reads the answer, and a
``StreamState`` turns SSE events into chunks and, at the end, the aggregated Response. The Client and
the transports do the rest. In-process engines (``in_process = True``) compute instead, behind
``compute`` (the whole answer) and ``stream``: not ``complete``, which is the public task of that name.
"""

from __future__ import annotations

from typing import Any, ClassVar, FrozenSet, Iterable, Iterator, List, Optional, Sequence

from ..errors import UnsupportedTaskError
from ..request import Request
from ..types import StreamChunk
from ..wire import HttpCall, HttpResult


class StreamState:
    """Per-stream parsing state. ``on_event`` returns chunks to yield; ``finish`` the final Response."""

    def on_event(self, event: Optional[str], data: bytes) -> Sequence[StreamChunk]:  # pragma: no cover - protocol
        raise NotImplementedError

    def finish(self, request_id: Optional[str]) -> Any:  # pragma: no cover - protocol
        raise NotImplementedError

    @property
    def done(self) -> bool:
        """True once the server said the answer is complete (``[DONE]`` or a terminal event)."""
        return False


class Provider:
    """Base of every provider. Subclasses set ``name`` and ``tasks`` and implement the hooks they support."""

    name: ClassVar[str] = ""
    tasks: ClassVar[FrozenSet[str]] = frozenset()
    in_process: ClassVar[bool] = False

    def engine_for(self, request: Request) -> "Provider":
        """The provider that serves this request: itself, or an in-process engine it hands the call to
        (the Hugging Face provider's local mode). Decided once, in ``Client.plan``, before anything else."""
        return self

    def needs_api_key(self, request: Request) -> bool:
        return False

    def trusts_ambient_key(self, request: Request) -> bool:
        """May a key from the environment (not passed to this call or set_api_key) go to this request's server?"""
        return True

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        """The model id to use (aliases resolved); providers decide how strict to be."""
        return request.model

    def supports(self, request: Request) -> None:
        if request.task not in self.tasks:
            raise UnsupportedTaskError(
                f"{self.name!r} cannot do {request.task!r}; it supports: {', '.join(sorted(self.tasks))}.",
                provider=self.name, model=request.model,
            )

    def needs_provider_mapping(self, request: Request) -> bool:
        """True when the serving Inference Provider must be read from the Hub before ``prepare`` (Hugging Face)."""
        return False

    def renders_prompt(self, request: Request) -> bool:
        """True when chat messages must be rendered into a raw prompt (prompt templates) before ``prepare``."""
        return False

    def batch_size(self, request: Request) -> Optional[int]:
        """How many inputs one embeddings/classify call may carry; None: no limit (the Client splits longer lists)."""
        return request.settings.get("batch_size")

    def prepare(self, request: Request) -> HttpCall:  # pragma: no cover - protocol
        raise NotImplementedError

    def parse(self, request: Request, result: HttpResult) -> Any:  # pragma: no cover - protocol
        raise NotImplementedError

    def stream_state(self, request: Request) -> StreamState:  # pragma: no cover - protocol
        raise NotImplementedError

    # In-process engines only.
    def compute(self, request: Request) -> Any:  # pragma: no cover - protocol
        raise NotImplementedError

    def stream(self, request: Request) -> Iterator[StreamChunk]:  # pragma: no cover - protocol
        raise NotImplementedError


def first_stop(text: str, stops: Iterable[str]) -> int:
    """The index where the earliest stop sequence starts in ``text``, or -1."""
    best = -1
    for stop in stops:
        if stop:
            at = text.find(stop)
            if at != -1 and (best == -1 or at < best):
                best = at
    return best


def partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of ``text`` that begins ``marker`` (the next piece may complete it)."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


def stop_list(params: dict) -> List[str]:
    stop = params.get("stop")
    if not stop:
        return []
    return [stop] if isinstance(stop, str) else [s for s in stop if s]
