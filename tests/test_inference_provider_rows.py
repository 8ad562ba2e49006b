"""Each (provider, task) row of providers/inference_providers.py, end to end through the client: the URL, headers
and body sent to the router's proxy, and the parse of a real answer shape.

Routes and payloads: huggingface_hub ``tests/test_inference_providers.py`` at ee0a4510 (TestDeepInfraProvider
test_feature_extraction_url/_payload/_response, TestScalewayProvider test_prepare_url_feature_extraction and
test_prepare_payload_as_dict_feature_extraction, TestTogetherProvider test_prepare_route_feature_extraction,
test_prepare_payload_as_dict_feature_extraction and test_feature_extraction_get_response, TestNovitaProvider
test_prepare_url_text_generation, TestFeatherlessAIProvider, TestBaseTextGenerationTask test_prepare_payload) and
the providers' ``_prepare_payload_as_dict`` (deepinfra and featherless-ai send ``max_new_tokens`` as
``max_tokens``). Completion answers: TGI's real ``/v1/completions`` snapshots (tests/fixtures/hf-reference/
tgi-snapshots/test_completion_prompts), the OpenAI shape every one of these providers answers with.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support.fake_hub import FakeHub
from support.loopback import Answer, LoopbackServer

from llm_interface import AsyncClient, Client
from llm_interface.providers.hf_hub_mapping import DEFAULT_PROVIDER_ENV, HUB_ENV
from llm_interface.providers.hf_routes import ROUTER_ENV

KEY = "hf_test_fake_rows_key"
SNAPSHOTS = Path(__file__).parent / "fixtures" / "hf-reference" / "tgi-snapshots" / "test_completion_prompts"
COMPLETION = json.loads((SNAPSHOTS / "test_flash_llama_completion_single_prompt.json").read_text())
# A real /v1/completions stream (four prompts at once), kept to the first prompt's events.
COMPLETION_STREAM = [event for event in json.loads((SNAPSHOTS / "test_flash_llama_completion_many_prompts_stream.json")
                                                     .read_text()) if event["choices"][0]["index"] == 0]

# (provider, hub task, hub id, provider id, route, call kwargs, body expected, answer, check of the parse)
EMBEDDING_ROWS = [
    ("together", "BAAI/bge-large-en-v1.5", "BAAI/bge-large-en-v1.5", "/together/v1/embeddings",
     "Hello world", {"dimensions": 512},
     {"input": "Hello world", "model": "BAAI/bge-large-en-v1.5", "dimensions": 512},
     {"data": [{"embedding": [0.1, 0.2, 0.3]}]}, [[0.1, 0.2, 0.3]]),
    ("scaleway", "username/repo_name", "provider-id", "/scaleway/v1/embeddings",
     "Example text to embed", {"truncate": True},
     {"input": "Example text to embed", "model": "provider-id", "truncate": True},
     {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}]}, [[0.5, 0.25]]),
    ("deepinfra", "Qwen/Qwen3-Embedding-0.6B", "Qwen/Qwen3-Embedding-0.6B", "/deepinfra/v1/openai/embeddings",
     ["Hello, world!", "Bye"], {"encoding_format": "float"},
     {"input": ["Hello, world!", "Bye"], "encoding_format": "float", "model": "Qwen/Qwen3-Embedding-0.6B"},
     {"object": "list", "model": "Qwen/Qwen3-Embedding-0.6B", "data": [
         {"object": "embedding", "index": 1, "embedding": [0.4, 0.5, 0.6]},
         {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}]},
     [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
]
GENERATION_ROWS = [
    ("together", "/together/v1/completions", {"temperature": 0.7, "max_tokens": 100},
     {"prompt": "Once upon a time", "temperature": 0.7, "max_tokens": 100, "model": "test-provider-id"}),
    ("featherless-ai", "/featherless-ai/v1/completions", {"max_new_tokens": 20},
     {"prompt": "Once upon a time", "max_tokens": 20, "model": "test-provider-id"}),
    ("novita", "/novita/v3/openai/completions", {"temperature": 0.5},
     {"prompt": "Once upon a time", "temperature": 0.5, "model": "test-provider-id"}),
    ("deepinfra", "/deepinfra/v1/openai/completions", {"max_new_tokens": 10, "seed": 3},
     {"prompt": "Once upon a time", "max_tokens": 10, "seed": 3, "model": "test-provider-id"}),
]


@pytest.fixture
def world(monkeypatch):
    hub = FakeHub()
    with LoopbackServer(responder=hub) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.delenv(DEFAULT_PROVIDER_ENV, raising=False)
        yield hub


def _map(world, model, provider, provider_id, task):
    world.mappings[model] = [{"provider": provider, "providerId": provider_id, "task": task, "status": "live"}]


@pytest.mark.parametrize("provider,model,provider_id,route,inputs,params,body,answer,vectors", EMBEDDING_ROWS,
                         ids=[row[0] for row in EMBEDDING_ROWS])
def test_embeddings_row(world, provider, model, provider_id, route, inputs, params, body, answer, vectors):
    _map(world, model, provider, provider_id, "feature-extraction")
    world.answers[route] = answer
    result = Client({"huggingface": KEY}).embeddings("huggingface", inputs, {"model": model, **params})
    (sent,) = world.routed()
    assert (sent.method, sent.path, sent.body) == ("POST", route, body)
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"].startswith("application/json")
    assert result.embeddings == vectors and result.provider == "huggingface"


@pytest.mark.parametrize("provider,route,params,body", GENERATION_ROWS, ids=[row[0] for row in GENERATION_ROWS])
def test_text_generation_row(world, provider, route, params, body):
    _map(world, "test/model", provider, "test-provider-id", "text-generation")
    world.answers[route] = COMPLETION
    result = Client({"huggingface": KEY}).complete("huggingface", "Once upon a time", {"model": "test/model", **params})
    (sent,) = world.routed()
    assert (sent.method, sent.path, sent.body) == ("POST", route, body)
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert result.results == " A Beginner’s Guide\nDeep learning is a subset"
    assert result.finish_reason == "length" and result.usage.completion_tokens == 10
    assert result.inference_provider == provider


@pytest.mark.parametrize("provider,route,params,body", GENERATION_ROWS[:1], ids=["together"])
def test_text_generation_row_async_and_billed_to_an_org(world, provider, route, params, body):
    _map(world, "test/model", provider, "test-provider-id", "text-generation")
    world.answers[route] = COMPLETION

    async def main():
        async with AsyncClient(Client({"huggingface": KEY})) as client:
            return await client.complete_async("huggingface", "Once upon a time",
                                               {"model": "test/model", "bill_to": "my-org", **params})

    assert asyncio.run(main()).results.startswith(" A Beginner")
    (sent,) = world.routed()
    assert sent.body == body and sent.headers["x-hf-bill-to"] == "my-org"


def test_text_generation_streams_on_a_provider_route(world):
    _map(world, "test/model", "together", "test-provider-id", "text-generation")
    events = b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in COMPLETION_STREAM)
    world.answers["/together/v1/completions"] = Answer(200, {"Content-Type": "text/event-stream"},
                                                       events + b"data: [DONE]\n\n")
    with Client({"huggingface": KEY}).stream_complete("huggingface", "What is deep learning?",
                                                      {"model": "test/model", "max_tokens": 10}) as stream:
        text = "".join(chunk.text for chunk in stream)
    expected = "".join(c["text"] for event in COMPLETION_STREAM for c in event["choices"])
    assert text == expected and text
    (sent,) = world.routed()
    assert sent.body == {"prompt": "What is deep learning?", "max_tokens": 10, "stream": True, "model": "test-provider-id"}


def test_the_cache_answers_a_provider_row_the_second_time(world):
    _map(world, "test/model", "novita", "test-provider-id", "text-generation")
    world.answers["/novita/v3/openai/completions"] = COMPLETION
    client = Client({"huggingface": KEY})
    client.configure_cache("memory")
    client.complete("huggingface", "Once upon a time", {"model": "test/model"})
    again = client.complete("huggingface", "Once upon a time", {"model": "test/model"})
    assert again.cached and len(world.routed()) == 1
