"""The router's 400 model_not_supported explained from the catalogue, and ``{"preflight": True}`` before sending.

The 400 body is hf-reference/error_bodies.json ``router_400_model_not_supported`` (reported, OpenAI envelope);
the catalogue is hub-docs' documented /v1/models example (tests/fixtures/hub/router-models.json): novita has no
structured output, fireworks-ai publishes no price, featherless-ai publishes no capabilities, deepinfra's
context is 65536.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from recordings import error_bodies
from support.fake_hub import FakeHub, json_answer
from support.loopback import LoopbackServer

from llm_interface import AsyncClient, Client, errors
from llm_interface.catalogue import ProviderOffer
from llm_interface.providers.hf_routes import ROUTER_ENV
from llm_interface.router_preflight import misfits

KEY = "hf_test_fake_preflight_key"
DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "hub" / "router-models.json").read_text())
MODEL = "deepseek-ai/DeepSeek-V4-Pro"
NOT_SUPPORTED = next(b for b in error_bodies() if b["name"] == "router_400_model_not_supported")
SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
OK = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}


@pytest.fixture
def world(monkeypatch):
    hub = FakeHub(catalogue=DOCUMENTED["data"])
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield hub


def _refuse(world):
    world.answers["/v1/chat/completions"] = json_answer(NOT_SUPPORTED["body"], 400, NOT_SUPPORTED["headers"])


def test_the_routers_400_names_the_providers_that_would_serve_it(world):
    _refuse(world)
    with pytest.raises(errors.ModelNotSupportedError) as caught:
        Client({"huggingface": KEY}).send_message(
            "huggingface", "Give me JSON", {"model": f"{MODEL}:novita", "response_format": SCHEMA})
    error = caught.value
    text = str(error)
    assert isinstance(error, errors.ValidationError) and error.status == 400
    assert "not supported by any provider you have enabled" in text  # the router's own words stay
    assert "novita ($1.69/$3.38 per 1M in/out, context 1048576): no structured output" in text
    assert [o.provider for o in error.alternatives] == ["together", "fireworks-ai", "featherless-ai", "deepinfra"]
    assert f"model='{MODEL}:deepinfra'" in text  # the cheapest priced provider that fits
    assert KEY not in text


def test_tools_and_context_are_checked_too(world):
    _refuse(world)
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with pytest.raises(errors.ModelNotSupportedError) as caught:
        Client({"huggingface": KEY}).send_message(
            "huggingface", "Hi", {"model": MODEL, "tools": tools, "max_tokens": 600000})
    text = str(caught.value)
    assert "deepinfra ($1.74/$3.48 per 1M in/out, context 65536): context 65536 < ~600001 tokens" in text
    assert [o.provider for o in caught.value.alternatives] == ["novita", "fireworks-ai", "featherless-ai"]


def test_a_model_outside_the_catalogue_says_so(world):
    _refuse(world)
    with pytest.raises(errors.ModelNotSupportedError, match="not in the router's catalogue"):
        Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": "HuggingFaceH4/zephyr-7b-beta"})


def test_other_400s_and_an_unreadable_catalogue_leave_the_routers_error(world):
    world.answers["/v1/chat/completions"] = json_answer({"error": "Input validation error: max_tokens"}, 400)
    with pytest.raises(errors.ValidationError) as caught:
        Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": MODEL})
    assert not isinstance(caught.value, errors.ModelNotSupportedError)
    assert [r.path for r in world.seen] == ["/v1/chat/completions"]  # no catalogue read for it
    _refuse(world)
    world.catalogue = []
    world.answers[f"/v1/models/{MODEL}"] = json_answer({"error": "boom"}, 500)
    with pytest.raises(errors.ValidationError):
        Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": MODEL}, {"retry_attempts": 0})


def test_preflight_refuses_before_spending_a_call(world):
    world.answers["/v1/chat/completions"] = OK
    with pytest.raises(errors.ModelNotSupportedError, match="the provider 'novita'"):
        Client({"huggingface": KEY}).send_message(
            "huggingface", "JSON please", {"model": MODEL, "provider": "novita", "response_format": SCHEMA,
                                           "preflight": True})
    assert [r.path for r in world.seen] == [f"/v1/models/{MODEL}"]


def test_preflight_lets_a_fitting_request_through_and_is_not_sent_as_a_parameter(world):
    world.answers["/v1/chat/completions"] = OK
    client = Client({"huggingface": KEY})
    client.send_message("huggingface", "JSON please",
                        {"model": f"{MODEL}:together", "response_format": SCHEMA, "preflight": True})
    client.send_message("huggingface", "again", {"model": f"{MODEL}:together", "preflight": True})
    sent = [r for r in world.seen if r.path == "/v1/chat/completions"]
    assert len(sent) == 2 and "preflight" not in sent[0].body
    assert [r.path for r in world.seen].count(f"/v1/models/{MODEL}") == 1  # the catalogue entry is held


def test_the_async_twin_explains_the_same_way(world):
    _refuse(world)

    async def main():
        async with AsyncClient(Client({"huggingface": KEY})) as client:
            await client.send_message_async("huggingface", "Hi", {"model": f"{MODEL}:novita", "response_format": SCHEMA})

    with pytest.raises(errors.ModelNotSupportedError, match="no structured output"):
        asyncio.run(main())


def test_hf_inference_and_endpoints_are_not_the_routers_business(world):
    world.answers[f"/hf-inference/models/{MODEL}/v1/chat/completions"] = json_answer(NOT_SUPPORTED["body"], 400)
    with pytest.raises(errors.ValidationError) as caught:
        Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": MODEL, "provider": "hf-inference"})
    assert not isinstance(caught.value, errors.ModelNotSupportedError)


@pytest.mark.parametrize("offer,wanted,why", [
    (ProviderOffer("a", status="live"), {"context": 10, "tools": True}, []),  # unknown support is not held against it
    (ProviderOffer("a", status="error"), {"context": 10}, ["status error"]),
    (ProviderOffer("a", supports_tools=False), {"context": 10, "tools": True}, ["no tool calling"]),
    (ProviderOffer("a", context_length=8), {"context": 10}, ["context 8 < ~10 tokens"]),
    (ProviderOffer("a", supports_structured_output=False), {"context": 1}, []),  # not asked for
])
def test_misfits_table(offer, wanted, why):
    assert misfits(offer, wanted) == why
