"""The JS llm-interface's Hugging Face page (seed-docs 004) in Python, and its camelCase option names end to end:
each interface-option key steers the call whether it comes in ``interface_options``, in ``options``, or inside a
``{"model", "messages", ...}`` message object, and never reaches the server."""

from __future__ import annotations

import json
import os

import pytest
import responses
from recordings import body_bytes, exchange
from support.loopback import LoopbackServer, Reply, Status

from llm_interface import Client, LLMInterface

ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]


@responses.activate
def test_example_usage(monkeypatch, capsys):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_from_env")
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")

    # const { LLMInterface } = require('llm-interface');  ->  the import; the rest in snake_case
    LLMInterface.set_api_key({'huggingface': os.environ['HUGGINGFACE_API_KEY']})

    def main():
        response = LLMInterface.send_message('huggingface', 'Explain the importance of low latency LLMs.')
        print(response.results)

    main()

    assert capsys.readouterr().out == CHAT["body"]["choices"][0]["message"]["content"] + "\n"
    sent = json.loads(responses.calls[0].request.body)
    assert sent["model"] == "meta-llama/Meta-Llama-3-8B-Instruct"  # the `default` alias
    assert responses.calls[0].request.headers["Authorization"] == "Bearer hf_from_env"


@pytest.mark.parametrize("kind, aliases", [
    ("chat", {"default": "meta-llama/Meta-Llama-3-8B-Instruct", "large": "meta-llama/Meta-Llama-3-8B-Instruct",
              "small": "microsoft/Phi-3-mini-4k-instruct", "agent": "meta-llama/Meta-Llama-3-8B-Instruct"}),
    ("embeddings", {"default": "sentence-transformers/all-mpnet-base-v2", "large": "sentence-transformers/sentence-t5-large",
                    "small": "sentence-transformers/all-MiniLM-L6-v2"}),
])
def test_the_documented_model_aliases(kind, aliases):
    lookup = LLMInterface.get_model_by_alias if kind == "chat" else LLMInterface.get_embeddings_model_by_alias
    assert {alias: lookup("huggingface", alias) for alias in aliases} == aliases


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


@pytest.fixture
def js_client():
    with Client() as c:
        yield c


def _call(client, server, where, js_options, text="Hello"):
    """send_message with the JS options placed ``where``: interface_options, options, or the message object."""
    options = {"apiBase": server.url}
    if where == "interface_options":
        return client.send_message("huggingface", text, options, js_options)
    if where == "options":
        return client.send_message("huggingface", text, {**options, **js_options})
    message = {"model": "tgi", "messages": [{"role": "user", "content": text}], **js_options}
    return client.send_message("huggingface", message, options)


PLACES = ["interface_options", "options", "message object"]


def _bodies(server):
    return [r.body for r in server.requests]


@pytest.mark.parametrize("where", PLACES)
def test_retry_attempts(where, js_client, server):
    server.script(Status(429, headers={"Retry-After": "0"}), Reply())
    response = _call(js_client, server, where, {"retryAttempts": 1, "retryMultiplier": 0})
    assert response.retries == 1 and server.count == 2
    assert all(set(b) <= {"model", "messages"} for b in _bodies(server))  # nothing of ours reached the server


@pytest.mark.parametrize("where", PLACES)
def test_retry_attempts_zero_gives_up_at_once(where, js_client, server):
    from llm_interface import errors

    server.script(Status(429, headers={"Retry-After": "0"}), Reply())
    with pytest.raises(errors.RateLimitError):
        _call(js_client, server, where, {"retryAttempts": 0})
    assert server.count == 1


@pytest.mark.parametrize("where", PLACES)
def test_retry_multiplier(where, js_client, server):
    options = {"apiBase": server.url}
    js = {"retryMultiplier": 0.125}
    if where == "interface_options":
        plan = js_client.plan("huggingface", "chat", "Hi", options, js)
    elif where == "options":
        plan = js_client.plan("huggingface", "chat", "Hi", {**options, **js})
    else:
        plan = js_client.plan("huggingface", "chat", {"messages": [{"role": "user", "content": "Hi"}], **js}, options)
    assert plan.policy.multiplier == 0.125
    assert "retry_multiplier" not in plan.request.params and "retryMultiplier" not in plan.request.params


@pytest.mark.parametrize("where", PLACES)
def test_cache_timeout_seconds(where, js_client, server):
    first = _call(js_client, server, where, {"cacheTimeoutSeconds": 60})
    second = _call(js_client, server, where, {"cacheTimeoutSeconds": 60})
    assert server.count == 1 and second.cached and second.results == first.results == "echo: Hello"


@pytest.mark.parametrize("where", PLACES)
def test_include_original_response(where, js_client, server):
    response = _call(js_client, server, where, {"includeOriginalResponse": True})
    assert response.original["object"] == "chat.completion"
    assert response.original["choices"][0]["message"]["content"] == "echo: Hello"


@pytest.mark.parametrize("where", PLACES)
def test_attempt_json_repair(where, js_client, server):
    server.script(Reply('{"answer": 42,'))
    response = _call(js_client, server, where, {"attemptJsonRepair": True})
    assert response.json() == {"answer": 42}


def test_explicit_interface_options_win_over_those_among_the_options(js_client, server):
    server.script(Status(429, headers={"Retry-After": "0"}), Reply())
    from llm_interface import errors

    with pytest.raises(errors.RateLimitError):
        js_client.send_message("huggingface", "Hi", {"apiBase": server.url, "retryAttempts": 3}, {"retryAttempts": 0})


def test_a_json_config_ported_from_js(js_client, server):
    """One JSON document, as a JS project keeps it, used unchanged."""
    config = json.loads(json.dumps({
        "options": {"apiBase": server.url, "maxTokens": 50, "topP": 0.9},
        "interfaceOptions": {"retryAttempts": 2, "retryMultiplier": 0, "cacheTimeoutSeconds": 30,
                             "includeOriginalResponse": True, "attemptJsonRepair": True},
    }))
    response = js_client.send_message("huggingface", "Hello", config["options"], config["interfaceOptions"])
    assert response.results == "echo: Hello" and response.original is not None
    assert server.requests[0].body["max_tokens"] == 50 and server.requests[0].body["top_p"] == 0.9
