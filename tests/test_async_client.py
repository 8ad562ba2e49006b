"""AsyncClient against a loopback server: answers, streams, cancellation, abandoned streams, timeouts,
the connection limit, retries, the cache, hooks, and the thread backend used without aiohttp."""

from __future__ import annotations

import asyncio
import gc
import logging
import time

import pytest
from conftest import FAKE_KEY
from support.skips import require

from llm_interface import AsyncClient, Client, LLMInterface, errors
from llm_interface import async_client as async_client_module

BACKENDS = ["aiohttp", "threads"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "aiohttp":
        require("aiohttp", "async")
    return request.param


def options(server, **more):
    return {"api_base": server.url, "model": "test-model", **more}


def make(backend, **kw):
    """An AsyncClient owning its Client, so that leaving ``async with`` closes every connection."""
    return AsyncClient(api_keys={"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}, backend=backend, **kw)


async def wait_for(condition, seconds=5.0):
    """Poll until the server saw what we expect (it runs in another thread); False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


def test_send_message_async_returns_the_parsed_answer(server, backend):
    async def main():
        async with make(backend) as c:
            first = await c.send_message_async("huggingface", "hello there", options(server))
            second = await c.send_message_async("huggingface", "again", options(server))
            return first, second

    first, second = asyncio.run(main())
    assert first.results == "echo: hello there"
    assert first.usage.total_tokens == 5
    assert first.request_id == "req-loopback"
    assert first.request_time is not None and first.total_time >= first.request_time
    assert second.results == "echo: again"
    assert server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert server.connections_made == 1  # the second call reused the pooled connection


def test_stream_message_async_yields_chunks_and_aggregates(server, backend):
    async def main():
        async with make(backend) as c:
            stream = c.stream_message_async("huggingface", "one two three", options(server))
            texts = [chunk.text async for chunk in stream]
            return texts, stream.response, await c.stream_message_async("huggingface", "x", options(server)).text()

    texts, response, text = asyncio.run(main())
    assert "".join(texts) == "echo: one two three"
    assert response.results == "echo: one two three"
    assert response.finish_reason == "stop"
    assert text == "echo: x"


def test_awaiting_a_stream_opens_it_and_raises_http_errors_there(server, backend):
    async def main():
        async with make(backend) as c:
            with pytest.raises(errors.AuthenticationError):
                await c.stream_message_async("huggingface", "status 401", options(server))

    asyncio.run(main())


def test_cancellation_closes_the_connection(server):
    require("aiohttp", "async")

    async def main():
        async with make("aiohttp") as c:
            task = asyncio.ensure_future(c.send_message_async("huggingface", "sleep 5 cancel", options(server)))
            assert await wait_for(lambda: [r.text for r in server.requests].count("sleep 5 cancel") == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await wait_for(lambda: "sleep 5 cancel" in [r.text for r in server.dropped]), "the connection was not closed"
            # The client goes on working after a cancellation.
            assert (await c.send_message_async("huggingface", "after", options(server))).results == "echo: after"

    asyncio.run(main())


@pytest.mark.parametrize("how", ["async with", "aclose", "dropped"])
def test_a_stream_abandoned_half_way_releases_its_connection(server, how):
    require("aiohttp", "async")

    async def main():
        async with make("aiohttp", max_connections=1) as c:
            text = f"hang 5 {how}"
            stream = c.stream_message_async("huggingface", text, options(server))
            if how == "async with":
                async with stream:
                    assert (await stream.__anext__()).text == "part0"
            else:
                async for _chunk in stream:
                    break
                if how == "aclose":
                    await stream.aclose()
                else:
                    del stream, _chunk
                    gc.collect()
            assert await wait_for(lambda: text in [r.text for r in server.dropped]), "the half-read connection was not closed"
            # With a pool of one, this call only succeeds if the abandoned connection was given back.
            answer = await asyncio.wait_for(c.send_message_async("huggingface", "next", options(server)), 5)
            assert answer.results == "echo: next"

    asyncio.run(main())


def test_timeouts_fire(server, backend):
    async def main():
        async with make(backend) as c:
            # The server answers after 3 s: a timeout that did not fire would end in that answer, not an error.
            with pytest.raises(errors.TimeoutError, match="timed out"):
                await c.send_message_async("huggingface", "sleep 3", options(server, timeout=0.3))
            assert await wait_for(lambda: "sleep 3" in [r.text for r in server.dropped]), "the timed-out call kept its connection"
            stream = c.stream_message_async("huggingface", "hang 2", options(server, timeout=0.3))
            with pytest.raises(errors.StreamError, match="timed out|incomplete"):
                async for _ in stream:
                    pass

    asyncio.run(main())


def test_a_connect_read_list_timeout_works(server):
    require("aiohttp", "async")

    async def main():
        async with make("aiohttp") as c:
            for _ in range(2):  # the second call finds the ClientTimeout made by the first
                answer = await c.send_message_async("huggingface", "hi", options(server, timeout=[5, 60]))
                assert answer.results == "echo: hi"
            answer = await c.send_message_async("huggingface", "hi", options(server, timeout=(5, 60)))
            assert answer.results == "echo: hi"

    asyncio.run(main())


def test_the_pool_never_exceeds_its_limit(server, backend):
    async def main():
        async with make(backend, max_connections=3) as c:
            calls = [c.send_message_async("huggingface", f"sleep 0.05 n{i}", options(server)) for i in range(15)]
            return await asyncio.gather(*calls)

    answers = asyncio.run(main())
    assert [a.results for a in answers] == [f"echo: sleep 0.05 n{i}" for i in range(15)]
    assert server.peak_connections <= 3
    assert 2 <= server.peak_in_flight <= 3  # bounded, and really concurrent


def test_retries_429_then_succeeds_and_tells_the_retry_hook(server, backend):
    seen = []

    async def main():
        async with make(backend) as c:
            c.client.on("retry", lambda request, number, wait, error: seen.append((number, error.status)))
            return await c.send_message_async(
                "huggingface", "fail429 2 a", options(server), {"retry_attempts": 3, "retry_multiplier": 0}
            )

    answer = asyncio.run(main())
    assert answer.results == "echo: fail429 2 a"
    assert answer.retries == 2
    assert seen == [(1, 429), (2, 429)]


def test_errors_are_typed_and_reach_the_error_hook(server, backend):
    seen = []

    async def main():
        async with make(backend) as c:
            c.client.on("error", lambda request, error: seen.append((request.api_key, type(error))))
            with pytest.raises(errors.NotFoundError) as raised:
                await c.send_message_async("huggingface", "status 404", options(server))
            return raised.value

    error = asyncio.run(main())
    assert error.status == 404 and error.provider == "huggingface"
    assert seen == [(None, errors.NotFoundError)]


def test_the_cache_is_shared_with_the_sync_client(server, backend):
    async def main():
        async with make(backend) as c:
            iopts = {"cache_timeout_seconds": 60}
            first = await c.send_message_async("huggingface", "cache me", options(server), iopts)
            again = await c.send_message_async("huggingface", "cache me", options(server), iopts)
            sync = c.client.send_message("huggingface", "cache me", options(server), iopts)
            streamed = await c.stream_message_async("huggingface", "cache me", options(server), iopts).text()
            return first, again, sync, streamed

    first, again, sync, streamed = asyncio.run(main())
    assert not first.cached and again.cached and sync.cached
    assert again.results == sync.results == streamed == "echo: cache me"
    assert len(server.requests) == 1


def test_hooks_get_a_key_free_request_timings_and_usage(server, backend):
    events = []

    async def main():
        async with make(backend) as c:
            c.client.on("request", lambda request: events.append(("request", request)))
            c.client.on("on_response", lambda request, response: events.append(("response", request, response)))
            await c.send_message_async("huggingface", "metrics", options(server))

    asyncio.run(main())
    (_, request), (_, request2, response) = events
    assert request.api_key is None and request2.api_key is None
    assert FAKE_KEY not in repr(events) and FAKE_KEY not in str(vars(request))
    assert response.usage.completion_tokens == 2
    assert response.request_time > 0 and response.total_time >= response.request_time


def test_without_aiohttp_the_thread_backend_is_used_and_says_so_once(server, monkeypatch, caplog):
    monkeypatch.setattr(async_client_module, "has_aiohttp", lambda: False)
    monkeypatch.setattr(async_client_module, "_told_about_threads", False)
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        c1, c2 = AsyncClient(Client({"huggingface": FAKE_KEY})), AsyncClient(Client({"huggingface": FAKE_KEY}))
    assert c1.backend == c2.backend == "threads"
    told = [r.getMessage() for r in caplog.records if "aiohttp is not installed" in r.getMessage()]
    assert len(told) == 1 and "llm-interface-hf[async]" in told[0]

    async def main():
        async with c1, c2:
            return await c1.send_message_async("huggingface", "threads", options(server))

    assert asyncio.run(main()).results == "echo: threads"


def test_aiohttp_backend_asked_for_but_missing_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_aiohttp(name, *args, **kwargs):
        if name == "aiohttp":
            raise ImportError("no aiohttp")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_aiohttp)
    with pytest.raises(errors.MissingDependencyError, match=r"llm-interface-hf\[async\]"):
        AsyncClient(backend="aiohttp")


def test_bad_input_raises_before_any_io(backend):
    c = make(backend)
    with pytest.raises(errors.InvalidRequestError):
        c.stream_message_async("huggingface", "")
    with pytest.raises(errors.InvalidRequestError):
        asyncio.run(c.send_message_async("huggingface", "hi", {"temperature": 7}))
    with pytest.raises(errors.InvalidRequestError):
        AsyncClient(backend="carrier-pigeon")


def test_the_static_facade_twins_work_across_event_loops(server):
    LLMInterface.set_api_key({"huggingface": FAKE_KEY})
    first = asyncio.run(LLMInterface.send_message_async("huggingface", "loop one", options(server)))
    second = asyncio.run(LLMInterface.send_message_async("huggingface", "loop two", options(server)))

    async def streamed():
        return [c.text async for c in LLMInterface.stream_message_async("huggingface", "s", options(server))]

    assert first.results == "echo: loop one" and second.results == "echo: loop two"
    assert "".join(asyncio.run(streamed())) == "echo: s"


class CountingLimiter:
    """A stand-in for the rate limiter of the limits issue: records what it was asked to let through."""

    def __init__(self):
        self.seen = []

    def acquire(self, request):
        self.seen.append(("sync", request.model))


class AsyncCountingLimiter(CountingLimiter):
    async def acquire_async(self, request):
        self.seen.append(("async", request.model))


@pytest.mark.parametrize("limiter_class, how", [(CountingLimiter, "sync"), (AsyncCountingLimiter, "async")])
def test_the_rate_limiter_is_asked_before_each_network_call(server, limiter_class, how):
    require("aiohttp", "async")
    limiter = limiter_class()

    async def main():
        async with make("aiohttp") as c:
            c.client.rate_limiter = limiter
            await c.send_message_async("huggingface", "limited", options(server))
            await c.stream_message_async("huggingface", "limited stream", options(server)).text()

    asyncio.run(main())
    assert limiter.seen == [(how, "test-model"), (how, "test-model")]


def test_async_client_takes_the_same_first_argument_as_client():
    """``AsyncClient({"huggingface": key})`` used to treat the dict as a Client (a raw AttributeError)."""
    keys = AsyncClient({"huggingface": FAKE_KEY}, backend="threads")
    assert keys.client.api_keys["huggingface"] == FAKE_KEY
    with pytest.raises(errors.InvalidRequestError, match="Client to share"):
        AsyncClient("huggingface")
    with pytest.raises(errors.InvalidRequestError, match="once"):
        AsyncClient({"huggingface": FAKE_KEY}, api_keys={"huggingface": FAKE_KEY})
