"""The JS llm-interface's exported functions, by their JS names and in snake_case.

    const { LLMInterfaceSendMessage } = require('llm-interface');       // JS
    from llm_interface import LLMInterfaceSendMessage                    # Python (or llm_interface_send_message)

    LLMInterfaceSendMessage("huggingface", "hf_...", "Hello", {"max_tokens": 50})

Facts (samestrin/llm-interface 3cb494de643b38c9b6f4c575af033eb8ee3ec09c, ``src/index.js``,
``src/utils/message.js``, ``src/utils/embeddings.js``):

- ``LLMInterfaceSendMessage(provider, apiKey, message, options, interfaceOptions)`` uses that key for the
  call (``apiKey`` may be ``[key, userId]``); ``options.stream`` makes it a stream; ``interfaceOptions`` may
  be a number, the cache timeout in seconds;
- ``LLMInterfaceStreamMessage(provider, apiKey, message, options)``;
- ``LLMInterfaceEmbeddings(provider, apiKey, embeddingString, options, interfaceOptions)``;
- the ``...WithConfig`` forms take no key: the one set with ``setApiKey`` (or the environment), or the
  inline form ``[provider, apiKey]`` in place of the provider, which also remembers the key. They are what
  ``LLMInterface.sendMessage``/``streamMessage``/``embeddings`` and ``chat.completions.create`` are.

- ``results`` of an embeddings call is ``response.data`` of the Hugging Face answer
  (``src/config/providers/huggingface.json``: ``"results": "response.data"``, ``src/interfaces/baseInterface.js``):
  the bare vector for one string, a list of vectors for a list. These functions return that shape (an
  ``EmbeddingResponse`` whose ``results`` follows JS); ``LLMInterface.embeddings`` keeps one vector per input.

A missing key or an empty message raises llm_interface's typed errors (``MissingAPIKeyError``,
``InvalidRequestError``) where JS raises ``SendMessageError``/``StreamError``/``EmbeddingsError``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, List, Mapping, Optional, Union

from .. import errors
from ..credentials import how_to_set_key
from ..interface import LLMInterface
from ..types import EmbeddingResponse

Options = Optional[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class JSEmbeddingResponse(EmbeddingResponse):
    """An ``EmbeddingResponse`` of one string, read as JS reads it: ``results`` is the bare vector
    (``embeddings``, ``len()`` and indexing stay one vector per input)."""

    @property
    def results(self) -> Any:  # JS's shape: the vector itself
        vectors: List[List[float]] = self.embeddings
        return vectors[0] if len(vectors) == 1 else vectors


def _js_shape(response: Any, embedding_string: Any) -> Any:
    """JS's ``results`` for one string input; a list input (or a cached or odd answer) as it is."""
    if isinstance(embedding_string, str) and type(response) is EmbeddingResponse:
        return JSEmbeddingResponse(**{f.name: getattr(response, f.name) for f in fields(response)})
    return response


def _with_key(provider: str, api_key: Any, options: Options) -> dict:
    if isinstance(api_key, (list, tuple)) and api_key:  # JS: [apiKey, userId]
        api_key = api_key[0]
    if not isinstance(api_key, str) or not api_key.strip():
        raise errors.MissingAPIKeyError(
            f"Missing API key for {provider!r}: pass it as the second argument, or use the WithConfig form "
            f"and {how_to_set_key(provider)}.",
            provider=provider,
        )
    return {**dict(options or {}), "api_key": api_key}


def _check_message(message: Any) -> None:
    if message is None or (isinstance(message, str) and not message):
        raise errors.InvalidRequestError("The message is empty: pass a string or {'messages': [...]}.")


def _interface_options(value: Union[None, int, float, Mapping[str, Any]]) -> Options:
    if isinstance(value, bool) or value is None:  # JS ignores a boolean here
        return None
    if isinstance(value, (int, float)):  # JS: a number is cacheTimeoutSeconds
        return {"cache_timeout_seconds": value}
    return value


def llm_interface_send_message(provider: str, api_key: Any, message: Any, options: Options = None,
                               interface_options: Any = None) -> Any:
    """``LLMInterfaceSendMessage``: one call with this key (not remembered); ``options["stream"]`` streams."""
    _check_message(message)
    call_options = _with_key(provider, api_key, options)
    if call_options.pop("stream", False):
        return LLMInterface.stream_message(provider, message, call_options, _interface_options(interface_options))
    return LLMInterface.send_message(provider, message, call_options, _interface_options(interface_options))


def llm_interface_stream_message(provider: str, api_key: Any, message: Any, options: Options = None) -> Any:
    """``LLMInterfaceStreamMessage``: a Stream (iterate it for chunks, ``.response`` once read)."""
    _check_message(message)
    call_options = _with_key(provider, api_key, options)
    call_options.pop("stream", None)
    return LLMInterface.stream_message(provider, message, call_options)


def llm_interface_embeddings(provider: str, api_key: Any, embedding_string: Any, options: Options = None,
                             interface_options: Any = None) -> Any:
    """``LLMInterfaceEmbeddings``: an EmbeddingResponse; ``.results`` is the vector for one string, as in JS."""
    _check_message(embedding_string)
    response = LLMInterface.embeddings(provider, embedding_string, _with_key(provider, api_key, options),
                                       _interface_options(interface_options))
    return _js_shape(response, embedding_string)


def llm_interface_send_message_with_config(provider: Any, message: Any, options: Options = None,
                                           interface_options: Any = None) -> Any:
    """``LLMInterfaceSendMessageWithConfig`` = ``LLMInterface.send_message`` (``[provider, key]`` accepted)."""
    _check_message(message)
    call_options = dict(options or {})
    if call_options.pop("stream", False):
        return LLMInterface.stream_message(provider, message, call_options, _interface_options(interface_options))
    return LLMInterface.send_message(provider, message, call_options, _interface_options(interface_options))


def llm_interface_stream_message_with_config(provider: Any, message: Any, options: Options = None) -> Any:
    """``LLMInterfaceStreamMessageWithConfig`` = ``LLMInterface.stream_message``."""
    _check_message(message)
    return LLMInterface.stream_message(provider, message, options)


def llm_interface_embeddings_with_config(provider: Any, embedding_string: Any, options: Options = None,
                                         interface_options: Any = None) -> Any:
    """``LLMInterfaceEmbeddingsWithConfig``: ``LLMInterface.embeddings`` with JS's ``results`` (the vector for one string)."""
    _check_message(embedding_string)
    response = LLMInterface.embeddings(provider, embedding_string, options, _interface_options(interface_options))
    return _js_shape(response, embedding_string)


# The JS names.
LLMInterfaceSendMessage = llm_interface_send_message
LLMInterfaceStreamMessage = llm_interface_stream_message
LLMInterfaceEmbeddings = llm_interface_embeddings
LLMInterfaceSendMessageWithConfig = llm_interface_send_message_with_config
LLMInterfaceStreamMessageWithConfig = llm_interface_stream_message_with_config
LLMInterfaceEmbeddingsWithConfig = llm_interface_embeddings_with_config

__all__ = [
    "JSEmbeddingResponse", "LLMInterfaceEmbeddings", "LLMInterfaceEmbeddingsWithConfig", "LLMInterfaceSendMessage",
    "LLMInterfaceSendMessageWithConfig", "LLMInterfaceStreamMessage", "LLMInterfaceStreamMessageWithConfig",
    "llm_interface_embeddings", "llm_interface_embeddings_with_config", "llm_interface_send_message",
    "llm_interface_send_message_with_config", "llm_interface_stream_message",
    "llm_interface_stream_message_with_config",
]
