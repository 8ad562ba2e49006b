"""Batches (sync over threads, async over AsyncClient) against the loopback server."""

from __future__ import annotations

import asyncio

import pytest
from conftest import FAKE_KEY
from support.skips import require

from llm_interface import AsyncClient, Client, LLMInterface, errors
from llm_interface import fanout as batch_module


def options(server):
    return {"api_base": server.url, "model": "test-model"}


@pytest.fixture
def sync_client():
    with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
        yield c


@pytest.fixture(params=["sync", "aiohttp", "threads"])
def run_batch(request, sync_client):
    """``run_batch(messages, options, interface_options, **kw)`` through each of the three paths."""
    if request.param == "aiohttp":
        require("aiohttp", "async")
    def run(*args, **kw):
        if request.param == "sync":
            return sync_client.send_messages("huggingface", *args, **kw)

        async def main():
            async with AsyncClient(sync_client, backend=request.param) as c:
                return await c.send_messages_async("huggingface", *args, **kw)

        return asyncio.run(main())

    run.client = sync_client
    return run


def test_answers_come_back_in_input_order_and_failures_stay_in_their_slot(server, run_batch):
    messages = [f"sleep 0.0{i % 3} item {i}" for i in range(20)]
    messages[3] = "status 404"
    messages[7] = ""  # bad input fails its own slot, before any I/O
    results = run_batch(messages, options(server), concurrency=5, progress=False)
    assert len(results) == 20
    for i, result in enumerate(results):
        if i == 3:
            assert isinstance(result, errors.NotFoundError) and result.status == 404
        elif i == 7:
            assert isinstance(result, errors.InvalidRequestError)
        else:
            assert result.results == f"echo: {messages[i]}"
    assert len(server.requests) == 19


def test_raise_on_error_raises_the_typed_error(server, run_batch):
    with pytest.raises(errors.AuthenticationError):
        run_batch(["a", "status 401", "b"], options(server), concurrency=1, raise_on_error=True, progress=False)


def test_concurrency_bounds_the_requests_in_flight(server, run_batch):
    results = run_batch([f"sleep 0.05 c{i}" for i in range(16)], options(server), concurrency=4, progress=False)
    assert all(not isinstance(r, Exception) for r in results)
    assert server.peak_in_flight == 4  # bounded, and really concurrent


def test_cache_hits_skip_the_network(server, run_batch):
    iopts = {"cache_timeout_seconds": 60}
    messages = [f"cached {i}" for i in range(6)]
    first = run_batch(messages, options(server), iopts, progress=False)
    again = run_batch(messages + ["new one"], options(server), iopts, progress=False)
    assert [r.cached for r in first] == [False] * 6
    assert [r.cached for r in again] == [True] * 6 + [False]
    assert len(server.requests) == 7


def test_each_item_reads_the_cache_once(server, run_batch):
    """A miss is looked up once, then sent: a files or Redis cache must not be read twice per item."""
    from llm_interface.cache import MemoryCache

    class CountingCache(MemoryCache):
        reads = 0

        def get(self, key):
            CountingCache.reads += 1
            return super().get(key)

    run_batch.client.cache = CountingCache()
    run_batch([f"counted {i}" for i in range(5)], options(server), {"cache_timeout_seconds": 60}, progress=False)
    assert CountingCache.reads == 5


def test_429s_slow_the_batch_down_instead_of_failing_it(server, run_batch):
    iopts = {"retry_attempts": 3, "retry_multiplier": 0}
    messages = [f"fail429 2 item{i}" for i in range(6)]
    results = run_batch(messages, options(server), iopts, concurrency=3, progress=False)
    assert [r.results for r in results] == [f"echo: {m}" for m in messages]
    assert all(r.retries == 2 for r in results)
    assert len(server.requests) == 6 * 3  # each item: two 429s, then its answer; none given up


def test_the_pacer_holds_every_item_after_a_429():
    pacer = batch_module.Pacer()
    pacer.on_retry(None, 1, 30.0, errors.RateLimitError("slow down", status=429))
    assert pacer.pause() > 25  # every worker now waits ~30 s before its next request
    pacer.on_retry(None, 1, 60.0, errors.ServerError("boom", status=500))
    assert pacer.pause() < 31  # only 429s pause the batch


def test_bad_concurrency_is_a_clear_error(sync_client):
    with pytest.raises(errors.InvalidRequestError, match="concurrency"):
        sync_client.send_messages("huggingface", ["a"], concurrency=0)
    assert sync_client.send_messages("huggingface", []) == []


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    require("tqdm", "test")
    assert batch_module._Progress(5, True, "x").bar is None  # pytest's stderr is not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    bar = batch_module._Progress(5, True, "x")
    assert bar.bar is not None
    bar.update()
    bar.close()
    assert batch_module._Progress(5, False, "x").bar is None  # asked off


def test_the_static_facade_batches(server):
    LLMInterface.set_api_key({"huggingface": FAKE_KEY})
    results = LLMInterface.send_messages("huggingface", ["a", "b"], options(server), progress=False)
    assert [r.results for r in results] == ["echo: a", "echo: b"]
    if require("aiohttp", "async"):
        results = asyncio.run(LLMInterface.send_messages_async("huggingface", ["c"], options(server), progress=False))
        assert results[0].results == "echo: c"


# -- the batch deadline (issue 16, item 9: "per call and per batch") ---------------------------------


def test_a_batch_deadline_times_out_what_did_not_finish_and_keeps_the_rest(server, run_batch):
    """One slow item, fast ones around it: the fast answers stay, the slow one is a TimeoutError in its
    slot, and the batch returns (a 30 s sleep would hold it for 30 s without the deadline)."""
    messages = ["fast a", "sleep 30 slow", "fast b", "fast c"]
    results = run_batch(messages, options(server), concurrency=2, progress=False, deadline=1.0)
    assert len(results) == 4
    assert [r.results for i, r in enumerate(results) if i != 1] == ["echo: fast a", "echo: fast b", "echo: fast c"]
    assert isinstance(results[1], errors.TimeoutError) and "deadline" in str(results[1])


def test_items_not_started_by_the_deadline_are_not_sent(server, run_batch):
    """One worker, stuck on a slow item: the items behind it are never sent, each a TimeoutError."""
    results = run_batch(["first", "sleep 30 stuck", "never 1", "never 2"], options(server),
                        concurrency=1, progress=False, deadline=1.0)
    assert results[0].results == "echo: first"
    assert all(isinstance(r, errors.TimeoutError) for r in results[1:])
    assert "batch" in str(results[3]) and "deadline" in str(results[3])
    assert not any("never" in r.text for r in server.requests)


def test_a_call_deadline_shorter_than_the_batch_deadline_still_applies(server, run_batch):
    results = run_batch(["sleep 30 x", "y"], options(server), {"deadline": 0.5}, concurrency=2,
                        progress=False, deadline=600)
    assert isinstance(results[0], errors.TimeoutError) and results[1].results == "echo: y"


def test_a_429_pause_past_the_deadline_is_not_waited_for(server, sync_client, monkeypatch):
    """The batch-wide pause after a 429 would outlast the deadline: the items left end at once."""
    real = batch_module.Pacer.pause
    monkeypatch.setattr(batch_module.Pacer, "pause", lambda self: 3600.0)
    try:
        results = sync_client.send_messages("huggingface", ["a", "b"], options(server), progress=False, deadline=5)
    finally:
        monkeypatch.setattr(batch_module.Pacer, "pause", real)
    assert all(isinstance(r, errors.TimeoutError) for r in results)
    assert server.requests == []


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10", True, 1e300])
def test_a_bad_batch_deadline_is_a_typed_error(sync_client, bad):
    with pytest.raises(errors.InvalidRequestError, match="deadline"):
        sync_client.send_messages("huggingface", ["a"], deadline=bad)


def test_the_facade_takes_the_batch_deadline(server):
    LLMInterface.set_api_key({"huggingface": FAKE_KEY})
    results = LLMInterface.send_messages("huggingface", ["a", "sleep 30 b"], options(server),
                                         {"retry_attempts": 0}, progress=False, deadline=1.0)
    assert results[0].results == "echo: a" and isinstance(results[1], errors.TimeoutError)
