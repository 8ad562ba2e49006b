"""The in-process transformers engine (Hugging Face local mode) with a real tiny model.

The model (tests/support/tiny_models.py) replies exactly to the conversations it was trained on, so
these tests assert exact text, finish reasons and token counts rather than "some text came back".
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import sys

import pytest
from support.skips import require
from support.tiny_models import CONVERSATIONS, DEFAULT_SYSTEM, REPLIES, WEATHER_TOOL

from llm_interface import (
    AsyncClient,
    Client,
    ConfigurationError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    ResourceExhaustedError,
    Session,
)
from llm_interface.providers import in_process
from llm_interface.providers.huggingface import local_engine
from llm_interface.request import Request

pytestmark = pytest.mark.timeout(120)

TOOL_CALL = {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


@pytest.fixture
def local(tiny_chat_model):
    """A client plus the options that select the tiny model, run greedily."""
    with Client(interface_options={"retry_attempts": 0}) as client:
        yield client, {"model": tiny_chat_model, "temperature": 0}


def _tokens(model_dir, messages, reply=None, tools=None):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=True, return_dict=True)
    return len(prompt["input_ids"]), (len(tokenizer(reply)["input_ids"]) + 1 if reply is not None else None)


# -- the rule that picks local mode (pure: no model needed) ------------------------------------------


def _request(model=None, api_base=None, **settings):
    return Request(provider="huggingface", task="chat", model=model, api_base=api_base, settings=settings)


@pytest.mark.parametrize(
    "model, api_base, settings, expected",
    [
        ("Qwen/Qwen2.5-0.5B-Instruct", None, {}, None),  # a Hub id: the router
        ("Qwen/Qwen2.5-0.5B-Instruct", None, {"local": True}, "transformers"),
        ("{folder}", None, {}, "transformers"),  # an existing folder
        ("{folder}", "http://127.0.0.1:8000/v1", {}, None),  # api_base wins: a server pinned to a path
        ("{folder}", None, {"local": False}, None),
        ("/models/llama.Q4_K_M.gguf", None, {}, "gguf"),
        ("anything", None, {"model_path": "/models/x.gguf"}, "gguf"),
        ("https://xyz.endpoints.huggingface.cloud", None, {}, None),
        (None, None, {"model_path": "/models/folder"}, "transformers"),
    ],
)
def test_the_local_mode_rule(tmp_path, model, api_base, settings, expected):
    model = str(tmp_path) if model == "{folder}" else model
    assert local_engine(_request(model, api_base, **settings)) == expected


def test_local_must_be_a_bool():
    with pytest.raises(InvalidRequestError, match="local must be True or False"):
        Client().send_message("huggingface", "Hi", {"model": "x", "local": "yes"})


def test_split_tool_calls_leaves_non_json_blocks_in_the_text():
    text = 'Sure.\n<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>\n<tool_call>not json</tool_call>'
    content, calls = in_process.split_tool_calls(text)
    assert calls == ({"id": "call_0", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},)
    assert content == "Sure.\n\n<tool_call>not json</tool_call>"
    assert in_process.split_tool_calls("plain") == ("plain", ())


# -- chat with the tiny model -----------------------------------------------------------------------


@pytest.mark.parametrize("prompt", sorted(REPLIES))
def test_exact_replies_finish_reason_and_usage(local, prompt):
    client, options = local
    response = client.send_message("huggingface", prompt, options)
    assert response.results == REPLIES[prompt]
    assert response.finish_reason == "stop"
    assert response.provider == "huggingface" and response.model == options["model"]
    prompt_tokens, completion_tokens = _tokens(options["model"], [{"role": "user", "content": prompt}], REPLIES[prompt])
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (prompt_tokens, completion_tokens)
    assert response.usage.total_tokens == prompt_tokens + completion_tokens
    assert response.tool_calls == () and response.request_time > 0


def test_system_message_and_local_true_option(local):
    client, options = local
    messages = [{"role": "system", "content": DEFAULT_SYSTEM}, {"role": "user", "content": "Hello"}]
    response = client.send_message("huggingface", messages, {**options, "local": True, "device": "cpu"})
    assert response.results == REPLIES["Hello"]


def test_raw_completion_of_a_chatml_prompt(local):
    client, options = local
    prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    response = client.complete("huggingface", prompt, options)
    assert (response.results, response.finish_reason) == ("Paris.", "stop")


def test_stop_sequence_is_cut_like_openai(local):
    client, options = local
    response = client.send_message("huggingface", "Count to five.", {**options, "stop": [" three"]})
    assert (response.results, response.finish_reason) == ("one two", "stop")


def test_max_tokens_ends_with_length(local):
    client, options = local
    response = client.send_message("huggingface", "Count to five.", {**options, "max_tokens": 2})
    assert (response.results, response.finish_reason) == ("one two", "length")
    assert response.usage.completion_tokens == 2


def test_streaming_gives_pieces_and_the_same_response(local):
    client, options = local
    stream = client.stream_message("huggingface", "Count to five.", options)
    chunks = list(stream)
    assert len([c for c in chunks if c.text]) >= 3  # piece by piece, not one blob
    assert "".join(c.text for c in chunks) == REPLIES["Count to five."]
    assert chunks[-1].finish_reason == "stop"
    whole = client.send_message("huggingface", "Count to five.", options)
    assert stream.response.results == whole.results
    assert stream.response.usage == whole.usage
    assert stream.response.finish_reason == "stop"


def test_streaming_holds_back_and_cuts_the_stop_sequence(local):
    client, options = local
    stream = client.stream_message("huggingface", "Count to five.", {**options, "stop": [" four"]})
    assert "".join(chunk.text for chunk in stream) == "one two three"
    assert stream.response.finish_reason == "stop"


def test_closing_a_stream_early_stops_generation(local):
    client, options = local
    stream = client.stream_message("huggingface", "Count to five.", options)
    with stream:
        first = next(iter(stream))
    assert first.text
    assert stream.response is None  # abandoned: no aggregate, nothing cached


def test_tool_call_round_trip(local):
    client, options = local
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    call = client.send_message("huggingface", ask, {**options, "tools": [WEATHER_TOOL]})
    assert call.finish_reason == "tool_calls" and call.results == ""
    assert [c["function"] for c in call.tool_calls] == [TOOL_CALL["function"]]
    messages = CONVERSATIONS["weather"]["messages"][:3]
    answer = client.send_message("huggingface", messages, {**options, "tools": [WEATHER_TOOL]})
    assert (answer.results, answer.finish_reason) == ("It is 22C and sunny in Paris.", "stop")


def test_streamed_tool_call_is_one_chunk_with_the_call(local):
    client, options = local
    stream = client.stream_message("huggingface", "What is the weather in Paris?", {**options, "tools": [WEATHER_TOOL]})
    chunks = list(stream)
    assert "".join(c.text for c in chunks) == ""  # the <tool_call> text never leaks as content
    assert chunks[-1].finish_reason == "tool_calls"
    assert stream.response.tool_calls[0]["function"] == TOOL_CALL["function"]
    assert stream.response.finish_reason == "tool_calls"


def test_session_tool_round_trip(local):
    client, options = local
    chat = Session("huggingface", client=client, options={**options, "tools": [WEATHER_TOOL]})
    call = chat.send("What is the weather in Paris?")
    assert call.finish_reason == "tool_calls"
    answer = chat.send({"role": "tool", "tool_call_id": call.tool_calls[0]["id"], "content": "22C, sunny"})
    assert answer.results == "It is 22C and sunny in Paris."
    assert [m["role"] for m in chat.history] == ["user", "assistant", "tool", "assistant"]


def test_session_remembers_turns(local):
    client, options = local
    chat = Session("huggingface", client=client, options=options)
    assert chat.send("Hello").results == REPLIES["Hello"]
    assert [m["role"] for m in chat.history] == ["user", "assistant"]
    assert "".join(c.text for c in chat.stream("Count to five.")) == REPLIES["Count to five."]
    assert len(chat.history) == 4


def test_cache_serves_local_answers_like_remote_ones(local):
    client, options = local
    client.configure_cache("memory")
    first = client.send_message("huggingface", "Hello", options)
    second = client.send_message("huggingface", "Hello", options)
    assert (first.cached, second.cached) == (False, True)
    assert second.results == first.results and second.usage == first.usage
    replay = client.stream_message("huggingface", "Hello", options)
    assert "".join(c.text for c in replay) == REPLIES["Hello"] and replay.response.cached
    other_device = client.send_message("huggingface", "Hello", {**options, "device": "cpu"})
    assert not other_device.cached  # the settings are part of the key


def test_hooks_see_local_calls(local):
    client, options = local
    seen = []
    client.on("request", lambda request: seen.append(("request", request.model)))
    client.on("response", lambda request, response: seen.append(("response", response.results)))
    client.send_message("huggingface", "Hello", options)
    assert seen == [("request", options["model"]), ("response", REPLIES["Hello"])]


def test_async_client_runs_local_models_in_its_threads(local):
    client, options = local

    async def main():
        async with AsyncClient(client) as aclient:
            return await asyncio.gather(*(
                aclient.send_message_async("huggingface", prompt, options) for prompt in sorted(REPLIES)
            ))

    assert [r.results for r in asyncio.run(main())] == [REPLIES[p] for p in sorted(REPLIES)]

    async def streamed():
        async with AsyncClient(client) as aclient:
            return [chunk.text async for chunk in aclient.stream_message_async("huggingface", "Count to five.", options)]

    pieces = asyncio.run(streamed())
    assert len(pieces) > 2 and "".join(pieces) == REPLIES["Count to five."]


# -- the model registry ---------------------------------------------------------------------------


def test_model_loaded_once_and_unloaded_on_request(local):
    client, options = local
    in_process.unload()
    client.send_message("huggingface", "Hello", options)
    client.send_message("huggingface", "Count to five.", options)
    with Client() as other:
        other.send_message("huggingface", "Hello", options)
    keys = [k for k in in_process.loaded_models() if k[0] == "transformers"]
    assert len(keys) == 1 and keys[0][1] == options["model"]
    assert in_process.unload(options["model"]) == 1
    assert not [k for k in in_process.loaded_models() if k[1] == options["model"]]
    assert client.send_message("huggingface", "Hello", options).results == REPLIES["Hello"]  # loads again


# -- errors ---------------------------------------------------------------------------------------


def test_missing_folder_is_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist") as caught:
        Client().send_message("huggingface", "Hi", {"model": str(tmp_path / "nothing"), "local": True})
    assert isinstance(caught.value, NotFoundError)


def test_hub_id_not_in_the_local_cache_is_model_not_found(tiny_chat_model, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelNotFoundError, match="already downloaded"):
        Client().send_message("huggingface", "Hi", {"model": "nobody/no-such-model", "local": True})


def test_folder_without_a_model_is_model_not_found(tiny_chat_model, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError):
        Client().send_message("huggingface", "Hi", {"model": str(tmp_path / "empty")})


def test_quantization_without_a_gpu_is_a_clear_error(local):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 4-bit loading would work")
    client, options = local
    with pytest.raises(ConfigurationError, match="needs bitsandbytes on a CUDA GPU"):
        client.send_message("huggingface", "Hello", {**options, "quantization": "4bit"})
    with pytest.raises(InvalidRequestError, match="'4bit' or '8bit'"):
        client.send_message("huggingface", "Hello", {**options, "quantization": "3bit"})


def test_cuda_device_without_a_gpu_is_a_clear_error(local):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    client, options = local
    with pytest.raises(ConfigurationError, match="no CUDA GPU"):
        client.send_message("huggingface", "Hello", {**options, "device": "cuda"})


def test_torch_dtype_and_device_map_reach_from_pretrained(local):
    import torch

    client, options = local
    response = client.send_message("huggingface", "Hello", {**options, "torch_dtype": "bfloat16"})
    assert isinstance(response.results, str) and response.usage.prompt_tokens > 0
    key = next(k for k in in_process.loaded_models() if k[0] == "transformers" and k[3] == json.dumps("bfloat16"))
    assert in_process._MODELS[key].model.dtype == torch.bfloat16
    in_process.unload(options["model"])
    with pytest.raises(InvalidRequestError, match="torch_dtype must be one of"):
        client.send_message("huggingface", "Hello", {**options, "torch_dtype": "float99"})
    if importlib.util.find_spec("accelerate") is not None:
        mapped = client.send_message("huggingface", "Hello", {**options, "device_map": "cpu"})
        assert mapped.results == REPLIES["Hello"]
        in_process.unload(options["model"])


def test_unsupported_parameter_is_refused(local):
    client, options = local
    with pytest.raises(InvalidRequestError, match="refused the request") as caught:
        client.send_message("huggingface", "Hello", {**options, "pipeline_kwargs": {"no_such_generate_argument": 1}})
    assert isinstance(caught.value.__cause__, ValueError)
    with pytest.raises(InvalidRequestError, match="does not support logit_bias"):
        client.send_message("huggingface", "Hello", {**options, "logit_bias": {"1": 2}})


def test_out_of_memory_becomes_resource_exhausted(local, monkeypatch):
    client, options = local
    client.send_message("huggingface", "Hello", options)  # loaded
    key = next(k for k in in_process.loaded_models() if k[0] == "transformers" and k[1] == options["model"])
    model = in_process._MODELS[key].model

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model, "generate", out_of_memory)
    with pytest.raises(ResourceExhaustedError, match="ran out of memory") as caught:
        client.send_message("huggingface", "Count to five.", options)
    assert isinstance(caught.value.__cause__, RuntimeError)
    monkeypatch.setattr(model, "generate", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(ResourceExhaustedError):
        list(client.stream_message("huggingface", "Count to five.", options))


# -- embeddings -----------------------------------------------------------------------------------


def test_local_embeddings_sentence_transformers_and_mean_pooling_agree(embedding_model, monkeypatch):
    client = Client()
    texts = ["A cat sits on the mat.", "Stock markets fell today."]
    response = client.embeddings("huggingface", texts, {"model": embedding_model})
    assert len(response.embeddings) == 2 and len(response.embeddings[0]) == 384
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-4 for v in response.embeddings)
    assert response.usage.prompt_tokens > 0
    in_process.unload(embedding_model)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # not installed
    pooled = client.embeddings("huggingface", texts, {"model": embedding_model})
    assert [k[0] for k in in_process.loaded_models() if k[1] == embedding_model] == ["mean-pooling"]
    for a, b in zip(response.embeddings, pooled.embeddings):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4
    related = client.embeddings("huggingface", ["A cat sits on the mat.", "A kitten rests on a rug.", "Stock markets fell."], {"model": embedding_model})
    cat, kitten, stocks = related.embeddings
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    assert dot(cat, kitten) > dot(cat, stocks)
    in_process.unload(embedding_model)


def test_missing_torch_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "transformers", None)
    in_process.unload()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")  # a model folder: the path is fine, the packages are not
    from llm_interface import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"llm-interface-hf\[local\]"):
        Client().send_message("huggingface", "Hi", {"model": str(tmp_path / "m")})


def test_two_setups_of_one_model_never_share_a_loaded_instance():
    """The registry key holds every setting that changes loading, for both engines (model_kwargs too)."""
    from llm_interface.providers.in_process import registry_key

    def gguf_key(**settings):
        request = _request("anything", **settings)
        return registry_key("gguf", request, ("n_ctx", "n_threads", "n_gpu_layers", "model_kwargs"), False)

    assert gguf_key(model_path="/m/a.gguf") != gguf_key(model_path="/m/b.gguf")
    assert gguf_key(model_path="/m/a.gguf", model_kwargs={"chat_format": "chatml"}) != gguf_key(
        model_path="/m/a.gguf", model_kwargs={"chat_format": "llama-2"})
    assert gguf_key(model_path="/m/a.gguf", n_ctx=512) == gguf_key(model_path="/m/a.gguf", n_ctx=512)


def test_local_embeddings_of_a_model_not_in_the_cache_are_model_not_found(monkeypatch, tmp_path):
    """Loading errors of the embedding encoders are translated like the chat model's (DESIGN rule 2)."""
    require("transformers", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelNotFoundError, match="already downloaded"):
        Client().embeddings("huggingface", ["a"], {"model": "nobody/no-such-model", "local": True})
