"""What the in-process engines (``transformers_engine.py``: transformers, ``gguf.py``: llama.cpp) share.

They are the one exception to "providers do no I/O" (DESIGN rule 1): they load a model and compute,
behind the same Provider protocol (``in_process = True``: ``compute(request)`` returns the Response,
``stream(request)`` yields StreamChunks). So that a local answer looks exactly like a remote one, the
pieces that make a Response are shared with the HTTP providers: stop sequences are cut and held back
by ``ChatStreamState`` (OpenAI's contract: the stop string is not in the text), tool calls are
normalised by ``normalize_tool_call``.

Here:
- the process-wide model registry: a model is loaded once per process and reused by every Client,
  until ``unload()``;
- ``split_tool_calls``: Hermes/Qwen ``<tool_call>{json}</tool_call>`` blocks in generated text, turned
  into tool calls (local models and llama.cpp hand back the raw text);
- ``TextAssembler``: streamed text pieces -> StreamChunks, with stop sequences and tool calls handled;
- ``engine_errors``: the engines' boundary, where foreign exceptions become typed errors once.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import re
import threading
from typing import Any, Callable, Dict, Hashable, Iterator, List, Optional, Tuple

from .. import errors
from ..request import Request
from ..types import StreamChunk, Usage
from .base import Provider, partial_suffix, stop_list
from .openai_compatible import ChatStreamState, cut_at_stop, normalize_tool_call

# -- the model registry --------------------------------------------------------------------------

_MODELS: Dict[Hashable, Any] = {}
_LOCK = threading.Lock()
_LOADING: Dict[Hashable, threading.Lock] = {}


def loaded(key: Hashable, load: Callable[[], Any]) -> Any:
    """The model stored under ``key``, loading it on first use. Two threads asking for the same model
    wait for one load (a model can take GBs; loading it twice could exhaust memory)."""
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _LOCK:
        gate = _LOADING.setdefault(key, threading.Lock())
    with gate:
        model = _MODELS.get(key)
        if model is None:
            model = load()
            _MODELS[key] = model
    return model


def registry_key(engine: str, request: Request, settings: Tuple[str, ...], *extra: Hashable) -> Tuple[Hashable, ...]:
    """The registry key of a loaded model: the engine, what was loaded (``model_path`` or the model), and
    every setting that changes how it was loaded, so two different setups never share one instance."""
    given = request.settings
    source = given.get("model_path") or request.model
    return (engine, source, *(json.dumps(given.get(name), sort_keys=True, default=repr) for name in settings), *extra)


def unload(model: Optional[str] = None) -> int:
    """Forget loaded local models (all of them, or those loaded from ``model``: a folder, Hub id or
    ``.gguf`` path) so their memory can be freed; returns how many were dropped. The next call loads
    again. GPU memory is handed back to the driver too when torch is in use."""
    with _LOCK:
        keys = [k for k in _MODELS if model is None or (isinstance(k, tuple) and len(k) > 1 and k[1] == model)]
        for key in keys:
            close = getattr(_MODELS[key], "close", None)
            del _MODELS[key]
            if close is not None:
                close()
    if keys:
        _free_accelerator_memory()
    return len(keys)


# Close models while their libraries are still importable: llama.cpp's finaliser fails noisily during
# interpreter teardown otherwise.
atexit.register(unload)


def loaded_models() -> List[Hashable]:
    """The registry's keys ``(engine, model, settings...)``: what is loaded now."""
    return list(_MODELS)


def _free_accelerator_memory() -> None:
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")  # only if the user's code already imported it
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# -- tool calls in generated text -------------------------------------------------------------------

TOOL_OPEN, TOOL_CLOSE = "<tool_call>", "</tool_call>"
_TOOL_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def split_tool_calls(text: str) -> Tuple[str, Tuple[Dict[str, Any], ...]]:
    """(text outside the blocks, tool calls) for Hermes/Qwen-style ``<tool_call>{"name", "arguments"}</tool_call>``.

    A block that is not JSON with a ``name`` stays in the text: better an odd answer than a lost one.
    """
    if TOOL_OPEN not in text:
        return text, ()
    calls: List[Dict[str, Any]] = []
    kept: List[str] = []
    end = 0
    for match in _TOOL_BLOCK.finditer(text):
        try:
            data = json.loads(match.group(1))
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            continue
        kept.append(text[end:match.start()])
        end = match.end()
        arguments = data.get("arguments", data.get("parameters", {}))
        calls.append(normalize_tool_call({"function": {"name": data["name"], "arguments": arguments}}, len(calls)))
    kept.append(text[end:])
    return "".join(kept).strip() if calls else text, tuple(calls)


class TextAssembler:
    """Generated text pieces -> StreamChunks, as an HTTP stream of the same answer would give them.

    Stop sequences: held back and cut by ``ChatStreamState`` (the same code as for remote streams).
    Tool calls: once ``<tool_call>`` starts (only when the request offers tools) the rest is held and
    parsed at the end into one chunk carrying the calls, finish_reason ``tool_calls``.
    """

    def __init__(self, request: Request, provider: str) -> None:
        self._state = ChatStreamState(request, provider)
        self._tools = bool(request.params.get("tools"))
        self._held = ""  # text that is, or may become, a tool call

    def feed(self, piece: str) -> List[StreamChunk]:
        if not piece:
            return []
        if self._tools:
            pending = self._held + piece
            at = pending.find(TOOL_OPEN)
            if at == -1:
                keep = partial_suffix(pending, TOOL_OPEN)
                self._held, piece = pending[len(pending) - keep:], pending[:len(pending) - keep]
            else:
                self._held, piece = pending[at:], pending[:at]
            if not piece:
                return []
        return self._emit(piece)

    def end(self, finish_reason: str, usage: Optional[Usage]) -> List[StreamChunk]:
        delta: Dict[str, Any] = {}
        chunks: List[StreamChunk] = []
        if self._held:
            rest, calls = split_tool_calls(self._held)
            if calls:
                delta["tool_calls"] = [dict(call, index=i) for i, call in enumerate(calls)]
                finish_reason = "tool_calls"
                rest = ""
            elif rest:
                chunks += self._emit(rest)
        body: Dict[str, Any] = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        if usage is not None:
            body["usage"] = usage.as_dict()
        return chunks + self._state.on_object(None, body)

    def _emit(self, piece: str) -> List[StreamChunk]:
        return self._state.on_object(None, {"choices": [{"index": 0, "delta": {"content": piece}}]})


def finish_text(request: Request, text: str, finish_reason: str) -> Tuple[str, Tuple[Dict[str, Any], ...], str]:
    """(text, tool calls, finish reason) of a whole generated answer: cut at a stop sequence, tool calls
    parsed out when the request offered tools."""
    text, stopped = cut_at_stop(text, stop_list(request.params))
    if stopped:
        finish_reason = "stop"
    calls: Tuple[Dict[str, Any], ...] = ()
    if request.params.get("tools"):
        text, calls = split_tool_calls(text)
        if calls:
            finish_reason = "tool_calls"
    return text, calls, finish_reason


# -- the engines' common base -------------------------------------------------------------------------


class InProcessEngine(Provider):
    """Base of the local engines. ``name`` stays "huggingface": a local answer is the Hugging Face
    provider's answer, computed here (responses, cache entries and hooks say so)."""

    name = "huggingface"
    in_process = True
    engine = ""  # "transformers" or "gguf": the first item of registry keys
    extra = ""  # the pip extra that brings the engine's packages
    # Generation parameters each engine understands; anything else is refused (see check_params).
    params: frozenset = frozenset()

    def resolve_model(self, request: Request, aliases: Any) -> Optional[str]:
        model = request.settings.get("model_path") or request.model
        if not model:
            raise errors.UnknownModelError(
                "A local model needs a folder, a Hub id already in the local cache, or a .gguf file: pass "
                "options={'model': '/path/to/model', 'local': True} (or 'model_path' for GGUF).",
                provider=self.name,
            )
        return str(model)

    def check_params(self, request: Request) -> None:
        unknown = sorted(set(request.params) - self.params)
        if unknown:
            raise errors.InvalidRequestError(
                f"The local {self.engine} engine does not support {', '.join(unknown)}; it supports: "
                f"{', '.join(sorted(self.params))}.", provider=self.name, model=request.model,
            )

    def missing(self, package: str) -> errors.MissingDependencyError:
        return errors.MissingDependencyError(
            f"Local {self.engine} models need {package}: pip install \"llm-interface-hf[{self.extra}]\" "
            "(and torch, built for your hardware, for transformers).", provider=self.name,
        )

    @contextlib.contextmanager
    def engine_errors(self, request: Request) -> Iterator[None]:
        """The boundary of in-process work, where foreign errors are translated once: out-of-memory becomes
        ResourceExhaustedError, a file that cannot be loaded ModelNotFoundError."""
        try:
            yield
        except errors.LLMInterfaceError:
            raise
        except MemoryError as exc:
            raise self.exhausted(request, exc) from exc
        except OSError as exc:  # loading: missing files, or a Hub id that is not in the local cache (offline)
            raise errors.ModelNotFoundError(
                f"Cannot load a local model from {request.settings.get('model_path') or request.model!r}: {exc}. "
                "Pass an existing folder with config.json and weights, or a Hub id that is already downloaded "
                "(hf download <id>).", provider=self.name, model=request.model,
            ) from exc
        except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is a RuntimeError; so is MPS's OOM
            if "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError":
                raise self.exhausted(request, exc) from exc
            raise errors.ServerError(
                f"The local {self.engine} engine failed: {type(exc).__name__}: {str(exc)[:300]}",
                provider=self.name, model=request.model, server_message=str(exc),
            ) from exc
        except (ValueError, TypeError) as exc:  # the library refused an argument (often from pipeline_kwargs)
            raise errors.InvalidRequestError(
                f"The local {self.engine} engine refused the request: {type(exc).__name__}: {str(exc)[:300]}. "
                "Check pipeline_kwargs / model_kwargs and the generation options.",
                provider=self.name, model=request.model,
            ) from exc

    def exhausted(self, request: Request, exc: BaseException) -> errors.ResourceExhaustedError:
        return errors.ResourceExhaustedError(
            f"The local model ran out of memory ({type(exc).__name__}: {str(exc)[:200]}). Use a smaller model, "
            "a lower precision (torch_dtype='float16', quantization='4bit' on a GPU), fewer max_tokens, "
            "or unload() other local models.", provider=self.name, model=request.model,
        )


def usage_of(prompt_tokens: int, completion_tokens: int) -> Usage:
    return Usage(prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)


__all__ = [
    "InProcessEngine", "TextAssembler", "finish_text", "loaded", "loaded_models", "registry_key", "split_tool_calls", "unload",
    "usage_of",
]
