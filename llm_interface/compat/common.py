"""What the LiteLLM and EasyLLM adapters share: which Client they use, and OpenAI-shaped streams."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

from ..openai_shapes import OpenAIObject, chunks
from ..types import Response


def client_of(override: Any) -> Any:
    """The adapter's ``client`` module variable if set, else the facade's default Client (read per call)."""
    if override is not None:
        return override
    from ..interface import LLMInterface

    return LLMInterface.client


def with_response(shaped: Mapping[str, Any], response: Any) -> OpenAIObject:
    """The OpenAI-shaped answer, keeping llm_interface's own result as ``._response`` (retries, cached, timings)."""
    return PeerObject(shaped, _response=response)


class OpenAIStream:
    """An llm_interface ``Stream`` whose chunks come as OpenAI chunk objects (dict + attribute access).

    ``kind`` is "chat" (``chat.completion.chunk``, a first chunk with the role) or "completion"
    (``text_completion`` pieces). ``.response`` is llm_interface's aggregated Response once read;
    ``close()`` (or a ``with`` block) frees the connection early.
    """

    def __init__(self, stream: Any, kind: str, model: Optional[str]) -> None:
        self._stream = stream
        self._kind = kind
        self._model = model

    def __iter__(self) -> Iterator[OpenAIObject]:
        with self._stream:
            for payload in chunks(self._stream, self._kind, self._model):
                yield PeerObject(payload)

    @property
    def response(self) -> Optional[Response]:
        return self._stream.response

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "OpenAIStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<OpenAIStream {self._kind} model={self._model!r}>"


class PeerObject(OpenAIObject):
    """An OpenAI-shaped answer as LiteLLM's and openai-python's objects read: a field the answer does not
    carry (``message.tool_calls``, ``delta.content`` on the last chunk, ``choice.logprobs``) is ``None``, by
    attribute and by item, so ``chunk.choices[0].delta.content or ""`` works on every chunk. ``.get(name,
    default)`` and ``in`` keep their dict meaning; names starting with ``_`` are never fields, but plain
    attributes (``_response``: llm_interface's own result, kept out of the OpenAI JSON)."""

    def __init__(self, data: Any = (), *, _response: Any = None, **fields: Any) -> None:
        items = dict(data, **fields) if fields or not isinstance(data, dict) else data
        dict.__init__(self, {key: peer_wrap(value) for key, value in items.items()})
        if _response is not None:
            self._response = _response

    def __missing__(self, key: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            dict.__setattr__(self, name, value)  # an attribute, never a field (the JSON stays OpenAI's)
        else:
            self[name] = peer_wrap(value)


def peer_wrap(value: Any) -> Any:
    if isinstance(value, PeerObject):
        return value
    if isinstance(value, Mapping):
        return PeerObject(value)
    if isinstance(value, list):
        return [peer_wrap(item) for item in value]
    return value
