"""The proxy under faults and bad input (issue 16): every failure is an OpenAI-shaped JSON error, bodies
with NaN are refused, client-visible errors name no server path and give no Python advice, the upstream
key does not follow a redirect to another host, and a missing key is said once at start-up.

A real proxy (uvicorn on 127.0.0.1) in front of a real loopback upstream (tests/loopback.py).
"""

from __future__ import annotations

import inspect
import json
import logging

import pytest
from loopback import Answer, LoopbackServer
from optional import require
from upstream import Upstream

require("fastapi", "server")
require("uvicorn", "server")
httpx = require("httpx", "test")

from proxy_server import ProxyServer  # noqa: E402

from llm_interface import errors  # noqa: E402
from llm_interface.server import ProxyConfig, create_app  # noqa: E402
from llm_interface.server.errors import openai_error  # noqa: E402

UPSTREAM_KEY = "hf_fake_test_upstream_key_0123456789"
HEADER_SECRET = "fake-test-header-secret-0123456789"
KEY_VARIABLES = ("HUGGINGFACE_API_KEY", "HF_TOKEN", "HUGGINGFACE_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                 "HUGGINGFACE_API_BASE", "HF_API_BASE")


def route(name: str, base: str, **params: object) -> dict:
    return {"model_name": name, "litellm_params": {"model": "huggingface/meta-llama/Llama-3.1-8B-Instruct",
                                                   "api_key": UPSTREAM_KEY, "api_base": base, **params}}


def proxy_for(*routes: dict) -> ProxyServer:
    config = ProxyConfig.from_mapping({"model_list": list(routes),
                                       "llm_interface_settings": {"interface_options": {"retry_attempts": 0}}})
    return ProxyServer(create_app(config))


def chat(model: str = "llama", text: str = "Hello", **extra: object) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def assert_openai_error(answer: "httpx.Response") -> dict:
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in answer.text
    return error


@pytest.fixture(scope="module")
def upstream():
    with Upstream() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(upstream):
    with proxy_for(route("llama", upstream.url)) as server:
        yield server


@pytest.fixture
def post(proxy):
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        yield lambda path, content: http.post(path, content=content, headers={"content-type": "application/json"})


# -- every error the library can raise: one line each -------------------------------------------------

STATUS = {  # class -> (status, type, code) the proxy answers
    errors.LLMInterfaceError: (500, "server_error", None),
    errors.ConfigurationError: (400, "invalid_request_error", None),
    errors.MissingAPIKeyError: (500, "server_error", "upstream_key_missing"),
    errors.UnknownProviderError: (400, "invalid_request_error", None),
    errors.UnknownModelError: (404, "invalid_request_error", "model_not_found"),
    errors.InvalidRequestError: (400, "invalid_request_error", None),
    errors.UnsupportedTaskError: (400, "invalid_request_error", "unsupported_task"),
    errors.NoProviderError: (400, "invalid_request_error", "unsupported_task"),
    errors.BudgetExceededError: (402, "insufficient_quota", "budget_exceeded"),
    errors.MissingDependencyError: (500, "server_error", "missing_dependency"),
    errors.CacheMissError: (400, "invalid_request_error", None),
    errors.APIError: (502, "upstream_error", None),
    errors.AuthenticationError: (502, "upstream_authentication_error", "upstream_authentication_failed"),
    errors.PaymentRequiredError: (402, "insufficient_quota", "insufficient_quota"),
    errors.NotFoundError: (404, "invalid_request_error", "upstream_model_not_found"),
    errors.ModelNotFoundError: (500, "server_error", "model_files_missing"),
    errors.ValidationError: (400, "invalid_request_error", None),
    errors.ModelNotSupportedError: (400, "invalid_request_error", "model_not_supported"),
    errors.RateLimitError: (429, "rate_limit_error", "rate_limit_exceeded"),
    errors.ModelLoadingError: (503, "model_loading", "model_loading"),
    errors.ServerError: (502, "upstream_error", None),
    errors.ResourceExhaustedError: (503, "server_error", "resource_exhausted"),
    errors.InvalidResponseError: (502, "upstream_error", "invalid_upstream_response"),
    errors.TimeoutError: (504, "timeout", "upstream_timeout"),
    errors.ConnectionError: (502, "upstream_connection_error", "upstream_unreachable"),
    errors.StreamError: (502, "upstream_stream_error", None),
    errors.CacheUnavailableError: (503, "server_error", "cache_unavailable"),
}


def test_the_table_names_every_error_class_of_the_library():
    classes = {cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.LLMInterfaceError)}
    assert classes == set(STATUS), "a new error class needs its proxy status here and in server/errors.py"


@pytest.mark.parametrize("cls", sorted(STATUS, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_library_error_becomes_an_openai_error(cls):
    message = f"went wrong with {UPSTREAM_KEY}; see /home/op/.cache/huggingface/token or call set_api_key"
    status, body, _headers = openai_error(cls(message, provider="huggingface", model="m"), [UPSTREAM_KEY])
    assert (status, body["error"]["type"], body["error"]["code"]) == STATUS[cls]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert UPSTREAM_KEY not in json.dumps(body)


@pytest.mark.parametrize("cls", [errors.MissingAPIKeyError, errors.MissingDependencyError, errors.ModelNotFoundError],
                         ids=lambda c: c.__name__)
def test_set_up_errors_tell_clients_no_server_path_and_no_python_advice(cls):
    message = ("No API key. To set one: call LLMInterface.set_api_key(...); pip install x; "
               "log in with `hf auth login` (token file /srv/op/.cache/huggingface/token)")
    _status, body, _headers = openai_error(cls(message), [])
    text = body["error"]["message"]
    assert "/srv/op" not in text and "set_api_key" not in text and "pip" not in text and "operator" in text


# -- end to end: wrong shapes, HTML, any other exception ----------------------------------------------

WRONG_SHAPES = [  # a 200 answer that is not what the API promises
    b'{"choices": ["x"]}',
    b'{"choices": [{"message": "str"}]}',
    b'{"choices": [{"message": {"role": "assistant", "content": "hi", "tool_calls": "x"}}]}',
    b"<html><body>Bad gateway page</body></html>",
    b"",
    b"[1, 2, 3]",
]


@pytest.mark.parametrize("body", WRONG_SHAPES, ids=range(len(WRONG_SHAPES)))
def test_a_wrong_shaped_upstream_answer_is_an_openai_error_never_plain_text(body):
    with LoopbackServer(default=Answer(200, {"Content-Type": "application/json"}, body)) as up, \
            proxy_for(route("llama", up.url)) as proxy:
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(), timeout=20)
    if answer.status_code == 200:  # the library read it leniently: then it is a real chat completion
        assert answer.json()["object"] == "chat.completion"
        return
    error = assert_openai_error(answer)
    # 502 once the library raises InvalidResponseError for every wrong shape; an untyped exception inside
    # the library is still a JSON 500 here, never a traceback.
    assert (answer.status_code, error["code"]) in {(502, "invalid_upstream_response"), (502, None),
                                                   (500, "internal_error")}


def test_an_exception_that_is_not_the_librarys_is_a_json_500_without_its_words(upstream, monkeypatch):
    from llm_interface.async_client import AsyncClient

    async def broken(*_args, **_kwargs):
        raise RuntimeError(f"internal detail {UPSTREAM_KEY}")

    monkeypatch.setattr(AsyncClient, "send_message_async", broken)  # a bug anywhere below the proxy
    with proxy_for(route("llama", upstream.url)) as proxy:
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(), timeout=20)
    assert answer.status_code == 500
    error = assert_openai_error(answer)
    assert error["code"] == "internal_error"
    assert "internal detail" not in answer.text and UPSTREAM_KEY not in answer.text


def test_an_exception_mid_stream_is_an_error_event(upstream, monkeypatch):
    from llm_interface.async_client import AsyncStream

    async def broken(self):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(AsyncStream, "__anext__", broken)
    with proxy_for(route("llama", upstream.url)) as proxy:
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(stream=True), timeout=20)
    events = [line[len("data: "):] for line in answer.text.splitlines() if line.startswith("data: ")]
    last = json.loads(events[-1])
    assert last["error"]["code"] == "internal_error" and "internal detail" not in answer.text
    assert "[DONE]" not in events


# -- NaN and infinities (#4) --------------------------------------------------------------------------

NOT_FINITE = [
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "top_p": Infinity}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "temperature": -Infinity}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "temperature": 1e400}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "frequency_penalty": NaN}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": NaN}}',
]


@pytest.mark.parametrize("body", NOT_FINITE, ids=range(len(NOT_FINITE)))
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions"])
def test_non_finite_numbers_are_refused_with_400_and_never_forwarded(post, upstream, body, path):
    before = upstream.count
    answer = post(path, body)
    assert answer.status_code == 400
    error = assert_openai_error(answer)
    assert error["type"] == "invalid_request_error" and "finite" in error["message"]
    assert upstream.count == before


def test_a_nan_given_as_a_string_for_a_number_field_is_refused_too(post, upstream):
    before = upstream.count
    answer = post("/v1/chat/completions", json.dumps(chat(temperature="NaN")).encode())
    assert answer.status_code == 400 and assert_openai_error(answer)["param"] == "temperature"
    assert upstream.count == before


# -- trailing commas: LiteLLM's one tolerance, nothing more (#17) -------------------------------------

TOLERATED = [
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"},],}',
    b'{"model": "llama", "messages": [{"role": "user", "content": "a,}"}\n      ],\n}',
]
STILL_BAD = [
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}],,}',
    b"{'model': 'llama'}",
    b'{"model": "llama", "messages": [{"role": "user", "content": "hi"}]',
    b'{"model": "llama" "messages": []}',
    b'{"model": "llama", "messages": [,]}',
    b"",
    b"\xff\xfe",
]


@pytest.mark.parametrize("body", TOLERATED, ids=range(len(TOLERATED)))
def test_a_trailing_comma_before_a_closing_bracket_is_accepted(post, body):
    answer = post("/v1/chat/completions", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"].startswith("echo: ")


def test_a_comma_inside_a_string_is_kept(post):
    answer = post("/v1/chat/completions", b'{"model": "llama", "messages": [{"role": "user", "content": "a, ]"},]}')
    assert answer.json()["choices"][0]["message"]["content"] == "echo: a, ]"


@pytest.mark.parametrize("body", STILL_BAD, ids=range(len(STILL_BAD)))
def test_other_bad_json_is_still_400(post, upstream, body):
    before = upstream.count
    answer = post("/v1/chat/completions", body)
    assert answer.status_code == 400
    assert assert_openai_error(answer)["type"] == "invalid_request_error"
    assert upstream.count == before


# -- the un-prefixed routes LiteLLM's proxy serves (#17) ----------------------------------------------
# BerriAI/litellm litellm/proxy/_types.py @ 0bf90f0c206a923c997ac1ee780d1e4b02af811c, LiteLLMRoutes.openai_routes:
# "/chat/completions", "/completions", "/embeddings", "/models" beside their "/v1/..." forms.

def test_the_routes_without_v1_answer_as_the_v1_ones(proxy):
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for path in ("/chat/completions", "/v1/chat/completions"):
            assert http.post(path, json=chat()).json()["choices"][0]["message"]["content"] == "echo: Hello"
        for path in ("/completions", "/v1/completions"):
            assert http.post(path, json={"model": "llama", "prompt": "Once"}).json()["object"] == "text_completion"
        for path in ("/models", "/v1/models"):
            assert [m["id"] for m in http.get(path).json()["data"]] == ["llama"]
        assert http.get("/models/llama").json()["id"] == "llama"
        assert http.get("/models/nope").status_code == 404
        embedded = http.post("/embeddings", json={"model": "llama", "input": ["a", "b"]})
        assert embedded.status_code == 200 and len(embedded.json()["data"]) == 2
        schema = http.get("/openapi.json").json()["paths"]
        assert "/v1/chat/completions" in schema and "/chat/completions" not in schema  # one documented spelling


# -- a missing upstream key: said at start-up, never leaked to clients --------------------------------

def test_a_proxy_without_an_upstream_key_warns_at_start_and_tells_clients_nothing_of_the_server(
        tmp_path, monkeypatch, caplog):
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    token_file = tmp_path / "hf-home" / "token"
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))  # where the library would look: not there
    monkeypatch.chdir(tmp_path)  # no ./.env
    config = ProxyConfig.from_mapping({"model_list": [
        {"model_name": "llama", "litellm_params": {"model": "huggingface/meta-llama/Llama-3.1-8B-Instruct"}}]})
    with caplog.at_level(logging.WARNING, logger="llm_interface.server"):
        app = create_app(config)
    warnings = [r.getMessage() for r in caplog.records if "No Hugging Face API key" in r.getMessage()]
    assert len(warnings) == 1 and "llama" in warnings[0]
    with ProxyServer(app) as proxy:
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(), timeout=20)
    assert answer.status_code == 500
    error = assert_openai_error(answer)
    assert error["code"] == "upstream_key_missing"
    for leak in (str(token_file), str(tmp_path), "set_api_key", "pip", "hf auth login"):
        assert leak not in answer.text


def test_a_proxy_with_its_keys_says_nothing_about_keys(upstream, caplog):
    with caplog.at_level(logging.WARNING, logger="llm_interface.server"):
        create_app(ProxyConfig.from_mapping({"model_list": [route("llama", upstream.url)]}))
    assert not [r for r in caplog.records if "API key" in r.getMessage()]


# -- redirects to another host carry no secret (#3) ---------------------------------------------------

def test_an_upstream_redirect_to_another_host_does_not_carry_the_key(upstream):
    """127.0.0.1 redirects to ``localhost``: another host by name, as a redirect to a stranger's server is.

    The Authorization header is dropped by the transports' own rule (requests and aiohttp both drop it on
    a cross-host redirect). The custom secret header (X-Api-Key, from the route's ``headers``) is dropped
    by the library's transport once its cross-host rule lands (issue 16 #3, the transport branch)."""
    target = f"http://localhost:{upstream.port}/v1/chat/completions"
    redirect = Answer(307, {"Location": target, "Content-Type": "text/plain"}, b"moved")
    with LoopbackServer(default=redirect) as first, \
            proxy_for(route("llama", first.url, headers={"X-Api-Key": HEADER_SECRET})) as proxy:
        upstream.reset()
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(), timeout=20)
        assert first.count == 1 and first.requests[0].headers.get("authorization") == f"Bearer {UPSTREAM_KEY}"
    assert answer.status_code in (200, 502), answer.text
    seen = json.dumps([r.headers for r in upstream.requests])
    assert UPSTREAM_KEY not in seen


def test_a_configured_secret_header_is_scrubbed_from_errors(upstream):
    with proxy_for(route("llama", upstream.url, headers={"X-Api-Key": HEADER_SECRET})) as proxy:
        config_secrets = ProxyConfig.from_mapping(
            {"model_list": [route("llama", upstream.url, headers={"X-Api-Key": HEADER_SECRET})]}).secrets()
        assert HEADER_SECRET in config_secrets
        answer = httpx.post(proxy.url + "/v1/chat/completions", json=chat(text="!leak"), timeout=20)
    assert UPSTREAM_KEY not in answer.text and HEADER_SECRET not in answer.text
