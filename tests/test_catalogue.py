"""The router's catalogue: ``list_models`` / ``get_model_info`` / ``llm-interface models``.

No recorded /v1/models answer exists in the reference material: tests/fixtures/hub/router-models.json is the
example entry documented in hub-docs ``docs/inference-providers/hub-api.md`` ("List OpenAI-compatible models",
DeepSeek-V4-Pro with novita, together, fireworks-ai, featherless-ai, deepinfra), wrapped in the list object.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.fake_hub import FakeHub
from support.loopback import LoopbackServer

from llm_interface import Client, LLMInterface, cli, errors
from llm_interface.catalogue import parse_catalogue
from llm_interface.providers.hf_hub_mapping import HUB_ENV
from llm_interface.providers.hf_routes import ROUTER_ENV

DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "hub" / "router-models.json").read_text())
MODEL = "deepseek-ai/DeepSeek-V4-Pro"


@pytest.fixture
def world(monkeypatch):
    hub = FakeHub(catalogue=DOCUMENTED["data"])
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield hub


def test_the_documented_entry_parses_with_every_field(world):
    (model,) = LLMInterface.list_models("huggingface")
    assert model.id == MODEL and model.owned_by == "deepseek-ai" and model.input_modalities == ("text",)
    assert [o.provider for o in model.providers] == ["novita", "together", "fireworks-ai", "featherless-ai", "deepinfra"]
    together = model.offer("together")
    assert (together.status, together.context_length, together.input_price, together.output_price) == ("live", 512000, 2.1, 4.4)
    assert together.supports_tools and together.supports_structured_output and together.first_token_latency_ms == 611
    assert model.offer("novita").supports_structured_output is False
    fireworks = model.offer("fireworks-ai")
    assert fireworks.input_price is None and fireworks.price_text() == "-"  # no pricing published: unknown, not 0
    assert model.offer("featherless-ai").context_length is None


def test_the_catalogue_is_fetched_once_within_its_ttl(world):
    client = Client()
    client.list_models("huggingface")
    client.list_models("huggingface", None, "together")
    client.get_model_info("huggingface", MODEL)  # read from the held catalogue
    assert [r.path for r in world.seen] == ["/v1/models"]


def test_get_model_info_asks_for_one_model_when_nothing_is_held(world):
    info = Client().get_model_info("huggingface", MODEL)
    assert info.offer("deepinfra").input_price == 1.74
    assert [r.path for r in world.seen] == [f"/v1/models/{MODEL}"]
    with pytest.raises(errors.NotFoundError):
        Client().get_model_info("huggingface", "nobody/nothing")


def test_the_provider_filter_keeps_models_it_serves(world):
    assert Client().list_models("huggingface", None, "groq") == []
    assert len(Client().list_models("huggingface", None, "deepinfra")) == 1


def test_other_tasks_list_the_hubs_served_models_without_prices(world):
    world.listing = [{"id": "BAAI/bge-m3", "inferenceProviderMapping": [
        {"provider": "together", "providerId": "BAAI/bge-m3", "task": "feature-extraction", "status": "live"},
        {"provider": "hf-inference", "providerId": "BAAI/bge-m3", "task": "sentence-similarity", "status": "live"}]}]
    (model,) = Client().list_models("huggingface", "embeddings", "together")
    assert [(o.provider, o.provider_id, o.input_price) for o in model.providers] == [("together", "BAAI/bge-m3", None)]
    query = unquote(world.seen[-1].path)
    assert query.startswith("/api/models?") and "inference_provider=together" in query
    assert "pipeline_tag=feature-extraction" in query and "expand[]=inferenceProviderMapping" in query


def test_only_huggingface_has_a_catalogue():
    with pytest.raises(errors.UnsupportedTaskError):
        Client().list_models("openai-compatible")


@pytest.mark.parametrize("body", [None, [], {"data": "x"}, "html"])
def test_a_catalogue_that_is_not_one_is_a_typed_error(body):
    with pytest.raises(errors.InvalidResponseError):
        parse_catalogue(body)


def test_odd_entries_are_skipped_not_raised():
    models = parse_catalogue({"data": [1, {"id": 3}, {"id": "a/b", "providers": 7},
                                       {"id": "c/d", "providers": [{"provider": "x", "pricing": {"input": -1, "output": "2"}}, {}]}]})
    assert [m.id for m in models] == ["a/b", "c/d"]
    assert models[1].providers[0].input_price is None and len(models[1].providers) == 1


def test_the_cli_prints_a_readable_table(world, capsys):
    assert cli.main(["models", "--provider", "together"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["model", "provider", "status"]
    assert len(lines) == 2 and lines[1].split() == [MODEL, "together", "live", "512000", "$2.1/$4.4", "yes", "yes", "611", "40"]


def test_the_cli_prints_json_for_one_model(world, capsys):
    assert cli.main(["models", MODEL, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["id"] == MODEL and entry["providers"][1]["input_price"] == 2.1
    assert "input_price" not in entry["providers"][2]  # fireworks publishes none
