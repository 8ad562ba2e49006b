"""Issue 16 #9, #12, #13: what the wire may do to a call, bounded. A total deadline per call (a body
dripping one byte at a time held a call 14x its timeout), a cap on the answer's size (and on one SSE
event), and a body whose Content-Encoding is a lie (an InvalidResponseError, not a ConnectionError).
Real loopback servers, both transports, called directly with the policy and transport options the
planning code passes. A new case is one line in a table."""

from __future__ import annotations

import asyncio
import json

import pytest
from loopback import Answer, Status
from optional import require
from sync_async import MODES

from llm_interface import errors
from llm_interface.retry import RetryPolicy
from llm_interface.transport import Transport
from llm_interface.wire import DEFAULT_MAX_RESPONSE_BYTES, Context, HttpCall

CTX = Context("openai-compatible", "m")
JSON = {"Content-Type": "application/json"}
SSE = {"Content-Type": "text/event-stream"}


def call_to(server, stream=False, timeout=2.0):
    return HttpCall("POST", server.url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]},
                    {"Authorization": "Bearer fake-limits-key-1"}, stream=stream, timeout=timeout)


def send(mode, call, policy, **transport_options):
    """The body of a plain answer, or the list of SSE events of a stream, through one transport."""
    if mode == "sync":
        transport = Transport(**transport_options)
        try:
            if call.stream:
                with transport.open_stream(call, CTX, policy) as stream:
                    return list(stream)
            return transport.send(call, CTX, policy).body
        finally:
            transport.close()
    require("aiohttp", "async")
    from llm_interface.async_transport import AsyncTransport

    async def main():
        transport = AsyncTransport(**transport_options)
        try:
            if call.stream:
                stream = await transport.open_stream(call, CTX, policy)
                events = []
                try:
                    while (batch := await stream.read_events()) is not None:
                        events.extend(batch)
                finally:
                    stream.close()
                return events
            return (await transport.send(call, CTX, policy)).body
        finally:
            await transport.close()

    return asyncio.run(main())


DRIP = Answer(headers=JSON, chunks=[b'{"id": "x"'] + [b" "] * 60 + [b"}"], pause=0.05)
SSE_DRIP = Answer(headers=SSE, chunks=[b'data: {"n": %d}\n\n' % n for n in range(60)], pause=0.05)

# name -> (answer, streamed?, deadline seconds)
DEADLINE_CASES = {
    "slow-drip body": (DRIP, False, 0.4),
    "slow-drip stream": (SSE_DRIP, True, 0.4),
    "slow first byte": (Answer(headers=JSON, body=b"{}", delay=1.5), False, 0.4),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(DEADLINE_CASES))
def test_the_deadline_bounds_the_whole_call(loopback, mode, case):
    answer, streamed, deadline = DEADLINE_CASES[case]
    loopback.script(answer)
    with pytest.raises(errors.TimeoutError) as caught:  # each read is well within the 2 s timeout
        send(mode, call_to(loopback, stream=streamed), RetryPolicy(attempts=0, deadline=deadline))
    assert "deadline" in str(caught.value) and loopback.count == 1


@pytest.mark.parametrize("mode", MODES)
def test_no_retry_wait_is_made_past_the_deadline(loopback, mode):
    loopback.script(Status(503, {"error": "busy"}, {"Retry-After": "5"}), Answer(headers=JSON, body=b"{}"))
    with pytest.raises(errors.ServerError) as caught:
        send(mode, call_to(loopback), RetryPolicy(attempts=2, deadline=1.0))
    assert "would pass the deadline" in str(caught.value) and loopback.count == 1


@pytest.mark.parametrize("mode", MODES)
def test_without_a_deadline_a_drip_still_arrives(loopback, mode):
    loopback.script(DRIP)
    assert send(mode, call_to(loopback), RetryPolicy(attempts=0)) == {"id": "x"}


BIG = b'{"text": "' + b"x" * 5000 + b'"}'
# name -> (answer, streamed?)
TOO_LARGE = {
    "content-length body": (Answer(headers=JSON, body=BIG), False),
    "close-delimited body": (Answer(headers=JSON, chunks=[BIG[i:i + 700] for i in range(0, len(BIG), 700)]), False),
    "one huge sse event": (Answer(headers=SSE, chunks=[b"data: " + BIG[:2500], BIG[2500:] + b"\n\n"]), True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(TOO_LARGE))
def test_an_answer_past_max_response_bytes_is_an_invalid_response(loopback, mode, case):
    answer, streamed = TOO_LARGE[case]
    loopback.script(answer)
    with pytest.raises(errors.InvalidResponseError) as caught:
        send(mode, call_to(loopback, stream=streamed), RetryPolicy(attempts=2), max_response_bytes=1000)
    assert "max_response_bytes=1000" in str(caught.value) and loopback.count == 1


@pytest.mark.parametrize("mode", MODES)
def test_the_stream_cap_is_per_event(loopback, mode):
    """Many small events add up past the cap: a long generation is fine, only one huge event is not."""
    events = [b'data: {"n": %d, "pad": "%s"}\n\n' % (n, b"p" * 50) for n in range(40)]
    loopback.script(Answer(headers=SSE, chunks=events))
    got = send(mode, call_to(loopback, stream=True), RetryPolicy(attempts=0), max_response_bytes=1000)
    assert [json.loads(data)["n"] for _, data in got] == list(range(40))


def test_the_default_cap_is_generous():
    assert DEFAULT_MAX_RESPONSE_BYTES == 32 * 1024 * 1024
    assert Transport().max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    with pytest.raises(errors.InvalidRequestError):
        Transport(max_response_bytes=0)


GZIP_LIE = {"Content-Encoding": "gzip"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("streamed", [False, True], ids=["body", "stream"])
def test_a_body_whose_gzip_encoding_is_a_lie_is_an_invalid_response(loopback, mode, streamed):
    headers = {**(SSE if streamed else JSON), **GZIP_LIE}
    loopback.script(Answer(headers=headers, body=b'data: {"not": "gzip at all"}\n\n' if streamed else b'{"not": "gzip"}'))
    with pytest.raises(errors.InvalidResponseError) as caught:
        send(mode, call_to(loopback, stream=streamed), RetryPolicy(attempts=2))
    assert "Content-Encoding: gzip" in str(caught.value) and loopback.count == 1


# -- the cap and the deadline where users set them: Client / AsyncClient / the proxy's config ---------


def _client_call(mode, server, iopts=None, **client_kwargs):
    """One chat call through a Client (sync) or an AsyncClient built from the same arguments."""
    from llm_interface import AsyncClient, Client

    options = {"api_base": server.url, "model": "test-model"}
    iopts = {"retry_attempts": 0, **(iopts or {})}
    if mode == "sync":
        with Client({"huggingface": "fake-limits-key-2"}, **client_kwargs) as client:
            return client.send_message("huggingface", "hi", options, iopts)
    require("aiohttp", "async")

    async def main():
        async with AsyncClient({"huggingface": "fake-limits-key-2"}, **client_kwargs) as client:
            return await client.send_message_async("huggingface", "hi", options, iopts)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_client_max_response_bytes_reaches_the_transport(loopback, mode):
    loopback.script(Answer(headers=JSON, body=BIG))
    with pytest.raises(errors.InvalidResponseError, match="max_response_bytes=1000"):
        _client_call(mode, loopback, max_response_bytes=1000)


def test_client_max_response_bytes_is_checked_and_not_given_twice():
    from llm_interface import AsyncClient, Client

    with pytest.raises(errors.InvalidRequestError, match="max_response_bytes"):
        Client(max_response_bytes=0)
    with pytest.raises(errors.InvalidRequestError, match="not both"):
        Client(transport=Transport(), max_response_bytes=1000)
    with Client(max_response_bytes=4096) as client:
        assert client.transport.max_response_bytes == 4096
        if require("aiohttp", "async"):
            shared = AsyncClient(client, backend="aiohttp")  # the shared Client's cap holds there too
            assert shared.transport.max_response_bytes == 4096


@pytest.mark.parametrize("mode", MODES)
def test_the_per_call_deadline_interface_option_bounds_a_slow_drip(loopback, mode):
    loopback.script(DRIP)
    with pytest.raises(errors.TimeoutError, match="deadline"):
        _client_call(mode, loopback, iopts={"deadline": 0.4})


def test_the_proxy_config_takes_max_response_bytes():
    require("fastapi", "server")
    from llm_interface.server.app import build_client
    from llm_interface.server.config import ProxyConfig

    base = {"model_list": [{"model_name": "m", "litellm_params": {"model": "huggingface/org/m"}}]}
    config = ProxyConfig.from_mapping({**base, "llm_interface_settings": {"max_response_bytes": 2048}})
    client = build_client(config)
    assert client.transport.max_response_bytes == 2048
    client.close()
    assert build_client(ProxyConfig.from_mapping(base)).transport.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    with pytest.raises(errors.ConfigurationError, match="max_response_bytes"):
        ProxyConfig.from_mapping({**base, "llm_interface_settings": {"max_response_bytes": "1MB"}})
