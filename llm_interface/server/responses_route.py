"""The proxy's ``POST /v1/responses``: OpenAI's Responses API over ``respond`` (responses_shapes.py builds the
bodies and events). A stream goes out as SSE with ``event:`` lines, as OpenAI sends it, and closes its upstream
stream when the client leaves (``streams.EventStreamResponse``); a failure mid-way is an ``error`` event."""

from __future__ import annotations

from typing import Any, AsyncIterator, List, Optional

from ..responses_shapes import response_events
from .streams import EventStreamResponse, Finished, event, failure_body


def sse(payload: Any) -> str:
    return f"event: {payload['type']}\n{event(payload)}"


async def streamed_responses(stream: Any, model: str, secrets: List[str], finished: Optional[Finished] = None) -> Any:
    """Open the upstream stream first (a failure before the first byte is a normal error answer)."""
    await stream
    return EventStreamResponse(_events(stream, model, secrets, finished))


async def _events(stream: Any, model: str, secrets: List[str], finished: Optional[Finished]) -> AsyncIterator[str]:
    try:
        async for payload in response_events(stream, model):
            yield sse(payload)
        if finished is not None:
            finished(stream.response)
    except Exception as error:  # typed or not, the client gets an error event, never a cut-off stream
        body = failure_body(error, secrets)
        yield sse({"type": "error", "code": body["error"].get("code"), "message": body["error"]["message"], "param": None})
    finally:
        await stream.aclose()
