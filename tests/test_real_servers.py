"""End to end against real Hugging Face software on 127.0.0.1: ``transformers serve`` and llama-cpp-python's
server, both serving the tiny model (tests/support), driven by our Hugging Face provider in endpoint mode
and by the ``openai-compatible`` provider. Each server starts once per session (fixtures in
tests/support/fixtures.py). What each server does differently is in tests/support/INSTALL.md.

The last test sends the same conversation through every backend (router-shaped replay, both servers, the
in-process engines) and checks the Responses have the same shape, and the same text where the model is the
same.
"""

from __future__ import annotations

import copy
import math

import pytest
import responses
from recordings import exchange
from support.tiny_models import CONVERSATIONS, REPLIES, WEATHER_TOOL

from llm_interface import Client, Response, ServerError, Usage, ValidationError

pytestmark = pytest.mark.timeout(300)

PROVIDERS = ("huggingface", "openai-compatible")
CALL_FUNCTION = {"name": "get_weather", "arguments": '{"city": "Paris"}'}


@pytest.fixture
def client():
    with Client(interface_options={"retry_attempts": 0}) as c:
        yield c


def options_for(server, **more):
    return {"model": server.model, "api_base": server.base_url, "temperature": 0, **more}


# -- transformers serve -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_transformers_serve_chat_stop_and_max_tokens(client, transformers_server, provider):
    options = options_for(transformers_server)
    for prompt, reply in REPLIES.items():
        response = client.send_message(provider, prompt, options)
        assert (response.results, response.finish_reason) == (reply, "stop")
        assert response.usage.completion_tokens > 0
    # transformers serve leaves the stop string in the text; we cut it, as OpenAI's contract says.
    stopped = client.send_message(provider, "Count to five.", {**options, "stop": [" three"]})
    assert (stopped.results, stopped.finish_reason) == ("one two", "stop")
    short = client.send_message(provider, "Count to five.", {**options, "max_tokens": 2})
    assert (short.results, short.finish_reason) == ("one two", "length")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_transformers_serve_streams_without_done(client, transformers_server, provider):
    stream = client.stream_message(provider, "Count to five.", options_for(transformers_server))
    chunks = list(stream)
    assert len([c for c in chunks if c.text]) >= 3
    assert "".join(c.text for c in chunks) == REPLIES["Count to five."]
    assert stream.response.finish_reason == "stop"
    assert isinstance(stream.response.usage, Usage) and stream.response.usage.completion_tokens > 0
    cut = client.stream_message(provider, "Count to five.", options_for(transformers_server, stop=[" four"]))
    assert "".join(c.text for c in cut) == "one two three"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_transformers_serve_tool_calls_round_trip(client, transformers_server, provider):
    options = options_for(transformers_server, tools=[WEATHER_TOOL])
    call = client.send_message(provider, "What is the weather in Paris?", options)
    assert (call.results, call.finish_reason) == ("", "tool_calls")
    assert call.tool_calls[0]["function"] == CALL_FUNCTION and call.tool_calls[0]["id"]
    stream = client.stream_message(provider, "What is the weather in Paris?", options)
    assert "".join(c.text for c in stream) == ""
    assert stream.response.tool_calls[0]["function"] == CALL_FUNCTION
    assert stream.response.finish_reason == "tool_calls"
    answer = client.send_message(provider, CONVERSATIONS["weather"]["messages"][:3], options)
    assert answer.results == "It is 22C and sunny in Paris."


def test_transformers_serve_errors_are_typed(client, transformers_server):
    with pytest.raises(ValidationError) as wrong_model:
        client.send_message("huggingface", "Hello", options_for(transformers_server, model="someone/other-model"))
    assert wrong_model.value.status == 400 and "pinned" in wrong_model.value.server_message
    with pytest.raises(ValidationError) as unknown_field:
        client.send_message("openai-compatible", "Hello", options_for(transformers_server, foo=1))
    assert unknown_field.value.status == 422 and "foo" in unknown_field.value.server_message


# -- llama.cpp server --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_llama_server_chat_stream_stop(client, llama_server, provider):
    options = options_for(llama_server)
    for prompt, reply in REPLIES.items():
        response = client.send_message(provider, prompt, options)
        assert (response.results, response.finish_reason) == (reply, "stop")
    stopped = client.send_message(provider, "Count to five.", {**options, "stop": [" three"]})
    assert (stopped.results, stopped.finish_reason) == ("one two", "stop")
    stream = client.stream_message(provider, "Count to five.", {**options, "stop": [" four"]})
    assert "".join(c.text for c in stream) == "one two three"
    assert stream.response.finish_reason == "stop" and stream.response.usage is None  # llama.cpp streams no usage


def test_llama_server_leaves_tool_calls_as_text_and_refuses_null_content(client, llama_server):
    # The server does not parse <tool_call> blocks (the in-process GGUF engine does): what arrives is the text.
    raw = client.send_message("openai-compatible", "What is the weather in Paris?", options_for(llama_server, tools=[WEATHER_TOOL]))
    assert raw.results.startswith("<tool_call>") and raw.finish_reason == "stop" and raw.tool_calls == ()
    with pytest.raises(ServerError) as refused:
        client.send_message("openai-compatible", CONVERSATIONS["weather"]["messages"][:3], options_for(llama_server, tools=[WEATHER_TOOL]))
    assert refused.value.status == 500 and "validation" in refused.value.server_message
    messages = copy.deepcopy(CONVERSATIONS["weather"]["messages"][:3])
    messages[1]["content"] = ""
    answer = client.send_message("openai-compatible", messages, options_for(llama_server, tools=[WEATHER_TOOL]))
    assert answer.results == "It is 22C and sunny in Paris."


@pytest.mark.parametrize("provider", PROVIDERS)
def test_llama_server_embeddings_match_the_in_process_engine(client, llama_server, tiny_gguf, provider):
    texts = ["Hello", "Count to five."]
    served = client.embeddings(provider, texts, {"model": llama_server.model, "api_base": llama_server.base_url})
    assert [len(v) for v in served.embeddings] == [64, 64]
    assert served.usage.prompt_tokens > 0
    local = client.embeddings("huggingface", texts, {"model": tiny_gguf, "n_ctx": 512, "normalize": False})
    for a, b in zip(served.embeddings, local.embeddings):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-3
    assert all(math.sqrt(sum(x * x for x in v)) > 1.5 for v in served.embeddings)  # the server does not normalise


# -- one conversation, every backend ------------------------------------------------------------------


def _router_replay(client, messages, reply):
    """The router's recorded answer (real shape: together via router.huggingface.co), saying ``reply``."""
    body = copy.deepcopy(exchange("TestInferenceClient.test_chat_completion_no_stream[together,conversational]#1")["response"]["body"])
    body["choices"][0]["message"]["content"] = reply
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://router.huggingface.co/v1/chat/completions", json=body)
        return client.send_message(
            "huggingface", messages, {"model": "meta-llama/Meta-Llama-3-8B-Instruct", "api_key": "hf_test_fake_key_0123456789", "temperature": 0}
        )


def _shape(response):
    return (
        type(response), type(response.results), response.provider, response.finish_reason,
        type(response.usage), tuple(type(getattr(response.usage, f)) for f in ("prompt_tokens", "completion_tokens", "total_tokens")),
        type(response.tool_calls), response.choices, response.cached,
    )


def test_same_conversation_same_shape_and_text_everywhere(client, transformers_server, llama_server, tiny_chat_model, tiny_gguf):
    messages = CONVERSATIONS["hello"]["messages"][:1]
    reply = REPLIES["Hello"]
    answers = {
        "router replay": _router_replay(client, messages, reply),
        "transformers serve": client.send_message("huggingface", messages, options_for(transformers_server)),
        "llama.cpp server": client.send_message("huggingface", messages, options_for(llama_server)),
        "local transformers": client.send_message("huggingface", messages, {"model": tiny_chat_model, "temperature": 0}),
        "local gguf": client.send_message("huggingface", messages, {"model": tiny_gguf, "temperature": 0, "n_ctx": 512}),
    }
    shapes = {name: _shape(answer) for name, answer in answers.items()}
    assert len(set(shapes.values())) == 1, shapes
    assert shapes["local transformers"][:5] == (Response, str, "huggingface", "stop", Usage)
    assert {name: answer.results for name, answer in answers.items()} == dict.fromkeys(answers, reply)
    # Same model, same tokenizer and template: the prompt is the same number of tokens everywhere.
    assert len({answer.usage.prompt_tokens for name, answer in answers.items() if name != "router replay"}) == 1
    # transformers counts the end-of-turn token, llama.cpp does not.
    assert answers["local transformers"].usage.completion_tokens == answers["transformers serve"].usage.completion_tokens
    assert answers["local gguf"].usage.completion_tokens == answers["llama.cpp server"].usage.completion_tokens

    tool_options = {"tools": [WEATHER_TOOL], "temperature": 0}
    ask = CONVERSATIONS["weather"]["messages"][:1]
    calls = {
        "transformers serve": client.send_message("huggingface", ask, {**options_for(transformers_server), **tool_options}),
        "local transformers": client.send_message("huggingface", ask, {"model": tiny_chat_model, **tool_options}),
        "local gguf": client.send_message("huggingface", ask, {"model": tiny_gguf, "n_ctx": 512, **tool_options}),
    }
    for name, call in calls.items():
        assert (call.results, call.finish_reason, call.tool_calls[0]["function"]) == ("", "tool_calls", CALL_FUNCTION), name
