"""A fake Hugging Face for the docs examples: the router, ``hf-inference`` and TGI/TEI routes on one loopback
server, answering with the shapes recorded in ``tests/fixtures/hf-reference``.

``hf_world`` is a responder for ``LoopbackServer``: the routes ``upstream.hf_routes`` already answers as TGI/TEI
would (chat echoes the last user message, so an example's assertion on its own words holds), plus what only the
router and ``hf-inference`` serve: ``/hf-inference/models/{id}`` (text-generation, text-classification and
zero-shot classification, told apart by the body), ``/pipeline/sentence-similarity``, and chat answers with tool
calls or a JSON object when the request asks for them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

from recordings import exchange
from support.fake_tasks import task_answer
from support.loopback import Answer, Recorded
from support.upstream import hf_routes

GENERATE = "test_async_generate_with_details#1"  # [{"generated_text", "details": {prefill, tokens}}]
GENERATE_STREAM = "test_async_generate_stream_with_details#1"
CLASSIFY = "TestInferenceClient.test_text_classification[hf-inference,text-classification]#1"
ZERO_SHOT = "TestInferenceClient.test_zero_shot_classification_single_label[hf-inference,zero-shot-classification]#1"
TOOL_CALL = "InferenceClientVCRTest.test_chat_completion_with_tool#0"
JSON_OBJECT = "InferenceClientVCRTest.test_chat_completion_with_response_format#0"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DOCTOR_FIXTURES = FIXTURES / "doctor"
# Parameters only a text-generation body carries (classification sends none of them).
GENERATION_PARAMETERS = {"max_new_tokens", "details", "return_full_text", "decoder_input_details", "top_n_tokens", "stop"}


def _catalogue() -> dict:
    """One router catalogue: hub-docs' documented example (docs/inference-providers.md's models) and the entries
    for the shipped aliases (docs/doctor.md finds every alias served)."""
    documented = json.loads((FIXTURES / "hub" / "router-models.json").read_text(encoding="utf-8"))
    aliases = json.loads((DOCTOR_FIXTURES / "router-models.json").read_text(encoding="utf-8"))
    return {"object": "list", "data": documented["data"] + aliases["data"]}


def hf_world(request: Recorded) -> Answer:
    answer = task_answer(request)  # the text tasks, cross-encoder rerank, the Responses API (fake_tasks.py)
    if answer is not None:
        return answer
    body = request.body if isinstance(request.body, dict) else {}
    path = request.path.rstrip("/")
    if request.method == "GET" and path == "/api/whoami-v2":  # the Hub's whoami (docs/doctor.md)
        return _json(json.loads((DOCTOR_FIXTURES / "whoami-v2.json").read_text(encoding="utf-8")))
    if path == "/v1/models" or path.startswith("/v1/models/"):  # the router's catalogue
        catalogue = _catalogue()
        found = [m for m in catalogue["data"] if path == f"/v1/models/{m['id']}"]
        return _json(catalogue if path == "/v1/models" else (found[0] if found else {"error": "not found"}))
    if path.endswith("/chat/completions") and body.get("tools"):
        return _recorded(TOOL_CALL)
    if path.endswith("/chat/completions") and body.get("response_format") and not body.get("stream"):
        return _recorded(JSON_OBJECT)
    if path.endswith("/pipeline/sentence-similarity"):
        sentences = (body.get("inputs") or {}).get("sentences") or body.get("sentences") or []
        return _json([round(1.0 / (1 + n), 4) for n in range(len(sentences))])
    if path.endswith("/generate") and (body.get("parameters") or {}).get("decoder_input_details"):
        return _recorded(GENERATE, unwrap=True)  # TGI answers the object hf-inference wraps in a list
    if "/hf-inference/models/" in path and "/v1/" not in path and "/pipeline/" not in path:
        parameters = body.get("parameters") or {}
        if "candidate_labels" in parameters:
            return _zero_shot(body, parameters["candidate_labels"])
        if body.get("stream"):
            return _recorded(GENERATE_STREAM)
        if GENERATION_PARAMETERS & set(parameters):
            return _recorded(GENERATE)
        return _recorded(CLASSIFY)
    return hf_routes(request)


def _zero_shot(body: Dict[str, Any], labels: Any) -> Answer:
    labels = [labels] if isinstance(labels, str) else list(labels)
    answer = copy.deepcopy(exchange(ZERO_SHOT)["response"]["body"])
    scores = sorted(answer["scores"], reverse=True)[: len(labels)] or [1.0]
    answer.update(sequence=body.get("inputs"), labels=labels, scores=(scores + [0.0] * len(labels))[: len(labels)])
    return _json(answer)


def _recorded(name: str, unwrap: bool = False) -> Answer:
    response = exchange(name)["response"]
    body = response["body"][0] if unwrap else response["body"]
    content_type = "text/event-stream" if isinstance(body, str) else "application/json"
    data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    return Answer(response["status"], {"Content-Type": content_type, "X-Request-Id": "docs-fake"}, data)


def _json(payload: Any) -> Answer:
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(payload).encode("utf-8"))
