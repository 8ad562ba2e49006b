"""OpenAI's JSON shapes built from llm_interface's results, in one place.

The proxy (``server/app.py``) sends these bodies over HTTP; the LiteLLM and EasyLLM adapters
(``compat/``) hand them to Python callers wrapped in ``OpenAIObject`` so that both
``response["choices"][0]["message"]["content"]`` and ``response.choices[0].message.content`` work.
Every builder goes one way, a result to OpenAI's answer JSON (``chat_completion_json``, ``text_completion_json``,
``embeddings_json``, the stream ``chunks``); the request bodies a provider sends are built in ``providers/``.
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union

from .types import Choice, EmbeddingResponse, Response, StreamChunk


def choices_of(response: Response) -> tuple:
    """The answer's choices; a single answer is one choice."""
    return response.choices or (
        Choice(0, response.results, response.finish_reason, response.tool_calls, response.logprobs, response.reasoning),
    )


def chat_logprobs(choice: Choice) -> Optional[Dict[str, Any]]:
    lp = choice.logprobs
    if lp is None:
        return None
    tops = lp.top_logprobs or ({},) * len(lp.tokens)
    return {"content": [
        {"token": token, "logprob": value, "bytes": None,
         "top_logprobs": [{"token": t, "logprob": v, "bytes": None} for t, v in (top or {}).items()]}
        for token, value, top in zip(lp.tokens, lp.token_logprobs, tops)
    ]}


def usage_dict(response: Any) -> Optional[Dict[str, int]]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": usage.total_tokens or prompt + completion}


def reasoning_fields(text: str) -> Dict[str, str]:
    """The thinking under both names clients read: ``reasoning_content`` (DeepSeek, vLLM, LiteLLM) and
    ``reasoning`` (the HF router's gpt-oss, OpenRouter, Groq)."""
    return {"reasoning_content": text, "reasoning": text}


def chat_completion_json(response: Response, model: Optional[str]) -> Dict[str, Any]:
    """A ``chat.completion`` object."""
    choices = []
    for choice in choices_of(response):
        message: Dict[str, Any] = {"role": "assistant", "content": choice.text if choice.text or not choice.tool_calls else None}
        if choice.tool_calls:
            message["tool_calls"] = [dict(call) for call in choice.tool_calls]
        if choice.reasoning is not None:
            message.update(reasoning_fields(choice.reasoning))
        choices.append({"index": choice.index, "message": message,
                        "finish_reason": choice.finish_reason or "stop", "logprobs": chat_logprobs(choice)})
    body = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": choices}
    usage = usage_dict(response)
    if usage is not None:
        body["usage"] = usage
    return body


def text_completion_json(responses: List[Response], model: Optional[str]) -> Dict[str, Any]:
    """A ``text_completion`` object for one or more prompts' answers (choices in order)."""
    choices: List[Dict[str, Any]] = []
    prompt_tokens = completion_tokens = 0
    for response in responses:
        for choice in choices_of(response):
            choices.append({"index": len(choices), "text": choice.text, "logprobs": choice.logprobs.as_dict() if choice.logprobs else None,
                            "finish_reason": choice.finish_reason or "stop"})
        usage = usage_dict(response)
        if usage:
            prompt_tokens += usage["prompt_tokens"]
            completion_tokens += usage["completion_tokens"]
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()), "model": model,
            "choices": choices, "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                          "total_tokens": prompt_tokens + completion_tokens}}


def chunk_base(kind: str, model: Optional[str]) -> Dict[str, Any]:
    """The fields every chunk of one stream shares; ``kind`` is "chat" or "completion"."""
    if kind == "chat":
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()), "model": model}


def chat_role_chunk(base: Mapping[str, Any]) -> Dict[str, Any]:
    """The first chunk of a chat stream, as OpenAI sends it: the role, no text."""
    return {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}


def chat_chunk(base: Mapping[str, Any], chunk: StreamChunk) -> Optional[Dict[str, Any]]:
    """A ``chat.completion.chunk`` for one StreamChunk; None for a usage-only chunk (sent at the end if asked)."""
    delta: Dict[str, Any] = {}
    if chunk.text:
        delta["content"] = chunk.text
    if chunk.tool_calls:
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(chunk.tool_calls)]
    if chunk.reasoning:
        delta.update(reasoning_fields(chunk.reasoning))
    if not delta and not chunk.finish_reason:
        return None
    return {**base, "choices": [{"index": chunk.index, "delta": delta, "finish_reason": chunk.finish_reason, "logprobs": None}]}


def completion_chunk(base: Mapping[str, Any], chunk: StreamChunk) -> Optional[Dict[str, Any]]:
    """A streamed ``text_completion`` piece; None when the chunk carries neither text nor a finish."""
    if not chunk.text and not chunk.finish_reason:
        return None
    return {**base, "choices": [{"index": chunk.index, "text": chunk.text, "finish_reason": chunk.finish_reason, "logprobs": None}]}


def chunks(stream: Iterable[StreamChunk], kind: str, model: Optional[str], include_usage: bool = False) -> Iterator[Dict[str, Any]]:
    """A stream's chunks as OpenAI chunk dicts: ``kind`` "chat" (a first chunk with the role, then
    ``chat.completion.chunk``s) or "completion" (``text_completion`` pieces); chunks with nothing to say are
    skipped. ``include_usage`` (chat): a last chunk with no choices and the stream's usage, as OpenAI's
    ``stream_options={"include_usage": true}`` gives. The caller closes the stream."""
    base = chunk_base(kind, model)
    build = chat_chunk if kind == "chat" else completion_chunk
    if kind == "chat":
        yield chat_role_chunk(base)
    for chunk in stream:
        payload = build(base, chunk)
        if payload is not None:  # None: a usage-only or empty chunk
            yield payload
    if include_usage and kind == "chat":
        yield {**base, "choices": [], "usage": usage_dict(getattr(stream, "response", None))}


def encode_vector(vector: List[float], encoding: Optional[str]) -> Union[List[float], str]:
    if encoding == "base64":  # what the official client asks for by default: little-endian float32
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return list(vector)


def embeddings_json(answer: EmbeddingResponse, model: Optional[str], encoding: Optional[str] = None) -> Dict[str, Any]:
    """An embeddings ``list`` object, vectors in input order."""
    data = [
        {"object": "embedding", "index": i, "embedding": encode_vector(vector, encoding)}
        for i, vector in enumerate(answer.embeddings)
    ]
    usage = answer.usage
    prompt_tokens = (usage.prompt_tokens or 0) if usage else 0
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": (usage.total_tokens or prompt_tokens) if usage else 0}}


class OpenAIObject(dict):
    """A dict that also answers attribute access, all the way down (as the ``openai`` and LiteLLM objects do).

    ``answer["choices"][0]["message"]["content"] == answer.choices[0].message.content``; it prints and
    serialises as the plain JSON it is. A missing attribute raises AttributeError, a missing key KeyError.
    """

    def __init__(self, data: Union[Mapping[str, Any], Iterable[Any]] = (), **fields: Any) -> None:
        if fields or type(data) is not dict:
            data = dict(data, **fields)
        super().__init__({key: wrap(value) for key, value in data.items()})

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = wrap(value)

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> Dict[str, Any]:
        """Plain dicts and lists (what ``model_dump()``/``to_dict()`` give in the openai client)."""
        return unwrap(self)

    model_dump = to_dict


_SCALARS = frozenset({str, int, float, bool, type(None)})


def wrap(value: Any) -> Any:
    # Exact types first: JSON bodies are plain dicts, lists and scalars, and an abstract Mapping
    # isinstance check costs several times a type lookup on every leaf.
    kind = type(value)
    if kind in _SCALARS or kind is OpenAIObject:
        return value
    if kind is dict:
        return OpenAIObject(value)
    if kind is list:
        return [wrap(item) for item in value]
    if isinstance(value, OpenAIObject):
        return value
    if isinstance(value, Mapping):
        return OpenAIObject(value)
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value


def unwrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value
