"""Batches: many messages, bounded concurrency, answers in input order (``send_messages``).

This module knows no client class: it works over anything that plans, looks in the cache and sends
(``Batchable`` below), so the clients can offer ``send_messages`` without an import circle; ``batch.py``
is the layer the facade calls.

Each answer is a ``Response``, or the typed error that item ended with (so one failure does not lose
the others), or, with ``raise_on_error=True``, the first error is raised and the rest cancelled.

Cooperation with the server's limits: every item goes through the client's retry policy and rate
limiter as a single call would; on top of that, a 429 seen by any item pauses the whole batch for
the wait the server asked for (the ``Pacer``), so the batch slows down instead of piling more
requests onto a limit it already hit. Cache hits answer at once, without waiting for a slot.

A ``deadline`` (seconds) bounds the whole batch: each item's own call is cut to the time left (the
transport ends it with a ``TimeoutError``), an item not started by then is not sent, and the batch
returns at the deadline whatever is still running (an in-process engine cannot be interrupted: its
thread finishes in the background). Every item that did not finish holds a ``TimeoutError`` in its
slot; nothing is lost and the answers stay in input order.

A tqdm progress bar is drawn when ``progress`` is true and stderr is a terminal.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from typing import Any, Iterable, List, Mapping, Optional, Protocol

from . import errors
from .events import Hooks
from .plan import Plan
from .request import MAX_DEADLINE

logger = logging.getLogger("llm_interface")


class Batchable(Protocol):
    """What a batch needs of a client (``Client`` is one)."""

    hooks: Hooks

    def interface_options(self, given: Any) -> Any: ...

    def plan(self, provider_name: str, task: str, message: Any, options: Any = None, interface_options: Any = None) -> Plan: ...

    def cached(self, plan: Plan) -> Any: ...

    def send_uncached(self, plan: Plan) -> Any: ...


class AsyncBatchable(Protocol):
    """What an async batch needs (``AsyncClient`` is one): the sync client's steps and the async send."""

    @property
    def client(self) -> Batchable: ...

    async def send_uncached(self, plan: Plan) -> Any: ...


def _check(concurrency: Any) -> int:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise errors.InvalidRequestError(f"concurrency must be an int >= 1, got {concurrency!r}")
    return concurrency


def _ends_at(deadline: Any) -> Optional[float]:
    """The monotonic time the batch must end by, or None (no deadline)."""
    if deadline is None:
        return None
    if (not isinstance(deadline, (int, float)) or isinstance(deadline, bool) or not deadline == deadline
            or not 0 < deadline <= MAX_DEADLINE):  # NaN fails ``deadline == deadline``
        raise errors.InvalidRequestError(
            f"deadline must be seconds > 0 and at most {MAX_DEADLINE:g} (or None for no limit), got {deadline!r}"
        )
    return time.monotonic() + float(deadline)


# After the deadline, a moment for in-flight calls to end with the transport's own TimeoutError (it
# names the URL and the request id) before the batch stops waiting and fills their slots itself.
_GRACE = 0.1
_PENDING: Any = object()  # a slot no answer or error has reached yet


def _timed_out(provider: str, deadline: Any) -> errors.TimeoutError:
    return errors.TimeoutError(
        f"The batch passed its deadline of {deadline:g}s before this item finished; raise deadline=, "
        "raise concurrency, or send fewer messages per batch.",
        provider=provider,
    )


def _within(plan: Plan, ends_at: Optional[float], provider: str, deadline: Any) -> Plan:
    """``plan`` with its call's deadline cut to the batch's time left; a TimeoutError when none is left."""
    if ends_at is None:
        return plan
    left = ends_at - time.monotonic()
    if left <= 0:
        raise _timed_out(provider, deadline)
    own = plan.policy.deadline
    if own is not None and own <= left:
        return plan
    return plan._replace(policy=dataclasses.replace(plan.policy, deadline=left))


def _worth_waiting(pacer: "Pacer", ends_at: Optional[float], provider: str, deadline: Any) -> None:
    """A TimeoutError when no time is left, or when the batch's 429 pause ends past the deadline."""
    if ends_at is None:
        return
    left = ends_at - time.monotonic()
    if left <= 0 or pacer.pause() > left:
        raise _timed_out(provider, deadline)


def _fill(results: List[Any], provider: str, deadline: Any) -> List[Any]:
    """A copy of ``results`` (a straggler thread may still write into the original), pending slots timed out."""
    return [_timed_out(provider, deadline) if result is _PENDING else result for result in results]


class Pacer:
    """Batch-wide pause after a 429: no item starts a new request before ``resume_at``."""

    __slots__ = ("resume_at",)

    def __init__(self) -> None:
        self.resume_at = 0.0

    def on_retry(self, _request: Any, _number: int, wait: float, error: BaseException) -> None:
        if getattr(error, "status", None) == 429:
            self.resume_at = max(self.resume_at, time.monotonic() + wait)

    def pause(self) -> float:
        return self.resume_at - time.monotonic()

    def wait(self) -> None:
        delay = self.pause()
        if delay > 0:
            time.sleep(delay)

    async def wait_async(self) -> None:
        delay = self.pause()
        if delay > 0:
            import asyncio  # lazy: the sync facade does not load asyncio

            await asyncio.sleep(delay)


class _Progress:
    """A tqdm bar, or nothing (not a terminal, asked off, or tqdm missing)."""

    def __init__(self, total: int, progress: bool, desc: str) -> None:
        self.bar = None
        if progress and total and sys.stderr.isatty():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                logger.info("tqdm is not installed: no progress bar (pip install tqdm).")
            else:
                self.bar = tqdm(total=total, desc=desc, unit="call", file=sys.stderr)

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_in_threads(
    client: Batchable,
    provider: str,
    messages: Iterable[Any],
    options: Optional[Mapping[str, Any]] = None,
    interface_options: Optional[Mapping[str, Any]] = None,
    *,
    concurrency: int = 8,
    progress: bool = True,
    raise_on_error: bool = False,
    deadline: Optional[float] = None,
) -> List[Any]:
    """Send every message with up to ``concurrency`` threads over ``client``; answers in input order.
    ``deadline``: seconds for the whole batch (see the module's docstring)."""
    _check(concurrency)
    ends_at = _ends_at(deadline)
    interface_options = client.interface_options(interface_options)  # merged and checked once, not per item
    items = list(messages)
    results: List[Any] = [_PENDING] * len(items)
    if not items:
        return results
    pacer = Pacer()
    bar = _Progress(len(items), progress, provider)
    indices = iter(range(len(items)))
    lock = threading.Lock()
    stop = threading.Event()

    def one(index: int) -> Any:
        plan = client.plan(provider, "chat", items[index], options, interface_options)
        hit = client.cached(plan)
        if hit is not None:
            return hit
        _worth_waiting(pacer, ends_at, provider, deadline)
        pacer.wait()
        return client.send_uncached(_within(plan, ends_at, provider, deadline))  # the cache was just checked

    def worker() -> None:
        while not stop.is_set():
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                results[index] = one(index)
            except errors.LLMInterfaceError as error:
                if raise_on_error:
                    stop.set()
                    raise
                results[index] = error
            bar.update()

    client.hooks.add("retry", pacer.on_retry)
    pool = ThreadPoolExecutor(min(concurrency, len(items)), thread_name_prefix="llm_interface-batch")
    try:
        futures = [pool.submit(worker) for _ in range(min(concurrency, len(items)))]
        timeout = None if ends_at is None else max(0.0, ends_at - time.monotonic()) + _GRACE
        wait_for_futures(futures, timeout=timeout, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done():
                future.result()  # the first error, with raise_on_error
    finally:
        stop.set()
        # Past a deadline, do not wait for a straggler (its call is cut to the deadline; an engine is not).
        pool.shutdown(wait=ends_at is None, cancel_futures=True)
        client.hooks.remove("retry", pacer.on_retry)
        bar.close()
    return _fill(results, provider, deadline)


async def run_in_tasks(
    aclient: AsyncBatchable,
    provider: str,
    messages: Iterable[Any],
    options: Optional[Mapping[str, Any]] = None,
    interface_options: Optional[Mapping[str, Any]] = None,
    *,
    concurrency: int = 8,
    progress: bool = True,
    raise_on_error: bool = False,
    deadline: Optional[float] = None,
) -> List[Any]:
    """Send every message with up to ``concurrency`` requests in flight; answers in input order.
    ``deadline``: seconds for the whole batch (see the module's docstring)."""
    import asyncio  # lazy: the sync facade does not load asyncio
    _check(concurrency)
    ends_at = _ends_at(deadline)
    client = aclient.client
    interface_options = client.interface_options(interface_options)  # merged and checked once, not per item
    items = list(messages)
    results: List[Any] = [_PENDING] * len(items)
    if not items:
        return results
    pacer = Pacer()
    bar = _Progress(len(items), progress, provider)
    indices = iter(range(len(items)))  # shared by the workers: one loop, no lock needed

    async def worker() -> None:
        for index in indices:
            try:
                plan = client.plan(provider, "chat", items[index], options, interface_options)
                hit = client.cached(plan)
                if hit is not None:
                    results[index] = hit
                else:
                    _worth_waiting(pacer, ends_at, provider, deadline)
                    await pacer.wait_async()
                    plan = _within(plan, ends_at, provider, deadline)
                    results[index] = await aclient.send_uncached(plan)  # the cache was just checked
            except errors.LLMInterfaceError as error:
                if raise_on_error:
                    raise
                results[index] = error
            bar.update()

    client.hooks.add("retry", pacer.on_retry)
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(items)))]
    try:
        if ends_at is None:
            await asyncio.gather(*workers)
        else:
            timeout = max(0.0, ends_at - time.monotonic()) + _GRACE
            done, late = await asyncio.wait(workers, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]  # the first error, with raise_on_error
            for task in late:  # past the deadline: their slots time out below
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    finally:
        client.hooks.remove("retry", pacer.on_retry)
        bar.close()
    return _fill(results, provider, deadline)
