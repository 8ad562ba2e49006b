"""Property (DESIGN rule 10, as tests/test_body_fuzz.py): the text tasks', the cross-encoder's, the Responses
API's and the reasoning parsers give a result of their type or a typed error, whatever JSON they are handed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.skips import require
from test_body_fuzz import ANY_JSON, FUZZ, HF, HI, USAGE, parse_with, shaped, stream_with

from llm_interface import errors
from llm_interface.request import Request
from llm_interface.task_types import TASK_RESULTS
from llm_interface.types import RerankResponse, Response

hypothesis = require("hypothesis", "test")
st = require("hypothesis.strategies", "test")
given = hypothesis.given

TABLE = {"A": ["1", "2"]}
INPUTS = {
    "summarization": "text", "translation": "text", "token-classification": "text", "fill-mask": "a [MASK]",
    "question-answering": {"question": "q", "context": "c"},
    "sentence-similarity": {"source_sentence": "a", "sentences": ["b", "c"]},
    "table-question-answering": {"query": "q", "table": TABLE},
}
ANSWERS = {
    "summarization": [{"summary_text": "s"}], "translation": [{"translation_text": "t"}],
    "token-classification": [{"entity_group": "PER", "score": 0.9, "word": "Sarah", "start": 0, "end": 5}],
    "fill-mask": [{"sequence": "a b", "score": 0.5, "token": 3, "token_str": "b"}],
    "question-answering": {"answer": "Clara", "score": 0.9, "start": 11, "end": 16},
    "sentence-similarity": [0.5, 0.1],
    "table-question-answering": {"answer": "1", "coordinates": [[0, 0]], "cells": ["1"], "aggregator": "NONE"},
}
RESPONSE = {"id": "resp_1", "object": "response", "status": "completed", "model": "org/m", "usage": USAGE,
            "incomplete_details": {"reason": "max_output_tokens"},
            "output": [{"type": "reasoning", "content": [{"type": "reasoning_text", "text": "t"}], "summary": [{"type": "summary_text", "text": "s"}]},
                       {"type": "message", "content": [{"type": "output_text", "text": "Hi"}]},
                       {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}]}
EVENT = {"type": "response.output_text.delta", "delta": "Hi", "response": RESPONSE, "error": {"message": "bad"}}
EVENT_TYPES = st.sampled_from(["response.output_text.delta", "response.reasoning_text.delta", "response.completed",
                               "response.incomplete", "response.failed", "error", "response.created"])
RESULT_OF = {
    "summarization": "SummarizationResponse", "translation": "TranslationResponse",
    "token-classification": "TokenClassificationResponse", "fill-mask": "FillMaskResponse",
    "question-answering": "QuestionAnsweringResponse", "sentence-similarity": "SentenceSimilarityResponse",
    "table-question-answering": "TableQuestionAnsweringResponse",
}
REASONING_CHAT = {"model": "org/m", "choices": [{"index": 0, "finish_reason": "stop", "message": {
    "role": "assistant", "content": "<think>why</think>Hi", "reasoning_content": "why", "reasoning": "why"}}]}
REASONING_CHUNK = {"choices": [{"index": 0, "finish_reason": None, "delta": {"content": "<think>w", "reasoning_content": "w"}}]}


def typed(parse: Any, kind: Any) -> None:
    try:
        result = parse()
    except errors.LLMInterfaceError:
        return
    assert isinstance(result, kind), result
    json.dumps(result.to_dict(), allow_nan=False)
    if isinstance(result, Response):
        assert isinstance(result.results, str) and (result.reasoning is None or isinstance(result.reasoning, str))


def task_request(task: str, **fields: Any) -> Request:
    return Request(provider="huggingface", task=task, model="org/m", inputs=INPUTS.get(task), **fields)


@pytest.mark.parametrize("task", sorted(ANSWERS))
@FUZZ
@given(data=st.data())
def test_text_task_answers(task, data):
    body = data.draw(shaped(ANSWERS[task]) | shaped([ANSWERS[task]]) | ANY_JSON)
    typed(parse_with(HF, task_request(task), body), TASK_RESULTS[RESULT_OF[task]])


@FUZZ
@given(body=shaped([{"label": "LABEL_0", "score": 0.5}, [{"label": "LABEL_1", "score": 0.2}]]) | ANY_JSON)
def test_cross_encoder_answers(body):
    request = Request(provider="huggingface", task="rerank", model="org/m", inputs={"query": "q", "documents": ["a", "b"]},
                      settings={"cross_encoder": True})
    typed(parse_with(HF, request, body), RerankResponse)


@FUZZ
@given(body=shaped(RESPONSE) | ANY_JSON)
def test_responses_answers(body):
    typed(parse_with(HF, Request(provider="huggingface", task="respond", model="org/m", inputs="hi"), body), Response)


@FUZZ
@given(events=st.lists(st.builds(lambda e, t: {**e, "type": t} if isinstance(e, dict) else e, shaped(EVENT), EVENT_TYPES), max_size=4))
def test_responses_streams(events):
    request = Request(provider="huggingface", task="respond", model="org/m", inputs="hi", stream=True)
    typed(stream_with(HF, request, events), Response)


@FUZZ
@given(body=shaped(REASONING_CHAT))
def test_chat_with_reasoning(body):
    typed(parse_with(HF, Request(provider="huggingface", task="chat", model="org/m", messages=HI), body), Response)


@FUZZ
@given(events=st.lists(shaped(REASONING_CHUNK), max_size=4))
def test_chat_stream_with_reasoning(events):
    events = [*events, {"choices": [{"index": 0, "finish_reason": "stop", "delta": {}}]}]
    typed(stream_with(HF, Request(provider="huggingface", task="chat", model="org/m", messages=HI, stream=True), events), Response)
