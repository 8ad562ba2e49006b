"""Stream: a streamed answer, iterated for chunks, aggregated into a Response at the end.

Every stream reads ``(event, data)`` pairs from a source and hands them to a state that turns them into
chunks and, at the end, the aggregated Response: a provider's ``StreamState`` over an HTTP stream's SSE
events, or ``ChunkState`` over chunks an in-process engine (or the cache) already made. The recorder
(recorder.py) stores the result and tells the hooks, so a stream needs no client.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List, Optional, Sequence

from . import errors
from .plan import Plan
from .recorder import Recorder
from .types import Response, StreamChunk, Usage

CHUNK = "chunk"  # the event name of a pair whose data is a StreamChunk already


def replay_chunks(response: Response) -> List[StreamChunk]:
    """A cached answer as chunks: one for the text, then the finish."""
    chunks: List[StreamChunk] = []
    if response.reasoning:  # a reasoning model's thinking comes first, as it did live
        chunks.append(StreamChunk("", reasoning=response.reasoning))
    if response.results:
        chunks.append(StreamChunk(response.results))
    chunks.append(StreamChunk("", 0, response.finish_reason, response.tool_calls, response.usage))
    return chunks


class ChunkState:
    """The stream state of ready-made chunks: each passes through, and ``finish`` joins them."""

    def __init__(self, model: Optional[str], provider: Optional[str]) -> None:
        self._model, self._provider = model, provider
        self._parts: List[str] = []
        self._tool_calls: List[Dict[str, Any]] = []
        self._finish_reason: Optional[str] = None
        self._usage: Optional[Usage] = None

    done = False  # the source ends when its chunks do

    def on_event(self, _event: Optional[str], chunk: Any) -> Sequence[StreamChunk]:
        self._parts.append(chunk.text)
        self._tool_calls.extend(chunk.tool_calls)
        self._finish_reason = chunk.finish_reason or self._finish_reason
        self._usage = chunk.usage or self._usage
        return (chunk,)

    def finish(self, request_id: Optional[str]) -> Response:
        return Response(
            results="".join(self._parts), model=self._model, provider=self._provider, finish_reason=self._finish_reason,
            usage=self._usage, tool_calls=tuple(self._tool_calls), request_id=request_id,
        )


class Stream:
    """A streamed answer: iterate for chunks; ``.response`` is the aggregated Response once it ends.

    Closing it (``with`` block, ``close()``, or breaking out and letting it go) releases the connection.
    A stream that ends before the server says it is complete raises ``StreamError``, never a silent
    truncation.
    """

    def __init__(
        self,
        recorder: Optional[Recorder],
        plan: Optional[Plan],
        chunks: Optional[Iterator[StreamChunk]],
        http: Any,
    ) -> None:
        self._recorder = recorder
        self._plan = plan
        self._chunks = chunks
        self._http = http  # an open HTTP stream (transport.HttpStream): (event, data) pairs
        self.response: Optional[Response] = None
        self._consumed = False

    @classmethod
    def replay(cls, response: Response) -> "Stream":
        """A cached answer played back as chunks (nothing recorded: it is already in the cache)."""
        stream = cls(None, None, iter(replay_chunks(response)), None)
        stream.response = response
        return stream

    @property
    def request_id(self) -> Optional[str]:
        return self._http.request_id if self._http is not None else None

    def _pairs(self) -> Iterator[Any]:
        if self._http is not None:
            return iter(self._http)
        return ((CHUNK, chunk) for chunk in self._chunks or ())

    def __iter__(self) -> Iterator[StreamChunk]:
        if self._consumed:
            raise errors.StreamError("This stream was already read; streams can be iterated once.")
        self._consumed = True
        plan, recorder, http = self._plan, self._recorder, self._http
        if plan is None or recorder is None:  # a replay: the answer is known already
            yield from self._chunks or ()
            return
        state: Any = plan.provider.stream_state(plan.request) if http is not None else ChunkState(
            plan.request.model, plan.provider.name
        )
        complete = False
        pairs = self._pairs()  # held: a dropped generator would close the HTTP stream before it is released
        try:
            for event, data in pairs:
                yield from state.on_event(event, data)
                if state.done:
                    complete = True
                    break  # the answer is complete: don't wait for the server to close the connection
            response = state.finish(http.request_id if http is not None else None)
        except errors.LLMInterfaceError as error:
            recorder.failed_with(plan, error)
            raise
        finally:
            if http is not None:
                # Complete: the rest of the body is read and the connection pooled; stopped early: closed.
                http.release() if complete else http.close()
        if http is not None:
            self.response = recorder.succeeded(plan, response, time.perf_counter() - http.started, http.retries)
        else:
            self.response = recorder.succeeded(plan, response, time.perf_counter() - plan.started, 0)

    def text(self) -> str:
        """Read the whole stream and return its text."""
        return self.collect().results

    def collect(self) -> Response:
        """Read the rest of the stream and return the aggregated Response."""
        if not self._consumed:
            for _ in self:
                pass
        if self.response is None:
            raise errors.StreamError("The stream was closed before it finished.")
        return self.response

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
