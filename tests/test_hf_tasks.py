"""Embeddings, classification and rerank: every recorded feature-extraction, sentence-similarity and
(zero-shot) text-classification exchange replayed; TEI routes checked against their OpenAPI shapes."""

from __future__ import annotations

import json
import re

import pytest
import responses
from recordings import body_bytes, exchanges_for

from llm_interface import ClassificationResponse, EmbeddingResponse, RerankResponse, errors

HF = "https://router.huggingface.co/hf-inference/models/"
TEI = "http://127.0.0.1:9/tei"
PIPELINE_MODEL = re.compile(r"/pipeline/[a-z-]+/(.+)$")
MODEL_MODEL = re.compile(r"/models/(.+)$")


def _model(case):
    url = case["request"]["url"]
    match = PIPELINE_MODEL.search(url) or MODEL_MODEL.search(url)
    return match.group(1)


def _mean(rows):
    return [sum(col) / len(rows) for col in zip(*rows)]


def _expected_vectors(body, single):
    """What the recorded answer means, one vector per input: sentence-level as is, token-level mean-pooled."""
    items = [body] if single else body
    out = []
    for item in items:
        while isinstance(item[0], list) and isinstance(item[0][0], list):
            item = item[0]
        out.append(_mean(item) if isinstance(item[0], list) else item)
    return out


EMBED = exchanges_for("feature-extraction", status=200)


@pytest.mark.parametrize("case", EMBED, ids=[c["name"] for c in EMBED])
@responses.activate
def test_recorded_feature_extraction_replays(case, client):
    model = _model(case)
    responses.add(responses.POST, HF + model + "/pipeline/feature-extraction", body=body_bytes(case["response"]), content_type="application/json")
    inputs = case["request"]["body"]["inputs"]
    result = client.embeddings("huggingface", inputs, {"model": model})
    expected = _expected_vectors(case["response"]["body"], isinstance(inputs, str))
    assert len(result) == len(expected)
    for got, want in zip(result.embeddings, expected):
        assert got == pytest.approx(want)
    assert json.loads(responses.calls[0].request.body)["inputs"] == inputs


SIMILARITY = exchanges_for("sentence-similarity", status=200)


@pytest.mark.parametrize("case", SIMILARITY, ids=[c["name"] for c in SIMILARITY])
@responses.activate
def test_recorded_sentence_similarity_replays_as_rerank(case, client):
    model = _model(case)
    responses.add(responses.POST, HF + model + "/pipeline/sentence-similarity", body=body_bytes(case["response"]), content_type="application/json")
    # The Hub says it is a bi-encoder (rerank_pipeline.py): rerank compares embeddings.
    responses.add(responses.GET, "https://huggingface.co/api/models/" + model, json={"id": model, "pipeline_tag": "sentence-similarity"})
    query = "Machine learning is so easy."
    documents = ["Deep learning is so straightforward.", "This is so difficult, like rocket science.", "I can't believe how much I struggled with this."]
    result = client.rerank("huggingface", query, documents, {"model": model, "return_documents": True, "top_n": 2})
    scores = case["response"]["body"]
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)[:2]
    assert [r.index for r in result.results] == order
    assert [r.score for r in result.results] == [scores[i] for i in order]
    assert [r.text for r in result.results] == [documents[i] for i in order]
    assert json.loads(responses.calls[-1].request.body)["inputs"] == {"source_sentence": query, "sentences": documents}


CLASSIFY = exchanges_for("text-classification", status=200) + exchanges_for("zero-shot-classification", status=200)


@pytest.mark.parametrize("case", CLASSIFY, ids=[c["name"] for c in CLASSIFY])
@responses.activate
def test_recorded_classification_replays(case, client):
    model = _model(case)
    responses.add(responses.POST, HF + model, body=body_bytes(case["response"]), content_type="application/json")
    body = case["request"]["body"]
    options = {"model": model, **(body.get("parameters") or {})}
    result = client.classify("huggingface", body["inputs"], options)
    answer = case["response"]["body"]
    if isinstance(answer, dict):
        expected = sorted(zip(answer["labels"], answer["scores"]), key=lambda p: p[1], reverse=True)
    else:
        expected = sorted(((i["label"], i["score"]) for i in answer[0]), key=lambda p: p[1], reverse=True)
    assert [(lab.label, lab.score) for lab in result.classifications[0].labels] == expected
    assert result.classifications[0].label == expected[0][0]
    sent = json.loads(responses.calls[0].request.body)
    if "candidate_labels" in options:
        labels = options["candidate_labels"]
        assert sent["parameters"]["candidate_labels"] == (labels.split(",") if isinstance(labels, str) else labels)


@responses.activate
def test_litellm_text_classification_prefix_in_send_message(client):
    case = exchanges_for("text-classification", status=200)[-1]
    model = _model(case)
    responses.add(responses.POST, HF + model, body=body_bytes(case["response"]), content_type="application/json")
    result = client.send_message("huggingface", "I like you", {"model": "text-classification/" + model})
    assert result.results == "POSITIVE" and [c.text for c in result.choices] == ["POSITIVE", "NEGATIVE"]
    assert client.classify("huggingface", "I like you", {"model": "text-classification/" + model}).classifications[0].label == "POSITIVE"


# -- TEI ------------------------------------------------------------------------------------------

def _echo_embed(request):
    """A TEI /embed stand-in: one 2-d vector per input that says which input it was."""
    body = json.loads(request.body)
    return 200, {}, json.dumps([[float(len(text)), float(text.split("-")[1])] for text in body["inputs"]])


@responses.activate
def test_tei_embed_batches_in_order(client):
    responses.add_callback(responses.POST, TEI + "/embed", callback=_echo_embed, content_type="application/json")
    texts = [f"t-{i}" for i in range(70)]
    result = client.embeddings("huggingface", texts, {"api_base": TEI, "normalize": False, "truncate": True})
    assert [int(v[1]) for v in result.embeddings] == list(range(70))
    sizes = [len(json.loads(c.request.body)["inputs"]) for c in responses.calls]
    assert sizes == [32, 32, 6]
    first = json.loads(responses.calls[0].request.body)
    assert first["normalize"] is False and first["truncate"] is True
    small = client.embeddings("huggingface", texts[:5], {"api_base": TEI, "batch_size": 2})
    assert [int(v[1]) for v in small.embeddings] == list(range(5))
    assert [len(json.loads(c.request.body)["inputs"]) for c in responses.calls[3:]] == [2, 2, 1]


@responses.activate
def test_tei_openai_embeddings_by_v1_base(client):
    responses.add(
        responses.POST, TEI + "/v1/embeddings",
        json={"object": "list", "model": "bge", "data": [{"index": 1, "embedding": [0.0, 1.0], "object": "embedding"},
              {"index": 0, "embedding": [1.0, 0.0], "object": "embedding"}], "usage": {"prompt_tokens": 4, "total_tokens": 4}},
    )
    result = client.embeddings("huggingface", ["a", "b"], {"api_base": TEI + "/v1", "dimensions": 2})
    assert result.embeddings == [[1.0, 0.0], [0.0, 1.0]] and result.usage.prompt_tokens == 4
    assert json.loads(responses.calls[0].request.body) == {"input": ["a", "b"], "encoding_format": "float", "model": "tgi", "dimensions": 2}


@responses.activate
def test_openai_compatible_embeddings(client):
    responses.add(responses.POST, "http://127.0.0.1:9/v1/embeddings", json={"data": [{"index": 0, "embedding": [0.5]}]})
    result = client.embeddings("openai-compatible", "x", {"api_base": "http://127.0.0.1:9/v1", "model": "m"})
    assert result.embeddings == [[0.5]]


@responses.activate
def test_tei_predict_and_rerank(client):
    responses.add(responses.POST, TEI + "/predict", json=[[{"label": "neg", "score": 0.1}, {"label": "pos", "score": 0.9}], [{"label": "neg", "score": 0.8}, {"label": "pos", "score": 0.2}]])
    result = client.classify("huggingface", ["good", "bad"], {"api_base": TEI})
    assert [c.label for c in result.classifications] == ["pos", "neg"]
    assert json.loads(responses.calls[0].request.body) == {"inputs": ["good", "bad"]}

    responses.add(responses.POST, TEI + "/rerank", json=[{"index": 2, "score": 0.9, "text": "c"}, {"index": 0, "score": 0.5, "text": "a"}, {"index": 1, "score": 0.1, "text": "b"}])
    ranked = client.rerank("huggingface", "q", ["a", "b", "c"], {"api_base": TEI, "top_n": 2, "return_documents": True})
    assert [(r.index, r.text) for r in ranked.results] == [(2, "c"), (0, "a")]
    assert json.loads(responses.calls[1].request.body) == {"query": "q", "texts": ["a", "b", "c"], "return_text": True}


@responses.activate
def test_tei_validation_error_is_typed(client):
    responses.add(responses.POST, TEI + "/embed", status=413, json={"error": "batch size 64 > maximum allowed batch size 32", "error_type": "Validation"})
    with pytest.raises(errors.ValidationError, match="maximum allowed batch size"):
        client.embeddings("huggingface", ["x"] * 3, {"api_base": TEI})


def test_zero_shot_on_tei_is_unsupported(client):
    with pytest.raises(errors.UnsupportedTaskError, match="zero-shot"):
        client.classify("huggingface", "x", {"api_base": TEI, "candidate_labels": ["a"]})


@pytest.mark.parametrize("bad", ["", [], ["ok", ""], [1]])
def test_bad_inputs_are_typed(client, bad):
    with pytest.raises(errors.InvalidRequestError):
        client.embeddings("huggingface", bad, {"api_base": TEI})


# -- caching non-chat results ---------------------------------------------------------------------

@responses.activate
def test_every_result_type_round_trips_through_the_cache(client):
    responses.add_callback(responses.POST, TEI + "/embed", callback=_echo_embed, content_type="application/json")
    responses.add(responses.POST, TEI + "/predict", json=[[{"label": "pos", "score": 0.9}]])
    responses.add(responses.POST, TEI + "/rerank", json=[{"index": 0, "score": 0.5}])
    cache = {"cache_timeout_seconds": 60}
    calls = [
        lambda: client.embeddings("huggingface", ["t-1"], {"api_base": TEI}, cache),
        lambda: client.classify("huggingface", ["x"], {"api_base": TEI}, cache),
        lambda: client.rerank("huggingface", "q", ["a"], {"api_base": TEI}, cache),
    ]
    for call, kind in zip(calls, (EmbeddingResponse, ClassificationResponse, RerankResponse)):
        fresh, again = call(), call()
        assert isinstance(again, kind) and again.cached and not fresh.cached
        assert again.to_dict() == fresh.to_dict()
    assert len(responses.calls) == 3


def test_a_label_without_a_numeric_score_is_skipped_not_a_crash():
    from llm_interface.providers.hf_tasks import _labels

    assert [label.label for label in _labels([{"label": "x", "score": None}, {"label": "y", "score": 0.5}]).labels] == ["y"]
