"""The fake Hugging Face's answers for the text tasks, rerank with a cross-encoder and the Responses API (for the
docs examples; ``fake_hf.hf_world`` asks here first). The shapes are those tests/test_text_tasks.py and
tests/test_responses_api.py test against (the hub-docs task pages, the recorded exchanges, OpenAI's Responses
reference); a pipeline task is told by the model the example uses (the task's default model, or a named one).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from recordings import exchange
from support.loopback import Answer, Recorded

from llm_interface.providers.hf_text_tasks import DEFAULT_MODELS

NER = "TestInferenceClient.test_token_classification[hf-inference,token-classification]#1"
# Cross-encoders the docs name: the Hub's model API says "text-ranking" for them.
CROSS_ENCODERS = ("BAAI/bge-reranker-base", "BAAI/bge-reranker-v2-m3", "cross-encoder/ms-marco-MiniLM-L-6-v2")
ANSWERS = {
    "summarization": [{"summary_text": "The tower is 324 metres tall, about the same height as an 81-storey building."}],
    "translation": [{"translation_text": "Mein Name ist Wolfgang und ich lebe in Berlin."}],
    "question-answering": {"answer": "Clara", "score": 0.9326565265655518, "start": 11, "end": 16},
    "fill-mask": [{"score": 0.27, "token": 3007, "token_str": "capital", "sequence": "paris is the capital of france."},
                  {"score": 0.05, "token": 2803, "token_str": "center", "sequence": "paris is the center of france."}],
    "table-question-answering": {"answer": "AVERAGE > 36542", "coordinates": [[0, 1]], "cells": ["36542"], "aggregator": "AVERAGE"},
}
RESPONSE = {
    "id": "resp_docs_fake", "object": "response", "created_at": 1756315696, "model": "openai/gpt-oss-120b",
    "status": "completed", "error": None, "incomplete_details": None,
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "A short story, then."}]},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Once upon a time, a unicorn slept.", "annotations": []}]},
    ],
    "usage": {"input_tokens": 21, "output_tokens": 12, "total_tokens": 33},
}


def task_answer(request: Recorded) -> Optional[Answer]:
    """The answer for these routes, or None (``hf_world`` goes on)."""
    body = request.body if isinstance(request.body, dict) else {}
    path = request.path.rstrip("/")
    if request.method == "GET" and path.startswith("/api/models/"):
        model = path[len("/api/models/"):]
        return _json({"id": model, "pipeline_tag": "text-ranking" if model in CROSS_ENCODERS else "sentence-similarity"})
    if path.endswith("/v1/responses"):
        return _responses_stream() if body.get("stream") else _json(RESPONSE)
    inputs = body.get("inputs")
    if isinstance(inputs, list) and inputs and all(isinstance(i, dict) and "text_pair" in i for i in inputs):
        return _json([{"label": "LABEL_0", "score": round(1.0 / (1 + n), 4)} for n in range(len(inputs))])
    model = path.split("/hf-inference/models/", 1)[-1] if "/hf-inference/models/" in path else None
    for task, default in DEFAULT_MODELS.items():
        if model == default and task in ANSWERS:
            return _json(ANSWERS[task])
        if model == default and task == "token-classification":
            return _json(exchange(NER)["response"]["body"])
    return None


def _responses_stream() -> Answer:
    text = RESPONSE["output"][1]["content"][0]["text"]
    events = [{"type": "response.created", "response": {**RESPONSE, "status": "in_progress", "output": []}}]
    pieces = [w + " " for w in text.split(" ")]
    pieces[-1] = pieces[-1].rstrip()
    events += [{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": p}
               for p in pieces]
    events.append({"type": "response.completed", "response": RESPONSE})
    data = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    return Answer(200, {"Content-Type": "text/event-stream"}, data)


def _json(payload: Any) -> Answer:
    return Answer(200, {"Content-Type": "application/json", "X-Request-Id": "docs-fake"}, json.dumps(payload).encode("utf-8"))
