"""Failover: when a target fails in a way another target can fix, try the next one.

    LLMInterface.send_message(
        "huggingface", "Hello", {"model": "meta-llama/Llama-3.1-8B-Instruct"},
        {"fallbacks": ["meta-llama/Llama-3.1-8B-Instruct:cerebras",   # the router, another provider
                       "https://xyz.endpoints.huggingface.cloud",      # a Dedicated Endpoint
                       "/models/local-gguf/model.gguf"]},              # a local model
    )

A target is what the ``model`` option may name (the Hugging Face provider picks the mode from it: a Hub id
goes to the router, a URL to that endpoint, a ``.gguf`` file or model folder runs locally), or a dict of
options (``{"api_base": ..., "model": ...}``). For a fallback, the call's own routing options (``model``,
``api_base``, ``provider``, ``local``, ``model_path``) are dropped and the target's apply; the rest (max_tokens,
temperature...) and the interface options stay. Each target runs its own retries first, so a 429 fails over
only once the retry budget is spent.

Failing over happens on what another target can fix (``FAILS_OVER``: 429, 5xx, 503 loading, 402, timeouts,
connection failures, a stream broken before its first chunk), never on the caller's own mistakes (400, 401,
422, a bad option): those raise at once. A stream fails over only before its first chunk; after that its
error is the caller's. When every target fails, the last error is raised, with a note naming each attempt.

``Response.served_by`` names the target that answered (the primary's ``api_base``, ``model_path`` or model for
the first). Every hop is visible to the hooks: each target's call emits its own ``request``/``error``/``response``
events, and a ``failover`` event (a ``Hop``) comes between two targets.

This layer sits on the client's public methods only: nothing here runs unless ``fallbacks`` is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple, Type

from . import errors
from .types import StreamChunk

FALLBACKS = "fallbacks"

FAILS_OVER: Tuple[Type[BaseException], ...] = (
    errors.RateLimitError,
    errors.ServerError,
    errors.ModelLoadingError,
    errors.PaymentRequiredError,
    errors.ResourceExhaustedError,  # a local model out of memory: a remote one may serve
    errors.TimeoutError,
    errors.ConnectionError,
    errors.StreamError,  # only ever seen here before a stream's first chunk
)

# The target being tried in this context: the client's hooks run inside each hop's call, before the answer
# is labelled, so a ``response`` hook (the call log) reads ``served_by`` from here (``current_target``).
_serving: ContextVar[Optional[str]] = ContextVar("llm_interface_failover_target", default=None)

# The options that say where a call goes; a fallback target replaces them all.
ROUTING = frozenset({"model", "api_base", "apiBase", "provider", "local", "model_path"})


@dataclass(frozen=True)
class Target:
    label: str  # what ``served_by`` says
    options: Dict[str, Any]


@dataclass(frozen=True)
class Hop:
    """What the ``failover`` hook receives: ``failed`` raised ``error``; ``next`` is tried now (``number`` 1 first)."""

    number: int
    failed: str
    error: errors.LLMInterfaceError
    next: str


def current_target() -> Optional[str]:
    """The failover target whose call is running in this context (None outside failover): what a hook
    records as ``served_by`` before the answer carries it."""
    return _serving.get()


@contextlib.contextmanager
def _trying(label: str) -> Iterator[None]:
    token = _serving.set(label)
    try:
        yield
    finally:
        _serving.reset(token)


def wanted(interface_options: Any) -> bool:
    """True when the call asks for failover (the facade's one check; nothing else runs otherwise)."""
    return isinstance(interface_options, Mapping) and interface_options.get(FALLBACKS) is not None


def plan(message: Any, options: Optional[Mapping[str, Any]], interface_options: Mapping[str, Any]) -> Tuple[List[Target], Dict[str, Any]]:
    """The targets in order (the call itself first) and the interface options without ``fallbacks``."""
    if options is not None and not isinstance(options, Mapping):
        raise errors.InvalidRequestError(f"options must be a dict, not {type(options).__name__}.")
    rest = {k: v for k, v in interface_options.items() if k != FALLBACKS}
    fallbacks = interface_options.get(FALLBACKS)
    if isinstance(fallbacks, (str, Mapping)) or not isinstance(fallbacks, (list, tuple)) or not fallbacks:
        raise errors.InvalidRequestError(
            "fallbacks must be a non-empty list of targets, e.g. {'fallbacks': ['meta-llama/Llama-3.1-8B-Instruct:cerebras', "
            "'https://xyz.endpoints.huggingface.cloud', '/models/model.gguf']}."
        )
    given = dict(options or {})
    targets = [Target(_primary_label(message, given), given)]
    common = {k: v for k, v in given.items() if k not in ROUTING}
    for position, target in enumerate(fallbacks):
        if isinstance(target, str) and target.strip():
            targets.append(Target(_without_userinfo(target.strip()), {**common, "model": target.strip()}))
        elif isinstance(target, Mapping) and target and all(isinstance(k, str) for k in target):
            targets.append(Target(_label(target) or f"fallbacks[{position}]", {**common, **target}))
        else:
            raise errors.InvalidRequestError(
                f"fallbacks[{position}] must be a model id, an endpoint URL, a local model path, or a dict of "
                f"options such as {{'api_base': 'https://...'}}; got {target!r}."
            )
    return targets, rest


def _label(options: Mapping[str, Any]) -> Optional[str]:
    for name in ("api_base", "apiBase", "model_path", "model"):
        value = options.get(name)
        if isinstance(value, str) and value:
            return _without_userinfo(value)
    return None


def _without_userinfo(target: str) -> str:
    """``https://user:secret@host/...`` -> ``https://***@host/...``: ``served_by`` and hops never carry a password."""
    scheme, sep, rest = target.partition("://")
    if not sep:
        return target
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return target
    return f"{scheme}://***@{netloc.rpartition('@')[2]}{slash}{path}"


def _primary_label(message: Any, options: Mapping[str, Any]) -> str:
    carried = message if isinstance(message, Mapping) else {}
    return _label(options) or _label(carried) or "default"


def _failed_all(tried: List[Tuple[str, BaseException]]) -> BaseException:
    last = tried[-1][1]
    note = "failover tried: " + "; ".join(f"{label} ({type(error).__name__})" for label, error in tried)
    # BaseException.add_note is Python 3.11+; the attribute it fills is read by 3.11+ tracebacks, and by anyone.
    notes = getattr(last, "__notes__", None)
    if isinstance(notes, list):
        notes.append(note)
    else:
        setattr(last, "__notes__", [note])  # noqa: B010 - mypy (3.10) does not know __notes__
    return last


def _failed(client: Any, tried: List[Tuple[str, BaseException]], targets: List[Target], number: int,
            error: BaseException) -> None:
    """Target ``number`` failed with ``error``: kept for the final error, and the hooks told of the hop to the next."""
    failed = targets[number]
    tried.append((failed.label, error))
    hooks = getattr(client, "hooks", None)
    if hooks and number + 1 < len(targets):
        hooks.emit("failover", Hop(number + 1, failed.label, error, targets[number + 1].label))  # type: ignore[arg-type]


def _labelled(response: Any, label: str) -> Any:
    return replace(response, served_by=label)


def first_answer(client: Any, targets: List[Target], call: Callable[[Dict[str, Any]], Any]) -> Any:
    """``call(options)`` on each target in turn until one answers; that answer, with ``served_by``."""
    tried: List[Tuple[str, BaseException]] = []
    for number, target in enumerate(targets):
        try:
            with _trying(target.label):
                answer = call(target.options)
            return _labelled(answer, target.label)
        except FAILS_OVER as error:
            _failed(client, tried, targets, number, error)
    raise _failed_all(tried)


async def first_answer_async(owner: Any, targets: List[Target], call: Callable[[Dict[str, Any]], Awaitable[Any]]) -> Any:
    """``first_answer`` for coroutines (``owner`` an AsyncClient; its client's hooks see the hops)."""
    tried: List[Tuple[str, BaseException]] = []
    for number, target in enumerate(targets):
        try:
            with _trying(target.label):
                answer = await call(target.options)
            return _labelled(answer, target.label)
        except FAILS_OVER as error:
            _failed(owner.client, tried, targets, number, error)
    raise _failed_all(tried)


# -- calls ----------------------------------------------------------------------------------------


def send_message(client: Any, provider: str, message: Any, options: Any = None, interface_options: Any = None) -> Any:
    """``client.send_message`` over the targets of ``interface_options["fallbacks"]``."""
    targets, rest = plan(message, options, interface_options or {})
    return first_answer(client, targets, lambda o: client.send_message(provider, message, o, rest))


def complete(client: Any, provider: str, prompt: str, options: Any = None, interface_options: Any = None) -> Any:
    targets, rest = plan(None, options, interface_options or {})
    return first_answer(client, targets, lambda o: client.complete(provider, prompt, o, rest))


def embeddings(client: Any, provider: str, text_or_list: Any, options: Any = None, interface_options: Any = None) -> Any:
    targets, rest = plan(None, options, interface_options or {})
    return first_answer(client, targets, lambda o: client.embeddings(provider, text_or_list, o, rest))


def stream_message(client: Any, provider: str, message: Any, options: Any = None, interface_options: Any = None) -> "FailoverStream":
    """``client.stream_message`` over the targets; opened (up to the first chunk) before it returns."""
    targets, rest = plan(message, options, interface_options or {})
    return FailoverStream(client, targets, lambda o: client.stream_message(provider, message, o, rest))


def stream_complete(client: Any, provider: str, prompt: str, options: Any = None, interface_options: Any = None) -> "FailoverStream":
    targets, rest = plan(None, options, interface_options or {})
    return FailoverStream(client, targets, lambda o: client.stream_complete(provider, prompt, o, rest))


async def send_message_async(owner: Any, provider: str, message: Any, options: Any = None, interface_options: Any = None) -> Any:
    targets, rest = plan(message, options, interface_options or {})
    return await first_answer_async(owner, targets, lambda o: owner.send_message_async(provider, message, o, rest))


async def complete_async(owner: Any, provider: str, prompt: str, options: Any = None, interface_options: Any = None) -> Any:
    targets, rest = plan(None, options, interface_options or {})
    return await first_answer_async(owner, targets, lambda o: owner.complete_async(provider, prompt, o, rest))


async def embeddings_async(owner: Any, provider: str, text_or_list: Any, options: Any = None, interface_options: Any = None) -> Any:
    targets, rest = plan(None, options, interface_options or {})
    return await first_answer_async(owner, targets, lambda o: owner.embeddings_async(provider, text_or_list, o, rest))


def stream_message_async(owner: Any, provider: str, message: Any, options: Any = None, interface_options: Any = None) -> "AsyncFailoverStream":
    targets, rest = plan(message, options, interface_options or {})
    return AsyncFailoverStream(owner, targets, lambda o: owner.stream_message_async(provider, message, o, rest))


def stream_complete_async(owner: Any, provider: str, prompt: str, options: Any = None, interface_options: Any = None) -> "AsyncFailoverStream":
    targets, rest = plan(None, options, interface_options or {})
    return AsyncFailoverStream(owner, targets, lambda o: owner.stream_complete_async(provider, prompt, o, rest))


# -- streams --------------------------------------------------------------------------------------

_END: Any = object()


class FailoverStream:
    """A ``Stream`` over the first target whose stream gives a first chunk (or ends cleanly without one).

    Iterate it, use it as a context manager, read ``response`` (with ``served_by``) once it ends, as a Stream.
    """

    def __init__(self, client: Any, targets: List[Target], open_stream: Callable[[Dict[str, Any]], Any]) -> None:
        self.response: Any = None
        self.served_by: Optional[str] = None
        tried: List[Tuple[str, BaseException]] = []
        for number, target in enumerate(targets):
            stream = None
            try:
                with _trying(target.label):
                    stream = open_stream(target.options)
                    chunks = iter(stream)
                    first = next(chunks, _END)
            except FAILS_OVER as error:
                if stream is not None:
                    stream.close()
                _failed(client, tried, targets, number, error)
                continue
            except BaseException:  # the caller's mistake (or Ctrl-C): raised, the connection freed
                if stream is not None:
                    stream.close()
                raise
            self._stream, self._chunks, self._first, self.served_by = stream, chunks, first, target.label
            self._consumed = False
            return
        raise _failed_all(tried)

    @property
    def request_id(self) -> Optional[str]:
        return getattr(self._stream, "request_id", None)

    def __iter__(self) -> Iterator[StreamChunk]:
        if self._consumed:
            raise errors.StreamError("This stream was already read; streams can be iterated once.")
        self._consumed = True
        if self._first is not _END:
            yield self._first
            while True:  # the target is set around each step only: between chunks the caller's code runs
                with _trying(self.served_by or ""):
                    chunk = next(self._chunks, _END)
                if chunk is _END:
                    break
                yield chunk
        if self._stream.response is not None:
            self.response = _labelled(self._stream.response, self.served_by or "")

    def text(self) -> str:
        return self.collect().results

    def collect(self) -> Any:
        if not self._consumed:
            for _ in self:
                pass
        if self.response is None:
            raise errors.StreamError("The stream was closed before it finished.")
        return self.response

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._stream.close()

    def __enter__(self) -> "FailoverStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class AsyncFailoverStream:
    """The async twin: opens on the first ``async for`` step (or ``await stream``), trying targets in turn."""

    def __init__(self, owner: Any, targets: List[Target], open_stream: Callable[[Dict[str, Any]], Any]) -> None:
        self._owner, self._targets, self._open_stream = owner, targets, open_stream
        self._stream: Any = None
        self._first: Any = _END
        self.response: Any = None
        self.served_by: Optional[str] = None

    async def _open(self) -> None:
        if self._stream is not None:
            return
        tried: List[Tuple[str, BaseException]] = []
        for number, target in enumerate(self._targets):
            stream = None
            try:
                with _trying(target.label):
                    stream = self._open_stream(target.options)
                    try:
                        self._first = await stream.__anext__()
                    except StopAsyncIteration:
                        self._first = _END
            except FAILS_OVER as error:
                if stream is not None:
                    await stream.aclose()
                _failed(self._owner.client, tried, self._targets, number, error)
                continue
            except BaseException:
                if stream is not None:
                    await stream.aclose()
                raise
            self._stream, self.served_by = stream, target.label
            return
        raise _failed_all(tried)

    def __await__(self):
        async def opened() -> "AsyncFailoverStream":
            await self._open()
            return self

        return opened().__await__()

    def __aiter__(self) -> "AsyncFailoverStream":
        return self

    async def __anext__(self) -> StreamChunk:
        await self._open()
        if self._first is not _END:
            first, self._first = self._first, _END
            return first
        try:
            with _trying(self.served_by or ""):
                return await self._stream.__anext__()
        except StopAsyncIteration:
            if self._stream.response is not None and self.response is None:
                self.response = _labelled(self._stream.response, self.served_by or "")
            raise

    async def collect(self) -> Any:
        async for _ in self:
            pass
        if self.response is None:
            raise errors.StreamError("The stream was closed before it finished.")
        return self.response

    async def text(self) -> str:
        return (await self.collect()).results

    async def aclose(self) -> None:
        if self._stream is not None:
            await self._stream.aclose()

    async def __aenter__(self) -> "AsyncFailoverStream":
        await self._open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()
