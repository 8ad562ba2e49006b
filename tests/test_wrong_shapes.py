"""Wrong-shaped 2xx answers (issue 16, High #2): a result where the answer can be read leniently, else an
InvalidResponseError naming the field, with provider, model, request id and an excerpt of the body; never a
raw AttributeError/TypeError. End to end over loopback: sync, streamed and async calls. A new case is one line.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import FAKE_KEY
from loopback import Answer, LoopbackServer

from llm_interface import AsyncClient, Client, errors

MODEL = "test-model"


def chat(choice):
    return {"id": "x", "model": MODEL, "choices": [choice]}


# (name, body, what the error names) for bodies that cannot be read: each used to raise a raw exception.
UNREADABLE = [
    ("choices of strings", {"choices": ["x"]}, "choices[0] is a string"),
    ("message a string", chat({"message": "str"}), "choices[0].message is a string"),
    ("message a list", chat({"message": [1]}), "choices[0].message is a list"),
    ("content a number", chat({"message": {"content": 5}}), "content is a number"),
    ("choices an object", {"choices": {"0": {}}}, "no 'choices' list"),
    ("a list body", ["x"], "no 'choices' list"),
]

# (name, body, the text read) for bodies whose odd optional fields are read as absent.
LENIENT = [
    ("tool_calls a string", chat({"message": {"content": "hi", "tool_calls": "x"}}), "hi"),
    ("tool_calls of strings", chat({"message": {"content": "hi", "tool_calls": ["x"]}}), "hi"),
    ("usage a string", {**chat({"message": {"content": "hi"}}), "usage": "x"}, "hi"),
    ("usage counts NaN", {**chat({"message": {"content": "hi"}}), "usage": {"prompt_tokens": float("nan")}}, "hi"),
    ("finish_reason a list", chat({"message": {"content": "hi"}, "finish_reason": ["stop"]}), "hi"),
    ("logprobs a number", chat({"message": {"content": "hi"}, "logprobs": 5}), "hi"),
    ("logprobs of strings", chat({"message": {"content": "hi"}, "logprobs": {"content": ["x"]}}), "hi"),
    ("index a string", chat({"index": "a", "message": {"content": "hi"}}), "hi"),
    ("model a number", {**chat({"message": {"content": "hi"}}), "model": 5}, "hi"),
    ("content parts with a number", chat({"message": {"content": [{"text": 5}, {"text": "hi"}]}}), "hi"),
]

# (name, events, what the error names) for streams; each event is sent as one SSE data line.
UNREADABLE_EVENTS = [
    ("choices of strings", [{"choices": ["x"]}], "choices[0] of a stream event is a string"),
    ("delta a string", [{"choices": [{"delta": "str"}]}], "delta of a stream event is a string"),
    ("content a number", [{"choices": [{"delta": {"content": 5}}]}], "content in a stream event is a number"),
    ("an event that is a list", [["x"]], "a stream event is a list"),
]
LENIENT_EVENTS = [
    ("tool_calls a string", [{"choices": [{"delta": {"content": "hi", "tool_calls": "x"}}]}], "hi"),
    ("finish_reason an object", [{"choices": [{"delta": {"content": "hi"}, "finish_reason": {}}]}], "hi"),
    ("usage a list", [{"choices": [{"delta": {"content": "hi"}}], "usage": [1]}], "hi"),
    ("choices a string", [{"choices": "x"}, {"choices": [{"delta": {"content": "hi"}}]}], "hi"),
]


def json_answer(body):
    return Answer(200, {"Content-Type": "application/json", "x-request-id": "req-shape"}, json.dumps(body).encode())


def sse_answer(events, done=True):
    lines = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
    if done:
        lines.append(b"data: [DONE]\n\n")
    return Answer(200, {"Content-Type": "text/event-stream", "x-request-id": "req-shape"}, b"".join(lines))


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def client():
    with Client(api_keys={"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as built:
        yield built


def options(server):
    return {"api_base": server.url, "model": MODEL}


def assert_unreadable(error, what):
    assert what in str(error)
    assert error.provider == "huggingface" and error.model == MODEL
    assert "Body: " in str(error)  # an excerpt of what the server sent


@pytest.mark.parametrize("name,body,what", UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_an_unreadable_answer_is_an_invalid_response_error(server, client, name, body, what):
    server.script(json_answer(body))
    with pytest.raises(errors.InvalidResponseError) as caught:
        client.send_message("huggingface", "hi", options(server))
    assert_unreadable(caught.value, what)
    assert caught.value.request_id == "req-shape"
    assert caught.value.body == body


@pytest.mark.parametrize("name,body,text", LENIENT, ids=[case[0] for case in LENIENT])
def test_odd_optional_fields_read_as_absent(server, client, name, body, text):
    server.script(json_answer(body))
    response = client.send_message("huggingface", "hi", options(server))
    assert response.results == text
    assert response.tool_calls == ()
    json.dumps(response.to_dict(), allow_nan=False)  # what the cache stores


@pytest.mark.parametrize("name,events,what", UNREADABLE_EVENTS, ids=[case[0] for case in UNREADABLE_EVENTS])
def test_an_unreadable_stream_event_is_an_invalid_response_error(server, client, name, events, what):
    server.script(sse_answer(events))
    with pytest.raises(errors.InvalidResponseError) as caught:
        "".join(chunk.text for chunk in client.stream_message("huggingface", "hi", options(server)))
    assert_unreadable(caught.value, what)


@pytest.mark.parametrize("name,events,text", LENIENT_EVENTS, ids=[case[0] for case in LENIENT_EVENTS])
def test_odd_optional_fields_in_stream_events_read_as_absent(server, client, name, events, text):
    server.script(sse_answer(events))
    stream = client.stream_message("huggingface", "hi", options(server))
    assert "".join(chunk.text for chunk in stream) == text


@pytest.mark.parametrize("name,body,what", UNREADABLE[:2], ids=[case[0] for case in UNREADABLE[:2]])
def test_the_async_client_raises_the_same_typed_error(server, name, body, what):
    server.script(json_answer(body))

    async def call():
        async with AsyncClient(api_keys={"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0},
                               backend="threads") as aclient:
            return await aclient.send_message_async("huggingface", "hi", options(server))

    with pytest.raises(errors.InvalidResponseError) as caught:
        asyncio.run(call())
    assert_unreadable(caught.value, what)


@pytest.mark.parametrize("body", [[["x"]], [[1, 2], "y"], {"data": [{"embedding": "x"}]}, {"data": ["x"]}])
def test_embeddings_of_the_wrong_shape(server, client, body):
    server.script(json_answer(body))
    with pytest.raises(errors.InvalidResponseError):
        client.embeddings("huggingface", ["a", "b"][: len(body) if isinstance(body, list) else 1], options(server))
