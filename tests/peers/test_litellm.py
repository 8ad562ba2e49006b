"""LiteLLM's Hugging Face behaviour through ``llm_interface.compat.litellm``, against recorded Hugging Face
answers (``responses`` at the exact URL the call must reach).

Peer sources (BerriAI/litellm; the commit is the stored version the search tool showed):
- L1 ``litellm/llms/huggingface/chat/transformation.py`` / ``embedding/transformation.py``
  (03b4de56dff7a1ab78620a020fde03fba136cfb8): TGI is always asked for ``details`` (logprobs, finish reason);
  ``wait_for_model``/``use_cache`` are request options, not generation parameters.
- L2 ``litellm/llms/huggingface/embedding/handler.py`` (011db2dfbf3ad5b71c3f9703a414d8a6053b6f99):
  ``input_type`` picks the task; sentence-similarity sends ``{"source_sentence", "sentences"}`` and answers
  ``data[i]["embedding"]`` = the i-th score; fewer than 2 sentences is a 400-class error.
- L3 ``litellm/types/utils.py`` (Message, Delta, Choices: fields default to None) and the docs' streaming loop
  ``for part in response: print(part.choices[0].delta.content or "")`` (docs/completion/stream.md).
- L4 ``litellm/main.py``: ``acompletion``, ``atext_completion``, ``aembedding``; ``extra_headers`` reach the wire.
- L6 ``litellm/litellm_core_utils/streaming_handler.py`` (00298b3d1ae67c2deb78154b21d3ec7e69684326):
  ``chunk_creator`` sets every chunk's ``model`` to the model string less ``huggingface/``.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import responses
from recordings import body_bytes, exchange, snapshot

import llm_interface.compat.litellm as litellm
from llm_interface import errors
from llm_interface.compat.litellm import (
    acompletion,
    aembedding,
    atext_completion,
    completion,
    embedding,
    text_completion,
)

ROUTER_CHAT = "https://router.huggingface.co/v1/chat/completions"
HF_INFERENCE = "https://router.huggingface.co/hf-inference/models/"
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]
CHAT_STREAM = exchange("test_openai_compatibility_with_stream_true#2")["response"]
GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")
SIMILARITY = exchange("TestInferenceClient.test_sentence_similarity[hf-inference,sentence-similarity]#1")["response"]
MODEL = "huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct"
HELLO = [{"content": "Hello, how are you?", "role": "user"}]


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setattr(litellm, "huggingface_key", None)
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_test_fake")


def _chat(recorded=CHAT, url=ROUTER_CHAT):
    responses.add(responses.POST, url, body=body_bytes(recorded), status=200,
                  content_type=recorded["headers"]["content-type"])


def _sent(index=-1):
    call = responses.calls[index]
    return call.request.url, json.loads(call.request.body), call.request.headers


def _recorded_stream_text():
    text = ""
    for line in CHAT_STREAM["body"].splitlines():
        if line.startswith("data:") and "[DONE]" not in line:
            for choice in json.loads(line[5:]).get("choices") or ():
                text += (choice.get("delta") or {}).get("content") or ""
    return text


@responses.activate
def test_the_docs_streaming_loop_works_on_every_chunk_including_the_last():  # L3
    _chat(CHAT_STREAM)
    text = ""
    for part in completion(model=MODEL, messages=HELLO, stream=True):
        text += part.choices[0].delta.content or ""
    assert text == _recorded_stream_text() and text


@responses.activate
@pytest.mark.parametrize("model,kwargs,reported", [
    (MODEL, {}, "meta-llama/Meta-Llama-3.1-8B-Instruct"),
    ("huggingface/together/meta-llama/Meta-Llama-3.1-8B-Instruct", {}, "together/meta-llama/Meta-Llama-3.1-8B-Instruct"),
    ("together/meta-llama/Meta-Llama-3.1-8B-Instruct", {"custom_llm_provider": "huggingface"},
     "together/meta-llama/Meta-Llama-3.1-8B-Instruct"),
], ids=["org/model", "provider/org/model", "custom_llm_provider"])
def test_stream_chunks_carry_the_model_litellm_reports(model, kwargs, reported):
    """L6: LiteLLM's ``get_llm_provider`` strips ``huggingface/`` only, and ``CustomStreamWrapper.chunk_creator``
    (litellm/litellm_core_utils/streaming_handler.py, 00298b3d1ae67c2deb78154b21d3ec7e69684326) sets
    ``model_response.model = self.model`` on every chunk: the Inference Provider stays in front; the server's
    own model field (recorded here) is not what LiteLLM reports."""
    _chat(CHAT_STREAM)
    chunks = list(completion(model=model, messages=HELLO, stream=True, **kwargs))
    assert len(chunks) > 2 and all(chunk.model == reported and chunk["model"] == reported for chunk in chunks)
    if "together/" in model:
        assert _sent()[1]["model"] == "meta-llama/Meta-Llama-3.1-8B-Instruct:together"


@responses.activate
def test_absent_fields_read_as_none_by_attribute_and_by_item():  # L3
    _chat(CHAT_STREAM)
    chunks = list(completion(model=MODEL, messages=HELLO, stream=True))
    last = chunks[-1]
    assert last.choices[0].finish_reason in ("stop", "length")
    assert last.choices[0].delta.role is None and last["choices"][0]["delta"]["role"] is None
    assert chunks[1].choices[0].delta.tool_calls is None
    assert all(chunk.model == "meta-llama/Meta-Llama-3.1-8B-Instruct" for chunk in chunks)  # L3: the model, unprefixed
    assert last.choices[0].delta.get("content", "") is not None  # .get keeps its dict meaning


@responses.activate
def test_response_fields_and_printing():  # L3; the README's print(response)
    _chat()
    response = completion(model=MODEL, messages=HELLO)
    message = response.choices[0].message
    assert message.tool_calls is None and message["function_call"] is None
    assert message.content == response["choices"][0]["message"]["content"] == CHAT["body"]["choices"][0]["message"]["content"]
    assert response.choices[0].logprobs is None
    printed = str(response)
    assert "chat.completion" in printed and message.content[:20] in printed
    assert json.loads(json.dumps(response))["object"] == "chat.completion"  # it is the JSON it prints


@responses.activate
def test_acompletion_and_async_streaming():  # L4
    _chat()
    _chat(CHAT_STREAM)

    async def main():
        answer = await acompletion(model=MODEL, messages=HELLO)
        stream = await acompletion(model=MODEL, messages=HELLO, stream=True)
        text = ""
        async for chunk in stream:
            text += chunk.choices[0].delta.content or ""
        return answer, text

    answer, text = asyncio.run(main())
    assert answer.choices[0].message.content == CHAT["body"]["choices"][0]["message"]["content"]
    assert text == _recorded_stream_text()


@responses.activate
def test_atext_completion_asks_tgi_for_details_and_answers_logprobs():  # L1, L4
    responses.add(responses.POST, HF_INFERENCE + "bigcode/starcoder", json=[GENERATE], status=200)
    response = asyncio.run(atext_completion(model="huggingface/bigcode/starcoder", prompt="good morning", max_tokens=10))
    _, body, _ = _sent()
    assert body["parameters"]["details"] is True  # asked once, by default, as LiteLLM does
    tokens = GENERATE["details"]["tokens"]
    choice = response.choices[0]
    assert choice.logprobs.tokens == [t["text"] for t in tokens]
    assert choice.logprobs["token_logprobs"] == [t["logprob"] for t in tokens]
    assert "top_n_tokens" not in body["parameters"]


@responses.activate
def test_text_completion_logprobs_without_echo():  # L1
    responses.add(responses.POST, HF_INFERENCE + "bigcode/starcoder", json=[GENERATE], status=200)
    response = text_completion(model="huggingface/bigcode/starcoder", prompt="good morning", logprobs=2)
    _, body, _ = _sent()
    assert body["parameters"]["details"] is True and body["parameters"]["top_n_tokens"] == 2
    assert response["choices"][0]["logprobs"]["tokens"][0] == GENERATE["details"]["tokens"][0]["text"]


@responses.activate
def test_extra_headers_reach_the_wire():  # L4
    _chat()
    completion(model=MODEL, messages=HELLO, extra_headers={"X-Test-Trace": "trace-test-1"})
    assert _sent()[2]["X-Test-Trace"] == "trace-test-1"


@responses.activate
def test_wait_for_model_and_use_cache_are_options_not_generation_parameters():  # L1
    _chat()
    completion(model=MODEL, messages=HELLO, wait_for_model=True, use_cache=False)
    _, body, headers = _sent()
    # Kept on purpose (docs/migration.md): the router reads these as headers; LiteLLM's body "options"
    # was the retired api-inference's. Neither lands among the generation parameters.
    assert "wait_for_model" not in json.dumps(body) and "use_cache" not in json.dumps(body)
    assert headers["x-wait-for-model"] == "true" and headers["x-use-cache"] == "false"


@responses.activate
def test_sentence_similarity_embeddings():  # L2
    url = HF_INFERENCE + "sentence-transformers/all-MiniLM-L6-v2/pipeline/sentence-similarity"
    responses.add(responses.POST, url, json=SIMILARITY["body"], status=200)
    sentences = ["Machine learning is so easy.", "Deep learning is so straightforward.",
                 "This is so difficult, like rocket science.", "I can't believe how much I struggled with this."]
    response = embedding(model="huggingface/sentence-transformers/all-MiniLM-L6-v2", input=sentences,
                         input_type="sentence-similarity")
    _, body, _ = _sent()
    assert body["inputs"]["source_sentence"] == sentences[0] and body["inputs"]["sentences"] == sentences[1:]
    assert [d.embedding for d in response.data] == pytest.approx(SIMILARITY["body"])
    assert [d["index"] for d in response["data"]] == [0, 1, 2] and response.object == "list"


def test_sentence_similarity_needs_two_sentences_and_input_type_is_checked():  # L2
    with pytest.raises(errors.InvalidRequestError, match="two or more"):
        embedding(model="huggingface/sentence-transformers/all-MiniLM-L6-v2", input=["one"], input_type="sentence-similarity")
    with pytest.raises(errors.InvalidRequestError, match="input_type"):
        embedding(model="huggingface/sentence-transformers/all-MiniLM-L6-v2", input=["a"], input_type="translation")


@responses.activate
def test_aembedding():  # L4
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    responses.add(responses.POST, HF_INFERENCE + "microsoft/codebert-base/pipeline/feature-extraction",
                  json=[recorded["body"]], status=200)
    response = asyncio.run(aembedding(model="huggingface/microsoft/codebert-base", input=["good morning from litellm"],
                                      input_type="feature-extraction"))
    assert response.data[0].embedding == pytest.approx(recorded["body"])


# L5 ``litellm/litellm_core_utils/prompt_templates/factory.py`` ``llama_2_chat_pt``: system as
# "[INST] <<SYS>>\n{system}\n<</SYS>>\n [/INST]\n", each user turn "[INST] {user} [/INST]\n", bos "<s>".
LITELLM_LLAMA2 = "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n [/INST]\n[INST] Hi [/INST]\n"


@responses.activate
def test_llama2_raw_prompt_follows_metas_format_not_litellms_factory():  # L5; a deliberate difference
    responses.add(responses.POST, "https://llama.endpoints.huggingface.cloud/generate", json=GENERATE, status=200)
    completion(model="huggingface/meta-llama/Llama-2-7b-chat-hf",
               messages=[{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}],
               api_base="https://llama.endpoints.huggingface.cloud", raw=True, prompt_template="llama-2")
    sent = _sent()[1]["inputs"]
    # Meta's reference (llama/generation.py, the model card): the system block inside the first [INST].
    # LiteLLM's factory closes an [INST] around the system block alone, which the model was not trained on.
    assert sent == "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [/INST]" and sent != LITELLM_LLAMA2


@responses.activate
def test_sentence_transformers_models_embed_unless_similarity_is_asked():  # L2; a deliberate difference
    # LiteLLM turns any model named "sentence-transformers/..." into a similarity call (scores, not vectors)
    # and otherwise asks the Hub for the model's pipeline_tag on every call. Here embedding() gives vectors;
    # input_type="sentence-similarity" asks for scores.
    recorded = exchange("InferenceClientVCRTest.test_feature_extraction_with_sentence_transformers#0")["response"]
    url = HF_INFERENCE + "sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction"
    responses.add(responses.POST, url, json=[recorded["body"], recorded["body"]], status=200)
    response = embedding(model="huggingface/sentence-transformers/all-MiniLM-L6-v2", input=["a", "b"])
    assert _sent()[0] == url and _sent()[1]["inputs"] == ["a", "b"]
    assert [d.embedding for d in response.data] == [pytest.approx(recorded["body"])] * 2
