"""Streamed answers (SSE) that stop the upstream generation as soon as the client goes away.

An abandoned stream must not keep reading from Hugging Face: the operator pays for every token. The
response listens for the client's ``http.disconnect`` while it sends, and on a disconnect cancels the
sending task at once; the event generator's ``finally`` then closes the upstream stream, which closes
its connection (a half-read connection is never pooled). This does not rely on a write failing, which
a server may report late or never.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Callable, List, MutableMapping, Optional

from starlette.responses import Response

from .. import errors
from ..openai_shapes import chat_chunk, chat_role_chunk, chunk_base, completion_chunk, usage_dict
from .errors import internal_error, openai_error
from .usage import with_cost

logger = logging.getLogger("llm_interface.server")

SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no")]


def event(payload: Any) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


def failure_body(error: BaseException, secrets: List[str]) -> Any:
    """The OpenAI error body for a failure after the status line went out (logged: no status will show it)."""
    if isinstance(error, errors.LLMInterfaceError):
        _status, body, _headers = openai_error(error, secrets)
    else:
        _status, body = internal_error(error)
    logger.warning("stream failed: %s: %s", type(error).__name__, body["error"]["message"])
    return body


def error_event(error: BaseException, secrets: List[str]) -> str:
    """A failure after the status line went out: OpenAI clients read an ``error`` event and raise it."""
    return event(failure_body(error, secrets))


class EventStreamResponse(Response):
    """An ASGI response sending ``events`` (strings) as SSE; the generator is closed however it ends."""

    def __init__(self, events: AsyncIterator[str]) -> None:
        super().__init__(status_code=200, media_type="text/event-stream")
        self.events = events

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        sender = asyncio.ensure_future(self._send_all(send))
        listener = asyncio.ensure_future(self._wait_for_disconnect(receive))
        try:
            await asyncio.wait({sender, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, listener):
                task.cancel()
            await asyncio.gather(sender, listener, return_exceptions=True)
            await self._close()
        failure = sender.exception() if sender.done() and not sender.cancelled() else None
        if failure is not None:  # a bug in sending: the server logs it (the status line is gone)
            raise failure

    async def _send_all(self, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            async for text in self.events:
                await send({"type": "http.response.body", "body": text.encode("utf-8"), "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # ASGI 2.4: a send to a client that left raises; that is a disconnect, not a failure
            return

    @staticmethod
    async def _wait_for_disconnect(receive: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    async def _close(self) -> None:
        close = getattr(self.events, "aclose", None)
        if close is not None:
            try:
                await close()
            except (Exception, asyncio.CancelledError):  # closing is best effort; the socket goes either way
                logger.debug("closing an event stream failed", exc_info=True)


# Told the finished stream's answer (the usage ledger); returns its cost in USD, None when unknown.
Finished = Callable[[Any], Optional[float]]


async def streamed(stream: Any, kind: str, model: str, include_usage: bool, secrets: List[str],
                   finished: Optional[Finished] = None) -> Any:
    """Open the upstream stream (a failure before the first byte is a normal error answer), then send
    it as SSE; the upstream stream is closed when the answer ends or the client disconnects."""
    await stream
    return EventStreamResponse(_events(stream, kind, model, include_usage, secrets, finished))


async def _events(stream: Any, kind: str, model: str, include_usage: bool, secrets: List[str],
                  finished: Optional[Finished]) -> AsyncIterator[str]:
    """A stream as OpenAI chunk events (``openai_shapes.chunks``); a failure mid-way becomes an ``error`` event."""
    try:
        async for payload in _chunks(stream, kind, model, include_usage, finished):
            yield event(payload)
        yield "data: [DONE]\n\n"
    except Exception as error:  # typed or not, a client gets an error event, never a cut-off stream
        yield error_event(error, secrets)
    finally:
        await stream.aclose()


async def _chunks(stream: Any, kind: str, model: str, include_usage: bool,
                  finished: Optional[Finished]) -> AsyncIterator[Any]:
    """``openai_shapes.chunks`` over an async stream: the same pieces, the same order."""
    base = chunk_base(kind, model)
    build = chat_chunk if kind == "chat" else completion_chunk
    if kind == "chat":
        yield chat_role_chunk(base)
    async for chunk in stream:
        payload = build(base, chunk)
        if payload is not None:  # None: a usage-only or empty chunk
            yield payload
    cost = finished(stream.response) if finished is not None else None
    if include_usage and kind == "chat":
        yield {**base, "choices": [], "usage": with_cost(usage_dict(stream.response), cost)}
