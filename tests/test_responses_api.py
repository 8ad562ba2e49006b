"""The Responses API (``POST /v1/responses``, beta on the router): ``respond``/``stream_respond``, their async
twins, the cache, and the proxy's ``/v1/responses`` read by the official ``openai`` client.

Shapes: hub-docs guides/responses-api.md and guides/gpt-oss.md for the requests (model ``openai/gpt-oss-120b:groq``,
``instructions``, ``input``, ``reasoning: {"effort"}``, ``tools`` in the Responses shape); OpenAI's Responses
reference for the answer object and its stream events (what huggingface/responses.js, the router's
implementation, emits: ``response.created`` ... ``response.output_text.delta`` ... ``response.completed``).
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from loopback import Answer, LoopbackServer, Status
from support.skips import require

from llm_interface import AsyncClient, Client, LLMInterface, errors
from llm_interface.providers.hf_routes import ROUTER_ENV

MODEL = "openai/gpt-oss-120b"
ANSWER = {
    "id": "resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b", "object": "response", "created_at": 1756315696,
    "model": "openai/gpt-oss-120b", "status": "completed", "error": None, "incomplete_details": None,
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [],
         "content": [{"type": "reasoning_text", "text": "The user wants a short greeting."}]},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Hello, world!", "annotations": []}]},
    ],
    "usage": {"input_tokens": 21, "output_tokens": 17, "total_tokens": 38},
}
TOOL_ANSWER = {**ANSWER, "output": [
    {"type": "function_call", "id": "fc_1", "call_id": "call_abc", "name": "get_current_weather",
     "arguments": "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}", "status": "completed"}]}
WEATHER_TOOL = {"type": "function", "name": "get_current_weather", "description": "Get the current weather in a given location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}


def events(*payloads, done=False):
    chunks = [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n".encode() for p in payloads]
    return Answer(headers={"Content-Type": "text/event-stream"}, chunks=chunks + ([b"data: [DONE]\n\n"] if done else []))


STREAM = [
    {"type": "response.created", "sequence_number": 0, "response": {**ANSWER, "status": "in_progress", "output": []}},
    {"type": "response.reasoning_text.delta", "sequence_number": 1, "item_id": "rs_1", "output_index": 0, "content_index": 0, "delta": "The user "},
    {"type": "response.reasoning_text.delta", "sequence_number": 2, "item_id": "rs_1", "output_index": 0, "content_index": 0, "delta": "wants a short greeting."},
    {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "Hello, "},
    {"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "world!"},
    {"type": "response.output_text.done", "sequence_number": 5, "item_id": "msg_1", "output_index": 1, "content_index": 0, "text": "Hello, world!"},
    {"type": "response.completed", "sequence_number": 6, "response": ANSWER},
]


@pytest.fixture
def router(monkeypatch):
    with LoopbackServer() as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield server


def test_respond_posts_to_the_router_and_reads_text_reasoning_usage(router, client):
    router.script(Status(200, ANSWER))
    result = client.respond("huggingface", "Say hello to the world.",
                            {"model": MODEL + ":groq", "instructions": "You are a helpful assistant.", "reasoning": {"effort": "low"}})
    sent = router.requests[0]
    assert sent.path == "/v1/responses"
    assert sent.body == {"model": MODEL + ":groq", "input": "Say hello to the world.",
                         "instructions": "You are a helpful assistant.", "reasoning": {"effort": "low"}}
    assert sent.headers["authorization"].startswith("Bearer hf_test")
    assert result.results == "Hello, world!" and result.reasoning == "The user wants a short greeting."
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (21, 17, 38)
    assert result.finish_reason == "stop" and result.request_id == "req-loopback"  # the header wins over the body id


def test_the_provider_option_and_max_tokens_are_translated(router, client):
    router.script(Status(200, ANSWER))
    client.respond("huggingface", [{"role": "developer", "content": "Talk like a pirate."},
                                   {"role": "user", "content": "Are semicolons optional in JavaScript?"}],
                   {"model": MODEL, "provider": "groq", "max_tokens": 50})
    body = router.requests[0].body
    assert body["model"] == MODEL + ":groq" and body["max_output_tokens"] == 50 and "max_tokens" not in body
    assert body["input"][0] == {"role": "developer", "content": "Talk like a pirate."}


def test_function_calls_are_tool_calls_in_chat_shape(router, client):
    router.script(Status(200, TOOL_ANSWER))
    result = client.respond("huggingface", "What is the weather like in Boston today?",
                            {"model": MODEL, "tools": [WEATHER_TOOL], "tool_choice": "auto"})
    assert router.requests[0].body["tools"] == [WEATHER_TOOL]
    assert result.finish_reason == "tool_calls" and result.results == ""
    assert result.tool_calls == ({"id": "call_abc", "type": "function", "function": {
        "name": "get_current_weather", "arguments": "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}"}},)


def test_an_incomplete_answer_finishes_with_length(router, client):
    router.script(Status(200, {**ANSWER, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}))
    assert client.respond("huggingface", "hi", {"model": MODEL}).finish_reason == "length"


@pytest.mark.parametrize("body, error", [
    ({**ANSWER, "status": "failed", "output": [], "error": {"code": "server_error", "message": "The model crashed"}}, errors.ServerError),
    ({"object": "response", "status": "completed"}, errors.InvalidResponseError),
    ({**ANSWER, "output": ["text"]}, errors.InvalidResponseError),
])
def test_failed_and_wrong_answers_are_typed_errors(router, client, body, error):
    router.script(Status(200, body))
    with pytest.raises(error):
        client.respond("huggingface", "hi", {"model": MODEL})


def test_a_stream_gives_every_event_and_the_final_response(router, client):
    router.script(events(*STREAM))
    with client.stream_respond("huggingface", "Say hello.", {"model": MODEL}) as stream:
        chunks = list(stream)
    assert router.requests[0].body["stream"] is True
    assert [c.raw["type"] for c in chunks] == [e["type"] for e in STREAM]
    assert "".join(c.text for c in chunks) == "Hello, world!"
    assert "".join(c.reasoning or "" for c in chunks) == "The user wants a short greeting."
    assert stream.response.results == "Hello, world!" and stream.response.reasoning == "The user wants a short greeting."
    assert chunks[-1].finish_reason == "stop" and stream.response.usage.total_tokens == 38


def test_a_stream_cut_before_completed_is_a_stream_error(router, client):
    router.script(events(*STREAM[:4]))
    with pytest.raises(errors.StreamError, match="response.completed"):
        with client.stream_respond("huggingface", "Say hello.", {"model": MODEL}) as stream:
            list(stream)


def test_an_error_event_is_a_typed_error(router, client):
    router.script(events(STREAM[0], {"type": "error", "sequence_number": 1, "code": "rate_limit_exceeded",
                                     "message": "Rate limit reached", "param": None}))
    with pytest.raises(errors.LLMInterfaceError, match="Rate limit reached"):
        with client.stream_respond("huggingface", "Say hello.", {"model": MODEL}) as stream:
            list(stream)


@pytest.mark.parametrize("value", ["", [], ["not an item"], 3])
def test_bad_input_is_a_typed_error(client, value):
    with pytest.raises(errors.InvalidRequestError, match="respond needs input"):
        client.respond("huggingface", value, {"model": MODEL})


def test_the_cache_keeps_a_response_and_replays_its_stream(router):
    router.script(Status(200, ANSWER))
    with Client({"huggingface": "hf_test_fake"}) as c:
        c.configure_cache("memory")
        first = c.respond("huggingface", "hi", {"model": MODEL})
        again = c.respond("huggingface", "hi", {"model": MODEL})
        with c.stream_respond("huggingface", "hi", {"model": MODEL}) as stream:
            replayed = list(stream)
    assert router.count == 1 and again.cached and again.reasoning == first.reasoning
    assert "".join(ch.reasoning or "" for ch in replayed) == first.reasoning
    assert "".join(ch.text for ch in replayed) == "Hello, world!"


def test_async_twins_and_the_facade(router):
    router.script(Status(200, ANSWER), events(*STREAM), Status(200, ANSWER))

    async def run():
        async with AsyncClient(Client({"huggingface": "hf_test_fake"}), backend="threads") as aclient:
            whole = await aclient.respond_async("huggingface", "hi", {"model": MODEL})
            async with aclient.stream_respond_async("huggingface", "hi", {"model": MODEL}) as stream:
                texts = [chunk.text async for chunk in stream]
            return whole, "".join(texts), stream.response

    whole, text, final = asyncio.run(run())
    assert whole.results == text == final.results == "Hello, world!"
    LLMInterface.set_api_key({"huggingface": "hf_test_fake"})
    assert LLMInterface.respond("huggingface", "hi", {"model": MODEL}).reasoning == "The user wants a short greeting."


def test_endpoints_without_the_route_say_so(client):
    with pytest.raises(errors.UnsupportedTaskError, match="'respond' has no route"):
        client.respond("huggingface", "hi", {"api_base": "http://127.0.0.1:9"})


# -- the proxy --------------------------------------------------------------------------------------------

def _proxy_answers(request):
    if request.body.get("stream"):
        return events(*STREAM[:4]) if request.body.get("input") == "Cut short." else events(*STREAM)
    return Status(200, TOOL_ANSWER if request.body.get("tools") else ANSWER)


@pytest.fixture
def proxied(tmp_path):
    require("fastapi", "server")
    require("uvicorn", "server")
    openai = require("openai", "test")
    from proxy_server import ProxyServer

    from llm_interface.server import ProxyConfig, create_app

    with LoopbackServer(responder=_proxy_answers) as upstream:
        path = tmp_path / "config.yaml"
        path.write_text(
            "model_list:\n  - model_name: oss\n    litellm_params:\n"
            f"      model: huggingface/{MODEL}\n      api_key: os.environ/RESPONSES_TEST_HF_TOKEN\n"
            f"      api_base: {upstream.url}/v1\n"
            "llm_interface_settings:\n  interface_options: {retry_attempts: 0}\n")
        os.environ["RESPONSES_TEST_HF_TOKEN"] = "hf_test_upstream_secret"
        try:
            config = ProxyConfig.load(path)
        finally:
            del os.environ["RESPONSES_TEST_HF_TOKEN"]
        with ProxyServer(create_app(config)) as proxy:
            with openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-test-none", max_retries=0, timeout=20) as ai:
                yield ai, upstream


def test_the_proxy_serves_the_responses_api_to_the_openai_client(proxied):
    ai, upstream = proxied
    answer = ai.responses.create(model="oss", instructions="You are a helpful assistant.", input="Say hello.")
    assert answer.output_text == "Hello, world!"
    assert [item.type for item in answer.output] == ["reasoning", "message"]
    assert answer.usage.input_tokens == 21 and answer.usage.output_tokens == 17
    sent = upstream.requests[0]
    assert sent.path == "/v1/responses" and sent.body["model"] == MODEL
    assert sent.body["instructions"] == "You are a helpful assistant." and sent.body["input"] == "Say hello."
    called = ai.responses.create(model="oss", input="Weather in Boston?", tools=[WEATHER_TOOL])
    call = [item for item in called.output if item.type == "function_call"][0]
    assert call.name == "get_current_weather" and call.call_id == "call_abc" and "Boston" in call.arguments


def test_the_proxy_streams_responses_events(proxied):
    ai, _upstream = proxied
    kinds, text, reasoning, final = [], "", "", None
    with ai.responses.create(model="oss", input="Say hello.", stream=True) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            elif event.type == "response.reasoning_text.delta":
                reasoning += event.delta
            elif event.type == "response.completed":
                final = event.response
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert text == "Hello, world!" and reasoning == "The user wants a short greeting."
    assert final.output_text == "Hello, world!"


def test_a_proxied_stream_cut_short_ends_with_an_error_event(proxied):
    ai, _upstream = proxied
    with ai.responses.create(model="oss", input="Cut short.", stream=True) as stream:
        seen = list(stream)
    assert seen[0].type == "response.created" and "response.completed" not in [e.type for e in seen]
    assert "".join(e.delta for e in seen if e.type == "response.output_text.delta") == "Hello, "
    assert seen[-1].type == "error" and "response.completed" in seen[-1].message
    assert "hf_test_upstream_secret" not in seen[-1].message
