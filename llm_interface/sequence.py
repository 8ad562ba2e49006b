"""The one call sequence, written once, with no I/O of its own.

A call goes: tell the hooks -> rate limiter -> prompt render -> ``provider.prepare`` -> send ->
``provider.parse`` -> record (cache, hooks); any typed error on the way is told to the ``error``
hooks. The sequences below are generators that *yield* each I/O step as ``(kind, argument)`` and get
its result back, so the sync client (``run_steps``) and the async client (``run_steps_async``) drive
the very same steps, each with its own I/O. An error raised by a step is thrown back into the
sequence, which records it and re-raises.

Step kinds and what the driver must do:
    ACQUIRE  (plan)        the client's rate limiter: wait for a slot        -> None
    RESOLVE  (plan)        the Inference Provider picked (may fetch the Hub) -> the new Plan
    RENDER   (plan)        chat rendered into a prompt (may fetch the Hub)   -> the new Plan
    COMPUTE  (plan)        an in-process engine's ``compute``                -> the Response
    CHUNKS   (plan)        an in-process engine's ``stream`` (loads it)      -> an iterator of chunks
    SEND     (call, plan)  the transport sends, with retries                 -> HttpResult
    OPEN     (call, plan)  the transport opens a stream, with retries        -> an open HTTP stream
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Generator, Optional, Tuple

from . import errors
from .plan import Plan
from .prompt_render import needs_prompt
from .recorder import Recorder

ACQUIRE, RENDER, COMPUTE, CHUNKS, SEND, OPEN = "acquire", "render", "compute", "chunks", "send", "open"
RESOLVE = "resolve"

Step = Tuple[str, Any]
Steps = Generator[Step, Any, Any]


def call_steps(recorder: Recorder, plan: Plan) -> Steps:
    """A non-streaming call that missed the cache; returns the recorded answer."""
    recorder.started(plan)
    try:
        if plan.provider.in_process:
            sent = time.perf_counter()
            response = yield COMPUTE, plan
            return recorder.succeeded(plan, response, time.perf_counter() - sent, 0)
        plan = yield from _prepared(plan)
        call = plan.provider.prepare(plan.request)
        result = yield SEND, (call, plan)
        try:
            response = plan.provider.parse(plan.request, result)
        except errors.LLMInterfaceError as error:  # an unreadable 200 after retries: it says how many were made
            error.retries = result.retries
            raise
        return recorder.succeeded(plan, response, result.elapsed, result.retries, result.body)
    except errors.LLMInterfaceError as error:
        recorder.failed_with(plan, error)
        raise


def stream_steps(recorder: Recorder, plan: Plan) -> Steps:
    """A streamed call that missed the cache, up to the open source; returns ``(plan, source)``: the plan as
    rendered, and the open HTTP stream, or for an in-process engine the iterator of its chunks."""
    recorder.started(plan)
    try:
        if plan.provider.in_process:
            chunks = yield CHUNKS, plan
            return plan, chunks
        plan = yield from _prepared(plan)
        call = plan.provider.prepare(plan.request)
        http = yield OPEN, (call, plan)
        return plan, http
    except errors.LLMInterfaceError as error:
        recorder.failed_with(plan, error)
        raise


def _prepared(plan: Plan) -> Generator[Step, Any, Plan]:
    if plan.provider.needs_provider_mapping(plan.request):
        plan = yield RESOLVE, plan
    yield ACQUIRE, plan
    if needs_prompt(plan):
        plan = yield RENDER, plan
    return plan


def run_steps(steps: Steps, perform: Callable[[str, Any], Any]) -> Any:
    """Drive a sequence with blocking I/O: ``perform(kind, argument)`` does each step."""
    value: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        error = None
        try:
            value = perform(*step)
        except BaseException as exc:  # noqa: BLE001 - handed to the sequence, which records or re-raises it
            error = exc


async def run_steps_async(steps: Steps, perform: Callable[[str, Any], Awaitable[Any]]) -> Any:
    """``run_steps`` with awaitable I/O."""
    value: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        error = None
        try:
            value = await perform(*step)
        except BaseException as exc:  # noqa: BLE001 - handed to the sequence, which records or re-raises it
            error = exc
