"""Every Python example of LiteLLM's Hugging Face pages (seed-docs 000, 001), with only the import line changed,
run against recorded Hugging Face answers (``responses`` at the exact URL the call must reach).

``os.environ[...] = ...`` lines become ``monkeypatch.setenv``, so that nothing leaks between tests.
"""

from __future__ import annotations

import json

import pytest
import responses
from recordings import body_bytes, exchange, snapshot

import llm_interface.compat.litellm as litellm
from llm_interface import errors
from llm_interface.compat.litellm import completion, embedding, register_prompt_template, text_completion

ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
HF_INFERENCE = "https://router.huggingface.co/hf-inference/models/"
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]
CHAT_STREAM = exchange("test_openai_compatibility_with_stream_true#2")["response"]
GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")
PREFILL = snapshot("test_bloom_560m/test_bloom_560m_all_params.json")


def _chat_at(url, recorded=CHAT):
    responses.add(responses.POST, url, body=body_bytes(recorded), status=200,
                  content_type=recorded["headers"]["content-type"])


def _sent(index=-1):
    call = responses.calls[index]
    return call.request.url, json.loads(call.request.body), call.request.headers


@pytest.fixture(autouse=True)
def no_module_key(monkeypatch):
    monkeypatch.setattr(litellm, "huggingface_key", None)


def _recorded_text(recorded=CHAT):
    return recorded["body"]["choices"][0]["message"]["content"]


def _streamed_text(recorded=CHAT_STREAM):
    text = ""
    for line in recorded["body"].splitlines():
        if line.startswith("data:") and "[DONE]" not in line:
            event = json.loads(line[5:])
            for choice in event.get("choices") or ():
                text += choice.get("delta", {}).get("content") or ""
    return text


# -- 000: Serverless Inference API ------------------------------------------------------------------

@responses.activate
def test_serverless_streaming_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "huggingface_api_key")
    _chat_at(ROUTER_CHAT, CHAT_STREAM)
    messages = [{"content": "There's a llama in my garden 😱 What should I do?", "role": "user"}]
    del messages  # as documented: the example defines it, then sends another message

    response = completion(
        model="huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct",
        messages=[{"content": "Hello, how are you?", "role": "user"}],
        stream=True
    )
    print(response)
    chunks = list(response)

    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.get("content") or "" for c in chunks)
    assert text == _streamed_text() and text
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    url, body, headers = _sent()
    assert url == ROUTER_CHAT and body["stream"] is True and body["model"] == "meta-llama/Meta-Llama-3.1-8B-Instruct"
    assert headers["Authorization"] == "Bearer huggingface_api_key"


@responses.activate
def test_text_classification_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "huggingface_api_key")
    recorded = exchange("TestInferenceClient.test_text_classification[hf-inference,text-classification]#1")["response"]
    responses.add(responses.POST, "https://my-endpoint.endpoints.huggingface.cloud/predict",
                  body=body_bytes(recorded), status=200, content_type="application/json")

    messages = [{ "content": "I like you, I love you!","role": "user"}]
    response = completion(
      model="huggingface/text-classification/shahrukhx01/question-vs-statement-classifier",
      messages=messages,
      api_base="https://my-endpoint.endpoints.huggingface.cloud",
    )
    print(response)

    labels = recorded["body"][0]
    assert response["choices"][0]["message"]["content"] == labels[0]["label"]
    assert [c.message.content for c in response.choices] == [label["label"] for label in labels]
    _, body, _ = _sent()
    assert body["inputs"] == ["I like you, I love you!"]  # TEI /predict takes a batch


@responses.activate
def test_dedicated_endpoint_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "")
    base = "https://wjiegasee9bmqke2.us-east-1.aws.endpoints.huggingface.cloud"
    _chat_at(base + "/v1/chat/completions")

    response = completion(
        model="huggingface/glaiveai/glaive-coder-7b",
        messages=[{ "content": "Hello, how are you?","role": "user"}],
        api_base="https://wjiegasee9bmqke2.us-east-1.aws.endpoints.huggingface.cloud"
    )
    print(response)

    assert response["choices"][0]["message"]["content"] == _recorded_text()
    assert response.choices[0].message.role == "assistant"
    assert response.object == "chat.completion" and response.model == "glaiveai/glaive-coder-7b"
    assert response.usage.total_tokens == CHAT["body"]["usage"]["total_tokens"]
    assert "Authorization" not in _sent()[2]  # an empty key is no key, and an endpoint may need none


@responses.activate
def test_streaming_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "huggingface_api_key")
    _chat_at("https://my-endpoint.huggingface.cloud/v1/chat/completions", CHAT_STREAM)

    messages = [{ "content": "There's a llama in my garden 😱 What should I do?","role": "user"}]
    response = completion(
      model="huggingface/facebook/blenderbot-400M-distill",
      messages=messages,
      api_base="https://my-endpoint.huggingface.cloud",
      stream=True
    )
    print(response)
    seen = []
    for chunk in response:
      print(chunk)
      seen.append(chunk)

    assert "".join(c["choices"][0]["delta"].get("content", "") for c in seen) == _streamed_text()
    assert response.response.results == _streamed_text()  # llm_interface's aggregate, once read


@responses.activate
def test_embedding_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_example")  # the page sets "", which the router refuses (below)
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    # The recorded answer is for one string; a list of one is answered as a list of one vector.
    responses.add(responses.POST, HF_INFERENCE + "microsoft/codebert-base/pipeline/feature-extraction",
                  json=[recorded["body"]], status=200)

    response = embedding(
        model='huggingface/microsoft/codebert-base',
        input=["good morning from litellm"]
    )

    assert response["object"] == "list" and len(response.data) == 1
    assert response.data[0].embedding == pytest.approx(recorded["body"])
    assert response["data"][0]["index"] == 0


def test_embedding_example_without_a_key_says_how_to_set_one(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "")
    with pytest.raises(errors.MissingAPIKeyError, match="HUGGINGFACE_API_KEY"):
        embedding(model='huggingface/microsoft/codebert-base', input=["good morning from litellm"])


@responses.activate
def test_api_key_and_api_base_from_the_environment(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_from_env")
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "https://xyz.endpoints.huggingface.cloud")
    _chat_at("https://xyz.endpoints.huggingface.cloud/v1/chat/completions")

    response = completion(model="huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct",
                          messages=[{"content": "Hello", "role": "user"}])

    assert response.choices[0].message.content == _recorded_text()
    assert _sent()[2]["Authorization"] == "Bearer hf_from_env"


@responses.activate
def test_text_completion_echo_logprobs_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_example")
    responses.add(responses.POST, HF_INFERENCE + "bigcode/starcoder", json=[PREFILL], status=200)

    response = text_completion(
        model="huggingface/bigcode/starcoder",
        prompt="good morning",
        max_tokens=10, logprobs=10,
        echo=True
    )

    choice = response["choices"][0]
    prefill, tokens = PREFILL["details"]["prefill"], PREFILL["details"]["tokens"]
    assert response.object == "text_completion" and response.model == "bigcode/starcoder"
    assert choice["logprobs"]["tokens"] == [t["text"] for t in prefill + tokens]  # the prompt's tokens first
    assert choice.logprobs.token_logprobs[0] is None  # as documented: the first prompt token has none
    assert choice.logprobs.token_logprobs[len(prefill)] == tokens[0]["logprob"]
    assert choice.finish_reason == "length"
    assert choice.text.startswith("good morning")  # echo: the prompt, then the answer
    _, body, _ = _sent()
    parameters = body["parameters"]
    assert parameters["decoder_input_details"] is True and parameters["details"] is True
    assert parameters["top_n_tokens"] == 10 and parameters["max_new_tokens"] == 10


@responses.activate
def test_natively_supported_template_models_use_the_messages_api(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_example")
    _chat_at("https://your-endpoint.endpoints.huggingface.cloud/v1/chat/completions")
    messages = [{"content": "Hey, how's it going?", "role": "user"}]

    response = completion(model='huggingface/mistralai/Mistral-7B-Instruct-v0.1', messages=messages,
                          api_base="https://your-endpoint.endpoints.huggingface.cloud")

    assert response['choices'][0]['message']['content'] == _recorded_text()
    assert _sent()[1]["messages"] == messages  # the server applies the model's own chat template


@responses.activate
def test_custom_prompt_template_example(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_example")
    responses.add(responses.POST, "https://ecd4sb5n09bo4ei2.us-east-1.aws.endpoints.huggingface.cloud/generate",
                  json=GENERATE, status=200)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hey, how's it going?"}]

    # Create your own custom prompt template works
    litellm.register_prompt_template(
            model="togethercomputer/LLaMA-2-7B-32K",
            roles={
                "system": {
                    "pre_message": "[INST] <<SYS>>\n",
                    "post_message": "\n<</SYS>>\n [/INST]\n"
                },
                "user": {
                    "pre_message": "[INST] ",
                    "post_message": " [/INST]\n"
                },
                "assistant": {
                    "post_message": "\n"
                }
            }
        )

    def test_huggingface_custom_model():
        model = "huggingface/togethercomputer/LLaMA-2-7B-32K"
        response = completion(model=model, messages=messages, api_base="https://ecd4sb5n09bo4ei2.us-east-1.aws.endpoints.huggingface.cloud")
        print(response['choices'][0]['message']['content'])
        return response

    response = test_huggingface_custom_model()

    assert response.choices[0].message.content == GENERATE["generated_text"]
    _, body, _ = _sent()
    assert body["inputs"] == "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n [/INST]\n[INST] Hey, how's it going? [/INST]\n"


# -- 001: the Llama 2 tutorial ------------------------------------------------------------------------

MESSAGES = [{"role": "user", "content": "Hey, how's it going?"}]
PUBLIC = "https://ag3dkq4zui5nu8g3.us-east-1.aws.endpoints.huggingface.cloud"


@responses.activate
def test_case_1_default_endpoint(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_example")  # the router needs a key today
    _chat_at(ROUTER_CHAT)

    model = "deepset/deberta-v3-large-squad2"
    messages = [{"role": "user", "content": "Hey, how's it going?"}] # LiteLLM follows the OpenAI format
    result = completion(model=model, messages=messages, custom_llm_provider="huggingface")

    assert result["choices"][0]["message"]["content"] == _recorded_text()
    assert _sent()[1]["model"] == "deepset/deberta-v3-large-squad2"


@responses.activate
def test_case_2_public_endpoint():
    _chat_at(PUBLIC + "/v1/chat/completions")

    model = "meta-llama/Llama-2-7b-hf"
    messages = [{"role": "user", "content": "Hey, how's it going?"}] # LiteLLM follows the OpenAI format
    api_base = "https://ag3dkq4zui5nu8g3.us-east-1.aws.endpoints.huggingface.cloud"
    result = completion(model=model, messages=messages, custom_llm_provider="huggingface", api_base=api_base)

    assert result.choices[0].message.content == _recorded_text()
    assert "Authorization" not in _sent()[2]


@pytest.mark.parametrize("how", ["environment", "package variable", "call"])
@responses.activate
def test_case_3_private_endpoint_key(how, monkeypatch):
    _chat_at(PUBLIC + "/v1/chat/completions")
    model = "meta-llama/Llama-2-7b-hf"
    messages = [{"role": "user", "content": "Hey, how's it going?"}] # LiteLLM follows the OpenAI format
    api_base = "https://ag3dkq4zui5nu8g3.us-east-1.aws.endpoints.huggingface.cloud"

    if how == "environment":
        monkeypatch.setenv("HF_TOKEN", "...")
        completion(model=model, messages=messages, custom_llm_provider="huggingface", api_base=api_base)
    elif how == "package variable":
        litellm.huggingface_key = "..."
        completion(model=model, messages=messages, custom_llm_provider="huggingface", api_base=api_base)
    else:
        completion(model=model, messages=messages, custom_llm_provider="huggingface", api_base=api_base, api_key="...")

    assert _sent()[2]["Authorization"] == "Bearer ..."


def test_package_variable_is_read_per_call(monkeypatch):
    from llm_interface.compat.litellm import _options

    litellm.huggingface_key = "hf_first"
    assert _options("huggingface/a/b", None, None, None, None, None, {})[1]["api_key"] == "hf_first"
    litellm.huggingface_key = "hf_second"
    assert _options("huggingface/a/b", None, None, None, None, None, {})[1]["api_key"] == "hf_second"
    assert _options("huggingface/a/b", None, None, "hf_call", None, None, {})[1]["api_key"] == "hf_call"


# -- model strings and the rest of the facade ----------------------------------------------------------

@pytest.mark.parametrize("model, provider, expected", [
    ("huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct", None, ("meta-llama/Meta-Llama-3.1-8B-Instruct", None)),
    ("huggingface/together/deepseek-ai/DeepSeek-R1", None, ("deepseek-ai/DeepSeek-R1", "together")),
    ("huggingface/text-classification/org/clf", None, ("text-classification/org/clf", None)),
    ("org/model", "huggingface", ("org/model", None)),
    ("huggingface/https://x.endpoints.huggingface.cloud", None, ("https://x.endpoints.huggingface.cloud", None)),
    ("huggingface/http://localhost:8080", None, ("http://localhost:8080", None)),
    ("together/deepseek-ai/DeepSeek-R1", "huggingface", ("deepseek-ai/DeepSeek-R1", "together")),
])
def test_model_strings(model, provider, expected):
    assert litellm.split_model(model, provider) == expected
    # the proxy's config reads the same strings the same way (one helper in providers/huggingface.py)
    from llm_interface.server.config import split_model as proxy_split

    full = model if model.startswith("huggingface/") else "huggingface/" + model
    assert proxy_split(full, "here") == ("huggingface", *expected)


def test_a_model_without_provider_or_another_provider_is_a_clear_error():
    with pytest.raises(errors.InvalidRequestError, match="huggingface/"):
        completion(model="meta-llama/Llama-2-7b-hf", messages=MESSAGES)
    with pytest.raises(errors.UnknownProviderError, match="Hugging Face only"):
        completion(model="gpt-4o", messages=MESSAGES, custom_llm_provider="openai")


@responses.activate
def test_inference_provider_in_the_model_string(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_example")
    _chat_at(ROUTER_CHAT)
    completion(model="huggingface/together/deepseek-ai/DeepSeek-R1", messages=MESSAGES)
    assert _sent()[1]["model"] == "deepseek-ai/DeepSeek-R1:together"


@responses.activate
def test_our_retries_cache_and_errors_come_free(monkeypatch):
    from llm_interface import LLMInterface

    monkeypatch.setenv("HF_TOKEN", "hf_example")
    responses.add(responses.POST, ROUTER_CHAT, json={"error": "Rate limit reached"}, status=429, headers={"Retry-After": "0"})
    _chat_at(ROUTER_CHAT)
    LLMInterface.configure_cache("memory")

    first = completion(model="huggingface/m/m", messages=MESSAGES, num_retries=1)
    again = completion(model="huggingface/m/m", messages=MESSAGES)

    assert first._response.retries == 1 and again._response.cached
    assert "_response" not in first and set(first) >= {"id", "choices"}  # an attribute: the JSON stays OpenAI's
    assert again.choices[0].message.content == first.choices[0].message.content
    responses.add(responses.POST, ROUTER_CHAT, json={"error": "Invalid username or password."}, status=401)
    with pytest.raises(errors.AuthenticationError):
        completion(model="huggingface/m/other", messages=MESSAGES, num_retries=0)


def test_register_prompt_template_accepts_the_prefixed_model():
    from llm_interface import LLMInterface

    register_prompt_template("huggingface/org/model", roles={"user": {"pre_message": "U:", "post_message": "\n"}})
    assert LLMInterface.client.prompt_templates.registered("org/model") is not None


# -- openai_shapes: the one chunk loop and the wrapper both adapters and the proxy use -----------------

def test_openai_chunks_for_chat_and_completion_streams():
    from types import SimpleNamespace

    from llm_interface.openai_shapes import chunks
    from llm_interface.types import StreamChunk, Usage

    class FakeStream(list):
        response = SimpleNamespace(usage=Usage(prompt_tokens=2, completion_tokens=3, total_tokens=5))

    stream = FakeStream([StreamChunk(text="Hel"), StreamChunk(text=""), StreamChunk(text="lo", finish_reason="stop")])
    chat = list(chunks(stream, "chat", "m", include_usage=True))
    assert chat[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"].get("content") for c in chat[1:3]] == ["Hel", "lo"]  # the empty chunk skipped
    assert chat[2]["choices"][0]["finish_reason"] == "stop"
    assert chat[3]["choices"] == [] and chat[3]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert len({c["id"] for c in chat}) == 1 and {c["object"] for c in chat} == {"chat.completion.chunk"}
    pieces = list(chunks(stream, "completion", "m", include_usage=True))  # no role chunk, no usage chunk
    assert [p["choices"][0]["text"] for p in pieces] == ["Hel", "lo"]
    assert {p["object"] for p in pieces} == {"text_completion"}


def test_openai_object_wraps_plain_and_abstract_mappings_all_the_way_down():
    from types import MappingProxyType

    from llm_interface.openai_shapes import OpenAIObject

    answer = OpenAIObject({"choices": [{"message": MappingProxyType({"content": "hi", "n": 1, "x": None})}],
                           "nested": [[{"a": 1.5}]], "flag": True}, extra={"k": "v"})
    assert answer.choices[0].message.content == "hi" and answer.nested[0][0].a == 1.5
    assert answer.extra.k == "v" and answer.flag is True and answer.choices[0].message.x is None
    assert type(answer.choices[0].message) is OpenAIObject
    assert answer.to_dict() == {"choices": [{"message": {"content": "hi", "n": 1, "x": None}}],
                                "nested": [[{"a": 1.5}]], "flag": True, "extra": {"k": "v"}}
    assert OpenAIObject(answer) == answer and OpenAIObject([("a", {"b": 1})]).a.b == 1
