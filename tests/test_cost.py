"""Response.cost from the catalogue's per-million prices and the usage; Session and batch totals; the budget.

Prices: hub-docs' documented /v1/models example (tests/fixtures/hub/router-models.json): together $2.1 in /
$4.4 out per million tokens, fireworks-ai publishes none. Answers carry the usage shape of the router's chat
completions (prompt_tokens / completion_tokens).
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import pytest
from support.fake_hub import FakeHub, json_answer
from support.loopback import LoopbackServer

from llm_interface import AsyncClient, Client, LLMInterface, Session, errors
from llm_interface.catalogue import ProviderOffer
from llm_interface.cost import priced, total_cost
from llm_interface.providers.hf_routes import ROUTER_ENV

KEY = "hf_test_fake_cost_key"
DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "hub" / "router-models.json").read_text())
MODEL = "deepseek-ai/DeepSeek-V4-Pro"
ANSWER = {"choices": [{"message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}}
TOGETHER = (1000 * 2.1 + 200 * 4.4) / 1_000_000


@pytest.fixture
def world(monkeypatch):
    catalogue = copy.deepcopy(DOCUMENTED["data"])
    catalogue.append({"id": "free/model", "providers": [{"provider": "novita", "status": "live", "is_free": True}]})
    hub = FakeHub(catalogue=catalogue, answers={"/v1/chat/completions": ANSWER,
                                                f"/hf-inference/models/{MODEL}/v1/chat/completions": ANSWER})
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield hub


def _tracking():
    client = Client({"huggingface": KEY})
    client.configure_budget(usd=None)  # prices known, no limit
    return client


def test_the_named_providers_prices_times_the_usage(world):
    response = _tracking().send_message("huggingface", "Hi", {"model": f"{MODEL}:together"})
    assert response.cost == pytest.approx(TOGETHER)
    response = _tracking().send_message("huggingface", "Hi", {"model": MODEL, "provider": "deepinfra"})
    assert response.cost == pytest.approx((1000 * 1.74 + 200 * 3.48) / 1_000_000)


def test_unknown_is_none_never_zero(world):
    client = _tracking()
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:fireworks-ai"}).cost is None  # no price
    assert client.send_message("huggingface", "Hi", {"model": MODEL}).cost is None  # the router chose: who?
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:cheapest"}).cost is None
    assert client.send_message("huggingface", "Hi", {"model": "other/model:together"}).cost is None
    world.answers["/v1/chat/completions"] = {"choices": [{"message": {"content": "x"}}]}  # no usage
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:together"}).cost is None


def test_free_is_a_true_zero(world):
    assert _tracking().send_message("huggingface", "Hi", {"model": "free/model:novita"}).cost == 0.0


def test_no_catalogue_held_no_cost_and_no_request_for_it(world):
    response = Client({"huggingface": KEY}).send_message("huggingface", "Hi", {"model": f"{MODEL}:together"})
    assert response.cost is None
    assert [r.path for r in world.seen] == ["/v1/chat/completions"]


def test_listing_the_catalogue_is_enough_to_price_answers(world):
    client = Client({"huggingface": KEY})
    client.list_models("huggingface")
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:together"}).cost == pytest.approx(TOGETHER)


def test_a_session_adds_up_and_a_cached_answer_costs_nothing_more(world):
    client = _tracking()
    client.configure_cache("memory")
    session = Session("huggingface", f"{MODEL}:together", client=client)
    session.send("Hi")
    session.send("And again?")
    assert session.cost == pytest.approx(2 * TOGETHER)
    first = client.send_message("huggingface", "Same", {"model": f"{MODEL}:together"})
    again = client.send_message("huggingface", "Same", {"model": f"{MODEL}:together"})
    assert again.cached and again.cost == first.cost  # the cache keeps what it cost then
    assert client.budget.spent == pytest.approx(3 * TOGETHER)  # ... and the budget counts it once


def test_a_batch_adds_up(world):
    client = _tracking()
    results = client.send_messages("huggingface", ["a", "b", "c"], {"model": f"{MODEL}:together"}, progress=False)
    assert total_cost(results) == pytest.approx(3 * TOGETHER)
    assert total_cost([errors.ServerError("x")]) is None


def test_the_budget_refuses_the_call_that_would_pass_it(world):
    client = Client({"huggingface": KEY})
    budget = client.configure_budget(usd=TOGETHER * 1.5)
    client.send_message("huggingface", "Hi", {"model": f"{MODEL}:together", "max_tokens": 200})
    assert budget.spent == pytest.approx(TOGETHER)
    with pytest.raises(errors.BudgetExceededError) as caught:
        client.send_message("huggingface", "Hi" * 2000, {"model": f"{MODEL}:together", "max_tokens": 200})
    assert caught.value.spent == pytest.approx(TOGETHER) and "configure_budget" in str(caught.value)
    assert [r.path for r in world.seen].count("/v1/chat/completions") == 1  # refused before sending
    client.send_message("huggingface", "Hi", {"model": f"{MODEL}:together", "max_tokens": 5})  # small still fits
    with pytest.raises(errors.BudgetExceededError):  # now spent is past the limit: anything priced is refused
        client.send_message("huggingface", "Hi", {"model": f"{MODEL}:together", "max_tokens": 5})


def test_the_budget_takes_the_dearest_provider_when_the_router_chooses(world):
    client = Client({"huggingface": KEY})
    client.configure_budget(usd=100 * 4.4 / 1_000_000)  # enough for 100 output tokens at together's price
    with pytest.raises(errors.BudgetExceededError):
        client.send_message("huggingface", "Hi", {"model": MODEL, "max_tokens": 100})  # together is dearest
    client.send_message("huggingface", "Hi", {"model": f"{MODEL}:novita", "max_tokens": 100})  # novita's 3.38 fits


@pytest.mark.parametrize("usd", [-1, "5", float("nan"), True])
def test_a_bad_budget_is_a_typed_error(usd):
    with pytest.raises(errors.InvalidRequestError):
        Client().configure_budget(usd)


def test_the_async_twin_and_the_facade_keep_the_same_budget(world):
    LLMInterface.set_api_key({"huggingface": KEY})
    LLMInterface.configure_budget(usd=None)

    async def main():
        async with AsyncClient(LLMInterface.client) as client:
            return await client.send_message_async("huggingface", "Hi", {"model": f"{MODEL}:together"})

    assert asyncio.run(main()).cost == pytest.approx(TOGETHER)
    assert LLMInterface.client.budget.spent == pytest.approx(TOGETHER)


@pytest.mark.parametrize("offer,prompt,completion,expected", [
    (ProviderOffer("a", input_price=2.0, output_price=4.0), 1_000_000, 500_000, 4.0),
    (ProviderOffer("a", input_price=2.0, output_price=None), 10, 10, None),   # half a price is no price
    (ProviderOffer("a", is_free=True), 10, 10, 0.0),
    (ProviderOffer("a", input_price=1.0, output_price=1.0), None, 10, None),  # no usage
    (None, 10, 10, None),
])
def test_priced_table(offer, prompt, completion, expected):
    assert priced(offer, prompt, completion) == expected


def test_the_routers_header_says_who_answered_and_prices_it(world):
    world.answers["/v1/chat/completions"] = json_answer(ANSWER, headers={"x-inference-provider": "together"})
    response = _tracking().send_message("huggingface", "Hi", {"model": MODEL})
    assert response.inference_provider == "together" and response.cost == pytest.approx(TOGETHER)


def test_who_answered_without_the_header(world):
    client = _tracking()
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:deepinfra"}).inference_provider == "deepinfra"
    assert client.send_message("huggingface", "Hi", {"model": f"{MODEL}:cheapest"}).inference_provider is None
    hf = client.send_message("huggingface", "Hi", {"model": MODEL, "provider": "hf-inference"})
    assert hf.inference_provider == "hf-inference" and hf.cost is None  # hf-inference is not in the catalogue
