"""Raw text generation: every recorded text-generation exchange replayed, TGI snapshots for /generate with
prefill logprobs, grammar, /v1/completions and tool calls, and the parameter mapping."""

from __future__ import annotations

import json
import re

import pytest
import responses
from recordings import body_bytes, exchanges_for, snapshot
from support import tgi

from llm_interface import Client, errors
from llm_interface.providers.hf_generate import generate_parameters, json_mode, openai_response_format, tgi_grammar
from llm_interface.request import Request

ROUTER_HF = "https://router.huggingface.co/hf-inference/models/"
TGI = "http://127.0.0.1:9/tgi"
MODEL_IN_URL = re.compile(r"/models/(.+)$")


def _model_of(case):
    model = MODEL_IN_URL.search(case["request"]["url"]).group(1)
    # Legacy un-namespaced ids live on under their organisation today (gpt2 -> openai-community/gpt2).
    return model if "/" in model else f"openai-community/{model}"


def _register(case, url):
    recorded = case["response"]
    responses.add(
        responses.POST, url, body=body_bytes(recorded), status=recorded["status"],
        content_type=recorded["headers"].get("content-type", "application/json"),
    )


def _options(case):
    """The recorded call's intent in OpenAI words (the async cases recorded no body: a short default)."""
    body = case["request"]["body"] or {"inputs": "test", "parameters": {"max_new_tokens": 1}}
    parameters = body.get("parameters") or {}
    answer = case["response"]["body"]
    answer = answer[0] if isinstance(answer, list) else answer
    details = answer.get("details") if isinstance(answer, dict) else None
    options = {"provider": "hf-inference", "model": _model_of(case)}
    if parameters.get("max_new_tokens"):
        options["max_tokens"] = parameters["max_new_tokens"]
    if details:
        options["logprobs"] = True
    if details and details.get("best_of_sequences"):
        options["n"] = 1 + len(details["best_of_sequences"])
    elif parameters.get("do_sample") is False:
        options["temperature"] = 0
    if parameters.get("grammar"):
        options["response_format"] = parameters["grammar"]["value"]
    return body["inputs"], options


TEXT_OK = exchanges_for("text-generation", stream=False, status=200)


@pytest.mark.parametrize("case", TEXT_OK, ids=[c["name"] for c in TEXT_OK])
@responses.activate
def test_recorded_generation_replays(case, client):
    prompt, options = _options(case)
    _register(case, ROUTER_HF + options["model"])
    result = client.complete("huggingface", prompt, options)

    answer = case["response"]["body"][0]
    assert result.results == answer["generated_text"]
    sent = json.loads(responses.calls[0].request.body)
    assert sent["inputs"] == prompt and sent["parameters"]["return_full_text"] is False
    details = answer.get("details")
    if details:
        assert sent["parameters"]["details"] is True
        assert result.logprobs.tokens == tuple(t["text"] for t in details["tokens"])
        assert result.logprobs.token_logprobs == tuple(t["logprob"] for t in details["tokens"])
        assert result.logprobs.sum == pytest.approx(sum(t["logprob"] for t in details["tokens"]))
        assert result.finish_reason == "length"
    if details and details.get("best_of_sequences"):
        assert sent["parameters"]["best_of"] == options["n"] and sent["parameters"]["do_sample"] is True
        assert [c.text for c in result.choices] == [answer["generated_text"]] + [
            s["generated_text"] for s in details["best_of_sequences"]
        ]
    if options.get("temperature") == 0:
        assert sent["parameters"]["do_sample"] is False and "temperature" not in sent["parameters"]


TEXT_STREAMS = exchanges_for("text-generation", stream=True, status=200)


@pytest.mark.parametrize("case", TEXT_STREAMS, ids=[c["name"] for c in TEXT_STREAMS])
@responses.activate
def test_recorded_generation_stream_replays(case, client):
    model = _model_of(case)
    responses.add(
        responses.POST, ROUTER_HF + model, body=body_bytes(case["response"]), status=200,
        content_type="text/event-stream",
    )
    with client.stream_complete("huggingface", "test", {"provider": "hf-inference", "model": model, "logprobs": True}) as stream:
        chunks = list(stream)
    final = case["response"]["events"][-1]
    expected = "".join(e["token"]["text"] for e in case["response"]["events"] if not e["token"]["special"])
    assert "".join(c.text for c in chunks) == stream.response.results == expected
    assert stream.response.logprobs.token_logprobs == tuple(e["token"]["logprob"] for e in case["response"]["events"])
    recorded = (final.get("details") or {}).get("finish_reason")
    assert stream.response.finish_reason == {"length": "length", "eos_token": "stop", "stop_sequence": "stop", None: "stop"}[recorded]
    sent = json.loads(responses.calls[0].request.body)
    assert sent["stream"] is True


TEXT_ERRORS = [c for c in exchanges_for("text-generation", stream=False) if c["response"]["status"] >= 400]


@pytest.mark.parametrize("case", TEXT_ERRORS, ids=[c["name"] for c in TEXT_ERRORS])
@responses.activate
def test_recorded_generation_errors_are_typed(case, client):
    model = _model_of(case)
    _register(case, ROUTER_HF + model)
    with pytest.raises(errors.ValidationError) as caught:
        client.complete("huggingface", "test", {"provider": "hf-inference", "model": model})
    assert caught.value.status == case["response"]["status"]
    assert caught.value.server_message and caught.value.server_message[:30] in str(caught.value)


# -- TGI /generate snapshots ----------------------------------------------------------------------

@responses.activate
def test_echo_with_logprobs_puts_prompt_tokens_first(client):
    answer = snapshot("test_bloom_560m/test_bloom_560m.json")
    responses.add(responses.POST, TGI + "/generate", json=answer)
    prompt = "".join(t["text"] for t in answer["details"]["prefill"])
    result = client.complete("huggingface", prompt, {"api_base": TGI, "logprobs": 2, "echo": True, "max_tokens": 10})

    sent = json.loads(responses.calls[0].request.body)["parameters"]
    assert sent["details"] is True and sent["decoder_input_details"] is True and sent["top_n_tokens"] == 2
    prefill, tokens = answer["details"]["prefill"], answer["details"]["tokens"]
    assert result.results == prompt + answer["generated_text"]
    assert result.logprobs.tokens == tuple(t["text"] for t in prefill + tokens)
    assert result.logprobs.token_logprobs[0] is None
    assert result.logprobs.token_logprobs[len(prefill)] == tokens[0]["logprob"]
    assert result.logprobs.text_offset[len(prefill)] == len(prompt)
    assert result.logprobs.sum == pytest.approx(sum(t["logprob"] for t in prefill[1:] + tokens))


@responses.activate
def test_echo_without_prefill_logprobs_says_why(client):
    responses.add(responses.POST, TGI + "/generate", json=snapshot("test_flash_llama/test_flash_llama_simple.json"))
    with pytest.raises(errors.InvalidResponseError, match="--enable-prefill-logprobs"):
        client.complete("huggingface", "Test request", {"api_base": TGI, "logprobs": 1, "echo": True})


@responses.activate
def test_echo_alone_prepends_the_prompt_without_prefill(client):
    answer = snapshot("test_flash_llama/test_flash_llama_simple.json")
    responses.add(responses.POST, TGI + "/generate", json=answer)
    result = client.complete("huggingface", "Test request", {"api_base": TGI, "echo": True})
    assert result.results == "Test request" + answer["generated_text"]
    assert "decoder_input_details" not in json.loads(responses.calls[0].request.body)["parameters"]


@responses.activate
def test_streamed_echo_matches_the_non_streamed_one_when_the_prompt_holds_a_stop(client):
    """The echoed prompt is not scanned for stop sequences: only the generated text is."""
    events = tgi.stream_events([tgi.token(" gen", id=1, logprob=-0.1), tgi.token("!", id=2, logprob=-0.2)])
    responses.add(responses.POST, TGI + "/generate_stream", body=tgi.sse(events), content_type="text/event-stream")
    responses.add(responses.POST, TGI + "/generate", json=tgi.generate_answer(" gen!"))
    options = {"api_base": TGI, "echo": True, "stop": ["\n"]}
    with client.stream_complete("huggingface", "line1\nline2", options) as stream:
        streamed = "".join(chunk.text for chunk in stream)
    assert streamed == stream.response.results == "line1\nline2 gen!"
    assert client.complete("huggingface", "line1\nline2", options).results == streamed


@responses.activate
def test_grammar_from_response_format_and_json(client):
    answer = snapshot("test_flash_grammar_llama/test_flash_llama_grammar_json.json")
    responses.add(responses.POST, TGI + "/generate", json=answer)
    schema = {"type": "object", "properties": {"firstName": {"type": "string"}}}
    result = client.complete("huggingface", "info: David", {"api_base": TGI, "response_format": {"type": "json_object", "schema": schema}})
    assert json.loads(responses.calls[0].request.body)["parameters"]["grammar"] == {"type": "json", "value": schema}
    assert result.json() == json.loads(answer["generated_text"])
    assert result.finish_reason == "stop"


@responses.activate
def test_stop_sequences_are_cut_like_openai(client):
    responses.add(responses.POST, TGI + "/generate", json={"generated_text": "Paris.\nQ: next", "details": None})
    result = client.complete("huggingface", "Q: capital?\nA:", {"api_base": TGI, "stop": ["\nQ:"]})
    assert result.results == "Paris."
    assert result.finish_reason == "stop"


@responses.activate
def test_prompt_message_dict_is_completion(client):
    responses.add(responses.POST, TGI + "/generate", json={"generated_text": " world"})
    result = client.send_message("huggingface", {"prompt": "Hello"}, {"api_base": TGI})
    assert result.results == " world"


def test_presence_penalty_is_not_repetition_penalty():
    request = Request("huggingface", "completion", prompt="x", params={"presence_penalty": 0.0, "repetition_penalty": 1.2})
    assert generate_parameters(request) == {"repetition_penalty": 1.2, "return_full_text": False}
    with pytest.raises(errors.InvalidRequestError, match="frequency_penalty"):
        generate_parameters(Request("huggingface", "completion", prompt="x", params={"presence_penalty": 0.5}))


def test_parameter_table():
    request = Request(
        "huggingface", "completion", prompt="x",
        params={"max_tokens": 5, "temperature": 0.7, "top_p": 1.0, "seed": 3, "top_k": 4, "frequency_penalty": 0.5, "stop": "\n"},
    )
    assert generate_parameters(request) == {
        "max_new_tokens": 5, "temperature": 0.7, "do_sample": True, "seed": 3, "top_k": 4,
        "frequency_penalty": 0.5, "stop": ["\n"], "return_full_text": False,
    }
    with pytest.raises(errors.InvalidRequestError, match="sampling"):
        generate_parameters(Request("huggingface", "completion", prompt="x", params={"n": 2, "temperature": 0}))


def test_json_mode_translations():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert json_mode({"type": "json_object"}) == ("json", None)
    assert tgi_grammar({"type": "json_object"}) == {"type": "json", "value": {"type": "object"}}
    assert tgi_grammar({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}) == {"type": "json", "value": schema}
    assert tgi_grammar(schema) == {"type": "json", "value": schema}
    assert openai_response_format(schema) == {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    assert openai_response_format({"type": "json_object"}) == {"type": "json_object"}


# -- /v1/completions (TGI and any OpenAI-compatible server) ---------------------------------------

@responses.activate
def test_v1_completions_single_prompt(client):
    answer = snapshot("test_completion_prompts/test_flash_llama_completion_single_prompt.json")
    responses.add(responses.POST, TGI + "/v1/completions", json=answer)
    result = client.complete("openai-compatible", "What is Deep Learning?", {"api_base": TGI + "/v1", "max_tokens": 10})
    assert result.results == answer["choices"][0]["text"]
    assert result.usage.total_tokens == 16 and result.finish_reason == "length"
    assert json.loads(responses.calls[0].request.body)["prompt"] == "What is Deep Learning?"


def _sse(events):
    """Snapshot events as the SSE body TGI streams them."""
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


@responses.activate
def test_chat_stream_with_final_usage_chunk(client):
    # Despite its name, this snapshot is a chat stream whose last chunk has choices: [] and the usage.
    events = snapshot("test_completion_prompts/test_flash_llama_completion_stream_usage.json")
    responses.add(responses.POST, TGI + "/v1/chat/completions", body=_sse(events), content_type="text/event-stream")
    with client.stream_message("huggingface", "What is Deep Learning?", {"api_base": TGI + "/v1"}) as stream:
        text = "".join(c.text for c in stream)
    assert text == "".join(e["choices"][0]["delta"]["content"] for e in events if e["choices"])
    assert stream.response.usage == next(
        __import__("llm_interface").Usage.from_dict(e["usage"]) for e in events if e.get("usage")
    )


@responses.activate
def test_v1_completions_many_prompts_stream_keeps_choices_apart(client):
    events = snapshot("test_completion_prompts/test_flash_llama_completion_many_prompts_stream.json")
    responses.add(responses.POST, TGI + "/v1/completions", body=_sse(events), content_type="text/event-stream")
    with client.stream_complete("openai-compatible", "x", {"api_base": TGI + "/v1"}) as stream:
        list(stream)
    by_index = {}
    for e in events:
        for c in e["choices"]:
            by_index[c["index"]] = by_index.get(c["index"], "") + c["text"]
    assert [c.text for c in stream.response.choices] == [by_index[i] for i in sorted(by_index)]


# -- chat on a TGI endpoint: tool calls and JSON schema --------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_current_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}},
}


@pytest.mark.parametrize("name", ["test_flash_llama_grammar_tools_nostream", "test_flash_llama_grammar_tools_auto_nostream"])
@responses.activate
def test_tool_calls_come_back_normalised(name, client):
    answer = snapshot(f"test_tools_llama/{name}.json")
    responses.add(responses.POST, TGI + "/v1/chat/completions", json=answer)
    result = client.send_message("huggingface", "Weather in Brooklyn?", {"api_base": TGI, "tools": [WEATHER_TOOL], "tool_choice": "auto"})
    assert json.loads(responses.calls[0].request.body)["tools"] == [WEATHER_TOOL]
    expected = answer["choices"][0]["message"]["tool_calls"][0]
    call = result.tool_calls[0]
    assert call["id"] == str(expected["id"]) and isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == (
        expected["function"]["arguments"] if isinstance(expected["function"]["arguments"], dict)
        else json.loads(expected["function"]["arguments"])
    )


@responses.activate
def test_tgi_14_object_arguments_and_int_ids_become_strings(client):
    answer = {"choices": [{"index": 0, "finish_reason": "eos_token", "message": {"role": "assistant", "content": None,
              "tool_calls": [{"id": 0, "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}}]}
    responses.add(responses.POST, TGI + "/v1/chat/completions", json=answer)
    call = client.send_message("huggingface", "x", {"api_base": TGI}).tool_calls[0]
    assert call["id"] == "0" and call["function"]["arguments"] == '{"x": 1}'


@responses.activate
def test_json_schema_on_endpoint_becomes_tgi_grammar(client):
    answer = snapshot("test_json_schema_constrain/test_json_schema_basic.json")
    responses.add(responses.POST, TGI + "/v1/chat/completions", json=answer)
    schema = {"type": "object", "properties": {"firstName": {"type": "string"}, "numCats": {"type": "integer"}}}
    result = client.send_message(
        "huggingface", "David has 2 cats", {"api_base": TGI, "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}}
    )
    assert json.loads(responses.calls[0].request.body)["response_format"] == {"type": "json", "value": schema}
    assert result.json()["numCats"] == 2


@responses.activate
def test_json_schema_on_router_stays_openai(client):
    answer = snapshot("test_grammar_response_format_llama/test_grammar_response_format_llama_json.json")
    responses.add(responses.POST, "https://router.huggingface.co/v1/chat/completions", json=answer)
    schema = {"type": "object", "properties": {"unit": {"type": "string"}}}
    result = client.send_message("huggingface", "weather?", {"model": "meta-llama/Llama-3.1-8B-Instruct", "response_format": schema})
    sent = json.loads(responses.calls[0].request.body)["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    assert result.json() == json.loads(answer["choices"][0]["message"]["content"])


def test_json_repair_on_malformed_output():
    from llm_interface import Response

    broken = Response('{"a": 1, "b": [1, 2', attempt_json_repair=True)
    assert broken.json() == {"a": 1, "b": [1, 2]}
    with pytest.raises(errors.InvalidResponseError, match="attempt_json_repair"):
        Response('{"a": 1,').json()


def test_unsupported_task_names_what_is_supported(client):
    with pytest.raises(errors.UnsupportedTaskError, match="chat"):
        client.complete("huggingface", "x", {"model": "meta-llama/Llama-3.1-8B-Instruct", "provider": "groq"})
    with pytest.raises(errors.UnsupportedTaskError, match="hf-inference, endpoints and these providers"):
        client.embeddings("huggingface", "q", {"model": "BAAI/bge-small-en-v1.5:nebius"})
    with pytest.raises(errors.UnsupportedTaskError, match="supports"):
        Client().classify("openai-compatible", "x", {"api_base": TGI})
