"""The router's selection policies and billing on chat: ``:fastest``, ``:cheapest``, ``:preferred`` go out on the
model id as the router documents them (hub-docs ``docs/inference-providers/index.md``, "provider selection
policies"; hf-reference/README.md), the ``provider`` option becomes the same suffix, and ``bill_to`` is the
``X-HF-Bill-To`` header. None of them costs a Hub request.
"""

from __future__ import annotations

import pytest
from support.fake_hub import FakeHub
from support.loopback import LoopbackServer

from llm_interface import Client
from llm_interface.providers.hf_hub_mapping import DEFAULT_PROVIDER_ENV, HUB_ENV
from llm_interface.providers.hf_routes import ROUTER_ENV

KEY = "hf_test_fake_policy_key"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
OK = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}


@pytest.fixture
def world(monkeypatch):
    hub = FakeHub(answers={"/v1/chat/completions": OK})
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.delenv(DEFAULT_PROVIDER_ENV, raising=False)
        yield hub


@pytest.mark.parametrize("policy", ["fastest", "cheapest", "preferred"])
def test_a_policy_suffix_goes_to_the_router_as_is(world, policy):
    Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": f"{MODEL}:{policy}"})
    (sent,) = world.seen
    assert sent.path == "/v1/chat/completions" and sent.body["model"] == f"{MODEL}:{policy}"


@pytest.mark.parametrize("policy", ["fastest", "cheapest", "preferred"])
def test_the_provider_option_becomes_the_policy_suffix(world, policy):
    Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": MODEL, "provider": policy})
    assert world.seen[0].body["model"] == f"{MODEL}:{policy}"


def test_auto_leaves_the_choice_to_the_router_and_bill_to_is_kept(world):
    Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": MODEL, "provider": "auto",
                                                                     "bill_to": "my-org"})
    (sent,) = world.seen
    assert sent.body["model"] == MODEL and sent.headers["x-hf-bill-to"] == "my-org"
    assert world.hub_requests() == []
