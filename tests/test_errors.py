"""The error tree, built from every error body and error exchange in hf-reference."""

from __future__ import annotations

import builtins
import json
import pickle

import pytest
import responses
from recordings import body_bytes, error_bodies, exchanges

from llm_interface import errors
from llm_interface.errors import error_for_status, server_message_of
from llm_interface.http_errors import error_for_answer
from llm_interface.wire import Context

E = errors
# error_bodies.json case -> (class, words the server_message must contain, estimated_time)
EXPECTED = {
    "hf_serverless_503_model_loading": (E.ModelLoadingError, "is currently loading", 20.0),
    "hf_serverless_429_rate_limit": (E.RateLimitError, "Rate limit reached", None),
    "router_402_credits_exhausted": (E.PaymentRequiredError, "exceeded your monthly included credits", None),
    "router_400_model_not_supported": (E.ValidationError, "is not supported by any provider", None),
    "router_401_invalid_token": (E.AuthenticationError, "Invalid username or password.", None),
    "hf_inference_404_model_does_not_exist": (E.NotFoundError, "does not exist", None),
    "hf_serverless_400_model_kwargs_not_used": (E.ValidationError, "are not used by the model", None),
    "hf_serverless_400_error_list": (E.ValidationError, "Error in `inputs.context`: field required", None),
    "tgi_422_validation": (E.ValidationError, "Input validation error", None),
    "tgi_422_template_error": (E.ValidationError, "Template error: template not found", None),
    "tgi_422_json_deserialize_plaintext": (E.ValidationError, "Failed to deserialize the JSON body", None),
    "tgi_424_generation": (E.ServerError, "Request failed during generation", None),
    "tgi_429_overloaded": (E.RateLimitError, "Model is overloaded", None),
    "tgi_500_incomplete_generation": (E.ServerError, "Incomplete generation", None),
    "tgi_503_health": (E.ServerError, "unhealthy", None),
    "tei_422_validation": (E.ValidationError, "batch size 1025", None),
    "tei_413_validation_pre_1_9": (E.ValidationError, "`inputs` cannot be empty", None),
    "tei_400_empty": (E.ValidationError, "`inputs` cannot be empty", None),
    "tei_openai_error": (E.ValidationError, "batch size 33", None),
    "inference_endpoint_scaled_to_zero": (E.ModelLoadingError, None, None),
}
HTTP_CASES = [c for c in error_bodies() if c["status"] >= 400]


def test_every_http_error_body_has_an_expectation():
    assert sorted(c["name"] for c in HTTP_CASES) == sorted(EXPECTED)


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["name"] for c in HTTP_CASES])
def test_error_body_becomes_its_typed_error(case):
    cls, words, estimated = EXPECTED[case["name"]]
    headers = {**(case.get("headers") or {}), "x-request-id": "req-123"}
    error = error_for_answer(case["status"], headers, body_bytes(case), Context("huggingface", "org/model"))
    assert type(error) is cls
    assert (error.status, error.provider, error.model, error.request_id) == (case["status"], "huggingface", "org/model", "req-123")
    if words is None:
        assert error.server_message is None
    else:
        assert words in error.server_message
        assert words in str(error)
    assert getattr(error, "estimated_time", None) == estimated
    assert "req-123" in str(error) and "org/model" in str(error)


RECORDED_ERRORS = [c for c in exchanges() if c["response"]["status"] >= 400]


@pytest.mark.parametrize("case", RECORDED_ERRORS, ids=[c["name"] for c in RECORDED_ERRORS])
@responses.activate
def test_recorded_error_exchange_through_the_client(case, client):
    """Each recorded error answer, served at an endpoint, raises its typed error from send_message
    (the error path does not depend on the task that produced the answer)."""
    recorded = case["response"]
    responses.add(
        responses.POST, "http://tgi.test/v1/chat/completions", body=body_bytes(recorded), status=recorded["status"],
        headers={k: v for k, v in recorded["headers"].items() if k.lower() not in ("content-type", "content-length")},
        content_type=recorded["headers"].get("content-type", "application/json"),
    )
    expected = {400: E.ValidationError, 401: E.AuthenticationError, 422: E.ValidationError}[recorded["status"]]
    with pytest.raises(expected) as caught:
        client.send_message("huggingface", "hi", {"api_base": "http://tgi.test"})
    error = caught.value
    assert error.status == recorded["status"]
    assert error.request_id == recorded["headers"]["x-request-id"]
    assert error.provider == "huggingface"
    body = recorded["body"]
    words = body if isinstance(body, str) else body["error"] if isinstance(body["error"], str) else body["error"][0]
    assert error.server_message.startswith(words[:40])


# -- the shapes a robust parser takes (hf-reference README, "Error bodies") --------------------

SHAPES = [
    ({"error": "plain"}, None, "plain"),
    ({"error": ["one", "two"]}, None, "one; two"),
    ({"error": {"message": "nested", "type": "invalid_request_error"}}, None, "nested"),
    ({"error": {"detail": "nested detail"}}, None, "nested detail"),
    ({"message": "top message", "code": 422}, None, "top message"),
    ({"detail": "fastapi detail"}, None, "fastapi detail"),
    ({"detail": [{"loc": ["body"], "msg": "field required"}]}, None, "field required"),
    ("Failed to deserialize", None, "Failed to deserialize"),
    (["a list"], None, "a list"),
    (None, {"X-Error-Message": "from the header"}, "from the header"),
    ({}, {"x-error-message": "lower-case header"}, "lower-case header"),
    ("<!DOCTYPE html><html><body>502</body></html>", None, "HTML page"),
    ("<html><head><title>Bad Gateway</title></head></html>", None, "HTML page"),
    (None, None, None),
    ("", None, None),
]


@pytest.mark.parametrize("body,headers,expected", SHAPES)
def test_server_message_shapes(body, headers, expected):
    message = server_message_of(body, headers)
    if expected is None:
        assert message is None
    else:
        assert expected in message


def test_long_plain_text_is_shortened():
    assert len(server_message_of("x" * 5000)) < 600


STATUS_CLASSES = [
    (400, E.ValidationError), (401, E.AuthenticationError), (402, E.PaymentRequiredError),
    (403, E.AuthenticationError), (404, E.NotFoundError), (410, E.NotFoundError), (413, E.ValidationError),
    (422, E.ValidationError), (429, E.RateLimitError), (500, E.ServerError), (502, E.ServerError),
    (504, E.ServerError), (418, E.ServerError),
]


@pytest.mark.parametrize("status,cls", STATUS_CLASSES)
def test_status_to_class(status, cls):
    assert type(error_for_status(status, {"error": "x"})) is cls


def test_503_is_loading_only_when_the_server_says_so():
    assert type(error_for_status(503, {"error": "Model x is currently loading"})) is E.ModelLoadingError
    assert type(error_for_status(503, {"error": "busy", "estimated_time": 3})) is E.ModelLoadingError
    assert error_for_status(503, {"error": "busy", "estimated_time": "7.5"}).estimated_time == 7.5
    assert type(error_for_status(503, {"error": "unhealthy"})) is E.ServerError
    scaled = error_for_status(503, None)
    assert type(scaled) is E.ModelLoadingError and "scale_up_timeout" in str(scaled)


@pytest.mark.parametrize(
    "headers,expected",
    [({"Retry-After": "12"}, 12.0), ({"retry-after-ms": "1500"}, 1.5), ({"RateLimit": '"api";r=0;t=55'}, 55.0), ({}, None)],
)
def test_429_carries_retry_after_from_headers(headers, expected):
    error = error_for_answer(429, headers, b'{"error": "Rate limit reached"}', Context("huggingface", "m"))
    assert isinstance(error, E.RateLimitError)
    assert error.retry_after == expected


def test_hints_say_how_to_fix():
    assert "set_api_key" in str(error_for_status(401, {"error": "Invalid username or password."}))
    assert "credits" in str(error_for_status(402, {"error": "x"}))
    assert "retry_attempts" in str(error_for_status(429, {"error": "x"}))


def test_tree():
    assert issubclass(E.MissingAPIKeyError, E.ConfigurationError)
    assert issubclass(E.UnknownModelError, E.ConfigurationError)
    assert issubclass(E.InvalidRequestError, ValueError)
    assert issubclass(E.MissingDependencyError, ImportError)
    for cls in (E.AuthenticationError, E.PaymentRequiredError, E.NotFoundError, E.ValidationError,
                E.RateLimitError, E.ModelLoadingError, E.ServerError, E.InvalidResponseError):
        assert issubclass(cls, E.APIError)
    assert issubclass(E.TimeoutError, builtins.TimeoutError) and issubclass(E.TimeoutError, E.LLMInterfaceError)
    assert issubclass(E.ConnectionError, builtins.ConnectionError)
    assert issubclass(E.StreamError, E.LLMInterfaceError)


@pytest.mark.parametrize("error", [
    error_for_status(429, {"error": "slow"}, provider="huggingface", model="m", request_id="r", retry_after=3.0),
    error_for_status(503, {"error": "loading", "estimated_time": 9.0}, provider="huggingface", model="m"),
    E.StreamError("broke", provider="huggingface", request_id="r"),
])
def test_errors_survive_pickling(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


@pytest.mark.parametrize("value,expected", [
    (20.5, 20.5), ("20.5", 20.5), (-3, 0.0), ("-3", 0.0), (float("nan"), None), ("nan", None),
    ("inf", None), ("soon", None), (True, None), (None, None),
])
def test_estimated_time_is_read_once_the_same_for_the_error_and_the_wait(value, expected):
    from llm_interface.retry import server_wait

    body = json.dumps({"error": "Model is loading", "estimated_time": value}).encode()  # nan -> NaN, read back
    error = error_for_answer(503, {}, body, Context("huggingface", "m"))
    assert isinstance(error, errors.ModelLoadingError)
    assert error.estimated_time == expected
    assert server_wait({}, error.body) == expected
