"""Any server that speaks OpenAI's ``/v1/chat/completions``: vLLM, llama.cpp, ``transformers serve``,
TGI's Messages API, the Hugging Face router, our own proxy.

Follows: https://platform.openai.com/docs/api-reference/chat (create, streaming chunk objects) and
TGI's Messages API (``tgi-openapi.json`` 3.3.6); facts checked 2026-11-21 against the recordings in
``hf-reference``. Lenient on purpose: TGI 1.x answers ``object: text_completion`` with ``id: ""``,
finish reasons ``eos_token``/``eos``, and tool calls with object arguments and integer ids; all of
that is normalised to OpenAI's vocabulary here.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import errors, redact
from ..reasoning import ThinkSplitter, reasoning_and_text, reasoning_field
from ..request import Request
from ..types import Choice, Logprobs, Response, StreamChunk, Usage
from ..wire import HttpCall, HttpResult, request_id_of
from .base import Provider, StreamState, first_stop, partial_suffix, stop_list
from .hf_tasks import openai_embed_body, parse_openai_embeddings
from .lenient import as_dict, as_float, as_int, as_list, as_str, invalid, kind, text_of

# Finish reasons across TGI versions and providers, mapped to OpenAI's words.
FINISH_REASONS = {
    "eos_token": "stop",
    "eos": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "stop": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

# A stream's choice index beyond this is a server's mistake, read as 0 (one dict entry per index is kept).
MAX_CHOICES = 128

# TGI's in-stream ``error_type`` -> the HTTP status it would have answered with.
STREAM_ERROR_STATUS = {
    "validation": 422,
    "template_error": 422,
    "tool_error": 422,
    "generation": 424,
    "overloaded": 429,
    "incomplete_generation": 500,
}


def finish_reason_of(value: Any) -> Optional[str]:
    if not value or not isinstance(value, str):
        return None  # a finish reason that is no string is no finish reason we can report
    return FINISH_REASONS.get(value, value)


# The OpenAI routes an api_base may already name, longest first ("/chat/completions" also ends in "/completions").
OPENAI_ROUTES = ("/chat/completions", "/completions", "/embeddings")


def swap_route(base: str, route: str, known: Tuple[str, ...]) -> Optional[str]:
    """``base`` with its trailing route (one of ``known``) replaced by ``route``; None if it names none."""
    for name in known:
        if base.endswith(name):
            return base[: -len(name)] + route
    return None


def join_url(base: str, suffix: str = "/v1/chat/completions") -> str:
    """Endpoint URL joining as Hugging Face documents it, for any OpenAI route ``suffix``.

    ``{base}/v1/chat/completions``; a base ending in ``/v1`` gets ``/chat/completions``; a base that
    already names an OpenAI route has it replaced by this one (so a chat URL given as api_base still
    sends completions to ``/completions``).
    """
    base = base.rstrip("/")
    route = suffix[len("/v1"):]
    swapped = swap_route(base, route, OPENAI_ROUTES)
    if swapped is not None:
        return swapped
    if base.endswith("/v1"):
        return base + route
    return base + suffix


def normalize_tool_call(call: Any, position: int) -> Dict[str, Any]:
    """OpenAI's shape, whatever the server sent: string ids, string (JSON) arguments."""
    call = as_dict(call)
    function = as_dict(call.get("function"))
    arguments = function.get("arguments")
    if arguments is None:
        arguments = ""
    elif not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False, default=str)
    call_id = call.get("id")
    return {
        "id": str(call_id) if isinstance(call_id, (str, int)) and call_id != "" else f"call_{position}",
        "type": as_str(call.get("type")) or "function",
        "function": {"name": as_str(function.get("name")) or "", "arguments": arguments},
    }


def tool_calls_of(calls: Any) -> Tuple[Dict[str, Any], ...]:
    """A message's ``tool_calls`` in OpenAI's shape; anything but a list of objects is none."""
    return tuple(normalize_tool_call(c, n) for n, c in enumerate(as_list(calls)) if isinstance(c, dict))


def _chat_logprobs(data: Any) -> Optional[Logprobs]:
    if isinstance(data, dict) and isinstance(data.get("tokens"), list):  # /v1/completions: already OpenAI's shape
        return Logprobs.from_dict(data)
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        return None
    tokens: List[str] = []
    values: List[Optional[float]] = []
    tops: List[Dict[str, float]] = []
    offsets: List[int] = []
    offset = 0
    for item in data["content"]:
        item = as_dict(item)
        token = as_str(item.get("token")) or ""
        tokens.append(token)
        values.append(as_float(item.get("logprob")))
        tops.append({
            as_str(t.get("token")) or "": value
            for t in as_list(item.get("top_logprobs")) if isinstance(t, dict)
            for value in (as_float(t.get("logprob")),) if value is not None
        })
        offsets.append(offset)
        offset += len(token)
    return Logprobs(tuple(tokens), tuple(values), tuple(tops) if any(tops) else None, tuple(offsets))


def cut_at_stop(text: str, stops: Sequence[str]) -> Tuple[str, bool]:
    """(text before the first stop sequence, whether one was found). Servers such as TGI and
    ``transformers serve`` leave the stop sequence in the text; OpenAI's contract strips it."""
    if not stops:
        return text, False
    at = first_stop(text, stops)
    return (text[:at], True) if at != -1 else (text, False)


def raise_in_body_error(body: Any, request: Request, provider: str, request_id: Optional[str], status: int = 200) -> None:
    """A 2xx (or a stream event) that carries ``error``: raise it as the typed error it stands for."""
    if not isinstance(body, dict) or "error" not in body or body.get("error") is None:
        return
    error = body["error"]
    error_type = as_str(body.get("error_type"))
    code = as_int(as_dict(error).get("http_status_code"))
    if code is not None and 400 <= code <= 599:
        status = code
    elif error_type in STREAM_ERROR_STATUS:
        status = STREAM_ERROR_STATUS[error_type]
    elif status < 400:
        status = 500
    if error_type in ("incomplete_generation", "incomplete_generation_stream"):
        raise errors.StreamError(
            f"The server stopped generating before the answer was complete: {errors.server_message_of(body)}",
            provider=provider, model=request.model, request_id=request_id, server_message=errors.server_message_of(body),
        )
    raise errors.error_for_status(status, body, None, provider=provider, model=request.model, request_id=request_id)


class ChatStreamState(StreamState):
    """Aggregates OpenAI chat-completion chunks; holds back text that may be the start of a stop sequence."""

    __slots__ = ("request", "provider", "texts", "finishes", "tools", "usage", "model", "_done", "_stops", "_held", "_stopped",
                 "thoughts", "_think")

    def __init__(self, request: Request, provider: str) -> None:
        self.request = request
        self.provider = provider
        self.texts: Dict[int, List[str]] = {}
        self.finishes: Dict[int, Optional[str]] = {}
        self.tools: Dict[int, Dict[int, Dict[str, Any]]] = {}
        self.usage: Optional[Usage] = None
        self.model: Optional[str] = None
        self._done = False
        self._stops = stop_list(request.params)
        self._held: Dict[int, str] = {}
        self._stopped: set = set()
        self.thoughts: Dict[int, List[str]] = {}  # reasoning per choice (reasoning.py)
        self._think: Dict[int, ThinkSplitter] = {}

    @property
    def done(self) -> bool:
        return self._done

    @property
    def ended(self) -> bool:
        """[DONE] seen, or every choice has a finish reason (servers that end without [DONE])."""
        return self._done or (bool(self.finishes) and all(self.finishes.values()))

    def on_event(self, event: Optional[str], data: bytes) -> Sequence[StreamChunk]:
        if data == b"[DONE]":
            self._done = True
            return ()
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise errors.StreamError(
                f"The stream sent malformed JSON: {redact.clip(data, 120)!r}", provider=self.provider, model=self.request.model,
            ) from exc
        if not isinstance(obj, dict):
            raise invalid(f"a stream event is {kind(obj)}, not an object", obj,
                          provider=self.provider, model=self.request.model, request_id=None)
        return self.on_object(event, obj)

    def on_object(self, event: Optional[str], obj: Dict[str, Any]) -> List[StreamChunk]:
        """One decoded event; subclasses translate other stream shapes (TGI ``/generate_stream``) into it."""
        if "error" in obj or event == "error":
            raise_in_body_error(obj if "error" in obj else {"error": obj}, self.request, self.provider, None)
        if self.model is None and isinstance(obj.get("model"), str) and obj["model"]:
            self.model = obj["model"]
        usage = obj.get("usage")
        chunk_usage = Usage.from_dict(usage) if usage else None
        if chunk_usage is not None:
            self.usage = chunk_usage
        chunks: List[StreamChunk] = []
        for position, choice in enumerate(as_list(obj.get("choices"))):
            if not isinstance(choice, dict):
                raise invalid(f"choices[{position}] of a stream event is {kind(choice)}, not an object", obj,
                              provider=self.provider, model=self.request.model, request_id=None)
            index = as_int(choice.get("index"))
            index = index if index is not None and 0 <= index < MAX_CHOICES else 0
            delta = choice.get("delta")
            if delta is not None and not isinstance(delta, dict):
                raise invalid(f"choices[{position}].delta of a stream event is {kind(delta)}, not an object", obj,
                              provider=self.provider, model=self.request.model, request_id=None)
            delta = delta or {}
            # Chat chunks carry delta.content; /v1/completions chunks carry text.
            content = delta.get("content") if delta else choice.get("text")
            if content is not None and not isinstance(content, (str, list)):
                raise invalid(f"choices[{position}]'s content in a stream event is {kind(content)}, not text", obj,
                              provider=self.provider, model=self.request.model, request_id=None)
            text = text_of(content)
            thought = reasoning_field(delta)
            if (text or index in self._think) and "delta" in choice:  # chat only: a raw completion is left as is
                splitter = self._think.get(index) or self._think.setdefault(index, ThinkSplitter())
                inline, text = splitter.feed(text)
                if finish_reason_of(choice.get("finish_reason")):
                    held_thought, held_text = splitter.flush()
                    inline, text = inline + held_thought, text + held_text
                thought = (thought or "") + inline or None
            if thought:
                self.thoughts.setdefault(index, []).append(thought)
            if self._stops and text:
                text = self._hold_back(index, text)
            elif index in self._stopped:
                text = ""
            tool_deltas = [t for t in as_list(delta.get("tool_calls")) if isinstance(t, dict)]
            if tool_deltas:
                self._add_tools(index, tool_deltas)
            finish = finish_reason_of(choice.get("finish_reason"))
            if finish:
                self.finishes[index] = finish
                if self._stops and index not in self._stopped:
                    text += self._held.pop(index, "")
            else:
                self.finishes.setdefault(index, None)
            if text:
                self.texts.setdefault(index, []).append(text)
            logprob, token = None, None
            lp = choice.get("logprobs")
            content = as_list(lp.get("content")) if isinstance(lp, dict) else []
            if content and isinstance(content[0], dict):
                logprob, token = as_float(content[0].get("logprob")), as_str(content[0].get("token"))
            if text or finish or tool_deltas or thought:
                chunks.append(
                    StreamChunk(
                        text,
                        index,
                        finish,
                        tuple(normalize_tool_call(t, i) for i, t in enumerate(tool_deltas)) if tool_deltas else (),
                        chunk_usage,
                        logprob,
                        token,
                        obj,
                        thought,
                    )
                )
        if not chunks and chunk_usage is not None:
            chunks.append(StreamChunk("", 0, None, (), chunk_usage, None, None, obj))
        return chunks

    def _hold_back(self, index: int, text: str) -> str:
        """Emit only text that cannot be the beginning of a stop sequence; cut at a complete one."""
        if index in self._stopped:
            return ""
        pending = self._held.pop(index, "") + text
        at = first_stop(pending, self._stops)
        if at != -1:
            self._stopped.add(index)
            return pending[:at]
        keep = max(partial_suffix(pending, stop) for stop in self._stops)
        if keep:
            self._held[index] = pending[-keep:]
            return pending[:-keep]
        return pending

    def _add_tools(self, index: int, deltas: List[Dict[str, Any]]) -> None:
        calls = self.tools.setdefault(index, {})
        for position, delta in enumerate(deltas):
            slot = as_int(delta.get("index"))
            slot = position if slot is None else slot
            call = calls.setdefault(slot, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
            if isinstance(delta.get("id"), (str, int)) and delta["id"] != "":
                call["id"] = delta["id"]
            function = as_dict(delta.get("function"))
            if isinstance(function.get("name"), str):
                call["function"]["name"] += function["name"]
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                call["function"]["arguments"] += arguments
            elif arguments is not None:  # TGI 1.4 sent whole objects
                call["function"]["arguments"] = json.dumps(arguments, ensure_ascii=False, default=str)

    def finish(self, request_id: Optional[str]) -> Response:
        if not self.ended:
            raise errors.StreamError(
                "The stream ended before the server said the answer was complete (no finish_reason, no [DONE]); "
                "the text received so far is incomplete.",
                provider=self.provider, model=self.request.model, request_id=request_id,
            )
        indices = sorted(set(self.texts) | set(self.finishes) | set(self.tools)) or [0]
        choices = tuple(
            Choice(
                index=i,
                text="".join(self.texts.get(i, ())),
                finish_reason=self.finishes.get(i),
                tool_calls=tuple(
                    normalize_tool_call(c, n) for n, c in sorted(self.tools.get(i, {}).items())
                ),
                reasoning="".join(self.thoughts[i]) if i in self.thoughts else None,
            )
            for i in indices
        )
        first = choices[0]
        return Response(
            results=first.text,
            model=self.model or self.request.model,
            provider=self.provider,
            finish_reason=first.finish_reason,
            usage=self.usage,
            tool_calls=first.tool_calls,
            choices=choices if len(choices) > 1 else (),
            request_id=request_id,
            reasoning=first.reasoning,
        )


def chat_request_body(request: Request, model: Optional[str]) -> Dict[str, Any]:
    """The JSON a request sends to ``/v1/chat/completions`` (``model``: the name the body carries, if any).
    Not ``openai_shapes.chat_completion_json``, which is an answer's JSON for the proxy and the adapters."""
    body: Dict[str, Any] = {"messages": list(request.messages or ())}
    if model is not None:
        body["model"] = model
    body.update(request.params)
    if request.stream:
        body["stream"] = True
    return body


def completion_request_body(request: Request, model: Optional[str]) -> Dict[str, Any]:
    """OpenAI ``/v1/completions``: the chat body with ``prompt`` instead of ``messages``."""
    body = chat_request_body(request, model)
    del body["messages"]
    body["prompt"] = request.prompt
    return body


def parse_chat_completion(body: Any, request: Request, provider: str, request_id: Optional[str]) -> Response:
    """A ``chat.completion`` (or ``/v1/completions``) answer; lenient about every optional field (lenient.py)."""
    raise_in_body_error(body, request, provider, request_id)

    def bad(what: str, hint: str = "") -> errors.InvalidResponseError:
        return invalid(what, body, provider=provider, model=request.model, request_id=request_id, hint=hint)

    if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise bad("it has no 'choices' list", "Is api_base an OpenAI-compatible chat endpoint?")
    stops = stop_list(request.params)
    choices = []
    for position, raw in enumerate(body["choices"]):
        if not isinstance(raw, dict):
            raise bad(f"choices[{position}] is {kind(raw)}, not an object")
        message = raw.get("message")
        if message is not None and not isinstance(message, dict):
            raise bad(f"choices[{position}].message is {kind(message)}, not an object")
        content = message.get("content") if message else raw.get("text")
        if content is not None and not isinstance(content, (str, list)):
            raise bad(f"choices[{position}]'s content is {kind(content)}, not text")
        thought, text = reasoning_and_text(message, text_of(content)) if message is not None else (None, text_of(content))
        text, _ = cut_at_stop(text, stops)
        index = as_int(raw.get("index"))
        choices.append(
            Choice(
                index=position if index is None else index,
                text=text,
                finish_reason=finish_reason_of(raw.get("finish_reason")),
                tool_calls=tool_calls_of(message.get("tool_calls")) if message else (),
                logprobs=_chat_logprobs(raw.get("logprobs")),
                reasoning=thought,
            )
        )
    first = choices[0]
    return Response(
        results=first.text,
        model=as_str(body.get("model")) or request.model,
        provider=provider,
        finish_reason=first.finish_reason,
        usage=Usage.from_dict(body.get("usage")),
        tool_calls=first.tool_calls,
        logprobs=first.logprobs,
        choices=tuple(choices) if len(choices) > 1 else (),
        request_id=request_id or as_str(body.get("id")) or None,
        reasoning=first.reasoning,
    )


class OpenAICompatibleProvider(Provider):
    """``api_base`` names the server; a key is sent when one is found, and not required."""

    name = "openai-compatible"
    tasks = frozenset({"chat", "completion", "embeddings"})

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        kind = "embeddings" if request.task == "embeddings" else "chat"
        if request.model is None and not aliases.get(self.name, "default", kind):
            return None  # many single-model servers ignore the field
        return aliases.resolve(self.name, request.model, kind)

    def base_url(self, request: Request) -> str:
        if not request.api_base:
            raise errors.ConfigurationError(
                "openai-compatible needs the server's URL: pass options={'api_base': 'http://127.0.0.1:8000/v1'} "
                "or set OPENAI_COMPATIBLE_API_BASE.",
                provider=self.name,
            )
        return request.api_base

    def auth_headers(self, request: Request) -> Dict[str, str]:
        headers = {"Authorization": f"Bearer {request.api_key}"} if request.api_key else {}
        if request.headers:
            headers.update(request.headers)
        return headers

    def chat_url(self, request: Request) -> str:
        return join_url(self.base_url(request))

    def wire_model(self, request: Request) -> Optional[str]:
        return request.model

    def post(self, request: Request, url: str, body: Any) -> HttpCall:
        return HttpCall("POST", url, body, self.auth_headers(request), stream=request.stream, timeout=request.timeout)

    def prepare(self, request: Request) -> HttpCall:
        self.supports(request)
        if request.task == "completion":
            body = completion_request_body(request, self.wire_model(request))
            return self.post(request, join_url(self.base_url(request), "/v1/completions"), body)
        if request.task == "embeddings":
            body = openai_embed_body(request, self.wire_model(request))
            return self.post(request, join_url(self.base_url(request), "/v1/embeddings"), body)
        return self.post(request, self.chat_url(request), chat_request_body(request, self.wire_model(request)))

    def parse(self, request: Request, result: HttpResult) -> Any:
        if request.task == "embeddings":
            return parse_openai_embeddings(result.body, request, self.name, request_id_of(result.headers))
        return parse_chat_completion(result.body, request, self.name, request_id_of(result.headers))

    def stream_state(self, request: Request) -> StreamState:
        return ChatStreamState(request, self.name)
