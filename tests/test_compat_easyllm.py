"""Every example of EasyLLM's Hugging Face page (seed-docs 002), with only the import lines changed, run against
recorded Hugging Face answers. The page's ``hubbingface.prompt_builder`` typo is written ``huggingface``, and
its ``create(...)`` placeholders are filled in with a message."""

from __future__ import annotations

import json

import pytest
import responses
from recordings import body_bytes, exchange, snapshot

from llm_interface import LLMInterface, errors
from llm_interface.compat.easyllm import huggingface, prompt_utils
from llm_interface.compat.easyllm.prompt_utils import build_llama2_prompt

HF_INFERENCE = "https://router.huggingface.co/hf-inference/models/"
ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]
CHAT_STREAM = exchange("test_openai_compatibility_with_stream_true#2")["response"]
KNOCK = [
    {"role": "system", "content": "\nYou are a helpful, respectful and honest assistant."},
    {"role": "user", "content": "Knock knock."},
]


@pytest.fixture(autouse=True)
def fresh_module_settings(monkeypatch):
    for name in ("api_key", "api_base", "prompt_builder", "client"):
        monkeypatch.setattr(huggingface, name, None)
    monkeypatch.setenv("HUGGINGFACE_TOKEN", "hf_from_env")  # "loads the key from HUGGINGFACE_TOKEN"


def _sent(index=-1):
    call = responses.calls[index]
    return call.request.url, json.loads(call.request.body), call.request.headers


def _generate_at(url, answer=GENERATE):
    responses.add(responses.POST, url, json=[answer] if "hf-inference" in url else answer, status=200)


@responses.activate
def test_chat_completion_example():
    _generate_at(HF_INFERENCE + "meta-llama/Llama-2-70b-chat-hf")

    # huggingface.api_key="hf_xxx"
    huggingface.prompt_builder = build_llama2_prompt

    response = huggingface.ChatCompletion.create(
        model="meta-llama/Llama-2-70b-chat-hf",
        messages=[
            {"role": "system", "content": "\nYou are a helpful, respectful and honest assistant."},
            {"role": "user", "content": "Knock knock."},
        ],
        temperature=0.9,
        top_p=0.6,
        max_tokens=1024,
    )

    assert response["choices"][0]["message"]["content"] == GENERATE["generated_text"]
    assert response.choices[0].message.role == "assistant" and response.object == "chat.completion"
    _, body, headers = _sent()
    # EasyLLM keeps the Llama 2 system text as given, leading newline included (easyllm/prompt_utils/llama2.py).
    assert body["inputs"] == "<s>[INST] <<SYS>>\n\nYou are a helpful, respectful and honest assistant.\n<</SYS>>\n\nKnock knock. [/INST]"
    assert body["parameters"]["temperature"] == 0.9 and body["parameters"]["top_p"] == 0.6
    assert body["parameters"]["max_new_tokens"] == 1024 and body["parameters"]["stop"] == ["</s>"]
    assert headers["Authorization"] == "Bearer hf_from_env"


@responses.activate
def test_completion_example():
    _generate_at(HF_INFERENCE + "meta-llama/Llama-2-70b-chat-hf")

    huggingface.prompt_builder = build_llama2_prompt

    response = huggingface.Completion.create(
        model="meta-llama/Llama-2-70b-chat-hf",
        prompt="What is the meaning of life?",
        temperature=0.9,
        top_p=0.6,
        max_tokens=1024,
    )

    assert response["choices"][0]["text"] == GENERATE["generated_text"]
    assert response.object == "text_completion" and response.choices[0].finish_reason == "length"
    assert _sent()[1]["inputs"] == "<s>[INST] What is the meaning of life? [/INST]"


@responses.activate
def test_embedding_example():
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    responses.add(responses.POST, HF_INFERENCE + "sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction",
                  body=body_bytes(recorded), status=200, content_type="application/json")

    embedding = huggingface.Embedding.create(
        model="sentence-transformers/all-MiniLM-L6-v2",
        text="What is the meaning of life?",
    )

    assert len(embedding["data"][0]["embedding"]) == len(recorded["body"]) == 384
    assert embedding.data[0].embedding == pytest.approx(recorded["body"])


@responses.activate
def test_setting_the_token():
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")

    huggingface.api_key="hf_xxx"

    res = huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct", messages=KNOCK)

    assert res.choices[0].message.content == CHAT["body"]["choices"][0]["message"]["content"]
    assert _sent()[2]["Authorization"] == "Bearer hf_xxx"


@responses.activate
def test_changing_url_without_a_model():
    responses.add(responses.POST, "https://my-url/v1/chat/completions", body=body_bytes(CHAT), status=200,
                  content_type="application/json")

    huggingface.api_base="https://my-url"

    res = huggingface.ChatCompletion.create(messages=KNOCK)

    assert res["choices"][0]["message"]["content"] == CHAT["body"]["choices"][0]["message"]["content"]
    _, body, headers = _sent()
    assert body["model"] == "tgi"  # one model behind the URL
    assert "Authorization" not in headers  # the ambient HUGGINGFACE_TOKEN never goes to a host outside Hugging Face


@responses.activate
def test_build_prompt_against_an_endpoint():
    _generate_at("https://my-url/generate")

    huggingface.prompt_builder = build_llama2_prompt
    huggingface.api_base = "https://my-url"

    res = huggingface.ChatCompletion.create(messages=KNOCK)

    assert res.choices[0].message.content == GENERATE["generated_text"]
    assert _sent()[1]["inputs"].startswith("<s>[INST] <<SYS>>")


@responses.activate
def test_settings_are_read_per_call_not_at_import():
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")
    _generate_at("https://my-url/generate")
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct"

    huggingface.api_key = "hf_first"
    huggingface.ChatCompletion.create(model=model, messages=KNOCK)
    huggingface.api_key = "hf_second"
    huggingface.ChatCompletion.create(model=model, messages=KNOCK)
    huggingface.api_base, huggingface.prompt_builder = "https://my-url", "vicuna"
    huggingface.ChatCompletion.create(messages=KNOCK)

    assert [c.request.headers["Authorization"] for c in responses.calls[:2]] == ["Bearer hf_first", "Bearer hf_second"]
    assert _sent()[0] == "https://my-url/generate" and "USER: Knock knock." in _sent()[1]["inputs"]


@responses.activate
def test_the_retired_default_url_means_the_router():
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")
    huggingface.api_base = "https://api-inference.huggingface.co/models"
    huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct", messages=KNOCK)
    assert _sent()[0] == ROUTER_CHAT


@responses.activate
def test_streamed_chat_and_completion():
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT_STREAM), status=200, content_type="text/event-stream")
    chunks = list(huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct", messages=KNOCK, stream=True))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c.choices[0].delta.get("content", "") for c in chunks)
    assert _sent()[1]["stream"] is True

    recorded = exchange("TestTextGenerationClientVCR.test_generate_stream_no_details#1")["response"]
    responses.add(responses.POST, HF_INFERENCE + "google/flan-t5-xxl", body=body_bytes(recorded), status=200,
                  content_type="text/event-stream")
    pieces = list(huggingface.Completion.create(model="google/flan-t5-xxl", prompt="test", stream=True))
    assert all(p.object == "text_completion" for p in pieces)
    assert pieces[-1].choices[0].finish_reason is not None


def test_an_unknown_builder_name_is_a_clear_error():
    huggingface.prompt_builder = "no-such-builder"
    with pytest.raises(errors.InvalidRequestError, match="llama2"):
        huggingface.ChatCompletion.create(messages=KNOCK)


@responses.activate
def test_a_custom_builder_function():
    _generate_at("https://my-url/generate")
    huggingface.api_base = "https://my-url"
    huggingface.prompt_builder = lambda messages: " | ".join(m["content"] for m in messages)
    huggingface.ChatCompletion.create(messages=KNOCK)
    assert _sent()[1]["inputs"] == "\nYou are a helpful, respectful and honest assistant. | Knock knock."


@pytest.mark.parametrize("name, expected", [  # EasyLLM's strings (tests/peers/test_easyllm.py names the source)
    ("llama2", "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [/INST]"),
    ("vicuna", "Be kind.\n\nUSER: Hi\nASSISTANT: "),
    ("wizardlm", "Be kind. USER: Hi ASSISTANT: "),
    ("stablebeluga", "### System:\nBe kind.\n\n### User:\nHi\n\n### Assistant:"),
    ("open_assistant", "<|system|>Be kind.</s><|prompter|>Hi</s><|assistant|>"),
    ("chatml_falcon", "<|system|>\nBe kind.<|endoftext|>\n<|user|>\nHi<|endoftext|>\n<|assistant|>"),
    ("chatml_starchat", "<|system|>\nBe kind.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>"),
    ("falcon", "System: Be kind.\nUser: Hi\nFalcon: "),
])
def test_builders_by_name(name, expected):
    builder = getattr(prompt_utils, f"build_{name}_prompt")
    assert prompt_utils.PROMPT_MAPPING[name] is builder
    assert builder([{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]) == expected
    assert builder.stop == getattr(prompt_utils, f"{name}_stop_sequences")


def test_builders_take_a_string_and_chat_message_objects():
    class ChatMessage:  # EasyLLM's pydantic model has these two fields
        def __init__(self, role, content):
            self.role, self.content = role, content

    assert build_llama2_prompt("Hi") == "<s>[INST] Hi [/INST]"
    assert build_llama2_prompt([ChatMessage("user", "Hi")]) == "<s>[INST] Hi [/INST]"


@responses.activate
def test_the_facade_cache_applies():
    responses.add(responses.POST, ROUTER_CHAT, body=body_bytes(CHAT), status=200, content_type="application/json")
    LLMInterface.configure_cache("memory")
    first = huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct", messages=KNOCK)
    second = huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct", messages=KNOCK)
    assert len(responses.calls) == 1 and second._response.cached and not first._response.cached
