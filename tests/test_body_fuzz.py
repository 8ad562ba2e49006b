"""Property: every parser of a server's body gives a result or a typed error, whatever JSON it is handed
(issue 16, High #2; DESIGN rule 10). Bodies are real answer shapes with any field dropped or replaced by any
JSON value (NaN, huge ints and deep nesting included), and plain arbitrary JSON.

The suite runs a few examples per property; a fuzz run sets LLM_FUZZ_EXAMPLES (e.g. 1000).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

from support.skips import require

from llm_interface import errors
from llm_interface.providers.huggingface import HuggingFaceProvider
from llm_interface.providers.openai_compatible import OpenAICompatibleProvider
from llm_interface.request import Request
from llm_interface.types import ClassificationResponse, EmbeddingResponse, RerankResponse, Response
from llm_interface.wire import HttpResult

hypothesis = require("hypothesis", "test")
st = require("hypothesis.strategies", "test")
given, settings, HealthCheck = hypothesis.given, hypothesis.settings, hypothesis.HealthCheck

EXAMPLES = int(os.environ.get("LLM_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**310)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
)
ANY_JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def shaped(template: Any) -> Any:
    """``template`` with any field kept, dropped (dicts) or replaced by any JSON value, recursively."""
    if isinstance(template, dict):
        inner = st.fixed_dictionaries({}, optional={key: shaped(value) for key, value in template.items()})
    elif isinstance(template, list):
        inner = st.lists(shaped(template[0]), min_size=0, max_size=3) if template else st.just([])
    else:
        inner = st.just(template)
    return st.one_of(inner, inner, inner, ANY_JSON)


TOOL_CALL = {"id": "call_1", "type": "function", "index": 0, "function": {"name": "get", "arguments": "{\"a\": 1}"}}
LOGPROBS = {"content": [{"token": "Hi", "logprob": -0.1, "top_logprobs": [{"token": "Hi", "logprob": -0.1}]}],
            "tokens": ["Hi"], "token_logprobs": [-0.1], "top_logprobs": [{"Hi": -0.1}], "text_offset": [0]}
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
CHAT = {
    "id": "chatcmpl-1", "model": "org/m", "usage": USAGE,
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": LOGPROBS, "text": "Hi",
                 "message": {"role": "assistant", "content": "Hi", "tool_calls": [TOOL_CALL]}}],
}
CHAT_CHUNK = {
    "model": "org/m", "usage": USAGE,
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": LOGPROBS, "text": "Hi",
                 "delta": {"content": "Hi", "tool_calls": [TOOL_CALL]}}],
}
TOKEN = {"id": 1, "text": "Hi", "logprob": -0.1, "special": False}
DETAILS = {"finish_reason": "length", "generated_tokens": 2, "tokens": [TOKEN], "top_tokens": [[TOKEN]],
           "prefill": [TOKEN], "best_of_sequences": [{"generated_text": "Ho", "finish_reason": "eos_token",
                                                      "tokens": [TOKEN], "prefill": [TOKEN]}]}
GENERATE = {"generated_text": "Hi", "details": DETAILS}
GENERATE_EVENT = {"token": TOKEN, "top_tokens": [TOKEN], "generated_text": None, "details": DETAILS}
ERROR = {"error": {"message": "bad", "http_status_code": 422}, "error_type": "validation"}
OPENAI_EMBEDDINGS = {"data": [{"index": 0, "embedding": [0.1, 0.2]}], "model": "org/m", "usage": USAGE}
LABELS = [{"label": "POSITIVE", "score": 0.9}]
ZERO_SHOT = {"sequence": "x", "labels": ["a", "b"], "scores": [0.7, 0.3]}
RERANK = [{"index": 0, "score": 0.9, "text": "a"}]
COHERE_RERANK = {"results": [{"index": 0, "relevance_score": 0.9, "document": {"text": "a"}}]}

HI = ({"role": "user", "content": "hi"},)
PARAMS = st.sampled_from([
    {}, {"stop": ["\n", "Hi"]}, {"logprobs": True, "top_logprobs": 2}, {"logprobs": 1, "echo": True},
    {"n": 2, "temperature": 0.5}, {"echo": True},
])
ENDPOINT = "http://127.0.0.1:9"


def request_for(task: str, params: Any = None, **fields: Any) -> Request:
    defaults: Any = {
        "chat": dict(messages=HI), "completion": dict(prompt="Say"), "embeddings": dict(inputs=["a", "b"]),
        "classify": dict(inputs=["a"]), "rerank": dict(inputs={"query": "q", "documents": ["a", "b"]}),
    }[task]
    return Request(provider="huggingface", task=task, model="org/m", params=dict(params or {}), **{**defaults, **fields})


def check(result: Any) -> None:
    """A result must be of the promised type and serialisable as strict JSON (the cache stores it)."""
    assert isinstance(result, (Response, EmbeddingResponse, ClassificationResponse, RerankResponse)), result
    if isinstance(result, Response):
        assert isinstance(result.results, str)
        for choice in result.choices:
            assert isinstance(choice.text, str)
        for call in result.tool_calls:
            assert isinstance(call["id"], str) and isinstance(call["function"]["arguments"], str)
    if isinstance(result, EmbeddingResponse):
        assert all(isinstance(x, float) for vector in result.embeddings for x in vector)
    json.dumps(result.to_dict(), allow_nan=False)


def typed(parse: Callable[[], Any]) -> None:
    try:
        result = parse()
    except errors.LLMInterfaceError:
        return
    check(result)


def parse_with(provider: Any, request: Request, body: Any) -> Callable[[], Any]:
    return lambda: provider.parse(request, HttpResult(200, {"x-request-id": "req-test"}, body, 0.0))


def stream_with(provider: Any, request: Request, events: Any) -> Callable[[], Any]:
    def run() -> Any:
        state = provider.stream_state(request)
        for event in events:
            for chunk in state.on_event(None, event if isinstance(event, bytes) else json.dumps(event).encode()):
                assert isinstance(chunk.text, str)
        return state.finish("req-test")
    return run


HF = HuggingFaceProvider()


@FUZZ
@given(body=shaped(CHAT) | shaped(ERROR), params=PARAMS)
def test_chat_completion(body, params):
    typed(parse_with(HF, request_for("chat", params), body))
    typed(parse_with(OpenAICompatibleProvider(), request_for("chat", params, api_base=ENDPOINT), body))


@FUZZ
@given(body=shaped(CHAT), params=PARAMS)
def test_openai_completions_on_an_endpoint(body, params):
    typed(parse_with(HF, request_for("completion", params, api_base=ENDPOINT + "/v1"), body))


@FUZZ
@given(events=st.lists(shaped(CHAT_CHUNK) | shaped(ERROR) | st.just(b"[DONE]"), max_size=4), params=PARAMS)
def test_chat_stream(events, params):
    typed(stream_with(HF, request_for("chat", params, stream=True), events))


@FUZZ
@given(body=shaped(GENERATE) | shaped([GENERATE]) | shaped(ERROR), params=PARAMS, base=st.sampled_from([None, ENDPOINT]))
def test_generate(body, params, base):
    typed(parse_with(HF, request_for("completion", params, api_base=base), body))


@FUZZ
@given(events=st.lists(shaped(GENERATE_EVENT) | shaped(ERROR), max_size=4),
       params=st.sampled_from([{}, {"stop": ["i"]}, {"logprobs": True}, {"echo": True}]))
def test_generate_stream(events, params):
    typed(stream_with(HF, request_for("completion", params, api_base=ENDPOINT, stream=True), events))


@FUZZ
@given(body=shaped([[0.1, 0.2]]) | shaped([[[0.1, 0.2]]]) | shaped(OPENAI_EMBEDDINGS),
       inputs=st.sampled_from(["a", ["a"], ["a", "b"]]), base=st.sampled_from([None, ENDPOINT, ENDPOINT + "/v1"]),
       params=st.sampled_from([{}, {"dimensions": 1}]))
def test_embeddings(body, inputs, base, params):
    typed(parse_with(HF, request_for("embeddings", params, inputs=inputs, api_base=base), body))
    typed(parse_with(OpenAICompatibleProvider(), request_for("embeddings", inputs=inputs, api_base=ENDPOINT), body))


@FUZZ
@given(body=shaped(LABELS) | shaped([LABELS]) | shaped(ZERO_SHOT), inputs=st.sampled_from(["a", ["a"], ["a", "b"]]),
       base=st.sampled_from([None, ENDPOINT]))
def test_classification(body, inputs, base):
    typed(parse_with(HF, request_for("classify", inputs=inputs, api_base=base), body))


@FUZZ
@given(body=shaped(LABELS) | shaped([LABELS]))
def test_chat_on_a_text_classification_model(body):
    request = request_for("chat")
    typed(parse_with(HF, Request(**{**{f: getattr(request, f) for f in request.__dataclass_fields__}, "model": "text-classification/org/m"}), body))


@FUZZ
@given(body=shaped(RERANK) | shaped(COHERE_RERANK) | shaped([0.5, 0.1]),
       params=st.sampled_from([{}, {"top_n": 1}, {"return_documents": True}]), base=st.sampled_from([None, ENDPOINT]))
def test_rerank(body, params, base):
    typed(parse_with(HF, request_for("rerank", params, api_base=base), body))


@FUZZ
@given(body=ANY_JSON, task=st.sampled_from(["chat", "completion", "embeddings", "classify", "rerank"]),
       base=st.sampled_from([None, ENDPOINT, ENDPOINT + "/v1"]))
def test_any_json_for_any_task(body, task, base):
    typed(parse_with(HF, request_for(task, api_base=base), body))
