"""The text tasks of hf-inference beyond chat/embeddings/classify/rerank, and rerank with a cross-encoder.

Answer shapes: the recorded token-classification exchange (tests/fixtures/hf-reference), and for the others the
hub-docs pages ``docs/inference-providers/tasks/{summarization,translation,question-answering,fill-mask,
table-question-answering}.md`` and the examples in huggingface_hub's InferenceClient docstrings (named per case).
Requests: huggingface_hub's hf-inference helper, ``{"inputs", "parameters"}`` at ``/hf-inference/models/{id}``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging

import pytest
from loopback import LoopbackServer, Status
from recordings import exchange

from llm_interface import AsyncClient, Client, LLMInterface, errors, rerank_pipeline
from llm_interface.cache.entries import decode_entry, encode_entry
from llm_interface.providers.hf_routes import ROUTER_ENV
from llm_interface.request import Request
from llm_interface.text_tasks import AsyncTextTaskCalls, FacadeTextTasks, TextTaskCalls

NER = exchange("TestInferenceClient.test_token_classification[hf-inference,token-classification]#1")
TABLE = {"Repository": ["Transformers", "Datasets", "Tokenizers"], "Stars": ["36542", "4512", "3934"]}

# (method, args, options, model, body we send, recorded/documented answer, check of the result)
CASES = [
    ("summarization", ("The tower is 324 metres tall, about the same height as an 81-storey building.",), {},
     "facebook/bart-large-cnn",
     {"inputs": "The tower is 324 metres tall, about the same height as an 81-storey building.", "parameters": {}},
     [{"summary_text": "The tower is 324 metres tall."}],  # tasks/summarization.md: [{summary_text}]
     lambda r: r.summary == r.results == str(r) == "The tower is 324 metres tall."),
    ("translation", ("My name is Wolfgang and I live in Berlin",), {"src_lang": "en_XX", "tgt_lang": "fr_XX"},
     "facebook/mbart-large-50-many-to-many-mmt",
     {"inputs": "My name is Wolfgang and I live in Berlin", "parameters": {"src_lang": "en_XX", "tgt_lang": "fr_XX"}},
     [{"translation_text": "Je m'appelle Wolfgang et je vis à Berlin"}],  # InferenceClient.translation docstring
     lambda r: r.translation == "Je m'appelle Wolfgang et je vis à Berlin"),
    ("token_classification", (NER["request"]["body"]["inputs"],), {"aggregation_strategy": "simple"},
     "dbmdz/bert-large-cased-finetuned-conll03-english",
     {"inputs": NER["request"]["body"]["inputs"], "parameters": {"aggregation_strategy": "simple"}},
     NER["response"]["body"],  # recorded
     lambda r: [(e.entity, e.word, e.start, e.end) for e in r.entities] == [("PER", "Sarah Jessica Parker", 11, 31), ("PER", "Jessica", 52, 59)]),
    ("question_answering", ("What's my name?", "My name is Clara and I live in Berkeley."), {}, "deepset/roberta-base-squad2",
     {"inputs": {"question": "What's my name?", "context": "My name is Clara and I live in Berkeley."}, "parameters": {}},
     {"answer": "Clara", "end": 16, "score": 0.9326565265655518, "start": 11},  # InferenceClient.question_answering docstring
     lambda r: (r.answer, r.score, r.answers[0].start, r.answers[0].end) == ("Clara", 0.9326565265655518, 11, 16)),
    ("fill_mask", ("The goal of life is <mask>.",), {"top_k": 2}, "FacebookAI/roberta-base",
     {"inputs": "The goal of life is <mask>.", "parameters": {"top_k": 2}},
     [{"score": 0.06897063553333282, "token": 11098, "token_str": " happiness", "sequence": "The goal of life is happiness."},
      {"score": 0.06554922461509705, "token": 45075, "token_str": " immortality", "sequence": "The goal of life is immortality."}],
     lambda r: [p.token_str for p in r.predictions] == [" happiness", " immortality"] and r.predictions[0].token == 11098),
    ("sentence_similarity", ("Machine learning is so easy.", ["Deep learning is so straightforward.", "This is so difficult."]), {},
     "sentence-transformers/all-MiniLM-L6-v2",
     {"inputs": {"source_sentence": "Machine learning is so easy.",
                 "sentences": ["Deep learning is so straightforward.", "This is so difficult."]}, "parameters": {}},
     [0.7785726189613342, 0.45876261591911316],  # recorded sentence-similarity answer, first two
     lambda r: list(r.scores) == [0.7785726189613342, 0.45876261591911316] and len(r) == 2),
    ("table_question_answering", (TABLE, "How many stars does the transformers repository have?"), {},
     "google/tapas-base-finetuned-wtq",
     {"inputs": {"query": "How many stars does the transformers repository have?", "table": TABLE}, "parameters": {}},
     {"answer": "AVERAGE > 36542", "coordinates": [[0, 1]], "cells": ["36542"], "aggregator": "AVERAGE"},
     lambda r: (r.answer, r.coordinates, r.cells, r.aggregator) == ("AVERAGE > 36542", ((0, 1),), ("36542",), "AVERAGE")),
]
PATHS = {"sentence_similarity": "/pipeline/sentence-similarity"}


@pytest.fixture
def router(monkeypatch):
    with LoopbackServer() as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        yield server


@pytest.mark.parametrize("method, args, options, model, sent, answer, check", CASES, ids=[c[0] for c in CASES])
def test_each_task_sends_the_pipeline_payload_and_reads_its_answer(router, client, method, args, options, model, sent, answer, check):
    router.script(Status(200, answer))
    result = getattr(client, method)("huggingface", *args, {"model": model, **options})
    request = router.requests[0]
    assert request.path == f"/hf-inference/models/{model}{PATHS.get(method, '')}"
    assert request.body == sent
    assert request.headers["authorization"].startswith("Bearer hf_test")
    assert check(result), result
    assert result.model == model and result.provider == "huggingface"


@pytest.mark.parametrize("method, args, options, model, sent, answer, check", CASES, ids=[c[0] for c in CASES])
def test_async_twins_and_the_facade_give_the_same(router, method, args, options, model, sent, answer, check):
    router.script(Status(200, answer), Status(200, answer))
    LLMInterface.set_api_key({"huggingface": "hf_test_fake"})
    assert check(getattr(LLMInterface, method)("huggingface", *args, {"model": model, **options}))

    async def run():
        async with AsyncClient(Client({"huggingface": "hf_test_fake"}), backend="threads") as aclient:
            return await getattr(aclient, method + "_async")("huggingface", *args, {"model": model, **options})

    assert check(asyncio.run(run()))
    assert [r.body for r in router.requests] == [sent, sent]


@pytest.mark.parametrize("method, args, options, model, sent, answer, check", CASES, ids=[c[0] for c in CASES])
def test_each_result_is_cached_and_replayed(router, method, args, options, model, sent, answer, check):
    router.script(Status(200, answer))
    with Client({"huggingface": "hf_test_fake"}) as c:
        c.configure_cache("memory")
        first = getattr(c, method)("huggingface", *args, {"model": model, **options})
        again = getattr(c, method)("huggingface", *args, {"model": model, **options})
    assert router.count == 1 and again.cached and not first.cached
    assert check(again) and again.to_dict() == first.to_dict()
    entry = json.loads(json.dumps(encode_entry(Request("huggingface", "x"), first)))
    assert decode_entry(entry, "k" * 16).to_dict() == first.to_dict()


def test_default_models_when_none_is_given(router, client):
    router.script(Status(200, [{"summary_text": "Short."}]))
    assert client.summarization("huggingface", "A long text.").model == "facebook/bart-large-cnn"
    assert router.requests[0].path == "/hf-inference/models/facebook/bart-large-cnn"


def test_an_endpoint_serves_the_task_at_its_own_url(loopback, client):
    loopback.script(Status(200, [{"summary_text": "Short."}]))
    result = client.summarization("huggingface", "A long text.", {"api_base": loopback.url})
    assert result.summary == "Short." and loopback.requests[0].path == "/"
    assert loopback.requests[0].body == {"inputs": "A long text.", "parameters": {}}


@pytest.mark.parametrize("options, words", [
    ({"api_base": "http://127.0.0.1:9/v1"}, "no route in openai-endpoint mode"),
    ({"provider": "together"}, "not served by the inference provider 'together'"),
])
def test_routes_that_do_not_serve_a_task_say_so(client, options, words):
    with pytest.raises(errors.UnsupportedTaskError, match=words):
        client.fill_mask("huggingface", "Paris is the [MASK] of France.", {"model": "google-bert/bert-base-uncased", **options})


def test_other_providers_refuse_the_tasks():
    with pytest.raises(errors.UnsupportedTaskError, match="cannot do 'summarization'"):
        Client({"openai-compatible": "test-key"}).summarization("openai-compatible", "text", {"api_base": "http://127.0.0.1:9"})


@pytest.mark.parametrize("method, args, words", [
    ("summarization", ("",), "text as a non-empty string"),
    ("question_answering", ("Who?", None), "context as a non-empty string"),
    ("sentence_similarity", ("a", "b"), "other_sentences as a non-empty list"),
    ("sentence_similarity", ("a", ["b", 3]), r"other_sentences\[1\]"),
    ("table_question_answering", ({"a": ["1"], "b": ["1", "2"]}, "q"), "same number of cells"),
    ("table_question_answering", ([["1"]], "q"), "dict of column"),
])
def test_bad_inputs_are_typed_errors_before_any_call(client, method, args, words):
    with pytest.raises(errors.InvalidRequestError, match=words):
        getattr(client, method)("huggingface", *args, {"model": "org/m"})


@pytest.mark.parametrize("method, args, answer", [
    ("summarization", ("text",), [{"generated_text": "not a summary"}]),
    ("token_classification", ("text",), {"error_free": True}),
    ("question_answering", ("q?", "ctx"), [{"answer": 3, "score": 0.5}]),
    ("fill_mask", ("a [MASK]",), "text"),
    ("sentence_similarity", ("a", ["b", "c"]), [0.5]),
    ("table_question_answering", (TABLE, "q"), [1, 2]),
])
def test_wrong_shapes_are_invalid_response_errors(router, client, method, args, answer):
    router.script(Status(200, answer))
    with pytest.raises(errors.InvalidResponseError, match="Does the model serve"):
        getattr(client, method)("huggingface", *args, {"model": "org/m"})


def test_the_three_faces_take_the_same_parameters():
    def parameters(function):
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values() if p.name not in ("self", "cls")]

    names = [n for n in vars(TextTaskCalls) if not n.startswith("_") and n != "text_task_plan"]
    assert len(names) == 9  # seven tasks, respond and stream_respond
    for name in names:
        assert parameters(getattr(FacadeTextTasks, name)) == parameters(getattr(TextTaskCalls, name))
        assert parameters(getattr(AsyncTextTaskCalls, name + "_async")) == parameters(getattr(TextTaskCalls, name))
        assert parameters(getattr(FacadeTextTasks, name + "_async")) == parameters(getattr(TextTaskCalls, name))


# -- rerank: cross-encoder or bi-encoder -----------------------------------------------------------------

DOCS = ["Paris is in France.", "A fox is an animal.", "Foxes eat mice."]


@pytest.fixture
def hub(monkeypatch):
    """The Hub's model API and the router, on one loopback server."""
    with LoopbackServer() as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_a_text_ranking_model_gets_pairs_on_text_classification(hub, client):
    # bge-reranker-base: pipeline_tag "text-ranking"; one label, sigmoid score per pair.
    hub.script(Status(200, {"id": "BAAI/bge-reranker-base", "pipeline_tag": "text-ranking"}),
               Status(200, [{"label": "LABEL_0", "score": 0.01}, {"label": "LABEL_0", "score": 0.93}, {"label": "LABEL_0", "score": 0.41}]),
               Status(200, [[{"label": "LABEL_0", "score": 0.2}], [{"label": "LABEL_0", "score": 0.1}], [{"label": "LABEL_0", "score": 0.3}]]))
    result = client.rerank("huggingface", "what is a fox?", DOCS, {"model": "BAAI/bge-reranker-base", "top_n": 2})
    get, post = hub.requests[0], hub.requests[1]
    assert get.method == "GET" and get.path == "/api/models/BAAI/bge-reranker-base"
    assert post.path == "/hf-inference/models/BAAI/bge-reranker-base"
    assert post.body == {"inputs": [{"text": "what is a fox?", "text_pair": d} for d in DOCS], "parameters": {}}
    assert [(r.index, r.score) for r in result.results] == [(1, 0.93), (2, 0.41)]
    again = client.rerank("huggingface", "what is a fox?", DOCS, {"model": "BAAI/bge-reranker-base"})
    assert hub.count == 3  # the tag is read once per model: no second GET
    assert [r.index for r in again.results] == [2, 0, 1]


def test_two_label_cross_encoders_rank_by_the_relevant_label(hub, client):
    pair = lambda s: [{"label": "LABEL_0", "score": 1 - s}, {"label": "LABEL_1", "score": s}]  # noqa: E731
    hub.script(Status(200, [pair(0.2), pair(0.9), pair(0.6)]))
    result = client.rerank("huggingface", "q", DOCS, {"model": "org/two-label", "cross_encoder": True})
    assert hub.requests[0].method == "POST"  # the option decides: no Hub request
    assert [r.index for r in result.results] == [1, 2, 0]


def test_a_bi_encoder_compares_embeddings(hub, client):
    hub.script(Status(200, {"pipeline_tag": "sentence-similarity"}), Status(200, [0.1, 0.8, 0.5]))
    result = client.rerank("huggingface", "q", DOCS, {"model": "sentence-transformers/all-MiniLM-L6-v2"})
    assert hub.requests[1].path.endswith("/pipeline/sentence-similarity")
    assert [r.index for r in result.results] == [1, 2, 0]


def test_cross_encoder_false_skips_the_hub(hub, client):
    hub.script(Status(200, [0.1, 0.8, 0.5]))
    client.rerank("huggingface", "q", DOCS, {"model": "BAAI/bge-reranker-base", "cross_encoder": False})
    assert [r.method for r in hub.requests] == ["POST"]


def test_an_unreadable_tag_falls_back_to_embeddings_with_a_warning(hub, client, caplog):
    hub.script(Status(404, {"error": "Repository not found"}), Status(200, [0.1, 0.8, 0.5]))
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        client.rerank("huggingface", "q", DOCS, {"model": "org/private"})
    assert "cross_encoder" in caplog.text and "hf_test" not in caplog.text
    assert hub.requests[1].path.endswith("/pipeline/sentence-similarity")


def test_a_wrong_cross_encoder_option_is_a_typed_error(client):
    with pytest.raises(errors.InvalidRequestError, match="cross_encoder must be True or False"):
        client.rerank("huggingface", "q", DOCS, {"model": "org/m", "cross_encoder": "yes"})


def test_async_rerank_reads_the_tag_too(hub):
    hub.script(Status(200, {"pipeline_tag": "text-ranking"}), Status(200, [{"label": "LABEL_0", "score": s} for s in (0.3, 0.1, 0.9)]))

    async def run():
        async with AsyncClient(Client({"huggingface": "hf_test_fake"}), backend="threads") as aclient:
            return await aclient.rerank_async("huggingface", "q", DOCS, {"model": "BAAI/bge-reranker-base"})

    assert [r.index for r in asyncio.run(run()).results] == [2, 0, 1]
    assert [r.method for r in hub.requests] == ["GET", "POST"]


def test_replaying_fixtures_needs_no_hub_request(hub, tmp_path):
    hub.script(Status(200, {"pipeline_tag": "text-ranking"}), Status(200, [{"label": "LABEL_0", "score": s} for s in (0.3, 0.1, 0.9)]))
    with Client({"huggingface": "hf_test_fake"}) as c:
        c.configure_cache("files", path=str(tmp_path), mode="record")
        recorded = c.rerank("huggingface", "q", DOCS, {"model": "BAAI/bge-reranker-base"})
    rerank_pipeline.forget()
    with Client({"huggingface": "hf_test_fake"}) as c:
        c.configure_cache("files", path=str(tmp_path), mode="replay")
        replayed = c.rerank("huggingface", "q", DOCS, {"model": "BAAI/bge-reranker-base"})
    assert hub.count == 2 and replayed.cached and replayed.results == recorded.results
