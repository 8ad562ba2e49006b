"""The proxy's usage accounting end to end: the official ``openai`` client -> our proxy -> a loopback Hugging Face
router (tests/support/fake_hub.py) that serves the documented catalogue (tests/fixtures/hub/router-models.json:
together $2.1 in / $4.4 out per million tokens, fireworks-ai no price) and chat answers with a usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.fake_hub import FakeHub, json_answer
from support.loopback import Answer, LoopbackServer
from support.skips import require

require("fastapi", "server")
require("uvicorn", "server")
openai = require("openai", "test")
httpx = require("httpx", "test")

from proxy_server import ProxyServer  # noqa: E402

from llm_interface.providers.hf_routes import ROUTER_ENV  # noqa: E402
from llm_interface.server import ProxyConfig, create_app  # noqa: E402

KEY = "hf_test_fake_proxy_cost_key"
MASTER = "sk-test-fake-proxy-cost-master"
CATALOGUE = json.loads((Path(__file__).parent / "fixtures" / "hub" / "router-models.json").read_text())["data"]
MODEL = "deepseek-ai/DeepSeek-V4-Pro"
USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
TOGETHER = (1000 * 2.1 + 200 * 4.4) / 1_000_000
CONFIG = f"""
model_list:
  - model_name: priced                      # together publishes a price
    litellm_params: {{model: huggingface/together/{MODEL}, api_key: {KEY}}}
  - model_name: unpriced                    # fireworks-ai publishes none
    litellm_params: {{model: huggingface/fireworks-ai/{MODEL}, api_key: {KEY}}}
  - model_name: chosen                      # the router picks, and its answer does not say who answered
    litellm_params: {{model: huggingface/{MODEL}, api_key: {KEY}}}
general_settings:
  master_key: {MASTER}
llm_interface_settings:
  interface_options: {{retry_attempts: 0}}
"""


def _chat(request):
    if not request.body.get("stream"):
        return {"choices": [{"message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
                "usage": USAGE}
    events = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello!"}, "finish_reason": None}]},
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": USAGE}]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return Answer(200, {"Content-Type": "text/event-stream"}, body.encode())


@pytest.fixture
def hub(monkeypatch):
    fake = FakeHub(catalogue=CATALOGUE, answers={"/v1/chat/completions": _chat})
    with LoopbackServer(responder=fake) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield fake


def _proxy(tmp_path, extra=""):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG + extra)
    return ProxyServer(create_app(ProxyConfig.load(path)))


@pytest.fixture
def proxy(hub, tmp_path):
    with _proxy(tmp_path) as server:
        yield server


@pytest.fixture
def ai(proxy):
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER, max_retries=0, timeout=20) as client:
        yield client


def _usage(proxy, path="/v1/usage"):
    answer = httpx.get(proxy.url + path, headers={"Authorization": f"Bearer {MASTER}"}, timeout=20)
    assert answer.status_code == 200
    return answer.json()


def _create(ai, model, **kwargs):
    return ai.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "Hi"}],
                                                        **kwargs)


def test_an_answer_carries_its_cost_in_the_body_and_the_header(ai, hub):
    raw = _create(ai, "priced")
    assert float(raw.headers["x-llm-interface-cost"]) == pytest.approx(TOGETHER)
    completion = raw.parse()  # the official client parses the extra field
    assert completion.choices[0].message.content == "Hello!"
    assert completion.usage.total_tokens == 1200
    assert completion.usage.model_extra["cost"] == pytest.approx(TOGETHER)


def test_two_calls_add_up_in_v1_usage(ai, proxy, hub):
    _create(ai, "priced")
    _create(ai, "priced")
    row = {r["model"]: r for r in _usage(proxy)["data"]}["priced"]
    assert row["requests"] == 2
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (2000, 400, 2400)
    assert row["cost"] == pytest.approx(2 * TOGETHER)
    assert row["unknown_cost_requests"] == 0
    assert _usage(proxy, "/usage") == _usage(proxy)  # LiteLLM-style path without /v1
    assert [r.path for r in hub.seen].count("/v1/models") == 1  # the catalogue loads once, not per call


def test_an_unknown_cost_is_counted_as_unknown_never_as_zero(ai, proxy):
    for model in ("unpriced", "chosen"):
        raw = _create(ai, model)
        assert "x-llm-interface-cost" not in raw.headers
        assert "cost" not in (raw.parse().usage.model_extra or {})
    _create(ai, "priced")
    report = _usage(proxy)
    rows = {r["model"]: r for r in report["data"]}
    assert rows["unpriced"]["cost"] is None and rows["unpriced"]["unknown_cost_requests"] == 1
    assert rows["chosen"]["cost"] is None and rows["chosen"]["requests"] == 1
    assert report["total"]["requests"] == 3
    assert report["total"]["cost"] == pytest.approx(TOGETHER)  # the known ones only
    assert report["total"]["unknown_cost_requests"] == 2


def test_the_final_usage_chunk_of_a_stream_carries_the_cost(ai, proxy):
    chunks = list(ai.chat.completions.create(model="priced", messages=[{"role": "user", "content": "Hi"}],
                                             stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert chunks[-1].usage.completion_tokens == 200
    assert chunks[-1].usage.model_extra["cost"] == pytest.approx(TOGETHER)
    list(ai.chat.completions.create(model="priced", messages=[{"role": "user", "content": "Hi"}], stream=True))
    row = _usage(proxy)["data"][0]
    assert (row["model"], row["requests"], row["cost"]) == ("priced", 2, pytest.approx(2 * TOGETHER))


def test_a_cached_answer_counts_as_a_request_that_cost_nothing(hub, tmp_path):
    with _proxy(tmp_path, "  cache: {backend: memory}\n") as proxy:
        with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER, max_retries=0, timeout=20) as ai:
            first, second = _create(ai, "priced"), _create(ai, "priced")
        assert float(first.headers["x-llm-interface-cost"]) == pytest.approx(TOGETHER)
        assert float(second.headers["x-llm-interface-cost"]) == 0.0
        assert len(hub.routed()) == 1  # the second answer came from the cache
        row = _usage(proxy)["data"][0]
        assert (row["requests"], row["cached_requests"], row["unknown_cost_requests"]) == (2, 1, 0)
        assert row["cost"] == pytest.approx(TOGETHER)


def test_a_catalogue_that_cannot_load_leaves_costs_unknown_and_fails_nothing(hub, tmp_path, caplog):
    def no_catalogue(request):
        if request.path == "/v1/models":
            return json_answer({"error": "test: the catalogue is down"}, 503)
        return hub(request)

    with LoopbackServer(responder=no_catalogue) as router:
        hub_url = router.url
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(ROUTER_ENV, hub_url)
            with _proxy(tmp_path) as proxy:
                with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER, max_retries=0, timeout=20) as ai:
                    raw = _create(ai, "priced")
                assert raw.parse().choices[0].message.content == "Hello!"
                assert "x-llm-interface-cost" not in raw.headers
                row = _usage(proxy)["data"][0]
                assert (row["cost"], row["unknown_cost_requests"]) == (None, 1)
    assert "catalogue did not load" in caplog.text
    assert KEY not in caplog.text


def test_v1_usage_needs_the_master_key(proxy):
    assert httpx.get(proxy.url + "/v1/usage", timeout=20).status_code == 401
    wrong = httpx.get(proxy.url + "/usage", headers={"Authorization": "Bearer sk-test-wrong"}, timeout=20)
    assert wrong.status_code == 401
