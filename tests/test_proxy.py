"""The proxy end to end: the official ``openai`` client -> our proxy (uvicorn, loopback) -> a loopback
server speaking Hugging Face's wire format."""

from __future__ import annotations

import json
import logging
import os
import uuid

import pytest
from support.loopback import free_port
from support.skips import require
from support.upstream import Upstream

require("fastapi", "server")
require("uvicorn", "server")
openai = require("openai", "test")
httpx = require("httpx", "test")

from proxy_server import ProxyServer  # noqa: E402

from llm_interface.server import ProxyConfig, create_app  # noqa: E402

UPSTREAM_KEY = "hf_upstream_secret_do_not_leak_0123456789"
MASTER_KEY = "sk-proxy-master-0123456789"
LIMIT = 8192

CONFIG = """
model_list:
  - model_name: llama
    litellm_params:
      model: huggingface/meta-llama/Llama-3.1-8B-Instruct
      api_key: os.environ/PROXY_TEST_HF_TOKEN
      api_base: {base}
  - model_name: embedder
    litellm_params:
      model: huggingface/sentence-transformers/all-MiniLM-L6-v2
      api_key: os.environ/PROXY_TEST_HF_TOKEN
      api_base: {base}
router_settings:
  model_group_alias: {{gpt-4o: llama}}
general_settings:
  master_key: os.environ/PROXY_TEST_MASTER_KEY
llm_interface_settings:
  max_request_bytes: {limit}
  interface_options: {{retry_attempts: 0}}
"""


pytest_plugins = ("redis_server",)  # a real redis-server on 127.0.0.1: redis_server, redis_url


@pytest.fixture(scope="module")
def upstream():
    with Upstream() as server:
        yield server


@pytest.fixture(scope="module")
def config(upstream, tmp_path_factory):
    path = tmp_path_factory.mktemp("proxy") / "config.yaml"
    path.write_text(CONFIG.format(base=upstream.url, limit=LIMIT))
    os.environ["PROXY_TEST_HF_TOKEN"], os.environ["PROXY_TEST_MASTER_KEY"] = UPSTREAM_KEY, MASTER_KEY
    try:
        return ProxyConfig.load(path)
    finally:
        del os.environ["PROXY_TEST_HF_TOKEN"], os.environ["PROXY_TEST_MASTER_KEY"]


@pytest.fixture(scope="module")
def proxy(config):
    with ProxyServer(create_app(config)) as server:
        yield server


@pytest.fixture
def ai(proxy):
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=20) as client:
        yield client


@pytest.fixture
def raw(proxy):
    with httpx.Client(base_url=proxy.url, timeout=20, headers={"Authorization": f"Bearer {MASTER_KEY}"}) as client:
        yield client


def chat(ai, text, **kwargs):
    return ai.chat.completions.create(model="llama", messages=[{"role": "user", "content": text}], **kwargs)


def test_chat_completion(ai, upstream):
    answer = chat(ai, "hello there", max_tokens=20, temperature=0.5)
    assert answer.choices[0].message.content == "echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "llama"
    assert answer.usage.total_tokens == 5  # 2 prompt words + 3 answer words
    sent = upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"  # the proxy's key upstream, not the client's
    assert sent.body["max_tokens"] == 20 and sent.body["temperature"] == 0.5
    assert sent.body["model"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_public_alias_reaches_the_same_model(ai):
    answer = ai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "echo: hi"
    assert answer.model == "gpt-4o"


def test_streaming_chat(ai):
    stream = chat(ai, "tell me a story", stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: tell me a story"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_stream_ends_with_done(raw):
    body = {"model": "llama", "stream": True, "messages": [{"role": "user", "content": "a b"}]}
    with raw.stream("POST", "/v1/chat/completions", json=body) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in answer.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


def test_error_in_the_middle_of_a_stream_reaches_the_client(ai):
    with pytest.raises(openai.APIError) as caught:
        list(chat(ai, "!midstream please", stream=True))
    assert "CUDA out of memory" in str(caught.value)


def test_models_list_names_only_public_names(ai, raw):
    assert sorted(m.id for m in ai.models.list()) == ["embedder", "gpt-4o", "llama"]
    assert ai.models.retrieve("llama").id == "llama"
    text = raw.get("/v1/models").text
    assert UPSTREAM_KEY not in text and "127.0.0.1" not in text and "meta-llama" not in text


def test_unknown_model_is_404_in_openai_shape(ai):
    with pytest.raises(openai.NotFoundError) as caught:
        ai.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"
    assert caught.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        ai.models.retrieve("gpt-5")


def test_wrong_or_missing_master_key_is_401(proxy):
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.models.list()
    assert caught.value.code == "invalid_api_key"
    answer = httpx.get(proxy.url + "/v1/models")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"


def test_health_and_docs_need_no_key(proxy):
    assert httpx.get(proxy.url + "/health").json() == {"status": "ok"}
    assert httpx.get(proxy.url + "/docs").status_code == 200
    paths = httpx.get(proxy.url + "/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/health", "/rerank"} <= set(paths)


@pytest.mark.parametrize(
    "status, error_class, openai_status, error_type",
    [
        (401, openai.InternalServerError, 502, "upstream_authentication_error"),
        (402, openai.APIStatusError, 402, "insufficient_quota"),
        (404, openai.NotFoundError, 404, "invalid_request_error"),
        (422, openai.UnprocessableEntityError, 422, "invalid_request_error"),
        (429, openai.RateLimitError, 429, "rate_limit_error"),
        (500, openai.InternalServerError, 502, "upstream_error"),
        (503, openai.InternalServerError, 503, "model_loading"),
    ],
)
def test_upstream_errors_map_to_openai_errors(ai, status, error_class, openai_status, error_type):
    with pytest.raises(error_class) as caught:
        chat(ai, f"!status {status}")
    error = caught.value
    assert error.status_code == openai_status
    assert error.body["type"] == error_type
    assert UPSTREAM_KEY not in json.dumps(error.body)
    if status == 503:
        assert error.response.headers["retry-after"] == "20"


def test_upstream_key_echoed_by_upstream_is_scrubbed(ai, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(openai.BadRequestError) as caught:
        chat(ai, "!leak")
    assert "[redacted]" in caught.value.body["message"]
    assert UPSTREAM_KEY not in caught.value.response.text
    assert UPSTREAM_KEY not in caplog.text and MASTER_KEY not in caplog.text


def test_clients_cannot_redirect_the_upstream_call(ai, upstream):
    before = len(upstream.requests)
    for field in ({"api_base": "http://attacker.example"}, {"api_key": "x"}, {"headers": {"X": "1"}}):
        with pytest.raises(openai.BadRequestError) as caught:
            chat(ai, "hi", extra_body=field)
        assert caught.value.param == next(iter(field))
    assert len(upstream.requests) == before


@pytest.mark.parametrize(
    "field",
    [{"retry_attempts": 6}, {"retryAttempts": 6}, {"cache": False}, {"refresh": True},
     {"cache_timeout_seconds": 0}, {"cacheTimeoutSeconds": 0}, {"max_retry_wait": 600}, {"include_original_response": True}],
)
def test_clients_cannot_override_the_operators_interface_options(ai, upstream, field):
    # Retries and cache are the operator's (config: retry_attempts 0): a client asking for 6 retries of a
    # failing call would make the proxy call upstream 7 times.
    before = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        chat(ai, "!status 500", extra_body=field)
    assert caught.value.status_code == 400
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.param == next(iter(field))
    assert len(upstream.requests) == before


def test_invalid_body_is_400_in_openai_shape(ai, raw):
    with pytest.raises(openai.BadRequestError):
        ai.chat.completions.create(model="llama", messages=[{"role": "wizard", "content": "hi"}])
    answer = raw.post("/v1/chat/completions", json={"model": "llama"})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "messages"
    answer = raw.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"


def test_bodies_over_the_limit_are_413(raw, upstream):
    before = len(upstream.requests)
    big = {"model": "llama", "messages": [{"role": "user", "content": "x" * LIMIT}]}
    answer = raw.post("/v1/chat/completions", json=big)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"
    # Chunked, without Content-Length: counted as it arrives.
    chunked = raw.post("/v1/chat/completions", content=iter([json.dumps(big).encode()[i:i + 1000] for i in range(0, LIMIT + 200, 1000)]))
    assert chunked.status_code == 413
    assert len(upstream.requests) == before


def test_default_bind_is_loopback():
    assert ProxyConfig.from_mapping({"model_list": [{"model_name": "m", "litellm_params": {"model": "huggingface/a/b"}}]}).host == "127.0.0.1"


def test_embeddings_float_and_base64(ai):
    answer = ai.embeddings.create(model="embedder", input=["hello", "bye"])  # the client asks for base64
    assert [d.embedding for d in answer.data] == [[5.0, 2.0, 1.0], [3.0, 1.0, 1.0]]
    answer = ai.embeddings.create(model="embedder", input="hello", encoding_format="float")
    assert answer.data[0].embedding == [5.0, 2.0, 1.0]


def test_text_completion(ai):
    answer = ai.completions.create(model="llama", prompt="Once upon", max_tokens=5)
    assert answer.choices[0].text == " continued: Once upon"
    streamed = "".join(c.choices[0].text for c in ai.completions.create(model="llama", prompt="Once", stream=True) if c.choices)
    assert streamed == " continued: Once"


def test_rerank(raw):
    answer = raw.post("/rerank", json={"model": "embedder", "query": "red fox", "documents": ["a red fox", "blue sky"]})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results[0]["index"] == 0 and results[0]["document"]["text"] == "a red fox"


def test_proxy_answers_from_the_library_cache(upstream, config):
    from dataclasses import replace

    cached = replace(config, interface_options={"retry_attempts": 0, "cache_timeout_seconds": 60})
    with ProxyServer(create_app(cached)) as server:
        with openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0) as ai:
            before = len(upstream.requests)
            first, second = chat(ai, "cache me"), chat(ai, "cache me")
            streamed = "".join(c.choices[0].delta.content or "" for c in chat(ai, "cache me", stream=True) if c.choices)
    assert first.choices[0].message.content == second.choices[0].message.content == streamed == "echo: cache me"
    assert len(upstream.requests) == before + 1


def test_replicas_sharing_a_redis_cache_call_upstream_once(upstream, config, redis_server):
    """Two proxy replicas configured with one real Redis (as across machines) answer from one cache."""
    from dataclasses import replace

    url, _process = redis_server
    shared = replace(config, cache={"backend": "redis", "url": url, "prefix": f"proxy-test-{uuid.uuid4().hex}:"},
                     interface_options={"retry_attempts": 0})
    with ProxyServer(create_app(shared)) as one, ProxyServer(create_app(shared)) as two:
        before = len(upstream.requests)
        for server in (one, two):
            with openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0) as ai:
                assert chat(ai, "shared").choices[0].message.content == "echo: shared"
    assert len(upstream.requests) == before + 1


def test_cache_settings_in_the_config_configure_the_client(config):
    from dataclasses import replace

    from llm_interface.server.app import build_client

    client = build_client(replace(config, cache={"backend": "memory"}))
    assert client.cache is not None


def test_stream_refused_upstream_keeps_its_status(ai):
    with pytest.raises(openai.RateLimitError):
        list(chat(ai, "!status 429", stream=True))


def test_unreachable_upstream_is_502(config):
    from dataclasses import replace

    port = free_port()
    route = config.routes["llama"]
    down = replace(route, options={**route.options, "api_base": f"http://127.0.0.1:{port}"})
    with ProxyServer(create_app(replace(config, routes={"llama": down}, public_aliases={}))) as server:
        with openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0) as ai:
            with pytest.raises(openai.InternalServerError) as caught:
                chat(ai, "hi")
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "upstream_connection_error"
    assert UPSTREAM_KEY not in caught.value.response.text
