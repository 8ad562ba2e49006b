"""The JS llm-interface's facade through ``llm_interface``: its exported functions, the inline-key form,
the config getters and the OpenAI-wire providers by name, against recorded Hugging Face answers.

Peer source: samestrin/llm-interface at 3cb494de643b38c9b6f4c575af033eb8ee3ec09c:
- J1 ``src/index.js``: the exports and ``LLMInterface.chat.completions.create``;
- J2 ``src/utils/message.js``: ``LLMInterfaceSendMessage(provider, apiKey, message, options, interfaceOptions)``
  (key per call, ``[key, userId]``, ``options.stream``, a number as interfaceOptions = cacheTimeoutSeconds) and the
  WithConfig forms (``[provider, apiKey]`` inline, remembered); tests ``test/main/llminterface.sendMessage.test.js``
  (inline key, then the same provider without a key, then an OpenAI-style message with ``model: 'small'``) and
  ``test/main/llmInterfaceSendMessage.test.js``;
- J3 ``src/utils/config.js``: ``getInterfaceConfigValue`` (dotted keys, strings and booleans only, ``false``
  otherwise), ``getModelByAlias`` (the name itself when no alias), ``getAllModelNames`` (a sorted list); tests
  ``test/main/llminterface.config.test.js`` (``nonexistent`` provider and ``nonexistent.key`` give ``false``);
- J4 ``src/config/providers/*.json`` (url, model and embeddings aliases) and ``src/utils/loadApiKeysFromEnv.js``
  (GROQ_API_KEY, ...); ``test/main/llminterface.embeddings.test.js`` (``hasEmbeddings`` decides, results an array).
"""

from __future__ import annotations

import json

import pytest
import responses
from recordings import body_bytes, exchange

import llm_interface
from llm_interface import (
    LLMInterface,
    LLMInterfaceEmbeddings,
    LLMInterfaceSendMessage,
    LLMInterfaceStreamMessage,
    errors,
)
from llm_interface.compat import javascript
from llm_interface.credentials import BASE_ENV_VARS, KEY_ENV_VARS
from llm_interface.providers.openai_family import ENDPOINTS

ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]
CHAT_STREAM = exchange("test_openai_compatibility_with_stream_true#2")["response"]
ANSWER = CHAT["body"]["choices"][0]["message"]["content"]
SIMPLE_PROMPT = "Explain the importance of low latency LLMs."  # src/utils/defaults.js simplePrompt (shortened)


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch):
    """None of the developer's provider keys (OPENAI_API_KEY, GROQ_API_KEY, ...) leaks in."""
    for names in (*KEY_ENV_VARS.values(), *BASE_ENV_VARS.values()):
        for name in names:
            monkeypatch.delenv(name, raising=False)


def _chat(url=ROUTER_CHAT, recorded=CHAT):
    responses.add(responses.POST, url, body=body_bytes(recorded), status=200,
                  content_type=recorded["headers"]["content-type"])


def _sent(index=-1):
    call = responses.calls[index]
    return call.request.url, json.loads(call.request.body), call.request.headers


def test_the_js_names_and_snake_case_names_are_importable():  # J1
    assert LLMInterfaceSendMessage is llm_interface.llm_interface_send_message
    assert LLMInterfaceStreamMessage is llm_interface.llm_interface_stream_message
    assert LLMInterfaceEmbeddings is llm_interface.llm_interface_embeddings
    for name in ("SendMessage", "StreamMessage", "Embeddings"):
        assert callable(getattr(javascript, f"LLMInterface{name}WithConfig"))
    assert callable(LLMInterface.chat.completions.create)


@responses.activate
def test_inline_key_then_the_remembered_key_then_an_openai_style_message():  # J2
    _chat()
    response = LLMInterface.send_message(["huggingface", "hf_test_inline"], SIMPLE_PROMPT, {"max_tokens": 20},
                                         {"retry_attempts": 3})
    assert response.results == ANSWER
    assert _sent()[2]["Authorization"] == "Bearer hf_test_inline"

    LLMInterface.send_message("huggingface", SIMPLE_PROMPT, {"max_tokens": 20}, {"retry_attempts": 3})
    assert _sent()[2]["Authorization"] == "Bearer hf_test_inline"  # remembered

    message = {"model": "small", "messages": [{"role": "user", "content": "Say this is a test!"}], "temperature": 0.7}
    LLMInterface.send_message("huggingface", message, {"max_tokens": 20}, {"retry_attempts": 3})
    _, body, headers = _sent()
    assert body["model"] == "microsoft/Phi-3-mini-4k-instruct" and body["temperature"] == 0.7
    assert headers["Authorization"] == "Bearer hf_test_inline"


@responses.activate
def test_a_new_inline_key_replaces_the_remembered_one():  # J2; a deliberate difference (docs/migration.md)
    _chat()
    LLMInterface.set_api_key("huggingface", "hf_test_old")
    LLMInterface.send_message(["huggingface", "hf_test_new"], "Hi")
    assert _sent()[2]["Authorization"] == "Bearer hf_test_new"  # JS would keep sending the old key


@responses.activate
def test_llm_interface_send_message_uses_the_key_for_that_call_only():  # J2
    _chat()
    response = LLMInterfaceSendMessage("huggingface", "hf_test_call", SIMPLE_PROMPT, {"max_tokens": 20},
                                       {"retryAttempts": 3})
    assert response.results == ANSWER and _sent()[2]["Authorization"] == "Bearer hf_test_call"
    with pytest.raises(errors.MissingAPIKeyError):
        LLMInterface.send_message("huggingface", SIMPLE_PROMPT)  # not remembered
    LLMInterfaceSendMessage("huggingface", ["hf_test_pair", "user-1"], "Hi")  # [apiKey, userId]
    assert _sent()[2]["Authorization"] == "Bearer hf_test_pair"


def test_llm_interface_send_message_errors():  # J2
    with pytest.raises(errors.MissingAPIKeyError, match="Missing API key"):
        LLMInterfaceSendMessage("huggingface", "", "Hi")
    with pytest.raises(errors.InvalidRequestError, match="empty"):
        LLMInterfaceSendMessage("huggingface", "hf_test", "")


@responses.activate
def test_streaming_through_the_js_functions():  # J2: options.stream, and LLMInterfaceStreamMessage
    _chat(recorded=CHAT_STREAM)
    _chat(recorded=CHAT_STREAM)
    first = "".join(chunk.text for chunk in LLMInterfaceSendMessage("huggingface", "hf_test", "Hi", {"stream": True}))
    second = "".join(chunk.text for chunk in LLMInterfaceStreamMessage("huggingface", "hf_test", "Hi"))
    assert first == second and first
    assert "stream" in _sent()[1] and _sent()[1]["stream"] is True


@responses.activate
def test_interface_options_as_a_number_is_the_cache_timeout():  # J2
    _chat()
    first = LLMInterfaceSendMessage("huggingface", "hf_test", "Hi", {}, 60)
    second = LLMInterfaceSendMessage("huggingface", "hf_test", "Hi", {}, 60)
    assert len(responses.calls) == 1 and second.cached and not first.cached


@responses.activate
def test_chat_completions_create():  # J1
    _chat()
    LLMInterface.set_api_key({"huggingface": "hf_test"})
    response = LLMInterface.chat.completions.create("huggingface", {"model": "default", "messages": [
        {"role": "user", "content": "Hi"}]})
    assert response.results == ANSWER


@responses.activate
def test_embeddings_with_an_inline_key():  # J4
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    responses.add(responses.POST, "https://router.huggingface.co/hf-inference/models/"
                  "sentence-transformers/all-mpnet-base-v2/pipeline/feature-extraction", json=recorded["body"], status=200)
    assert LLMInterface.get_interface_config_value("huggingface", "hasEmbeddings") is True
    response = LLMInterface.embeddings(["huggingface", "hf_test_emb"], SIMPLE_PROMPT)
    # Our facade's embeddings is one vector per input, so a string gives [vector]: the deliberate
    # difference docs/migration.md lists (the JS functions below give JS's bare vector).
    assert isinstance(response.results, list) and response.results[0] == pytest.approx(recorded["body"])
    assert _sent()[2]["Authorization"] == "Bearer hf_test_emb"


@responses.activate
@pytest.mark.parametrize("call", ["LLMInterfaceEmbeddings", "LLMInterfaceEmbeddingsWithConfig"])
def test_the_js_embeddings_functions_give_the_bare_vector_for_one_string(call):
    """J4: HF's ``results`` is ``response.data`` (providers/huggingface.json, baseInterface.js
    ``embeddings``): for one string the vector itself (``Array.isArray``, numbers inside); for a
    list, one vector per input."""
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    vector = recorded["body"]
    url = ("https://router.huggingface.co/hf-inference/models/"
           "sentence-transformers/all-mpnet-base-v2/pipeline/feature-extraction")
    responses.add(responses.POST, url, json=vector, status=200)
    responses.add(responses.POST, url, json=[vector, vector], status=200)
    function = getattr(javascript, call)
    args = ("huggingface", "hf_test_emb") if call == "LLMInterfaceEmbeddings" else (["huggingface", "hf_test_emb"],)
    one = function(*args, SIMPLE_PROMPT)
    assert isinstance(one.results, list) and all(isinstance(x, float) for x in one.results)
    assert one.results == pytest.approx(vector)
    assert one.embeddings[0] == pytest.approx(vector) and len(one) == 1  # the Python shape stays reachable
    two = function(*args, [SIMPLE_PROMPT, "again"])
    assert len(two.results) == 2 and two.results[1] == pytest.approx(vector)


def test_get_interface_config_value():  # J3 (test/main/llminterface.config.test.js's cases, for providers we have)
    assert LLMInterface.get_interface_config_value("openai", "url") == "https://api.openai.com/v1/chat/completions"
    assert LLMInterface.get_interface_config_value("openai", "model.default") == "gpt-4o-mini"  # providers/openai.json
    assert LLMInterface.get_interface_config_value("anthropic", "model.small") == "claude-3-haiku-20240307"
    assert LLMInterface.get_interface_config_value("nonexistent", "url") is False
    assert LLMInterface.get_interface_config_value("openai", "nonexistent.key") is False
    assert LLMInterface.get_interface_config_value("openai", "model") is False  # an object is no value, as in JS
    assert LLMInterface.get_interface_config_value("huggingface", "embeddings.small") == "sentence-transformers/all-MiniLM-L6-v2"
    assert LLMInterface.get_interface_config_value("groq", "hasEmbeddings") is False
    assert LLMInterface.get_interface_config_value("openai", "hasEmbeddings") is True


def test_api_key_config_value(monkeypatch):  # J3: apiKey is the key set, False when there is none
    assert LLMInterface.get_interface_config_value("groq", "apiKey") is False
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test_env")
    assert LLMInterface.get_interface_config_value("groq", "apiKey") == "gsk_test_env"
    LLMInterface.set_api_key("groq", "gsk_test_set")
    assert LLMInterface.get_interface_config_value("groq", "apiKey") == "gsk_test_set"


def test_get_model_by_alias_gives_the_name_back_when_it_is_no_alias():  # J3
    assert LLMInterface.get_model_by_alias("huggingface", "small") == "microsoft/Phi-3-mini-4k-instruct"
    assert LLMInterface.get_model_by_alias("huggingface", "model.small") == "microsoft/Phi-3-mini-4k-instruct"
    assert LLMInterface.get_model_by_alias("huggingface", "gpt2") == "gpt2"
    assert LLMInterface.get_model_by_alias("nonexistent", "small") == "small"
    assert LLMInterface.get_model_by_alias("groq") == "llama3-8b-8192"  # alias defaults to "default"
    assert LLMInterface.get_embeddings_model_by_alias("openai", "large") == "text-embedding-3-large"
    assert LLMInterface.get_embeddings_model_by_alias("groq", "large") == "large"


def test_get_all_model_names_is_a_sorted_list_of_providers():  # J3
    names = LLMInterface.get_all_model_names()
    assert isinstance(names, list) and names == sorted(names)
    for name in ("huggingface", "openai", "groq", "togetherai", "fireworksai", "deepinfra", "mistralai",
                 "perplexity", "nvidia", "ollama", "llamacpp", "anthropic", "gemini"):
        assert name in names


# J4: each named provider by its JS config url, its key variable and its default alias.
NAMED = [
    ("groq", "GROQ_API_KEY", "https://api.groq.com/openai/v1/chat/completions", "llama3-8b-8192"),
    ("togetherai", "TOGETHERAI_API_KEY", "https://api.together.xyz/v1/chat/completions", "google/gemma-7b"),
    ("together", "TOGETHER_API_KEY", "https://api.together.xyz/v1/chat/completions", "google/gemma-7b"),
    ("fireworksai", "FIREWORKSAI_API_KEY", "https://api.fireworks.ai/inference/v1/chat/completions",
     "accounts/fireworks/models/llama-v3-8b-instruct"),
    ("deepinfra", "DEEPINFRA_API_KEY", "https://api.deepinfra.com/v1/openai/chat/completions", "openchat/openchat-3.6-8b"),
    ("mistral", "MISTRAL_API_KEY", "https://api.mistral.ai/v1/chat/completions", "mistral-large-latest"),
    ("perplexity", "PERPLEXITY_API_KEY", "https://api.perplexity.ai/chat/completions", "llama-3.1-sonar-large-128k-chat"),
    ("nvidia", "NVIDIA_API_KEY", "https://integrate.api.nvidia.com/v1/chat/completions", "nvidia/llama3-chatqa-1.5-8b"),
    ("openai", "OPENAI_API_KEY", "https://api.openai.com/v1/chat/completions", "gpt-4o-mini"),
    ("anthropic", "ANTHROPIC_API_KEY", "https://api.anthropic.com/v1/chat/completions", "claude-3-sonnet-20240229"),
    ("gemini", "GEMINI_API_KEY", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
     "gemini-1.5-flash"),
]


@pytest.mark.parametrize("provider, variable, url, default", NAMED)
@responses.activate
def test_named_openai_wire_providers(provider, variable, url, default, monkeypatch):
    monkeypatch.setenv(variable, "sk-test-fake")
    _chat(url)
    response = LLMInterface.send_message(provider, SIMPLE_PROMPT)
    sent_url, body, headers = _sent()
    assert response.results == ANSWER and sent_url == url
    assert body["model"] == default and headers["Authorization"] == "Bearer sk-test-fake"


@pytest.mark.parametrize("provider, url", [("ollama", "http://localhost:11434/v1/chat/completions"),
                                           ("llamacpp", "http://localhost:8080/v1/chat/completions")])
@responses.activate
def test_local_servers_need_no_key(provider, url):
    _chat(url)
    assert LLMInterface.send_message(provider, "Hi").results == ANSWER
    assert "Authorization" not in _sent()[2]


def test_a_named_provider_without_a_key_says_which_variable_to_set():
    with pytest.raises(errors.MissingAPIKeyError, match="GROQ_API_KEY"):
        LLMInterface.send_message("groq", "Hi")


@responses.activate
def test_an_environment_key_does_not_follow_api_base_elsewhere(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test_env")
    _chat("http://127.0.0.1:9/v1/chat/completions")
    with pytest.raises(errors.MissingAPIKeyError):
        LLMInterface.send_message("groq", "Hi", {"api_base": "http://127.0.0.1:9/v1"})
    LLMInterface.send_message("groq", "Hi", {"api_base": "http://127.0.0.1:9/v1", "api_key": "gsk_test_given"})
    assert _sent()[2]["Authorization"] == "Bearer gsk_test_given"


@responses.activate
def test_named_provider_embeddings_on_the_openai_route(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    responses.add(responses.POST, "https://api.openai.com/v1/embeddings", status=200,
                  json={"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                        "model": "text-embedding-ada-002", "usage": {"prompt_tokens": 2, "total_tokens": 2}})
    response = LLMInterface.embeddings("openai", "Hello")
    assert response.results == [[0.1, 0.2]] and _sent()[1]["model"] == "text-embedding-ada-002"


def test_every_named_provider_has_a_key_variable_and_aliases():
    from llm_interface.credentials import KEY_ENV_VARS

    table = LLMInterface.client.get_all_model_names()
    for name in ENDPOINTS:
        assert KEY_ENV_VARS[name] and table[name]["chat"].get("default"), name


def test_a_provider_without_embeddings_says_so():  # J4: "LLM interfaceName does not support embeddings"
    with pytest.raises(errors.UnsupportedTaskError, match="groq"):
        LLMInterface.embeddings(["groq", "gsk_test_fake"], "Hello")


@responses.activate
def test_the_readme_examples_with_openai(monkeypatch, capsys):  # samestrin/llm-interface README.md
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    for _ in range(3):
        _chat("https://api.openai.com/v1/chat/completions")
    import os

    LLMInterface.set_api_key({"openai": os.environ["OPENAI_API_KEY"]})
    try:
        response = LLMInterface.send_message("openai", "Explain the importance of low latency LLMs.")
    except errors.LLMInterfaceError as error:
        print(error)
    print(response.results)

    response = LLMInterface.send_message(["openai", os.environ["OPENAI_API_KEY"]],
                                         "Explain the importance of low latency LLMs.")

    message = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Explain the importance of low latency LLMs."},
        ],
    }
    response = LLMInterface.send_message("openai", message, {"max_tokens": 150})

    assert capsys.readouterr().out == ANSWER + "\n" and response.results == ANSWER
    _, body, headers = _sent()
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 150 and body["messages"][0]["role"] == "system"
    assert headers["Authorization"] == "Bearer sk-test-fake"


@responses.activate
def test_the_huggingface_page_example_and_printing_a_response(capsys):
    """samestrin/llm-interface docs/providers/huggingface.md (2014c9450def83ccbb5114711cc6c8c8abeceb0e), "Example
    Usage": setApiKey, sendMessage('huggingface', prompt), console.log(response.results), errors caught and printed.
    Then the idioms users copy: printing the response itself, and ``results`` read as a plain string."""
    _chat()
    LLMInterface.set_api_key({"huggingface": "hf_test_page_key"})
    try:
        response = LLMInterface.send_message("huggingface", "Explain the importance of low latency LLMs.")
        print(response.results)
    except errors.LLMInterfaceError as error:  # console.error(error)
        print(error)
        raise
    print(response)
    out = capsys.readouterr().out
    assert out == ANSWER + "\n" + ANSWER + "\n"  # print(response) shows the text, as results does
    assert isinstance(response.results, str) and response.results.strip() == response.results
    url, body, headers = _sent()
    assert url == ROUTER_CHAT and body["model"] == "meta-llama/Meta-Llama-3-8B-Instruct"  # the page's `default` alias
    assert headers["Authorization"] == "Bearer hf_test_page_key"


@responses.activate
def test_the_embeddings_page_alias_idiom():
    """samestrin/llm-interface docs/embeddings.md (20d35f1fe304871abf10944c7034f9992a014b30):
    ``LLMInterface.embeddings(provider, text, {model: "small"})``; then the alias changed at run time."""
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    base = "https://router.huggingface.co/hf-inference/models/"
    for model in ("sentence-transformers/all-MiniLM-L6-v2", "BAAI/bge-small-en-v1.5"):
        responses.add(responses.POST, base + model + "/pipeline/feature-extraction", json=recorded["body"], status=200)
    LLMInterface.set_api_key({"huggingface": "hf_test_emb_alias"})
    LLMInterface.embeddings("huggingface", "Explain the importance of low latency LLMs", {"model": "small"})
    assert _sent()[0] == base + "sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction"
    LLMInterface.set_embeddings_model_alias("huggingface", "default", "BAAI/bge-small-en-v1.5")
    response = javascript.LLMInterfaceEmbeddingsWithConfig("huggingface", "Explain the importance of low latency LLMs")
    assert _sent()[0] == base + "BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
    assert response.results == pytest.approx(recorded["body"])
