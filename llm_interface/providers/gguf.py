"""GGUF models in this process with llama-cpp-python (extra ``[gguf]``).

Follows (checked 2026-11-21 with llama-cpp-python 0.3.36): ``Llama(model_path, n_ctx, n_threads,
n_gpu_layers, embedding)``; ``create_chat_completion`` and ``create_completion`` answer in OpenAI's shape
(parsed with the same ``parse_chat_completion`` as remote servers); with no ``chat_format`` the chat
template stored in the file (``tokenizer.chat_template``) renders the messages. llama.cpp leaves tool
calls as ``<tool_call>`` text: they are parsed here, as for the transformers engine. ``create_embedding``
needs a model created with ``embedding=True``, so embeddings use their own registry entry.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from typing import Any, Dict, Iterator, Optional

from .. import errors
from ..request import Request
from ..types import Response, StreamChunk
from .hf_tasks import parse_openai_embeddings, texts_of
from .in_process import InProcessEngine, TextAssembler, finish_text, loaded, registry_key
from .openai_compatible import finish_reason_of, parse_chat_completion

# OpenAI/transformers names -> llama-cpp-python's.
RENAMED = {"repetition_penalty": "repeat_penalty", "max_new_tokens": "max_tokens"}


class GGUFEngine(InProcessEngine):
    engine = "gguf"
    extra = "gguf"
    tasks = frozenset({"chat", "completion", "embeddings"})
    params = frozenset({
        "max_tokens", "max_new_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "tools",
        "tool_choice", "presence_penalty", "frequency_penalty", "repeat_penalty", "repetition_penalty",
        "response_format", "logprobs", "top_logprobs",
    })

    def supports(self, request: Request) -> None:
        super().supports(request)
        if request.task == "embeddings":
            unknown = sorted(set(request.params) - {"normalize"})
            if unknown:
                raise errors.InvalidRequestError(
                    f"GGUF embeddings take only 'normalize'; got {', '.join(unknown)}.", provider=self.name,
                )
        else:
            self.check_params(request)

    def model_for(self, request: Request) -> Any:
        path = os.path.expanduser(str(request.settings.get("model_path") or request.model))
        if not os.path.isfile(path):
            raise errors.ModelNotFoundError(
                f"The GGUF file {path!r} does not exist. Pass the path of a .gguf file as model or model_path.",
                provider=self.name, model=request.model,
            )
        settings = request.settings
        embedding = request.task == "embeddings"
        key = registry_key("gguf", request, ("n_ctx", "n_threads", "n_gpu_layers", "model_kwargs"), embedding)
        with self.engine_errors(request):
            return loaded(key, lambda: self._load(path, settings, embedding, request))

    def _load(self, path: str, settings: Dict[str, Any], embedding: bool, request: Request) -> Any:
        try:
            import llama_cpp
        except ImportError:
            raise self.missing("llama-cpp-python") from None
        kwargs: Dict[str, Any] = {"model_path": path, "verbose": False, "embedding": embedding}
        for name in ("n_ctx", "n_threads", "n_gpu_layers"):
            if settings.get(name) is not None:
                kwargs[name] = settings[name]
        kwargs.update(settings.get("model_kwargs") or {})
        try:
            return llama_cpp.Llama(**kwargs)
        except ValueError as exc:  # llama.cpp: "Failed to load model from file"
            raise errors.ModelNotFoundError(
                f"llama.cpp cannot load {path!r} ({exc}); is it a GGUF file this llama-cpp-python version reads?",
                provider=self.name, model=request.model,
            ) from exc

    def _arguments(self, request: Request) -> Dict[str, Any]:
        arguments = {RENAMED.get(name, name): value for name, value in request.params.items()}
        arguments.update(request.settings.get("pipeline_kwargs") or {})
        return arguments

    def _call(self, llm: Any, request: Request, stream: bool) -> Any:
        arguments = self._arguments(request)
        if request.prompt is not None:
            arguments.pop("tools", None)
            arguments.pop("tool_choice", None)
            return llm.create_completion(request.prompt, stream=stream, **arguments)
        return llm.create_chat_completion(messages=llama_messages(request.messages or ()), stream=stream, **arguments)

    def compute(self, request: Request) -> Any:
        llm = self.model_for(request)
        if request.task == "embeddings":
            with self.engine_errors(request):
                body = llm.create_embedding(texts_of(request), model=request.model)
            vectors = parse_openai_embeddings(body, request, self.name, None)
            if request.params.get("normalize", True):  # as TEI and the transformers engine do by default
                vectors = replace(vectors, embeddings=[unit_length(v) for v in vectors.embeddings])
            return vectors
        with self.engine_errors(request):
            body = self._call(llm, request, stream=False)
        response: Response = parse_chat_completion(body, request, self.name, None)
        text, calls, finish = finish_text(request, response.results, response.finish_reason or "stop")
        return response.evolve(results=text, tool_calls=calls or response.tool_calls, finish_reason=finish, request_id=None)

    def stream(self, request: Request) -> Iterator[StreamChunk]:
        if request.task == "embeddings":
            raise errors.UnsupportedTaskError("embeddings cannot be streamed.", provider=self.name)
        llm = self.model_for(request)
        return self._stream(llm, request)

    def _stream(self, llm: Any, request: Request) -> Iterator[StreamChunk]:
        assembler = TextAssembler(request, self.name)
        finish: Optional[str] = None
        with self.engine_errors(request):
            pieces = self._call(llm, request, stream=True)
            try:
                for chunk in pieces:
                    choice = (chunk.get("choices") or [{}])[0]
                    delta = choice.get("delta")
                    text = (delta or {}).get("content") if delta is not None else choice.get("text")
                    if text:
                        yield from assembler.feed(text)
                    finish = finish_reason_of(choice.get("finish_reason")) or finish
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()
        yield from assembler.end(finish or "stop", None)  # llama.cpp streams carry no usage


def unit_length(vector: list) -> list:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def llama_messages(messages: Any) -> list:
    """llama-cpp-python's message types want a string ``content`` beside ``tool_calls`` (null is refused)."""
    return [
        dict(m, content="") if isinstance(m, dict) and m.get("content") is None and m.get("tool_calls") else m
        for m in messages
    ]


__all__ = ["GGUFEngine"]
