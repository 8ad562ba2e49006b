"""Reasoning models' thinking lands on ``Response.reasoning`` / ``StreamChunk.reasoning``, never in ``results``.

The answer shapes are the documented ones (no recording in tests/fixtures/hf-reference carries reasoning):
- DeepSeek's API docs, guides/reasoning_model: ``choices[0].message.reasoning_content`` beside ``content``,
  and ``delta.reasoning_content`` chunks before the ``delta.content`` ones (vLLM's reasoning parsers agree);
- gpt-oss on the Inference Providers router (hub-docs guides/gpt-oss.md, served through the router's
  OpenAI-compatible chat route): ``message.reasoning`` / ``delta.reasoning``;
- DeepSeek-R1 and Qwen3 on providers that leave the chat template's ``<think>...</think>`` block in ``content``.
"""

from __future__ import annotations

import json

import pytest
from loopback import Answer, Status

from llm_interface import Client
from llm_interface.cache.entries import decode_entry, encode_entry
from llm_interface.openai_shapes import chat_chunk, chat_completion_json, chunk_base
from llm_interface.reasoning import ThinkSplitter, split_think
from llm_interface.request import Request
from llm_interface.types import Response, StreamChunk

DEEPSEEK_ANSWER = {
    "id": "5f5e6a4b-test", "object": "chat.completion", "model": "deepseek-ai/DeepSeek-R1",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "9.11 is smaller than 9.8.",
        "reasoning_content": "Compare the tenths: 1 < 8, so 9.11 < 9.8."}}],
    "usage": {"prompt_tokens": 15, "completion_tokens": 40, "total_tokens": 55},
}
GPT_OSS_ANSWER = {
    "id": "chatcmpl-test", "object": "chat.completion", "model": "openai/gpt-oss-120b",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "The Eiffel Tower grows about 15 cm in summer.",
        "reasoning": "User wants a fun fact. Thermal expansion is a good one."}}],
}
INLINE_ANSWER = {
    "id": "chatcmpl-test", "object": "chat.completion", "model": "Qwen/Qwen3-8B",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nHello! How can I help?"}}],
}


def _events(*deltas):
    events = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return Answer(headers={"Content-Type": "text/event-stream"},
                  chunks=[b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"])


@pytest.mark.parametrize("body, thought, text", [
    (DEEPSEEK_ANSWER, "Compare the tenths: 1 < 8, so 9.11 < 9.8.", "9.11 is smaller than 9.8."),
    (GPT_OSS_ANSWER, "User wants a fun fact. Thermal expansion is a good one.", "The Eiffel Tower grows about 15 cm in summer."),
    (INLINE_ANSWER, "\nThe user greets me.\n", "Hello! How can I help?"),
], ids=["reasoning_content", "reasoning", "inline-think"])
def test_whole_answer_keeps_reasoning_apart(loopback, client, body, thought, text):
    loopback.script(Status(200, body))
    answer = client.send_message("huggingface", "hi", {"api_base": loopback.url, "model": "m"})
    assert answer.results == text
    assert answer.reasoning == thought
    assert "<think>" not in answer.results


def test_stream_reasoning_content_chunks(loopback, client):
    loopback.script(_events({"role": "assistant", "content": ""}, {"reasoning_content": "Compare "},
                            {"reasoning_content": "the tenths."}, {"content": "9.11 is "}, {"content": "smaller."}))
    with client.stream_message("huggingface", "hi", {"api_base": loopback.url, "model": "m"}) as stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "9.11 is smaller."
    assert [c.reasoning for c in chunks if c.reasoning] == ["Compare ", "the tenths."]
    assert stream.response.reasoning == "Compare the tenths."
    assert stream.response.results == "9.11 is smaller."


def test_stream_inline_think_split_across_chunks(loopback, client):
    loopback.script(_events({"content": "<thi"}, {"content": "nk>Let me"}, {"content": " think</th"},
                            {"content": "ink>\n"}, {"content": "\nAnswer: 4"}))
    with client.stream_message("huggingface", "hi", {"api_base": loopback.url, "model": "m"}) as stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "Answer: 4"
    assert "".join(c.reasoning or "" for c in chunks) == "Let me think"
    assert stream.response.reasoning == "Let me think"


def test_stream_and_whole_answer_agree():
    text = "  <think>step 1\nstep 2</think>\n\nThe answer.<think> stays"
    whole = split_think(text)
    for size in (1, 2, 3, 5, 8):
        splitter, thought, answer = ThinkSplitter(), "", ""
        for at in range(0, len(text), size):
            t, a = splitter.feed(text[at:at + size])
            thought, answer = thought + t, answer + a
        t, a = splitter.flush()
        assert (thought + t, answer + a) == whole, size
    assert whole == ("step 1\nstep 2", "The answer.<think> stays")


@pytest.mark.parametrize("text, expected", [
    ("plain answer", (None, "plain answer")),
    ("The tag <think> in the middle is text", (None, "The tag <think> in the middle is text")),
    ("<think>cut by max_tokens", ("cut by max_tokens", "")),
    ("<think></think>\n\nQwen3 with thinking off", (None, "Qwen3 with thinking off")),
    ("<thin", (None, "<thin")),
    ("", (None, "")),
])
def test_split_think_table(text, expected):
    assert split_think(text) == expected


def test_the_cache_keeps_reasoning(loopback):
    loopback.script(Status(200, DEEPSEEK_ANSWER))
    with Client({"huggingface": "hf_test_fake"}) as client:
        client.configure_cache("memory")
        options = {"api_base": loopback.url, "model": "m"}
        first = client.send_message("huggingface", "hi", options)
        again = client.send_message("huggingface", "hi", options)
    assert loopback.count == 1 and again.cached
    assert again.reasoning == first.reasoning == "Compare the tenths: 1 < 8, so 9.11 < 9.8."
    assert again.results == first.results


def test_cache_entry_round_trips_reasoning_of_each_choice():
    from llm_interface.types import Choice

    response = Response("a", reasoning="why a", choices=(Choice(0, "a", "stop", reasoning="why a"), Choice(1, "b", "stop")))
    entry = json.loads(json.dumps(encode_entry(Request("huggingface", "chat"), response)))
    back = decode_entry(entry, "k" * 16)
    assert back.reasoning == "why a"
    assert [c.reasoning for c in back.choices] == ["why a", None]
    assert "reasoning" not in Response("plain").to_dict()  # entries without reasoning stay as they were


def test_proxy_shapes_pass_reasoning_on():
    body = chat_completion_json(Response("The answer.", reasoning="Thinking."), "m")
    message = body["choices"][0]["message"]
    assert message["content"] == "The answer."
    assert message["reasoning_content"] == message["reasoning"] == "Thinking."
    assert "reasoning_content" not in chat_completion_json(Response("x"), "m")["choices"][0]["message"]
    chunk = chat_chunk(chunk_base("chat", "m"), StreamChunk("", reasoning="Hmm"))
    assert chunk["choices"][0]["delta"] == {"reasoning_content": "Hmm", "reasoning": "Hmm"}
