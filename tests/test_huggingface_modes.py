"""Hugging Face request building in every mode (no network), and parsing of TGI's real chat outputs."""

from __future__ import annotations

import json

import pytest
from recordings import snapshot

from llm_interface import Client, errors
from llm_interface.providers.openai_compatible import join_url
from llm_interface.wire import HttpResult

KEY = "hf_test_fake_key_0123456789abcdefghijklmnop"
LLAMA = "meta-llama/Meta-Llama-3-8B-Instruct"
ROUTER = "https://router.huggingface.co/v1/chat/completions"


@pytest.fixture
def build():
    client = Client({"huggingface": KEY})

    def build(options=None, message="hi", provider="huggingface", stream=False):
        plan = client.plan(provider, "chat", message, options, stream=stream)
        return plan.provider.prepare(plan.request)

    yield build
    client.close()


# options -> (url, wire model)
MODES = [
    ({}, ROUTER, LLAMA),
    ({"model": "default"}, ROUTER, LLAMA),
    ({"model": "large"}, ROUTER, LLAMA),
    ({"model": "agent"}, ROUTER, LLAMA),
    ({"model": "small"}, ROUTER, "microsoft/Phi-3-mini-4k-instruct"),
    ({"model": "Qwen/Qwen2.5-7B-Instruct"}, ROUTER, "Qwen/Qwen2.5-7B-Instruct"),
    ({"model": "meta-llama/Llama-3.1-8B-Instruct:together"}, ROUTER, "meta-llama/Llama-3.1-8B-Instruct:together"),
    ({"model": "meta-llama/Llama-3.1-8B-Instruct:fastest"}, ROUTER, "meta-llama/Llama-3.1-8B-Instruct:fastest"),
    ({"model": "meta-llama/Llama-3.1-8B-Instruct:cheapest"}, ROUTER, "meta-llama/Llama-3.1-8B-Instruct:cheapest"),
    ({"provider": "together"}, ROUTER, LLAMA + ":together"),
    ({"provider": "fastest", "model": "small"}, ROUTER, "microsoft/Phi-3-mini-4k-instruct:fastest"),
    ({"provider": "auto"}, ROUTER, LLAMA),
    ({"provider": "together", "model": "x/y:nebius"}, ROUTER, "x/y:nebius"),  # an explicit suffix wins
    ({"provider": "hf-inference"}, f"https://router.huggingface.co/hf-inference/models/{LLAMA}/v1/chat/completions", LLAMA),
    ({"provider": "hf-inference", "model": "small"},
     "https://router.huggingface.co/hf-inference/models/microsoft/Phi-3-mini-4k-instruct/v1/chat/completions",
     "microsoft/Phi-3-mini-4k-instruct"),
    ({"api_base": "https://abc.us-east-1.aws.endpoints.huggingface.cloud"},
     "https://abc.us-east-1.aws.endpoints.huggingface.cloud/v1/chat/completions", "tgi"),
    ({"api_base": "http://127.0.0.1:8080/v1"}, "http://127.0.0.1:8080/v1/chat/completions", "tgi"),
    ({"api_base": "http://127.0.0.1:8080/v1/"}, "http://127.0.0.1:8080/v1/chat/completions", "tgi"),
    ({"api_base": "http://127.0.0.1:8080/v1/chat/completions"}, "http://127.0.0.1:8080/v1/chat/completions", "tgi"),
    ({"api_base": "http://tgi:80", "model": "my-finetune"}, "http://tgi:80/v1/chat/completions", "my-finetune"),
    ({"model": "https://abc.endpoints.huggingface.cloud"}, "https://abc.endpoints.huggingface.cloud/v1/chat/completions", "tgi"),
    ({"model": "https://abc.endpoints.huggingface.cloud/v1/chat/completions", "api_base": "http://ignored"},
     "https://abc.endpoints.huggingface.cloud/v1/chat/completions", "tgi"),
]


@pytest.mark.parametrize("options,url,model", MODES, ids=[json.dumps(m[0]) for m in MODES])
def test_url_and_model_per_mode(build, options, url, model):
    call = build(options)
    assert (call.method, call.url, call.json["model"]) == ("POST", url, model)
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    assert call.json["messages"] == [{"role": "user", "content": "hi"}]
    assert "stream" not in call.json


def test_api_base_from_the_environment(build, monkeypatch):
    monkeypatch.setenv("HF_API_BASE", "http://from-env:8080")
    assert build().url == "http://from-env:8080/v1/chat/completions"
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://first:8080")
    assert build().url == "http://first:8080/v1/chat/completions"
    assert build({"api_base": "http://option:1"}).url == "http://option:1/v1/chat/completions"


@pytest.mark.parametrize("base,expected", [
    ("http://h", "http://h/v1/chat/completions"),
    ("http://h/", "http://h/v1/chat/completions"),
    ("http://h/v1", "http://h/v1/chat/completions"),
    ("http://h/v1/", "http://h/v1/chat/completions"),
    ("http://h/v1/chat/completions", "http://h/v1/chat/completions"),
    ("http://h/v1/chat/completions/", "http://h/v1/chat/completions"),
    ("http://h/proxy/abc", "http://h/proxy/abc/v1/chat/completions"),
])
def test_join_url(base, expected):
    assert join_url(base) == expected


def test_body_carries_generation_params_and_stream(build):
    call = build({"max_tokens": 20, "temperature": 0.5, "stop": ["\n"], "seed": 7, "response_format": {"type": "json_object"},
                  "tools": [{"type": "function", "function": {"name": "f"}}]}, stream=True)
    assert call.json == {
        "messages": [{"role": "user", "content": "hi"}], "model": LLAMA, "max_tokens": 20, "temperature": 0.5,
        "stop": ["\n"], "seed": 7, "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f"}}], "stream": True,
    }
    assert call.stream is True


def test_camel_case_options(build):
    call = build({"maxTokens": 5, "topP": 0.9, "apiBase": "http://tgi:1"})
    assert (call.json["max_tokens"], call.json["top_p"], call.url) == (5, 0.9, "http://tgi:1/v1/chat/completions")


def test_routing_settings_stay_out_of_the_body(build):
    call = build({"provider": "together", "scale_up_timeout": 600, "bill_to": "my-org", "timeout": 30,
                  "headers": {"X-Custom": "1"}})
    assert set(call.json) == {"messages", "model"}
    assert call.headers["X-Scale-Up-Timeout"] == "600"
    assert call.headers["X-HF-Bill-To"] == "my-org"
    assert call.headers["X-Custom"] == "1"
    assert call.timeout == 30


def test_hf_inference_asks_to_wait_for_the_model_on_retries_only(build):
    call = build({"provider": "hf-inference"})
    assert "x-wait-for-model" not in {k.lower() for k in call.headers}
    assert call.retry_headers == {"x-wait-for-model": "true"}
    assert build().retry_headers == {}


@pytest.mark.parametrize("bad", ["soon", -5, True, [600]])
def test_bad_scale_up_timeout(build, bad):
    with pytest.raises(errors.InvalidRequestError):
        build({"api_base": "http://e", "scale_up_timeout": bad})


@pytest.mark.parametrize("bad", [123, "", ["together"]])
def test_bad_inference_provider(build, bad):
    with pytest.raises(errors.InvalidRequestError):
        build({"provider": bad})


def test_endpoint_needs_no_key():
    with Client() as client:
        plan = client.plan("huggingface", "chat", "hi", {"api_base": "http://tgi:8080"})
        call = plan.provider.prepare(plan.request)
    assert "Authorization" not in call.headers


@pytest.mark.parametrize("options", [{}, {"provider": "hf-inference"}, {"model": "small"}])
def test_router_without_a_key_names_every_way_to_set_one(options):
    with Client() as client:
        with pytest.raises(errors.MissingAPIKeyError) as caught:
            client.plan("huggingface", "chat", "hi", options)
    text = str(caught.value)
    for way in ("api_key", "set_api_key", "HUGGINGFACE_API_KEY", "HF_TOKEN", "HUGGINGFACE_TOKEN",
                "HUGGING_FACE_HUB_TOKEN", ".env", "token"):
        assert way in text


def test_a_name_that_is_no_alias_goes_out_as_the_model_id(build):
    # Issue 17: the JS library's rule; the server's 404 is the error for a name nobody serves.
    assert build({"model": "biggest"}).json["model"] == "biggest"


def test_openai_compatible_shares_the_code(build):
    call = build({"api_base": "http://vllm:8000/v1", "model": "Qwen/Qwen2.5-0.5B-Instruct", "max_tokens": 3},
                 provider="openai-compatible")
    assert call.url == "http://vllm:8000/v1/chat/completions"
    assert call.json == {"messages": [{"role": "user", "content": "hi"}], "model": "Qwen/Qwen2.5-0.5B-Instruct", "max_tokens": 3}
    assert "Authorization" not in call.headers  # the HF key is not sent to another provider's server


def test_openai_compatible_without_api_base(build):
    with pytest.raises(errors.ConfigurationError) as caught:
        build(provider="openai-compatible")
    assert "api_base" in str(caught.value)


# -- parsing TGI's real chat outputs (tgi-snapshots) -------------------------------------------


def parse(body, options=None):
    with Client({"huggingface": KEY}) as client:
        plan = client.plan("huggingface", "chat", "hi", {"api_base": "http://tgi", **(options or {})})
        return plan.provider.parse(plan.request, HttpResult(200, {"x-request-id": "rid"}, body, 0.0))


def parse_stream(events, options=None):
    with Client({"huggingface": KEY}) as client:
        plan = client.plan("huggingface", "chat", "hi", {"api_base": "http://tgi", **(options or {})}, stream=True)
        state = plan.provider.stream_state(plan.request)
        chunks = [c for e in events for c in state.on_event(None, e if isinstance(e, bytes) else json.dumps(e).encode())]
        return chunks, state.finish("rid")


@pytest.mark.parametrize("path", [
    "test_chat_llama/test_flash_llama_simple.json",
    "test_continue_final_message/test_llama_completion_single_prompt.json",
    "test_continue_final_message/test_llama_completion_single_prompt_continue.json",
    "test_tools_llama/test_flash_llama_tool_reply_response.json",
    "test_tools_llama/test_flash_llama_grammar_tools_insufficient_information_nostream.json",
    "test_json_schema_constrain/test_json_schema_basic.json",
])
def test_tgi_chat_snapshot(path):
    body = snapshot(path)
    result = parse(body)
    assert result.results == body["choices"][0]["message"]["content"]
    assert result.finish_reason == body["choices"][0]["finish_reason"]
    assert result.model == body["model"]
    assert result.request_id == "rid"  # TGI's id is "": the header's id is used
    if body.get("usage"):
        assert result.usage.total_tokens == body["usage"]["total_tokens"]


def test_tgi_json_schema_answer_is_json():
    assert isinstance(parse(snapshot("test_json_schema_constrain/test_json_schema_basic.json")).json(), dict)


@pytest.mark.parametrize("path", [
    "test_tools_llama/test_flash_llama_grammar_tools_nostream.json",
    "test_tools_llama/test_flash_llama_grammar_tools_auto_nostream.json",
])
def test_tgi3_tool_calls(path):
    result = parse(snapshot(path))
    assert result.results == ""
    assert result.tool_calls == ({"id": "0", "type": "function", "function": {
        "name": "get_current_weather", "arguments": '{"location":"Brooklyn, NY","format":"fahrenheit"}'}},)


def test_tgi14_tool_calls_with_object_arguments_and_int_ids():
    from recordings import exchange

    body = exchange("InferenceClientVCRTest.test_chat_completion_with_tool#0")["response"]["body"]
    assert body["object"] == "text_completion" and body["id"] == ""
    result = parse(body)
    (call,) = result.tool_calls
    assert call["id"] == "0" and isinstance(call["id"], str)
    assert json.loads(call["function"]["arguments"]) == {"format": "fahrenheit", "location": "San Francisco, CA", "num_days": 3}
    assert result.finish_reason == "stop"  # TGI 1.x said eos_token


@pytest.mark.parametrize("path", [
    "test_completion_prompts/test_chat_hfhub_nousage.json",
    "test_completion_prompts/test_chat_hfhub_usage.json",
    "test_completion_prompts/test_chat_openai_nousage.json",
    "test_completion_prompts/test_chat_openai_usage.json",
    "test_json_schema_constrain/test_json_schema_stream.json",
])
def test_tgi_chat_stream_snapshot(path):
    events = snapshot(path)
    chunks, result = parse_stream(events)
    expected = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert "".join(c.text for c in chunks) == result.results == expected
    assert result.finish_reason == "stop"
    usage = [e["usage"] for e in events if e.get("usage")]
    assert (result.usage.total_tokens if result.usage else None) == (usage[-1]["total_tokens"] if usage else None)
    if "json_schema" in path:
        assert isinstance(result.json(), dict)


@pytest.mark.parametrize("path", [
    "test_tools_llama/test_flash_llama_grammar_tools_choice_stream.json",
    "test_tools_llama/test_flash_llama_grammar_tools_openai.json",
])
def test_tgi_tool_call_stream_snapshot(path):
    # The snapshot holds the JSON events; on the wire TGI ends its OpenAI routes with [DONE].
    chunks, result = parse_stream(snapshot(path) + [b"[DONE]"])
    (call,) = result.tool_calls
    assert call["id"] == "0" and call["function"]["name"] == "get_current_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Brooklyn, NY", "format": "fahrenheit"}
    assert all(isinstance(c["function"]["arguments"], str) for chunk in chunks for c in chunk.tool_calls)


def test_tool_call_stream_with_object_arguments_and_int_ids():
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": 0, "function": {"name": "f", "arguments": {"a": 1}}}]}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "eos_token"}]},
    ]
    chunks, result = parse_stream(events)
    assert result.tool_calls == ({"id": "0", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},)
    assert result.finish_reason == "stop"


# -- stop sequences the server left in the text -------------------------------------------------


def answer(text, finish="stop_sequence"):
    return {"id": "", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}]}


@pytest.mark.parametrize("text,stop,expected", [
    ("Hello\nObservation: x", ["Observation"], "Hello\n"),
    ("Hello END", "END", "Hello "),
    ("a;b.c", [".", ";"], "a"),
    ("no stop here", ["###"], "no stop here"),
])
def test_stop_sequences_are_stripped(text, stop, expected):
    result = parse(answer(text), {"stop": stop})
    assert result.results == expected and result.finish_reason == "stop"


def test_stop_sequence_split_across_stream_chunks_is_stripped():
    pieces = ["Hel", "lo O", "bser", "vation: x"]
    events = [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop_sequence"}]})
    chunks, result = parse_stream(events, {"stop": ["Observation"]})
    assert "".join(c.text for c in chunks) == result.results == "Hello "


def test_held_back_text_that_was_not_a_stop_is_released():
    pieces = ["a O", "bs", "!"]
    events = [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    chunks, result = parse_stream(events, {"stop": ["Observation"]})
    assert "".join(c.text for c in chunks) == result.results == "a Obs!"


def test_provider_specific_usage_fields():
    body = answer("x", "stop")
    body["usage"] = {"input_tokens": 4, "output_tokens": 6, "prompt_tokens_details": None, "queue_time": 0.1}
    usage = parse(body).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 6, 10)


def test_several_choices():
    body = {"choices": [{"index": i, "message": {"content": t}, "finish_reason": "length"} for i, t in enumerate("ab")]}
    result = parse(body)
    assert result.results == "a" and [c.text for c in result.choices] == ["a", "b"]


def test_content_parts_are_joined():
    body = answer([{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}], "stop")
    assert parse(body).results == "Hello"


def test_an_ambient_token_goes_to_hugging_face_hosts_only(monkeypatch):
    """HF_TOKEN from the environment must not leak to an arbitrary self-hosted api_base."""
    from conftest import FAKE_KEY

    monkeypatch.setenv("HF_TOKEN", FAKE_KEY)
    client = Client()
    elsewhere = client.plan("huggingface", "chat", "hi", {"api_base": "http://127.0.0.1:8080"})
    assert elsewhere.request.api_key is None
    for base in ("https://xyz.us-east-1.aws.endpoints.huggingface.cloud", "https://router.huggingface.co/v1"):
        assert client.plan("huggingface", "chat", "hi", {"api_base": base}).request.api_key == FAKE_KEY
    assert client.plan("huggingface", "chat", "hi").request.api_key == FAKE_KEY  # the router
    explicit = client.plan("huggingface", "chat", "hi", {"api_base": "http://127.0.0.1:8080", "api_key": FAKE_KEY})
    assert explicit.request.api_key == FAKE_KEY
    client.set_api_key("huggingface", FAKE_KEY)
    assert client.plan("huggingface", "chat", "hi", {"api_base": "http://127.0.0.1:8080"}).request.api_key == FAKE_KEY


@pytest.mark.parametrize("base, suffix, expected", [
    ("http://h:8000/v1/chat/completions", "/v1/completions", "http://h:8000/v1/completions"),
    ("http://h:8000/v1/completions", "/v1/chat/completions", "http://h:8000/v1/chat/completions"),
    ("http://h:8000/v1/chat/completions", "/v1/embeddings", "http://h:8000/v1/embeddings"),
    ("http://h/openai/chat/completions", "/v1/chat/completions", "http://h/openai/chat/completions"),
    ("http://h/v1", "/v1/embeddings", "http://h/v1/embeddings"),
])
def test_join_url_replaces_a_route_the_base_already_names(base, suffix, expected):
    """An api_base given as the chat URL must not receive completion or embedding bodies."""
    assert join_url(base, suffix) == expected


def test_a_folder_named_like_an_alias_does_not_switch_to_local_mode(tmp_path, monkeypatch):
    """Only a folder holding a model (config.json) means local mode; ./small must not hijack the alias."""
    from llm_interface.providers.huggingface import local_engine

    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()
    plan = Client({"huggingface": "hf_test_fake"}).plan("huggingface", "chat", "hi", {"model": "small"})
    assert not plan.provider.in_process and plan.request.model == "microsoft/Phi-3-mini-4k-instruct"
    (tmp_path / "small" / "config.json").write_text("{}")
    assert local_engine(plan.request.__class__(provider="huggingface", task="chat", model="small")) == "transformers"
