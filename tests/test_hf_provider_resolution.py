"""provider="auto" for non-chat tasks: the Hub's inferenceProviderMapping, read once, picks the provider and its
own model id; a named provider is checked against it; chat keeps the router's server-side routing.

Mapping shapes: hub-docs ``docs/inference-providers/hub-api.md`` ("Get model providers": a dict keyed by
provider with ``status``, ``providerId``, ``task``) and huggingface_hub ``hf_api.ModelInfo`` (also a list of
``{provider, providerId, status, task}``). Answers: huggingface_hub ``tests/test_inference_providers.py``'s
deepinfra/together embeddings shapes. Everything runs against a loopback Hub + router (support/fake_hub.py).
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import pytest
from support.fake_hub import FakeHub, json_answer
from support.loopback import LoopbackServer

from llm_interface import AsyncClient, Client, errors
from llm_interface.hf_resolution import forget
from llm_interface.providers.hf_hub_mapping import DEFAULT_PROVIDER_ENV, HUB_ENV, choose, parse_mapping
from llm_interface.providers.hf_routes import ROUTER_ENV
from llm_interface.request import Request

KEY = "hf_test_fake_resolution_key"
MODEL = "Qwen/Qwen3-Embedding-0.6B"
DEEPINFRA_ANSWER = {  # huggingface_hub test_feature_extraction_response
    "object": "list",
    "data": [
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]},
        {"object": "embedding", "index": 1, "embedding": [0.4, 0.5, 0.6]},
    ],
    "model": "Qwen/Qwen3-Embedding-0.6B",
}
MAPPING = [  # the user's order: a provider we have no row for, a staging one, then the live one
    {"provider": "groq", "providerId": "qwen3-embed", "task": "feature-extraction", "status": "live"},
    {"provider": "scaleway", "providerId": "qwen3-embedding-0.6b", "task": "feature-extraction", "status": "staging"},
    {"provider": "deepinfra", "providerId": "Qwen/Qwen3-Embedding-0.6B-di", "task": "feature-extraction", "status": "live"},
    {"provider": "together", "providerId": "Qwen/Qwen3-Chat", "task": "conversational", "status": "live"},
]


@pytest.fixture
def world(monkeypatch):
    hub = FakeHub(mappings={MODEL: MAPPING}, answers={"/deepinfra/v1/openai/embeddings": DEEPINFRA_ANSWER})
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.delenv(DEFAULT_PROVIDER_ENV, raising=False)
        yield hub


def test_auto_picks_the_first_live_provider_with_a_route_and_sends_its_own_id(world):
    client = Client({"huggingface": KEY})
    answer = client.embeddings("huggingface", ["a", "b"], {"model": MODEL})
    assert answer.embeddings == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    (hub,) = world.hub_requests()
    assert hub.method == "GET" and unquote(hub.path) == f"/api/models/{MODEL}?expand[]=inferenceProviderMapping"
    assert hub.headers["authorization"] == f"Bearer {KEY}"
    (sent,) = world.routed()
    assert sent.path == "/deepinfra/v1/openai/embeddings"
    assert sent.body == {"input": ["a", "b"], "model": "Qwen/Qwen3-Embedding-0.6B-di"}
    assert sent.headers["authorization"] == f"Bearer {KEY}"


def test_the_mapping_costs_one_hub_request_per_process(world):
    client = Client({"huggingface": KEY})
    for _ in range(3):
        client.embeddings("huggingface", ["a", "b"], {"model": MODEL})
    Client({"huggingface": KEY}).embeddings("huggingface", ["a", "b"], {"model": MODEL})  # another client too
    assert len(world.hub_requests()) == 1
    assert len(world.routed()) == 4


def test_a_configured_cache_keeps_the_mapping_across_processes(world, tmp_path):
    first = Client({"huggingface": KEY})
    first.configure_cache("files", path=str(tmp_path / "cache"))
    first.embeddings("huggingface", ["a", "b"], {"model": MODEL}, {"cache": False})
    forget()  # a new process: the memory is gone, the files cache is not
    second = Client({"huggingface": KEY})
    second.configure_cache("files", path=str(tmp_path / "cache"))
    second.embeddings("huggingface", ["a", "b"], {"model": MODEL}, {"cache": False})
    assert len(world.hub_requests()) == 1
    assert len(world.routed()) == 2
    stored = " ".join(p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert "deepinfra" in stored and KEY not in stored


def test_a_named_provider_is_checked_against_the_mapping(world):
    client = Client({"huggingface": KEY})
    with pytest.raises(errors.NoProviderError) as caught:
        client.embeddings("huggingface", ["a", "b"], {"model": MODEL, "provider": "together"})
    message = str(caught.value)
    assert "'together'" in message and "deepinfra (live)" in message and "scaleway (staging)" in message
    assert caught.value.providers == ("groq", "scaleway", "deepinfra")
    assert world.routed() == []  # nothing was sent


def test_a_model_suffix_names_the_provider_and_a_staging_one_is_allowed_when_named(world):
    world.answers["/scaleway/v1/embeddings"] = DEEPINFRA_ANSWER
    client = Client({"huggingface": KEY})
    client.embeddings("huggingface", ["a", "b"], {"model": f"{MODEL}:scaleway"})
    (sent,) = world.routed()
    assert sent.path == "/scaleway/v1/embeddings"
    assert sent.body["model"] == "qwen3-embedding-0.6b"


def test_no_live_provider_for_the_task_is_a_typed_error_listing_who_serves_what(world):
    world.mappings["meta-llama/Llama-3.1-8B"] = {  # the Hub's dict form
        "together": {"status": "live", "providerId": "meta-llama/Llama-3.1-8B-Turbo", "task": "conversational"},
    }
    with pytest.raises(errors.NoProviderError, match="other tasks: together: conversational") as caught:
        Client({"huggingface": KEY}).complete("huggingface", "Once upon", {"model": "meta-llama/Llama-3.1-8B"})
    assert "model:<name>" in str(caught.value) and KEY not in str(caught.value)


def test_an_unknown_model_on_the_hub_is_not_found(world):
    with pytest.raises(errors.NotFoundError):
        Client({"huggingface": KEY}).embeddings("huggingface", "a", {"model": "nobody/nothing"})


def test_a_hub_error_quoting_the_token_never_shows_it(world):
    world.mappings["gated/model"] = json_answer({"error": f"Invalid credentials in Authorization header: Bearer {KEY}"}, 401)
    with pytest.raises(errors.AuthenticationError) as caught:
        Client({"huggingface": KEY}).embeddings("huggingface", "a", {"model": "gated/model"})
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.body)


def test_chat_keeps_the_routers_own_auto_routing(world):
    world.answers["/v1/chat/completions"] = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    Client({"huggingface": KEY}).send_message("huggingface", "Hello", {"model": MODEL})
    assert world.hub_requests() == []
    assert world.routed()[0].body["model"] == MODEL


def test_hf_inference_named_or_as_the_default_needs_no_hub_request(world, monkeypatch):
    world.answers[f"/hf-inference/models/{MODEL}/pipeline/feature-extraction"] = [[0.5, 0.5]]
    Client({"huggingface": KEY}).embeddings("huggingface", ["a"], {"model": MODEL, "provider": "hf-inference"})
    monkeypatch.setenv(DEFAULT_PROVIDER_ENV, "hf-inference")
    Client({"huggingface": KEY}).embeddings("huggingface", ["a"], {"model": MODEL})
    assert world.hub_requests() == [] and len(world.routed()) == 2


def test_hf_inference_first_in_the_mapping_is_served_on_its_own_route(world):
    world.mappings["BAAI/bge-small-en-v1.5"] = [
        {"provider": "hf-inference", "providerId": "BAAI/bge-small-en-v1.5", "task": "feature-extraction", "status": "live"},
    ]
    world.answers["/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"] = [0.25, 0.75]
    answer = Client({"huggingface": KEY}).embeddings("huggingface", "a", {"model": "BAAI/bge-small-en-v1.5"})
    assert answer.embeddings == [[0.25, 0.75]]


def test_a_policy_suffix_off_chat_is_a_typed_error_except_preferred(world):
    client = Client({"huggingface": KEY})
    with pytest.raises(errors.UnsupportedTaskError, match="to chat only"):
        client.embeddings("huggingface", ["a", "b"], {"model": f"{MODEL}:cheapest"})
    client.embeddings("huggingface", ["a", "b"], {"model": f"{MODEL}:preferred"})  # the user's order: auto
    assert world.routed()[-1].path == "/deepinfra/v1/openai/embeddings"


def test_async_twin_resolves_the_same_way(world):
    async def main():
        async with AsyncClient(Client({"huggingface": KEY})) as client:
            first = await client.embeddings_async("huggingface", ["a", "b"], {"model": MODEL})
            await client.embeddings_async("huggingface", ["a", "b"], {"model": MODEL})
            return first

    assert asyncio.run(main()).embeddings[1] == [0.4, 0.5, 0.6]
    assert len(world.hub_requests()) == 1 and len(world.routed()) == 2


def test_a_retry_after_503_goes_to_the_same_provider(world):
    answers = iter([json_answer({"error": "busy"}, 503), json_answer(DEEPINFRA_ANSWER)])
    world.answers["/deepinfra/v1/openai/embeddings"] = lambda request: next(answers)
    answer = Client({"huggingface": KEY}).embeddings("huggingface", ["a", "b"], {"model": MODEL},
                                                     {"retry_multiplier": 0})
    assert answer.retries == 1 and len(world.hub_requests()) == 1


@pytest.mark.parametrize("body", [[], "text", {"inferenceProviderMapping": "x"}, {"inferenceProviderMapping": [1, {}]}])
def test_odd_hub_answers_give_a_mapping_or_a_typed_error(body):
    try:
        assert parse_mapping(body, MODEL) == ()
    except errors.InvalidResponseError:
        assert not isinstance(body, dict)


def test_a_suffix_wins_over_the_provider_option(world):
    world.answers["/scaleway/v1/embeddings"] = DEEPINFRA_ANSWER
    Client({"huggingface": KEY}).embeddings("huggingface", ["a", "b"], {"model": f"{MODEL}:scaleway", "provider": "together"})
    assert world.routed()[0].path == "/scaleway/v1/embeddings"


@pytest.mark.parametrize("named,status,chosen", [
    ("auto", "error", "deepinfra"),       # auto skips a provider whose health check failed
    ("groq", "live", None),               # named, but we have no route for it
    ("scaleway", "error", "scaleway"),    # named: used even when not live (a warning is logged)
])
def test_choose_table(named, status, chosen):
    mappings = parse_mapping({"inferenceProviderMapping": [
        {"provider": "groq", "providerId": "g", "task": "feature-extraction", "status": "live"},
        {"provider": "scaleway", "providerId": "s", "task": "feature-extraction", "status": status},
        {"provider": "deepinfra", "providerId": "d", "task": "feature-extraction", "status": "live"},
    ]}, MODEL)
    request = Request("huggingface", "embeddings", model=MODEL, inputs=["a"], settings={"provider": named})
    if chosen is None:
        with pytest.raises(errors.NoProviderError):
            choose(mappings, request)
    else:
        assert choose(mappings, request).provider == chosen


def test_cache_mode_off_keeps_the_mapping_out_of_the_cache(world, tmp_path):
    client = Client({"huggingface": KEY})
    client.configure_cache("files", path=str(tmp_path / "cache"), mode="off")
    client.embeddings("huggingface", ["a", "b"], {"model": MODEL})
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
