"""The one call sequence (sequence.py), driven by the sync and the async client over a loopback server:
the same steps in the same order, the same hooks, an error raised by any I/O step recorded once and
re-raised; and the thread transport that stands in for aiohttp streams through the same AsyncStream."""

from __future__ import annotations

import asyncio

import pytest
from conftest import FAKE_KEY

from llm_interface import AsyncClient, Client, errors
from llm_interface.sequence import ACQUIRE, SEND, call_steps, run_steps, run_steps_async
from llm_interface.thread_transport import ThreadHttpStream, ThreadTransport


def options(server):
    return {"api_base": server.url, "model": "test-model"}


def recording_client():
    client = Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0})
    events = []
    for name in ("request", "response", "error"):
        client.on(name, lambda *args, name=name: events.append((name, type(args[-1]).__name__)))
    return client, events


def test_sync_and_async_drive_the_same_steps(server):
    client, _ = recording_client()
    seen = {"sync": [], "async": []}

    def perform(kind, argument):
        seen["sync"].append(kind)
        return client._perform(kind, argument)

    aclient = AsyncClient(client, backend="threads")

    async def perform_async(kind, argument):
        seen["async"].append(kind)
        return await aclient.perform(kind, argument)

    plan = client.plan("huggingface", "chat", "hi", options(server))
    sync_answer = run_steps(call_steps(client.recorder, plan), perform)
    async_answer = asyncio.run(run_steps_async(call_steps(client.recorder, plan), perform_async))
    assert seen["sync"] == seen["async"] == [ACQUIRE, SEND]
    assert sync_answer.results == async_answer.results == "echo: hi"


@pytest.mark.parametrize("backend", ["sync", "threads"])
def test_an_error_from_the_transport_is_recorded_once_and_raised(server, backend):
    client, events = recording_client()
    with pytest.raises(errors.AuthenticationError):  # the loopback answers "status 401" with a 401
        if backend == "sync":
            client.send_message("huggingface", "status 401", options(server))
        else:
            async def main():
                async with AsyncClient(client, backend="threads") as c:
                    await c.send_message_async("huggingface", "status 401", options(server))

            asyncio.run(main())
    assert events == [("request", "Request"), ("error", "AuthenticationError")]


def test_a_foreign_exception_from_a_step_is_not_recorded_but_raised(server):
    """Only typed errors are the call's failures; anything else (a bug, a KeyboardInterrupt) passes through."""
    client, events = recording_client()
    plan = client.plan("huggingface", "chat", "hi", options(server))

    def broken(kind, argument):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_steps(call_steps(client.recorder, plan), broken)
    assert events == [("request", "Request")]


def test_the_thread_transport_streams_through_one_async_stream(server):
    client, events = recording_client()

    async def main():
        async with AsyncClient(client, backend="threads") as c:
            assert isinstance(c.transport, ThreadTransport)
            stream = c.stream_message_async("huggingface", "streamed words", options(server))
            async with stream:
                pieces = [chunk.text async for chunk in stream]
                assert isinstance(stream._source, ThreadHttpStream)
            return pieces, stream.response

    pieces, response = asyncio.run(main())
    assert "".join(pieces) == response.results == "echo: streamed words"
    assert events == [("request", "Request"), ("response", "Response")]


def test_a_cached_answer_streams_back_without_recording_again(server):
    client, events = recording_client()
    client.configure_cache("memory")
    first = client.send_message("huggingface", "once", options(server))

    async def main():
        async with AsyncClient(client, backend="threads") as c:
            stream = c.stream_message_async("huggingface", "once", options(server))
            return "".join([chunk.text async for chunk in stream]), stream.response

    text, response = asyncio.run(main())
    assert text == first.results and response.cached
    assert server.count == 1
    assert events == [("request", "Request"), ("response", "Response")]  # the first call's only


@pytest.mark.parametrize("driver", ["sync", "threads"])
def test_an_engine_that_cannot_load_is_a_recorded_error_when_the_stream_opens(driver):
    """Opening an in-process stream loads the model: a step of the sequence (in a thread for async), so its
    typed error reaches the error hooks like a server's would."""
    client, events = recording_client()
    options = {"model_path": "/nonexistent/test-model.gguf"}
    with pytest.raises(errors.ModelNotFoundError):
        if driver == "sync":
            client.stream_message("huggingface", "hi", options)
        else:
            async def main():
                async with AsyncClient(client, backend="threads") as c:
                    await c.stream_message_async("huggingface", "hi", options)

            asyncio.run(main())
    assert events == [("request", "Request"), ("error", "ModelNotFoundError")]
