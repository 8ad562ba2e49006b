"""Stream: a streamed answer, iterated for chunks, aggregated into a Response at the end."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional

from . import errors
from .transport import HttpStream
from .types import Response, StreamChunk, Usage

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client, Plan


class Stream:
    """A streamed answer: iterate for chunks; ``.response`` is the aggregated Response once it ends.

    Closing it (``with`` block, ``close()``, or breaking out and letting it go) releases the connection.
    A stream that ends before the server says it is complete raises ``StreamError``, never a silent
    truncation.
    """

    def __init__(
        self,
        client: Optional[Client],
        plan: Optional[Plan],
        chunks: Optional[Iterator[StreamChunk]],
        http: Optional[HttpStream],
    ) -> None:
        self._client = client
        self._plan = plan
        self._chunks = chunks
        self._http = http
        self.response: Optional[Response] = None
        self._consumed = False

    @classmethod
    def replay(cls, response: Response) -> "Stream":
        """A cached answer played back as chunks (one for the text, then the finish)."""
        stream = cls(None, None, None, None)
        chunks: List[StreamChunk] = []
        if response.results:
            chunks.append(StreamChunk(response.results))
        chunks.append(StreamChunk("", 0, response.finish_reason, response.tool_calls, response.usage))
        stream._chunks = iter(chunks)
        stream.response = response
        return stream

    @property
    def request_id(self) -> Optional[str]:
        return self._http.request_id if self._http is not None else None

    def __iter__(self) -> Iterator[StreamChunk]:
        if self._consumed:
            raise errors.StreamError("This stream was already read; streams can be iterated once.")
        self._consumed = True
        if self._http is None:
            yield from self._in_process()
            return
        plan, client, http = self._plan, self._client, self._http
        state = plan.provider.stream_state(plan.request)
        try:
            for event, data in http:
                for chunk in state.on_event(event, data):
                    yield chunk
                if state.done:
                    break  # the answer is complete: don't wait for the server to close the connection
            response = state.finish(http.request_id)
        except errors.LLMInterfaceError as error:
            client.failed(plan, error)
            raise
        finally:
            http.close()
        self.response = client.finish(plan, response, time.perf_counter() - http.started, http.retries, None)

    def _in_process(self) -> Iterator[StreamChunk]:
        parts: List[str] = []
        tool_calls: List[Dict[str, Any]] = []
        finish_reason: Optional[str] = None
        usage: Optional[Usage] = None
        try:
            for chunk in self._chunks or ():
                parts.append(chunk.text)
                tool_calls.extend(chunk.tool_calls)
                finish_reason = chunk.finish_reason or finish_reason
                usage = chunk.usage or usage
                yield chunk
        except errors.LLMInterfaceError as error:
            if self._plan is not None and self._client is not None:
                self._client.failed(self._plan, error)
            raise
        if self._plan is not None and self._client is not None:
            started = self._plan.started
            response = Response(
                results="".join(parts),
                model=self._plan.request.model,
                provider=self._plan.provider.name,
                finish_reason=finish_reason,
                usage=usage,
                tool_calls=tuple(tool_calls),
            )
            self.response = self._client.finish(self._plan, response, time.perf_counter() - started, 0, None)

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
