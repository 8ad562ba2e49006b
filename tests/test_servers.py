"""Self-hosted servers: detection, introspection, tokenize/count, rerank/score/classify and the TEI extras,
against loopback stand-ins whose bodies follow each server's spec (tests/support/fake_servers.py), plus
the pure parsers on bodies no server should send."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from support.fake_servers import LLAMACPP, SGLANG, TEI, TEI_INFO, TGI, TGI_INFO, VLLM, FakeServer

from llm_interface import Client, LLMInterface, errors
from llm_interface.servers import detect, routes
from llm_interface.servers.results import ServerInfo, TokenCount
from llm_interface.servers.waking import waking_reporter

SPECS = Path(__file__).parent / "fixtures" / "hf-reference"


@pytest.fixture(autouse=True)
def fresh_detection():
    detect.forget()
    yield
    detect.forget()


def opts(fake, **more):
    return {"api_base": fake.url, **more}


# -- detection ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("routes_, kind", [
    (TGI, "tgi"), (TEI, "tei"), (VLLM, "vllm"), (SGLANG, "sglang"), (LLAMACPP, "llamacpp"),
])
def test_each_server_is_told_by_its_own_route(routes_, kind):
    with FakeServer(routes_) as server:
        assert LLMInterface.detect_server("huggingface", opts(server)) == kind


def test_transformers_serve_is_told_by_health_and_its_request_id_header():
    with FakeServer({("GET", "/health"): (200, {"status": "ok"}, {"x-request-id": "abc"})}) as server:
        assert LLMInterface.detect_server("huggingface", opts(server)) == "transformers"
    with FakeServer({("GET", "/health"): (200, {"status": "ok"}, {})}) as server:
        assert LLMInterface.detect_server("huggingface", opts(server)) == "openai"


def test_detection_is_cached_per_base_url_and_the_v1_suffix_is_the_same_server():
    with FakeServer(VLLM) as server:
        assert LLMInterface.detect_server("huggingface", opts(server)) == "vllm"
        probes = len(server.requests)
        assert probes == 3  # /info, /props, /v1/models
        assert LLMInterface.detect_server("huggingface", {"api_base": server.url + "/v1"}) == "vllm"
        assert len(server.requests) == probes
        detect.forget(server.url)
        LLMInterface.detect_server("huggingface", opts(server))
        assert len(server.requests) == 2 * probes


def test_the_server_option_skips_detection_and_a_wrong_one_is_a_typed_error():
    with FakeServer(TGI) as server:
        assert LLMInterface.detect_server("huggingface", opts(server, server="vllm")) == "vllm"
        assert server.requests == []
        with pytest.raises(errors.InvalidRequestError, match="server must be one of"):
            LLMInterface.detect_server("huggingface", opts(server, server="triton"))


@pytest.mark.parametrize("base, root", [
    ("http://h:8000", "http://h:8000"), ("http://h:8000/", "http://h:8000"), ("http://h:8000/v1", "http://h:8000"),
    ("http://h:8000/v1/chat/completions", "http://h:8000"), ("https://x.endpoints.huggingface.cloud/embed",
                                                              "https://x.endpoints.huggingface.cloud"),
])
def test_root_of(base, root):
    assert detect.root_of(base) == root


def test_a_server_that_is_down_is_a_typed_error_and_nothing_is_cached():
    port = _closed_port()
    with pytest.raises(errors.ConnectionError):
        _detect_with_client(f"http://127.0.0.1:{port}")
    assert detect.known(f"http://127.0.0.1:{port}") is None


def _detect_with_client(base):
    from llm_interface.servers import tools

    with Client(interface_options={"retry_attempts": 0}) as client:
        return tools.detect_server(client, "huggingface", {"api_base": base})


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_introspection_needs_an_api_base():
    with pytest.raises(errors.InvalidRequestError, match="api_base"):
        LLMInterface.server_info("huggingface", {"api_key": "hf_test_fake"})


# -- server_info and health ------------------------------------------------------------------------------

def test_tgi_info():
    with FakeServer(TGI) as server:
        info = LLMInterface.server_info("huggingface", opts(server))
    assert info == ServerInfo("tgi", "bigscience/blomm-560m", 1024, 2048, None, "3.3.6")
    assert info.original["/info"] == TGI_INFO


def test_tei_info_names_the_task_and_dtype():
    with FakeServer(TEI) as server:
        info = LLMInterface.server_info("huggingface", opts(server))
    assert (info.kind, info.model_id, info.max_input_tokens, info.dtype, info.version, info.task) == (
        "tei", "BAAI/bge-large-en-v1.5", 512, "float16", "1.8.3", "embedding")


def test_vllm_info_reads_models_and_version():
    with FakeServer(VLLM) as server:
        info = LLMInterface.server_info("huggingface", opts(server))
        assert server.paths()[-2:] == ["/v1/models", "/version"]
    assert (info.kind, info.model_id, info.max_total_tokens, info.version) == (
        "vllm", "Qwen/Qwen2.5-1.5B-Instruct", 32768, "0.11.0")


def test_sglang_and_llamacpp_info():
    with FakeServer(SGLANG) as server:
        info = LLMInterface.server_info("huggingface", opts(server))
    assert (info.kind, info.model_id, info.max_total_tokens) == ("sglang", "meta-llama/Llama-3.1-8B-Instruct", 131072)
    with FakeServer(LLAMACPP) as server:
        info = LLMInterface.server_info("huggingface", opts(server))
    assert (info.kind, info.model_id, info.max_total_tokens, info.version) == (
        "llamacpp", "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf", 4096, "b6000-abcdef0")


def test_health_ok_with_an_empty_body_and_not_ok_when_down_or_unhealthy():
    with FakeServer(TGI) as server:
        health = LLMInterface.health("huggingface", opts(server))
    assert health.ok and bool(health) and health.kind == "tgi" and health.status == 200
    unhealthy = {**TGI, ("GET", "/health"): (503, {"error": "unhealthy", "error_type": "healthcheck"}, {})}
    with FakeServer(unhealthy) as server:
        health = LLMInterface.health("huggingface", opts(server))
        assert server.paths().count("/health") == 1  # a health check is not retried
    assert not health.ok and health.status == 503 and "unhealthy" in health.detail
    down = LLMInterface.health("huggingface", {"api_base": f"http://127.0.0.1:{_closed_port()}"})
    assert not down.ok and down.kind == "unknown" and "Could not connect" in down.detail


# -- tokenize and count_tokens ---------------------------------------------------------------------------

def test_tokenize_on_each_server_sends_its_own_body():
    cases = [
        (TGI, {"inputs": "a b c"}, (100, 101, 102)),
        (TEI, {"inputs": "a b c", "add_special_tokens": True}, (100, 101, 102)),
        (VLLM, {"prompt": "a b c", "add_special_tokens": True}, (10, 11, 12)),
        (LLAMACPP, {"content": "a b c", "add_special": True}, (1, 2, 3)),
    ]
    for table, sent, ids in cases:
        with FakeServer(table) as server:
            tokens = LLMInterface.tokenize("huggingface", "a b c", opts(server))
            assert server.requests[-1] == ("POST", "/tokenize", sent)
        assert tokens.ids == ids and tokens.count == 3


def test_tokenize_keeps_pieces_and_max_model_len():
    with FakeServer(TGI) as server:
        assert LLMInterface.tokenize("huggingface", "Hello world", opts(server)).pieces == ("Hello", "world")
    with FakeServer(VLLM) as server:
        assert LLMInterface.tokenize("huggingface", "Hello world", opts(server)).max_model_len == 32768


def test_tokenize_where_the_server_has_no_route_says_which_do():
    with FakeServer(SGLANG) as server, pytest.raises(errors.UnsupportedTaskError, match="llamacpp, tei, tgi, vllm"):
        LLMInterface.tokenize("huggingface", "hi", opts(server))


def test_count_tokens_exact_from_tgi_chat_tokenize():
    messages = [{"role": "user", "content": "Hello there"}]
    with FakeServer(TGI) as server:
        count = LLMInterface.count_tokens("huggingface", messages, opts(server))
        assert server.requests[-1] == ("POST", "/chat_tokenize", {"messages": messages, "model": "tgi"})
    assert count == TokenCount(3, True, "tgi /chat_tokenize")


def test_count_tokens_exact_from_vllm_tokenize_with_messages():
    with FakeServer(VLLM) as server:
        count = LLMInterface.count_tokens("huggingface", "one two three", opts(server, model="Qwen/Qwen2.5-1.5B-Instruct"))
        sent = server.requests[-1][2]
    assert sent["messages"] == [{"role": "user", "content": "one two three"}] and sent["model"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert count.exact and count.count == 4 and count.source == "vllm /tokenize"


def test_count_tokens_from_a_plain_tokenize_says_it_is_not_exact():
    with FakeServer(LLAMACPP) as server:
        count = LLMInterface.count_tokens("huggingface", "one two", opts(server))
    assert count.count == 2 and not count.exact and "no chat template" in count.source


def test_count_tokens_estimate_is_the_last_resort_and_says_so():
    count = LLMInterface.count_tokens("huggingface", "x" * 41)
    assert (count.count, count.exact) == (11, False) and count.source.startswith("estimate")
    with FakeServer(SGLANG) as server:  # detected, but no tokenizer route
        assert not LLMInterface.count_tokens("huggingface", "hello", opts(server)).exact


# -- rerank, classify, score -----------------------------------------------------------------------------

def test_rerank_on_vllm_uses_its_route_and_gives_the_same_response_type():
    docs = ["a", "b", "c"]
    with FakeServer(VLLM) as server:
        LLMInterface.detect_server("huggingface", opts(server))
        ranked = LLMInterface.rerank("huggingface", "q", docs, opts(server, model="BAAI/bge-reranker-base", top_n=2))
        assert server.requests[-1] == ("POST", "/v1/rerank", {
            "query": "q", "documents": docs, "top_n": 2, "model": "BAAI/bge-reranker-base"})
    assert [(r.index, r.text) for r in ranked.results] == [(0, None), (1, None)]  # return_documents governs
    assert ranked.results[0].score == 1.0


def test_rerank_on_llamacpp_by_the_server_option_without_detection():
    with FakeServer(LLAMACPP) as server:
        ranked = LLMInterface.rerank("huggingface", "q", ["x", "y"], opts(server, server="llamacpp"))
        assert server.paths() == ["/rerank"]
        assert server.requests[0][2] == {"query": "q", "documents": ["x", "y"]}
    assert [r.index for r in ranked.results] == [0, 1]


def test_the_server_option_never_reaches_the_body():
    with FakeServer(TEI | {("POST", "/rerank"): (200, [{"index": 0, "score": 0.5}], {"Content-Type": "application/json"})}) as server:
        LLMInterface.rerank("huggingface", "q", ["x"], opts(server, server="tei"))
        assert "server" not in server.requests[-1][2]


def test_classify_on_vllm():
    with FakeServer(VLLM) as server:
        LLMInterface.detect_server("huggingface", opts(server))
        result = LLMInterface.classify("huggingface", ["nice", "bad"], opts(server, model="jason9693/Qwen2.5-1.5B-apeach"))
        assert server.requests[-1][:2] == ("POST", "/classify")
        assert server.requests[-1][2]["input"] == ["nice", "bad"]
    assert [c.label for c in result.classifications] == ["Default", "Default"]
    assert result.classifications[0].labels[1].label == "LABEL_0"


def test_rerank_where_the_server_has_none_is_a_typed_error():
    with FakeServer(SGLANG) as server, pytest.raises(errors.UnsupportedTaskError, match="rerank"):
        LLMInterface.rerank("huggingface", "q", ["x"], opts(server, server="sglang"))


def test_similarity_on_tei_and_score_on_vllm_in_input_order():
    with FakeServer(TEI) as server:
        scores = LLMInterface.similarity("huggingface", "a", ["b", "a"], opts(server))
        assert server.requests[-1] == ("POST", "/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b", "a"]}})
    assert scores.scores == (0.25, 1.0)
    with FakeServer(VLLM) as server:
        scores = LLMInterface.similarity("huggingface", "a", ["b", "c"], opts(server))
        assert server.requests[-1] == ("POST", "/score", {"text_1": "a", "text_2": ["b", "c"]})
    assert scores.scores == (0.5, 0.6)


def test_embed_sparse_on_tei():
    with FakeServer(TEI) as server:
        sparse = LLMInterface.embed_sparse("huggingface", ["ab", "abc"], opts(server, truncate=True))
        assert server.requests[-1] == ("POST", "/embed_sparse", {"inputs": ["ab", "abc"], "truncate": True})
    assert len(sparse) == 2 and sparse[1].as_dict() == {7: 0.5, 2001: 3.0}
    with FakeServer(VLLM) as server, pytest.raises(errors.UnsupportedTaskError):
        LLMInterface.embed_sparse("huggingface", "x", opts(server))


# -- the stand-ins follow the specs ----------------------------------------------------------------------

def _schema(spec, name):
    return json.loads((SPECS / spec).read_text())["components"]["schemas"][name]


def test_the_info_stand_ins_carry_every_field_the_specs_require():
    assert set(_schema("tgi-openapi.json", "Info")["required"]) <= set(TGI_INFO)
    assert set(_schema("tei-openapi.json", "Info")["required"]) <= set(TEI_INFO)


def test_the_routes_we_call_exist_in_the_specs():
    tgi_paths = set(json.loads((SPECS / "tgi-openapi.json").read_text())["paths"])
    tei_paths = set(json.loads((SPECS / "tei-openapi.json").read_text())["paths"])
    assert {"/info", "/health", "/tokenize", "/chat_tokenize"} <= tgi_paths
    assert {"/info", "/health", "/tokenize", "/embed_sparse", "/similarity", "/rerank", "/predict"} <= tei_paths
    assert routes.TOKENIZE_ROUTES["tgi"] in tgi_paths and routes.CHAT_TOKENIZE_ROUTES["tgi"] in tgi_paths
    assert set(_schema("tgi-openapi.json", "SimpleToken")["required"]) == {"id", "text", "start", "stop"}
    assert set(_schema("tei-openapi.json", "SparseValue")["required"]) == {"index", "value"}


# -- parsers on bad bodies -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, body", [
    ("tgi", {"tokens": [1]}), ("tgi", [{"text": "x"}]), ("tei", "oops"), ("vllm", {"tokens": ["a"]}),
    ("llamacpp", None), ("llama-cpp-python", {"tokens": [True]}),
])
def test_bad_tokenize_bodies_are_invalid_response_errors(kind, body):
    with pytest.raises(errors.InvalidResponseError):
        routes.parse_tokens(kind, body)


@pytest.mark.parametrize("body", [None, [[{"index": "x", "value": 1}]], [{"index": 1}], "text"])
def test_bad_sparse_bodies(body):
    with pytest.raises(errors.InvalidResponseError):
        routes.parse_sparse(body)


@pytest.mark.parametrize("body", [[0.1], {"data": [{"index": 0}]}, [True, 1.0], None])
def test_bad_score_bodies(body):
    with pytest.raises(errors.InvalidResponseError):
        routes.parse_scores("vllm", body, 2)


def test_info_of_odd_bodies_is_lenient():
    assert routes.parse_info("tgi", {"/info": "not json"}) == ServerInfo("tgi")
    assert routes.parse_info("vllm", {"/v1/models": {"data": [1]}, "/version": {"version": 3}}) == ServerInfo("vllm")


# -- an endpoint scaled to zero --------------------------------------------------------------------------

def test_a_waking_endpoint_is_reported_through_the_retry_hook():
    answers = iter([
        (503, {"error": "Service Unavailable", "estimated_time": 40.0}, {"Retry-After": "0"}),
        (503, {"error": "Service Unavailable"}, {"Retry-After": "0"}),
    ])
    table = {("GET", "/info"): lambda _body: next(answers, (200, TGI_INFO, {"Content-Type": "application/json"}))}
    lines = []
    with FakeServer(table) as server, Client(interface_options={"retry_attempts": 3, "retry_multiplier": 0}) as client:
        client.on("retry", waking_reporter(lines.append))
        from llm_interface.servers import tools

        info = tools.server_info(client, "huggingface", opts(server, scale_up_timeout=600))
        assert server.headers[0].get("X-Scale-Up-Timeout") == "600"
    assert info.model_id == TGI_INFO["model_id"]
    assert len(lines) == 2 and lines[0].startswith("endpoint waking, 0 s so far")


def test_the_waking_reporter_ignores_other_errors_and_adds_up_the_waits():
    lines = []
    hook = waking_reporter(lines.append)
    waking = errors.ModelLoadingError("loading", status=503)
    hook(None, 1, 10.0, waking)
    hook(None, 2, 30.0, waking)
    hook(None, 3, 5.0, errors.RateLimitError("slow down", status=429))
    assert lines == ["endpoint waking, 0 s so far; next try in 10 s", "endpoint waking, 10 s so far; next try in 30 s"]


# -- detokenize, keys, async twins -----------------------------------------------------------------------

def test_detokenize_on_tei_and_vllm():
    with FakeServer(TEI) as server:
        assert LLMInterface.detokenize("huggingface", [1, 2, 3], opts(server)) == "abc"
        assert server.requests[-1] == ("POST", "/decode", {"ids": [1, 2, 3]})
    with FakeServer(VLLM) as server:
        assert LLMInterface.detokenize("huggingface", [5, 6], opts(server)) == "t5 t6"
        assert server.requests[-1] == ("POST", "/detokenize", {"tokens": [5, 6]})
    with FakeServer(TGI) as server, pytest.raises(errors.UnsupportedTaskError, match="detokenize"):
        LLMInterface.detokenize("huggingface", [1], opts(server))
    with pytest.raises(errors.InvalidRequestError):
        LLMInterface.detokenize("huggingface", ["a"], {"api_base": "http://127.0.0.1:1"})


def test_a_given_key_reaches_the_server_and_an_ambient_one_does_not(monkeypatch):
    with FakeServer(TGI) as server:
        LLMInterface.tokenize("huggingface", "a", opts(server, api_key="hf_test_given_key"))
        assert server.headers[-1].get("Authorization") == "Bearer hf_test_given_key"
        monkeypatch.setenv("HF_TOKEN", "hf_test_ambient_key")
        LLMInterface.tokenize("huggingface", "a", opts(server))
        assert "Authorization" not in server.headers[-1]


def test_async_twins_give_the_same_results():
    import asyncio

    with FakeServer(TGI) as server:
        async def both():
            return (await LLMInterface.server_info_async("huggingface", opts(server)),
                    await LLMInterface.health_async("huggingface", opts(server)),
                    await LLMInterface.tokenize_async("huggingface", "a b", opts(server)),
                    await LLMInterface.count_tokens_async("huggingface", "a b", opts(server)))

        info, health, tokens, count = asyncio.run(both())
    assert info.kind == "tgi" and health.ok and tokens.ids == (100, 101) and count.exact


def test_the_cli_reports_a_waking_endpoint_on_stderr(capsys):
    from llm_interface import cli

    answers = iter([(503, {"error": "Service Unavailable"}, {"Retry-After": "0"})])
    reply = {"id": "x", "object": "chat.completion", "model": "tgi", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}]}
    table = {("POST", "/v1/chat/completions"): lambda _body: next(answers, (200, reply, {"Content-Type": "application/json"}))}
    with FakeServer(table) as server:
        code = cli.main(["send", "huggingface", "Hello", "--api-base", server.url, "--retries", "2"])
    out, err = capsys.readouterr()
    assert code == 0 and "Hi there" in out
    assert "endpoint waking, 0 s so far" in err


def test_rerank_on_a_server_that_told_us_nothing_keeps_the_tei_route():
    table = {("POST", "/rerank"): (200, [{"index": 0, "score": 0.5}], {"Content-Type": "application/json"})}
    with FakeServer(table) as server:
        assert LLMInterface.detect_server("huggingface", opts(server)) == "openai"
        ranked = LLMInterface.rerank("huggingface", "q", ["x"], opts(server))
        assert server.paths("POST") == ["/rerank"] and ranked.results[0].score == 0.5


def _request_schema(spec, path):
    document = json.loads((SPECS / spec).read_text())
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


@pytest.mark.parametrize("spec, path, body", [
    ("tgi-openapi.json", "/tokenize", routes.tokenize_route("tgi", "hi")[1]),
    ("tgi-openapi.json", "/chat_tokenize", routes.chat_tokenize_route("tgi", [{"role": "user", "content": "hi"}], None)[1]),
    ("tei-openapi.json", "/tokenize", routes.tokenize_route("tei", "hi")[1]),
    ("tei-openapi.json", "/decode", routes.detokenize_route("tei", [1, 2])[1]),
    ("tei-openapi.json", "/embed_sparse", routes.sparse_route(["hi"], {"truncate": True, "prompt_name": "query"})[1]),
    ("tei-openapi.json", "/similarity", routes.similarity_route("tei", "a", ["b"], None)[1]),
])
def test_what_we_send_fits_the_request_schema_of_the_spec(spec, path, body):
    schema = _request_schema(spec, path)
    assert set(schema.get("required", ())) <= set(body)
    assert set(body) <= set(schema["properties"])


# -- whatever the JSON holds: a result or InvalidResponseError (DESIGN rule 10) ----------------------------

def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-3, 40) | st.floats(width=32) | st.text(max_size=4)
    keys = st.sampled_from(["tokens", "count", "data", "index", "score", "probs", "label", "id", "text", "value",
                            "prompt", "content", "tokenize_response", "model_type", "max_model_len", "token_strs"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                        max_leaves=12)


def test_parsers_never_raise_anything_but_invalid_response():
    from hypothesis import given, settings

    from llm_interface.request import Request

    request = Request(provider="huggingface", task="classify", inputs=["a", "b"])

    @settings(max_examples=300, deadline=None)
    @given(_json_values())
    def check(body):
        for call in (
            *(lambda k=k: routes.parse_tokens(k, body) for k in routes.TOKENIZE_ROUTES),
            *(lambda k=k: routes.parse_chat_count(k, body) for k in routes.CHAT_TOKENIZE_ROUTES),
            *(lambda k=k: routes.parse_text(k, body) for k in routes.DETOKENIZE_ROUTES),
            lambda: routes.parse_sparse(body),
            lambda: routes.parse_scores("vllm", body, 2),
            lambda: routes.parse_scores("tei", body, 2),
            lambda: routes.parse_vllm_classify(body, request, "huggingface", None),
            lambda: routes.parse_info("tgi", {"/info": body, "/props": body, "/v1/models": body, "/version": body}),
            lambda: detect.kind_from_models(body),
            lambda: detect.kind_from_info(body),
        ):
            try:
                call()
            except errors.InvalidResponseError:
                pass

    check()
