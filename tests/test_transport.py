"""The transport end to end against a real loopback HTTP server: bodies, timeouts, refused
connections, retries, and streams (early end, errors inside a 200, abandonment, read timeouts)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from recordings import error_bodies
from support.loopback import Answer, free_port
from support.skips import require

from llm_interface import AsyncClient, Client, errors
from llm_interface.transport import timeouts

SSE = {"Content-Type": "text/event-stream"}


def event(obj, space=True) -> bytes:
    return (b"data: " if space else b"data:") + json.dumps(obj).encode() + b"\n\n"


def delta(text, finish=None, index=0):
    return {"object": "chat.completion.chunk", "choices": [{"index": index, "delta": {"content": text}, "finish_reason": finish}]}


COMPLETION = {"id": "x", "object": "chat.completion", "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


@pytest.fixture
def call(loopback):
    client = Client(interface_options={"retry_attempts": 0})
    yield lambda **options: client.send_message("openai-compatible", "hi", {"api_base": loopback.url, **options})
    client.close()


def test_ok_round_trip(loopback, call):
    loopback.script(Answer(body=json.dumps(COMPLETION).encode(), headers={"x-request-id": "abc"}))
    result = call()
    assert (result.results, result.finish_reason, result.request_id) == ("Hi!", "stop", "abc")
    seen = loopback.requests[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["content-type"] == "application/json"
    assert "authorization" not in seen.headers  # no key found: none sent to a self-hosted server
    assert seen.body == {"messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "body,content_type,words",
    [
        (b"", "application/json", "empty body"),
        (b"   \n", "application/json", "empty body"),
        (b"<!DOCTYPE html><html><body>Welcome to nginx</body></html>", "text/html", "HTML page"),
        (b'{"choices": [', "application/json", "not JSON"),
        (b'{"object": "list", "data": []}', "application/json", "no 'choices'"),
        (b"[1, 2]", "application/json", "no 'choices'"),
    ],
    ids=["empty", "blank", "html", "truncated-json", "wrong-object", "json-list"],
)
def test_unusable_200_bodies_are_invalid_response_errors(loopback, call, body, content_type, words):
    loopback.script(Answer(body=body, headers={"Content-Type": content_type, "x-request-id": "r1"}))
    with pytest.raises(errors.InvalidResponseError) as caught:
        call()
    assert words in str(caught.value)
    assert caught.value.status in (200, None) and caught.value.request_id == "r1"


def test_an_error_inside_a_200_body_is_raised_typed(loopback, call):
    body = {"error": "Input validation error: too long", "error_type": "validation"}
    loopback.script(Answer(body=json.dumps(body).encode()))
    with pytest.raises(errors.ValidationError) as caught:
        call()
    assert caught.value.status == 422 and "too long" in caught.value.server_message


def test_html_error_page(loopback, call):
    loopback.script(Answer(status=502, body=b"<html><head><title>502 Bad Gateway</title></head></html>",
                          headers={"Content-Type": "text/html"}))
    with pytest.raises(errors.ServerError) as caught:
        call()
    assert caught.value.status == 502 and "HTML page" in str(caught.value)


def test_connection_refused_is_a_connection_error():
    with Client(interface_options={"retry_attempts": 0}) as client:
        with pytest.raises(errors.ConnectionError) as caught:
            client.send_message("openai-compatible", "hi", {"api_base": f"http://127.0.0.1:{free_port()}"})
    assert isinstance(caught.value, ConnectionError)  # also the builtin
    assert "api_base" in str(caught.value) and caught.value.provider == "openai-compatible"
    assert isinstance(caught.value.__cause__, Exception)  # translated once, with the cause kept


def test_read_timeout_is_a_timeout_error(loopback, call):
    loopback.script(Answer(body=json.dumps(COMPLETION).encode(), delay=1.0))
    with pytest.raises(errors.TimeoutError) as caught:
        call(timeout=0.2)
    assert isinstance(caught.value, TimeoutError)
    assert "timeout" in str(caught.value)


def test_a_body_that_stalls_after_the_headers_is_the_same_error_sync_and_async(loopback):
    """Headers arrive, then the body stalls past the read timeout: both transports raise the same
    TimeoutError and neither retries (the server may already have done the work)."""
    require("aiohttp", "async")
    stalled = Answer(headers={"Content-Type": "application/json"}, chunks=[b'{"id": "x",', b'"model": "m"}'], pause=1.5)
    options = {"api_base": loopback.url, "timeout": 0.3}

    loopback.script(stalled, stalled)
    with Client(interface_options={"retry_attempts": 1}) as client:
        with pytest.raises(errors.LLMInterfaceError) as sync_caught:
            client.send_message("openai-compatible", "hi", options)
    sync_count = loopback.count

    loopback.reset()
    loopback.script(stalled, stalled)

    async def main():
        async with AsyncClient(interface_options={"retry_attempts": 1}, backend="aiohttp") as c:
            await c.send_message_async("openai-compatible", "hi", options)

    with pytest.raises(errors.LLMInterfaceError) as async_caught:
        asyncio.run(main())
    assert type(sync_caught.value) is type(async_caught.value) is errors.TimeoutError
    assert str(sync_caught.value) == str(async_caught.value)
    assert "Reading the answer timed out" in str(sync_caught.value)
    assert sync_count == loopback.count == 1


@pytest.mark.parametrize("value,expected", [
    (None, (10.0, 120.0)), (30, (10.0, 30.0)), (2.5, (2.5, 2.5)), ((1, 5), (1.0, 5.0)),
])
def test_timeouts(value, expected):
    assert timeouts(value) == expected


@pytest.mark.parametrize("bad", [0, -1, "10", (1,), (1, 0), True])
def test_bad_timeouts(bad):
    with pytest.raises(errors.InvalidRequestError):
        timeouts(bad)


def test_retries_a_503_then_succeeds(loopback):
    loopback.script(
        Answer(status=503, body=b'{"error": "Model m is currently loading", "estimated_time": 0.0}'),
        Answer(status=429, body=b'{"error": "slow down"}', headers={"Retry-After": "0"}),
        Answer(body=json.dumps(COMPLETION).encode()),
    )
    retries = []
    with Client(interface_options={"retry_attempts": 2, "retry_multiplier": 0}) as client:
        client.hooks.add("on_retry", lambda request, number, wait, error: retries.append((number, type(error))))
        result = client.send_message("openai-compatible", "hi", {"api_base": loopback.url})
    assert result.results == "Hi!" and result.retries == 2
    assert retries == [(1, errors.ModelLoadingError), (2, errors.RateLimitError)]
    assert len(loopback.requests) == 3


def test_no_retry_on_422_and_none_after_the_last_attempt(loopback):
    loopback.script(Answer(status=422, body=b'{"error": "bad", "error_type": "validation"}'))
    with Client(interface_options={"retry_attempts": 3, "retry_multiplier": 0}) as client:
        with pytest.raises(errors.ValidationError) as caught:
            client.send_message("openai-compatible", "hi", {"api_base": loopback.url})
    assert len(loopback.requests) == 1 and caught.value.retries == 0


def test_gives_up_after_the_attempts(loopback):
    loopback.script(*[Answer(status=500, body=b'{"error": "boom"}') for _ in range(3)])
    with Client(interface_options={"retry_attempts": 2, "retry_multiplier": 0}) as client:
        with pytest.raises(errors.ServerError) as caught:
            client.send_message("openai-compatible", "hi", {"api_base": loopback.url})
    assert len(loopback.requests) == 3 and caught.value.retries == 2
    assert caught.value.server_message == "boom"


# -- streams ---------------------------------------------------------------------------------


@pytest.fixture
def stream(loopback):
    client = Client(interface_options={"retry_attempts": 0})
    yield lambda **options: client.stream_message("openai-compatible", "hi", {"api_base": loopback.url, **options})
    client.close()


def test_stream_round_trip_crlf_keepalives_no_space_no_done(loopback, stream):
    wire = (b": keep-alive\r\n\r\n" + event(delta("Hel"), space=False).replace(b"\n", b"\r\n")
            + b": ping\n\n" + event(delta("lo")) + event(delta("", "eos_token"), space=False))
    loopback.script(Answer(headers=SSE, chunks=[wire[i:i + 7] for i in range(0, len(wire), 7)]))
    with stream() as s:
        texts = [chunk.text for chunk in s]
    assert "".join(texts) == "Hello"
    assert s.response.results == "Hello" and s.response.finish_reason == "stop"
    assert loopback.requests[0].body["stream"] is True


def test_stream_with_usage_chunk_after_finish(loopback, stream):
    usage = {"choices": [], "usage": {"prompt_tokens": 39, "completion_tokens": 3, "total_tokens": 42}}
    loopback.script(Answer(headers=SSE, chunks=[event(delta("OK")), event(delta("", "stop")), event(usage), b"data: [DONE]\n\n"]))
    with stream() as s:
        chunks = list(s)
    assert s.response.usage.total_tokens == 42
    assert chunks[-1].usage.total_tokens == 42 and chunks[-1].text == ""


@pytest.mark.parametrize("cut", ["mid-answer", "mid-event", "nothing"])
def test_a_stream_that_ends_early_is_a_stream_error(loopback, stream, cut):
    chunks = {"mid-answer": [event(delta("Hel")), event(delta("lo"))],
              "mid-event": [event(delta("Hel")), b'data: {"choices": [{"ind'],
              "nothing": []}[cut]
    loopback.script(Answer(headers=SSE, chunks=chunks))
    received = []
    with pytest.raises(errors.StreamError):
        with stream() as s:
            for chunk in s:
                received.append(chunk.text)
    assert s.response is None
    if cut != "nothing":
        assert received[0] == "Hel"


@pytest.mark.parametrize("case", [c for c in error_bodies() if c["status"] == 200], ids=lambda c: c["name"])
def test_recorded_errors_inside_a_200_stream_are_typed(loopback, stream, case):
    loopback.script(Answer(headers=SSE, chunks=[event(delta("partial")), case["body"].encode()]))
    with pytest.raises(errors.ValidationError) as caught:
        with stream() as s:
            list(s)
    assert caught.value.status == 422
    assert "Input validation error" in caught.value.server_message


def test_incomplete_generation_inside_a_stream_is_a_stream_error(loopback, stream):
    body = {"error": "Incomplete generation", "error_type": "incomplete_generation_stream"}
    loopback.script(Answer(headers=SSE, chunks=[event(delta("par")), event(body, space=False)]))
    with pytest.raises(errors.StreamError) as caught:
        with stream() as s:
            list(s)
    assert "Incomplete generation" in str(caught.value)


def test_malformed_json_in_a_stream_is_a_stream_error(loopback, stream):
    loopback.script(Answer(headers=SSE, chunks=[event(delta("a")), b"data: {not json}\n\n"]))
    with pytest.raises(errors.StreamError) as caught:
        with stream() as s:
            list(s)
    assert "malformed JSON" in str(caught.value)


def test_an_error_status_before_the_stream_starts_is_typed(loopback, stream):
    loopback.script(Answer(status=401, body=b'{"error": "Invalid username or password."}', headers={"x-request-id": "q"}))
    with pytest.raises(errors.AuthenticationError) as caught:
        stream()
    assert caught.value.request_id == "q"


def test_a_read_timeout_mid_stream_is_a_stream_error(loopback, stream):
    loopback.script(Answer(headers=SSE, chunks=[event(delta("a")), event(delta("b", "stop"))], pause=1.0))
    with pytest.raises(errors.StreamError) as caught:
        with stream(timeout=(1, 0.2)) as s:
            list(s)
    assert "timed out" in str(caught.value)


def test_abandoning_a_stream_closes_the_connection(loopback, stream):
    """The server streams forever; leaving the ``with`` block must hang up, which the server sees."""
    loopback.script(Answer(headers=SSE, endless=lambda n: event(delta(f"{n} "))))
    with stream() as s:
        for number, _chunk in enumerate(s):
            if number == 3:
                break
    assert loopback.client_gone.wait(5), "the server never saw the client hang up"


def test_breaking_out_without_with_and_closing(loopback, stream):
    loopback.script(Answer(headers=SSE, endless=lambda n: event(delta("x"))))
    s = stream()
    iterator = iter(s)
    next(iterator)
    s.close()
    assert loopback.client_gone.wait(5)
    with pytest.raises(errors.StreamError):
        s.collect()


def test_a_stream_can_be_read_once(loopback, stream):
    loopback.script(Answer(headers=SSE, chunks=[event(delta("a", "stop")), b"data: [DONE]\n\n"]))
    s = stream()
    assert s.text() == "a"
    with pytest.raises(errors.StreamError):
        list(s)
    assert s.collect().results == "a"


def test_close_delimited_stream_delivers_each_event_on_arrival(loopback, stream):
    """A stream without Content-Length or chunking must not wait for 8 KB before yielding: the server
    holds the second event until the client has the first (a blocked read times out instead)."""
    gate = threading.Event()
    loopback.script(Answer(headers=SSE, chunks=[event(delta("first")), event(delta(" last", "stop"))], gate=gate))
    with stream(timeout=(2, 3)) as s:
        iterator = iter(s)
        assert next(iterator).text == "first"
        gate.set()
        assert [c.text for c in iterator] == [" last"]


def test_an_error_body_that_echoes_the_key_is_scrubbed(loopback, client):
    """Some servers quote the Authorization header back in a 4xx body; the key must not reach the error."""
    from conftest import FAKE_KEY

    body = json.dumps({"error": f"Bad token: Bearer {FAKE_KEY}"}).encode()
    loopback.script(Answer(400, {"Content-Type": "application/json", "X-Error-Message": f"bad {FAKE_KEY}"}, body))
    with pytest.raises(errors.ValidationError) as caught:
        client.send_message("huggingface", "hi", {"api_base": loopback.url, "api_key": FAKE_KEY})
    error = caught.value
    for text in (str(error), repr(error), error.server_message, json.dumps(error.body)):
        assert FAKE_KEY not in text
    assert "[redacted]" in error.server_message


def test_a_secret_custom_header_echoed_back_is_scrubbed_from_the_error(loopback, client, caplog):
    """The debug log already hid ``headers={"X-Api-Key": ...}``; the exception must too."""
    import logging

    caplog.set_level(logging.DEBUG, logger="llm_interface")
    custom = "custom-secret-0123"
    body = json.dumps({"error": f"X-Api-Key {custom} is not allowed"}).encode()
    loopback.script(Answer(400, {"Content-Type": "application/json", "X-Error-Message": f"bad {custom}"}, body))
    with pytest.raises(errors.ValidationError) as caught:
        client.send_message("huggingface", "hi", {"api_base": loopback.url, "headers": {"X-Api-Key": custom}})
    error = caught.value
    assert loopback.requests[0].headers["x-api-key"] == custom
    for text in (str(error), repr(error), error.server_message, json.dumps(error.body), caplog.text):
        assert custom not in text
    assert "[redacted]" in error.server_message


@pytest.mark.parametrize("proxies_in_env", [False, True])
def test_netrc_never_replaces_our_authorization(loopback, tmp_path, monkeypatch, proxies_in_env):
    """requests reads ~/.netrc when it trusts the environment; its credentials would replace the key."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    monkeypatch.setenv("NETRC", str(netrc))
    if proxies_in_env:  # the path where requests keeps reading the environment (proxies must still apply)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    loopback.script(Answer(body=json.dumps(COMPLETION).encode()))
    with Client({"openai-compatible": "sk-test-fake-key"}, interface_options={"retry_attempts": 0}) as client:
        assert client.send_message("openai-compatible", "hi", {"api_base": loopback.url}).results == "Hi!"
    assert loopback.requests[0].headers["authorization"] == "Bearer sk-test-fake-key"
