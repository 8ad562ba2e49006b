"""OpenAI's Responses API, as the Inference Providers router serves it (beta): ``POST {router}/v1/responses``.

Follows (checked 2026-12-01): hub-docs ``docs/inference-providers/guides/responses-api.md`` and
``guides/gpt-oss.md`` (``{"model": "openai/gpt-oss-120b:groq", "instructions": ..., "input": str | [items],
"tools", "tool_choice", "reasoning": {"effort"}, "stream"}``; served by huggingface/responses.js), and OpenAI's
Responses reference for the shapes: an answer ``{"id", "object": "response", "status", "model", "output":
[items], "usage": {"input_tokens", "output_tokens", "total_tokens"}, "incomplete_details"}`` whose items are
``message`` (``content`` parts ``output_text``), ``reasoning`` (``content`` parts ``reasoning_text``, or
``summary`` parts ``summary_text``) and ``function_call`` (``call_id``, ``name``, ``arguments``); a stream of
typed events (``response.created``, ``response.output_text.delta``, ``response.reasoning_text.delta``,
``response.reasoning_summary_text.delta``, ``response.completed`` / ``response.incomplete`` carrying the whole
response, ``response.failed`` and ``error``).

An answer reads as a ``Response``: ``results`` the output text, ``reasoning`` the thinking, ``tool_calls`` the
function calls in chat's shape (``{"id", "type": "function", "function": {"name", "arguments"}}``), ``usage``,
``finish_reason`` ("stop", "tool_calls", or "length" when ``max_output_tokens`` cut it), ``request_id`` the
response id when the server sent no request id header. Every stream event becomes a ``StreamChunk`` whose
``raw`` is the event (``raw["type"]`` names it), so a caller sees all of them.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors, redact
from ..request import Request
from ..types import Response, StreamChunk, Usage
from .base import StreamState
from .lenient import as_dict, as_list, as_str, invalid, kind
from .openai_compatible import raise_in_body_error

TEXT_DELTAS = ("response.output_text.delta",)
REASONING_DELTAS = ("response.reasoning_text.delta", "response.reasoning_summary_text.delta")
FINAL = ("response.completed", "response.incomplete")
FAILED = ("response.failed", "error")


def responses_body(request: Request, model: Optional[str]) -> Dict[str, Any]:
    body: Dict[str, Any] = {"input": request.inputs}
    if model is not None:
        body["model"] = model
    params = dict(request.params)
    if "max_tokens" in params:  # chat's name; the Responses API's is max_output_tokens
        params.setdefault("max_output_tokens", params.pop("max_tokens"))
        params.pop("max_tokens", None)
    body.update(params)
    if request.stream:
        body["stream"] = True
    return body


def _texts(parts: Any, wanted: Tuple[str, ...]) -> List[str]:
    return [part["text"] for part in as_list(parts)
            if isinstance(part, dict) and part.get("type") in wanted and isinstance(part.get("text"), str)]


def _tool_call(item: Mapping[str, Any]) -> Dict[str, Any]:
    arguments = item.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False, default=str)
    return {"id": as_str(item.get("call_id")) or as_str(item.get("id")), "type": "function",
            "function": {"name": as_str(item.get("name")) or "", "arguments": arguments}}


def parse_response(body: Any, request: Request, provider: str, request_id: Optional[str]) -> Response:
    """A Responses API ``response`` object as a Response (see the module docstring)."""
    raise_in_body_error(body, request, provider, request_id)  # a failed response carries ``error``
    if not isinstance(body, dict) or not isinstance(body.get("output"), list):
        raise invalid("it has no 'output' list", body, provider=provider, model=request.model, request_id=request_id,
                      hint="Does the server serve the Responses API (POST /v1/responses)?")
    texts: List[str] = []
    thoughts: List[str] = []
    calls: List[Dict[str, Any]] = []
    for position, item in enumerate(body["output"]):
        if not isinstance(item, dict):
            raise invalid(f"output[{position}] is {kind(item)}, not an object", body, provider=provider,
                          model=request.model, request_id=request_id)
        kind_of = item.get("type")
        if kind_of == "message":
            texts.extend(_texts(item.get("content"), ("output_text",)))
        elif kind_of == "reasoning":
            thoughts.extend(_texts(item.get("content"), ("reasoning_text",)) or _texts(item.get("summary"), ("summary_text",)))
        elif kind_of == "function_call":
            calls.append(_tool_call(item))
    if body.get("status") == "incomplete":
        reason = as_str(as_dict(body.get("incomplete_details")).get("reason"))
        finish = "length" if reason in (None, "max_output_tokens") else reason
    else:
        finish = "tool_calls" if calls else "stop"
    return Response(
        results="".join(texts), model=as_str(body.get("model")) or request.model, provider=provider,
        finish_reason=finish, usage=Usage.from_dict(body.get("usage")), tool_calls=tuple(calls),
        request_id=request_id or as_str(body.get("id")), reasoning="".join(thoughts) if thoughts else None,
    )


class ResponsesStreamState(StreamState):
    """Every event a chunk (``raw``: the event); text and reasoning deltas as ``text`` / ``reasoning``; the
    final Response from ``response.completed`` (or ``response.incomplete``)."""

    def __init__(self, request: Request, provider: str) -> None:
        self.request, self.provider = request, provider
        self.final: Optional[Response] = None

    @property
    def done(self) -> bool:
        return self.final is not None

    def on_event(self, event: Optional[str], data: bytes) -> Sequence[StreamChunk]:
        if data == b"[DONE]":
            return ()
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise errors.StreamError(f"The stream sent malformed JSON: {redact.clip(data, 120)!r}", provider=self.provider,
                                     model=self.request.model) from exc
        if not isinstance(obj, dict):
            raise invalid(f"a stream event is {kind(obj)}, not an object", obj, provider=self.provider,
                          model=self.request.model, request_id=None)
        name = as_str(obj.get("type")) or event or ""
        if name in FAILED:
            failure = as_dict(obj.get("response")).get("error") or obj.get("error") or obj
            raise_in_body_error({"error": failure}, self.request, self.provider, None, 500)
        delta = as_str(obj.get("delta")) or ""
        if name in TEXT_DELTAS:
            return (StreamChunk(delta, raw=obj),)
        if name in REASONING_DELTAS:
            return (StreamChunk("", raw=obj, reasoning=delta or None),)
        if name in FINAL:
            self.final = parse_response(obj.get("response"), self.request, self.provider, None)
            return (StreamChunk("", 0, self.final.finish_reason, self.final.tool_calls, self.final.usage, raw=obj),)
        return (StreamChunk("", raw=obj),)

    def finish(self, request_id: Optional[str]) -> Response:
        if self.final is None:
            raise errors.StreamError(
                "The stream ended before response.completed; the text received so far is incomplete.",
                provider=self.provider, model=self.request.model, request_id=request_id,
            )
        return self.final.evolve(request_id=request_id) if request_id else self.final
