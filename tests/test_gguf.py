"""The in-process llama.cpp engine (Hugging Face local mode with a ``.gguf`` file) with the tiny model as GGUF."""

from __future__ import annotations

import math

import pytest
from support.tiny_models import CONVERSATIONS, REPLIES, WEATHER_TOOL

from llm_interface import Client, InvalidRequestError, ModelNotFoundError
from llm_interface.providers import in_process

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def gguf(tiny_gguf):
    with Client(interface_options={"retry_attempts": 0}) as client:
        yield client, {"model": tiny_gguf, "temperature": 0, "n_ctx": 512, "n_threads": 1}


@pytest.mark.parametrize("prompt", sorted(REPLIES))
def test_exact_replies(gguf, prompt):
    client, options = gguf
    response = client.send_message("huggingface", prompt, options)
    assert (response.results, response.finish_reason) == (REPLIES[prompt], "stop")
    assert response.provider == "huggingface"
    # llama.cpp does not count the end-of-turn token in completion_tokens (transformers does).
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_model_path_option_selects_the_engine(gguf):
    client, options = gguf
    response = client.send_message("huggingface", "Hello", {**options, "model": None, "model_path": options["model"]})
    assert response.results == REPLIES["Hello"]


def test_stop_max_tokens_and_streaming(gguf):
    client, options = gguf
    stopped = client.send_message("huggingface", "Count to five.", {**options, "stop": [" three"]})
    assert (stopped.results, stopped.finish_reason) == ("one two", "stop")
    short = client.send_message("huggingface", "Count to five.", {**options, "max_tokens": 2})
    assert (short.results, short.finish_reason) == ("one two", "length")
    stream = client.stream_message("huggingface", "Count to five.", {**options, "stop": [" four"]})
    chunks = list(stream)
    assert len([c for c in chunks if c.text]) >= 3
    assert "".join(c.text for c in chunks) == "one two three"
    assert stream.response.finish_reason == "stop"


def test_tool_calls_are_parsed_from_the_text(gguf):
    client, options = gguf
    call = client.send_message("huggingface", "What is the weather in Paris?", {**options, "tools": [WEATHER_TOOL]})
    assert (call.results, call.finish_reason) == ("", "tool_calls")
    assert call.tool_calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    stream = client.stream_message("huggingface", "What is the weather in Paris?", {**options, "tools": [WEATHER_TOOL]})
    assert "".join(c.text for c in stream) == ""
    assert stream.response.tool_calls == call.tool_calls and stream.response.finish_reason == "tool_calls"
    # The round trip: the assistant's tool call (content None, which llama.cpp's types refuse) and the result.
    answer = client.send_message("huggingface", CONVERSATIONS["weather"]["messages"][:3], {**options, "tools": [WEATHER_TOOL]})
    assert answer.results == "It is 22C and sunny in Paris."


def test_raw_completion(gguf):
    client, options = gguf
    prompt = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"
    response = client.complete("huggingface", prompt, {**options, "stop": ["<|im_end|>"], "max_tokens": 32})
    assert response.results == REPLIES["Hello"]


def test_embeddings_are_unit_vectors_of_the_hidden_size(gguf):
    client, options = gguf
    response = client.embeddings("huggingface", ["Hello", "Count to five."], {"model": options["model"], "n_ctx": 512})
    assert [len(v) for v in response.embeddings] == [64, 64]
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5 for v in response.embeddings)
    raw = client.embeddings("huggingface", "Hello", {"model": options["model"], "n_ctx": 512, "normalize": False})
    assert math.sqrt(sum(x * x for x in raw.embeddings[0])) > 1.5  # llama.cpp's own vectors are not normalised


def test_loaded_once_and_unload(gguf):
    client, options = gguf
    in_process.unload(options["model"])
    client.send_message("huggingface", "Hello", options)
    client.send_message("huggingface", "Hello", {**options, "max_tokens": 5})
    assert len([k for k in in_process.loaded_models() if k[:2] == ("gguf", options["model"])]) == 1
    assert in_process.unload(options["model"]) == 1


def test_missing_and_invalid_files(gguf, tmp_path):
    client, options = gguf
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        client.send_message("huggingface", "Hi", {"model": str(tmp_path / "none.gguf")})
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    with pytest.raises(ModelNotFoundError, match="cannot load"):
        client.send_message("huggingface", "Hi", {"model": str(bad)})
    with pytest.raises(InvalidRequestError, match="does not support"):
        client.send_message("huggingface", "Hi", {**options, "best_of": 2})
