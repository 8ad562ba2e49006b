"""OpenAI's Responses API shapes built from llm_interface's results, for the proxy's ``POST /v1/responses``.

Built from our ``Response`` (not copied from upstream), so that a cached answer, any route's answer and a live
one look the same: a ``response`` object with a ``reasoning`` item (when there was thinking), a ``message``
item with one ``output_text`` part, and a ``function_call`` item per tool call; a stream is the event sequence
OpenAI's SDKs read (``response.created``, ``response.output_item.added``, ``response.content_part.added``,
``response.reasoning_text.delta`` / ``response.output_text.delta``, the ``.done`` events, ``response.completed``),
each with its ``sequence_number``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, AsyncIterator, Dict, List, Optional

from .types import Response, StreamChunk


def _usage(response: Optional[Response]) -> Optional[Dict[str, int]]:
    usage = response.usage if response is not None else None
    if usage is None:
        return None
    prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": usage.total_tokens or prompt + completion}


def _reasoning_item(item_id: str, text: str) -> Dict[str, Any]:
    return {"type": "reasoning", "id": item_id, "summary": [], "content": [{"type": "reasoning_text", "text": text}]}


def _message_item(item_id: str, text: str, status: str = "completed") -> Dict[str, Any]:
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def _call_items(response: Response) -> List[Dict[str, Any]]:
    return [{"type": "function_call", "id": f"fc_{uuid.uuid4().hex}", "call_id": call.get("id") or f"call_{uuid.uuid4().hex}",
             "name": (call.get("function") or {}).get("name", ""), "arguments": (call.get("function") or {}).get("arguments", ""),
             "status": "completed"} for call in response.tool_calls]


def response_object(response: Optional[Response], model: Optional[str], response_id: str,
                    output: Optional[List[Dict[str, Any]]] = None, status: Optional[str] = None) -> Dict[str, Any]:
    """A ``response`` object (``output`` built from ``response`` unless given)."""
    if output is None:
        output = []
        if response is not None and response.reasoning:
            output.append(_reasoning_item(f"rs_{uuid.uuid4().hex}", response.reasoning))
        if response is not None and (response.results or not response.tool_calls):
            output.append(_message_item(f"msg_{uuid.uuid4().hex}", response.results))
        if response is not None:
            output.extend(_call_items(response))
    if status is None:
        status = "incomplete" if response is not None and response.finish_reason == "length" else "completed"
    return {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model, "status": status,
            "output": output, "usage": _usage(response), "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None}


def responses_body(response: Response, model: Optional[str]) -> Dict[str, Any]:
    return response_object(response, model, f"resp_{uuid.uuid4().hex}")


class _Events:
    """Numbers the events of one stream and keeps the items as they grow."""

    def __init__(self, model: Optional[str]) -> None:
        self.model, self.number = model, 0
        self.response_id = f"resp_{uuid.uuid4().hex}"
        self.items: List[Dict[str, Any]] = []  # output items in order: (kind, id, text parts)
        self.open: Dict[str, int] = {}  # "reasoning" / "message" -> output index of the item being written

    def event(self, kind: str, **fields: Any) -> Dict[str, Any]:
        payload = {"type": kind, "sequence_number": self.number, **fields}
        self.number += 1
        return payload

    def start(self, kind: str) -> List[Dict[str, Any]]:
        """Open an item (closing the other kind's, as thinking ends when the answer starts)."""
        events = self.close_all()
        index = len(self.items)
        item_id = f"{'rs' if kind == 'reasoning' else 'msg'}_{uuid.uuid4().hex}"
        self.items.append({"kind": kind, "id": item_id, "text": ""})
        self.open[kind] = index
        item = _reasoning_item(item_id, "") if kind == "reasoning" else _message_item(item_id, "", "in_progress")
        part: Dict[str, Any] = {"type": "reasoning_text" if kind == "reasoning" else "output_text", "text": ""}
        if kind == "message":
            part["annotations"] = []
        item["content"] = []
        events.append(self.event("response.output_item.added", output_index=index, item=item))
        events.append(self.event("response.content_part.added", item_id=item_id, output_index=index, content_index=0, part=part))
        return events

    def delta(self, kind: str, text: str) -> List[Dict[str, Any]]:
        events = [] if kind in self.open else self.start(kind)
        index = self.open[kind]
        item = self.items[index]
        item["text"] += text
        name = "response.reasoning_text.delta" if kind == "reasoning" else "response.output_text.delta"
        events.append(self.event(name, item_id=item["id"], output_index=index, content_index=0, delta=text))
        return events

    def close_all(self) -> List[Dict[str, Any]]:
        events: List[Dict[str, Any]] = []
        for kind, index in sorted(self.open.items(), key=lambda pair: pair[1]):
            item = self.items[index]
            done = _reasoning_item(item["id"], item["text"]) if kind == "reasoning" else _message_item(item["id"], item["text"])
            name = "response.reasoning_text.done" if kind == "reasoning" else "response.output_text.done"
            events.append(self.event(name, item_id=item["id"], output_index=index, content_index=0, text=item["text"]))
            events.append(self.event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                                     part=done["content"][0]))
            events.append(self.event("response.output_item.done", output_index=index, item=done))
        self.open.clear()
        return events

    def output(self, response: Optional[Response]) -> List[Dict[str, Any]]:
        items = [_reasoning_item(i["id"], i["text"]) if i["kind"] == "reasoning" else _message_item(i["id"], i["text"])
                 for i in self.items]
        return items + (_call_items(response) if response is not None else [])


async def response_events(stream: Any, model: Optional[str]) -> AsyncIterator[Dict[str, Any]]:
    """An async stream of StreamChunks as Responses API events (the caller closes the stream)."""
    events = _Events(model)
    yield events.event("response.created", response=response_object(None, model, events.response_id, [], "in_progress"))
    chunk: StreamChunk
    async for chunk in stream:
        if chunk.reasoning:
            for payload in events.delta("reasoning", chunk.reasoning):
                yield payload
        if chunk.text:
            for payload in events.delta("message", chunk.text):
                yield payload
    for payload in events.close_all():
        yield payload
    final: Optional[Response] = getattr(stream, "response", None)
    body = response_object(final, model, events.response_id, events.output(final))
    yield events.event("response.incomplete" if body["status"] == "incomplete" else "response.completed", response=body)
