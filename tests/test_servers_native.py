"""The servers' own routes beyond introspection (metrics, slots, SGLang /generate, llama.cpp /completion,
vLLM /pooling, TEI /embed_all), vLLM's completions extras and structured outputs through complete() and
send_message, rerank's return_documents rule, the cache rule for server calls (replay uses no network),
and Sessions counting their token budget exactly. Against the loopback stand-ins of
tests/support/fake_servers.py, whose bodies follow each server's spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.fake_servers import JSON, LLAMACPP, SGLANG, TEI, TGI, VLLM, FakeServer

from llm_interface import Client, LLMInterface, Session, errors
from llm_interface.servers import detect, native, tools

SPECS = Path(__file__).parent / "fixtures" / "hf-reference"
QWEN = "Qwen/Qwen2.5-1.5B-Instruct"


@pytest.fixture(autouse=True)
def fresh_detection():
    detect.forget()
    yield
    detect.forget()


def opts(fake, **more):
    return {"api_base": fake.url, **more}


# -- /metrics ---------------------------------------------------------------------------------------------

def test_vllm_metrics_are_parsed_by_name_and_labels_and_the_page_is_kept():
    with FakeServer(VLLM) as server:
        metrics = LLMInterface.metrics("huggingface", opts(server))
        assert server.requests[-1] == ("GET", "/metrics", None)
    assert metrics.kind == "vllm"
    assert metrics.value("vllm:num_requests_running") == 2.0
    assert metrics.value("vllm:kv_cache_usage_perc", model_name=QWEN) == 0.25
    assert metrics.value("vllm:e2e_request_latency_seconds_bucket", le="+Inf") == 4.0
    assert metrics.value("vllm:num_requests_running", model_name="other") is None
    assert metrics.values[f'vllm:prompt_tokens_total{{engine="0",model_name="{QWEN}"}}'] == 1234.0
    assert "# HELP vllm:num_requests_running" in metrics.text
    assert "vllm:num_requests_waiting" in metrics.names()


@pytest.mark.parametrize("table, name, value", [
    (TGI, "tgi_request_count", 7.0), (TEI, "te_request_count", 7.0), (SGLANG, "sglang:num_running_reqs", 3.0),
    (LLAMACPP, "llamacpp:prompt_tokens_total", 42.0),
])
def test_metrics_on_each_server(table, name, value):
    with FakeServer(table) as server:
        assert LLMInterface.metrics("huggingface", opts(server)).value(name) == value


def test_metrics_where_there_are_none_and_a_page_that_is_not_prometheus():
    with FakeServer(VLLM) as server, pytest.raises(errors.UnsupportedTaskError, match="metrics"):
        LLMInterface.metrics("huggingface", opts(server, server="llama-cpp-python"))
    html = {**VLLM, ("GET", "/metrics"): (200, "<html><body>hello</body></html>", {"Content-Type": "text/html"})}
    with FakeServer(html) as server, pytest.raises(errors.InvalidResponseError, match="Prometheus"):
        LLMInterface.metrics("huggingface", opts(server))


def test_the_metrics_parser_reads_timestamps_escapes_and_special_values():
    text = ('# a comment\nup 1 1733000000000\nodd{path="a\\"b"} NaN\nneg -Inf\nnot a sample line\n'
            'spaced{a="x y",b="2"} 3.5\n')
    metrics = native.parse_metrics("vllm", text)
    assert metrics.value("up") == 1.0 and metrics.values["up"] == 1.0
    assert metrics.value("odd", path='a"b') != metrics.value("odd", path='a"b')  # NaN
    assert metrics.value("neg") == float("-inf")
    assert metrics.value("spaced", a="x y", b="2") == 3.5
    assert native.parse_metrics("tgi", "").values == {}


# -- llama.cpp /slots -------------------------------------------------------------------------------------

def test_llamacpp_slots():
    with FakeServer(LLAMACPP) as server:
        slots = LLMInterface.slots("huggingface", opts(server))
        assert server.requests[-1] == ("GET", "/slots", None)
    assert [(s.id, s.n_ctx, s.is_processing) for s in slots] == [(0, 4096, True), (1, 4096, False)]
    assert slots[0].original["id_task"] == 3
    with FakeServer(TGI) as server, pytest.raises(errors.UnsupportedTaskError, match="llamacpp"):
        LLMInterface.slots("huggingface", opts(server))


# -- raw generation: SGLang /generate, llama.cpp /completion ----------------------------------------------

def test_sglang_generate_sends_sampling_params_and_reads_meta_info_and_logprobs():
    with FakeServer(SGLANG) as server:
        reply = LLMInterface.generate("huggingface", "The capital of France is",
                                      opts(server, max_tokens=2, temperature=0, logprobs=2))
        assert server.requests[-1] == ("POST", "/generate", {
            "text": "The capital of France is", "sampling_params": {"max_new_tokens": 2, "temperature": 0},
            "return_logprob": True, "top_logprobs_num": 2, "return_text_in_logprobs": True})
    assert reply.results == " Paris" and reply.finish_reason == "length"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (5, 2)
    assert reply.logprobs.tokens == (" Par", "is") and reply.logprobs.token_logprobs == (-0.25, -0.75)
    assert reply.logprobs.top_logprobs[0] == {" Par": -0.25, " Lyon": -2.0}
    assert reply.request_id == "sglang-test-id"


def test_sglang_generate_without_logprobs_asks_for_none():
    with FakeServer(SGLANG) as server:
        reply = LLMInterface.generate("huggingface", "Hi", opts(server))
        assert server.requests[-1][2] == {"text": "Hi", "sampling_params": {}}
    assert reply.results == " Paris" and reply.logprobs is None


def test_llamacpp_completion_with_n_probs():
    with FakeServer(LLAMACPP) as server:
        reply = LLMInterface.generate("huggingface", "The capital of France is",
                                      opts(server, max_tokens=2, logprobs=2, temperature=0))
        assert server.requests[-1] == ("POST", "/completion", {
            "prompt": "The capital of France is", "n_predict": 2, "n_probs": 2, "temperature": 0})
    assert reply.results == " Paris" and reply.finish_reason == "length"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (5, 2)
    assert reply.logprobs.tokens == (" Par", "is") and reply.logprobs.top_logprobs[0] == {" Par": -0.25, " Lyon": -2.0}
    assert reply.model == "qwen2.5-0.5b-instruct"


def test_llamacpp_completion_of_older_builds_gives_logprobs_from_probabilities():
    older = {"content": "B", "stop_type": "eos", "completion_probabilities": [
        {"content": "B", "probs": [{"tok_str": "B", "prob": 0.5}, {"tok_str": "C", "prob": 0.25}]}]}
    reply = native.parse_generate("llamacpp", older, None, "huggingface", None)
    assert reply.finish_reason == "stop"
    assert reply.logprobs.token_logprobs == (pytest.approx(-0.6931, abs=1e-4),)
    assert set(reply.logprobs.top_logprobs[0]) == {"B", "C"}


@pytest.mark.parametrize("bad", [True, -1, 1.5, "2"])
def test_generate_logprobs_must_be_a_count(bad):
    with FakeServer(SGLANG) as server, pytest.raises(errors.InvalidRequestError, match="logprobs must be an int"):
        LLMInterface.generate("huggingface", "Hi", opts(server, server="sglang", logprobs=bad))
    assert server.requests == []


def test_generate_where_the_server_has_no_native_route():
    with FakeServer(VLLM) as server, pytest.raises(errors.UnsupportedTaskError, match="llamacpp, sglang"):
        LLMInterface.generate("huggingface", "Hi", opts(server))
    with pytest.raises(errors.InvalidRequestError, match="prompt"):
        LLMInterface.generate("huggingface", "", {"api_base": "http://127.0.0.1:1"})


# -- pooling: TEI /embed_all, vLLM /pooling ---------------------------------------------------------------

def test_tei_embed_all_gives_one_vector_per_token():
    with FakeServer(TEI) as server:
        pooled = LLMInterface.pooling("huggingface", ["a cat", "dogs"], opts(server, truncate=True))
        assert server.requests[-1] == ("POST", "/embed_all", {"inputs": ["a cat", "dogs"], "truncate": True})
    assert len(pooled) == 2 and pooled[0] == ((1.0, 0.5, -1.0), (3.0, 0.5, -1.0)) and len(pooled[1]) == 1


def test_vllm_pooling_in_input_order():
    with FakeServer(VLLM) as server:
        pooled = LLMInterface.pooling("huggingface", ["ab", "abc"], opts(server, model="BAAI/bge-m3"))
        assert server.requests[-1] == ("POST", "/pooling", {"input": ["ab", "abc"], "model": "BAAI/bge-m3"})
    assert pooled.data == (((2.0, 1.0),), ((3.0, 1.0),)) and pooled.model == "BAAI/bge-m3"
    with FakeServer(SGLANG) as server, pytest.raises(errors.UnsupportedTaskError, match="tei, vllm"):
        LLMInterface.pooling("huggingface", "x", opts(server))


def test_the_embed_all_body_fits_the_tei_spec():
    document = json.loads((SPECS / "tei-openapi.json").read_text())
    schema = document["components"]["schemas"]["EmbedAllRequest"]
    _path, body = native.pooling_route("tei", ["hi"], None, {"truncate": True, "prompt_name": "query", "other": 1})
    assert set(schema["required"]) <= set(body) <= set(schema["properties"])
    assert "/embed_all" in document["paths"] and "/metrics" in document["paths"]


@pytest.mark.parametrize("kind, body", [
    ("tei", [[["x"]]]), ("tei", [[1.0]]), ("tei", {"data": []}), ("vllm", [[1.0]]), ("vllm", {"data": [{"data": "x"}]}),
])
def test_bad_pooling_bodies(kind, body):
    with pytest.raises(errors.InvalidResponseError):
        native.parse_pooling(kind, body, 1, None, None)


# -- vLLM /v1/completions extras and structured outputs through complete() and send_message ----------------

def test_vllm_completions_with_echo_logprobs_and_prompt_logprobs_through_complete():
    with FakeServer(VLLM) as server:
        LLMInterface.detect_server("huggingface", opts(server))  # a detected vLLM has no TGI /generate
        reply = LLMInterface.complete(
            "huggingface", "The capital is", opts(server, model=QWEN, echo=True, logprobs=1, prompt_logprobs=1),
            {"include_original_response": True})
        assert server.requests[-1] == ("POST", "/v1/completions", {
            "model": QWEN, "echo": True, "logprobs": 1, "prompt_logprobs": 1, "prompt": "The capital is"})
    assert reply.results == "The capital is Paris"
    assert reply.logprobs.tokens == ("The", " capital", " is", " Paris") and reply.logprobs.token_logprobs[0] is None
    assert reply.logprobs.text_offset == (0, 3, 11, 14)
    assert reply.original["choices"][0]["prompt_logprobs"][1] == {"200": {"logprob": -1.0, "rank": 1, "decoded_token": " capital"}}


def test_the_server_option_sends_complete_to_openai_routes_without_detection():
    with FakeServer(VLLM) as server:
        reply = LLMInterface.complete("huggingface", "Hi", opts(server, server="vllm", model=QWEN))
        assert server.paths() == ["/v1/completions"]
    assert reply.results == " Paris"


def test_an_undetected_server_keeps_tgi_generate():
    table = {("POST", "/generate"): (200, {"generated_text": " there"}, JSON)}
    with FakeServer(table) as server:
        assert LLMInterface.complete("huggingface", "Hi", opts(server)).results == " there"
        assert server.paths() == ["/generate"]


def test_structured_outputs_reach_vllm_as_vllm_reads_them():
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    response_format = {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}
    with FakeServer(VLLM) as server:
        reply = LLMInterface.send_message("huggingface", "Capital of France?",
                                          opts(server, server="vllm", model=QWEN, response_format=response_format))
        assert server.requests[-1][2]["response_format"] == response_format  # OpenAI's shape, not TGI's grammar
        assert json.loads(reply.results) == {"city": "Paris"}
        LLMInterface.send_message("huggingface", "Capital?", opts(server, server="vllm", model=QWEN,
                                                                 structured_outputs={"choice": ["Paris", "Lyon"]}))
        assert server.requests[-1][2]["structured_outputs"] == {"choice": ["Paris", "Lyon"]}
        completion = LLMInterface.complete("huggingface", "JSON:", opts(server, server="vllm", model=QWEN,
                                                                        structured_outputs={"json": schema}))
        assert server.requests[-1][2]["structured_outputs"] == {"json": schema}
        assert json.loads(completion.results) == {"city": "Paris"}


def test_tgi_still_gets_its_grammar():
    schema = {"type": "object"}
    with FakeServer({**TGI, ("POST", "/v1/chat/completions"): (200, {
        "id": "x", "object": "chat.completion", "model": "tgi",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}]}, JSON)}) as server:
        LLMInterface.detect_server("huggingface", opts(server))
        LLMInterface.send_message("huggingface", "x", opts(server, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": schema}}))
        assert server.requests[-1][2]["response_format"] == {"type": "json", "value": schema}


# -- rerank: return_documents governs on every server -------------------------------------------------------

def _tei_rerank(body):
    return 200, [{"index": i, "score": 1.0 / (i + 1), **({"text": t} if body.get("return_text") else {})}
                 for i, t in enumerate(body["texts"])], JSON


@pytest.mark.parametrize("table, server_kind", [
    (VLLM, "vllm"), ({**TEI, ("POST", "/rerank"): _tei_rerank}, "tei"), (LLAMACPP, "llamacpp"),
])
def test_rerank_text_is_there_exactly_when_return_documents_asks(table, server_kind):
    docs = ["Paris is in France", "Berlin is in Germany"]
    with FakeServer(table) as server:
        base = opts(server, server=server_kind)
        without = LLMInterface.rerank("huggingface", "France", docs, base)
        with_text = LLMInterface.rerank("huggingface", "France", docs, {**base, "return_documents": True})
    assert [r.text for r in without.results] == [None, None]
    assert {r.index: r.text for r in with_text.results} == {0: docs[0], 1: docs[1]}
    assert [r.index for r in without.results] == [r.index for r in with_text.results]


# -- the cache rule: replay never uses the network ---------------------------------------------------------

def test_server_calls_recorded_once_replay_offline(tmp_path):
    messages = [{"role": "user", "content": "Hello there"}]
    with Client(interface_options={"retry_attempts": 0}) as client:
        client.configure_cache("files", path=str(tmp_path), mode="record")
        with FakeServer(TGI) as server:
            base = opts(server)
            info = tools.server_info(client, "huggingface", base)
            tokens = tools.tokenize(client, "huggingface", "a b", base)
            count = tools.count_tokens(client, "huggingface", messages, base)
            recorded = len(server.requests)
        detect.forget()
        client.configure_cache("files", path=str(tmp_path), mode="replay")
        with FakeServer(TGI) as other:  # a new port: nothing is recorded for it
            with pytest.raises(errors.CacheMissError, match="Replay mode"):
                tools.server_info(client, "huggingface", opts(other))
            assert other.requests == []
        # the recorded server is gone: the answers come from the recording, with no probe
        assert tools.server_info(client, "huggingface", base) == info
        assert tools.tokenize(client, "huggingface", "a b", base) == tokens
        assert tools.count_tokens(client, "huggingface", messages, base) == count
        with pytest.raises(errors.CacheMissError, match="tokenize"):
            tools.tokenize(client, "huggingface", "not recorded", base)
        for live in (tools.health, tools.metrics):
            with pytest.raises(errors.CacheMissError, match="live check"):
                live(client, "huggingface", base)
    assert recorded == 4  # /info, then /info, /tokenize, /chat_tokenize: detection is cached in the process


def test_auto_mode_reads_what_it_stored_and_off_mode_always_asks():
    with Client() as client:
        client.configure_cache("memory", mode="auto")
        with FakeServer(TGI) as server:
            tools.tokenize(client, "huggingface", "a b", opts(server))
            tools.tokenize(client, "huggingface", "a b", opts(server))
            assert server.paths("POST") == ["/tokenize"]
            tools.tokenize(client, "huggingface", "a b", opts(server), {"cache": False})
            assert server.paths("POST") == ["/tokenize", "/tokenize"]
            health = [tools.health(client, "huggingface", opts(server)) for _ in range(2)]
            assert all(health) and server.paths().count("/health") == 2  # a live check is never cached


def test_replay_by_the_environment_variable(monkeypatch):
    monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "replay")
    with Client() as client, FakeServer(TGI) as server:
        with pytest.raises(errors.CacheMissError):
            tools.server_info(client, "huggingface", opts(server))
        with pytest.raises(errors.CacheMissError):
            tools.health(client, "huggingface", opts(server))
        assert server.requests == []


# -- Sessions count their token budget exactly when they can -----------------------------------------------

def test_a_session_on_tgi_trims_by_the_servers_exact_count():
    # TGI's /chat_tokenize (the stand-in) counts one token per word, plus <s>. Each message below has 6 words;
    # the 4-characters estimate counts 7 ("a b c d e f") and 11 (the answer) with each message's overhead.
    answers = iter(["one two three four five six", "seven eight nine ten eleven twelve"])
    table = {**TGI, ("POST", "/v1/chat/completions"): lambda _body: (200, {
        "id": "x", "object": "chat.completion", "model": "tgi",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": next(answers)}, "finish_reason": "stop"}]}, JSON)}
    with FakeServer(table) as server, Client(interface_options={"retry_attempts": 0}) as client:
        chat = Session("huggingface", options={"api_base": server.url}, client=client, token_budget=20)
        assert chat.counts_exactly()
        chat.send("a b c d e f")
        chat.send("g h i j k l")
        sent = [body["messages"] for method, path, body in server.requests if path == "/v1/chat/completions"]
        # exact: 1 + 6 + 6 + 6 = 19 tokens fit the budget of 20; the estimate (7 + 11 + 7 = 25) would have
        # sent the new message alone
        assert [m["content"] for m in sent[1]] == ["a b c d e f", "one two three four five six", "g h i j k l"]
        # with the answer, 25 tokens: the oldest turn goes
        assert [m["content"] for m in chat.history] == ["g h i j k l", "seven eight nine ten eleven twelve"]
        assert "/chat_tokenize" in server.paths()


def test_an_async_session_counts_the_same_way_off_the_event_loop():
    import asyncio

    table = {**TGI, ("POST", "/v1/chat/completions"): (200, {
        "id": "x", "object": "chat.completion", "model": "tgi",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "one two three four five six"},
                     "finish_reason": "stop"}]}, JSON)}
    with FakeServer(table) as server, Client(interface_options={"retry_attempts": 0}) as client:
        chat = Session("huggingface", options={"api_base": server.url}, client=client, token_budget=20)

        async def talk():
            await chat.send_async("a b c d e f")
            await chat.send_async("g h i j k l")
            await chat._async().aclose()  # the session's AsyncClient: its connections closed on this loop

        asyncio.run(talk())
        sent = [body["messages"] for _method, path, body in server.requests if path == "/v1/chat/completions"]
        assert len(sent[1]) == 3 and [m["content"] for m in chat.history] == ["g h i j k l", "one two three four five six"]


def test_a_session_falls_back_to_the_estimate_once_the_server_counts_only_roughly():
    table = {**LLAMACPP, ("POST", "/v1/chat/completions"): (200, {
        "id": "x", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}, JSON)}
    with FakeServer(table) as server, Client(interface_options={"retry_attempts": 0}) as client:
        chat = Session("huggingface", options={"api_base": server.url, "server": "llamacpp"}, client=client,
                       token_budget=100)
        chat.send("hello")
        chat.send("again")
        assert server.paths("POST").count("/tokenize") == 1 and not chat.counts_exactly()


def test_a_session_without_a_server_or_tokenizer_estimates_and_asks_nobody():
    chat = Session("huggingface", token_budget=10)
    assert not chat.counts_exactly()
    chat.add({"role": "user", "content": "x" * 40})
    assert len(chat.history) == 1


def test_a_session_on_a_hosted_api_never_asks_it_for_counts():
    chat = Session("openai", options={"api_base": "http://127.0.0.1:1/v1"}, token_budget=100)
    assert not chat.counts_exactly()
    chat.add({"role": "user", "content": "hello"})  # no network: port 1 would refuse
    assert len(chat.history) == 1


def test_a_session_saves_its_tokenizer(tmp_path):
    chat = Session("huggingface", token_budget=50, tokenizer="/models/tiny")
    chat.save(tmp_path / "chat.json")
    assert Session.load(tmp_path / "chat.json").tokenizer == "/models/tiny"


# -- whatever the JSON holds: a result or InvalidResponseError ---------------------------------------------

def test_the_native_parsers_never_raise_anything_but_invalid_response():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-3, 40) | st.floats(width=32) | st.text(max_size=4)
    keys = st.sampled_from(["text", "meta_info", "finish_reason", "output_token_logprobs", "output_top_logprobs",
                            "content", "completion_probabilities", "probs", "top_logprobs", "logprob", "token",
                            "data", "index", "id", "n_ctx", "is_processing", "prob", "tok_str"])
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                          max_leaves=14)

    @settings(max_examples=300, deadline=None)
    @given(values, st.text(max_size=60))
    def check(body, text):
        for call in (
            lambda: native.parse_generate("sglang", body, None, "huggingface", None),
            lambda: native.parse_generate("llamacpp", body, None, "huggingface", None),
            lambda: native.parse_pooling("tei", body, 1, None, None),
            lambda: native.parse_pooling("vllm", body, 1, None, None),
            lambda: native.parse_slots(body),
            lambda: native.parse_metrics("vllm", body),
            lambda: native.parse_metrics("vllm", text),
        ):
            try:
                call()
            except errors.InvalidResponseError:
                pass

    check()


# -- the docs' route table is the code's --------------------------------------------------------------------

def test_the_route_table_in_the_docs_matches_the_code():
    import re

    from llm_interface.servers import routes

    columns = {"TGI": "tgi", "TEI": "tei", "vLLM": "vllm", "SGLang": "sglang", "llama.cpp (`llama-server`)": "llamacpp",
               "llama-cpp-python": "llama-cpp-python", "transformers serve": "transformers"}
    tables = {
        "`server_info`": routes.INFO_ROUTES, "`health`": routes.HEALTH_ROUTES, "`tokenize`": routes.TOKENIZE_ROUTES,
        "`count_tokens` exact": routes.CHAT_TOKENIZE_ROUTES, "`rerank`": routes.RERANK_ROUTES,
        "`classify`": routes.CLASSIFY_ROUTES, "`metrics`": native.METRICS_ROUTES, "`slots`": native.SLOTS_ROUTES,
        "`generate` (raw, `logprobs`)": native.GENERATE_ROUTES, "`pooling`": native.POOLING_ROUTES,
    }
    lines = (Path(__file__).parent.parent / "docs" / "self-hosted.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| feature |"))
    names = [cell.strip() for cell in header.strip("|").split("|")][1:]
    assert set(names) == set(columns)
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] in tables:
            rows[cells[0]] = dict(zip(names, cells[1:]))
    assert set(rows) == set(tables)
    for feature, table in tables.items():
        for column, kind in columns.items():
            cell = rows[feature][column]
            documented = set(re.findall(r"(/[a-z_0-9/]+)", " ".join(re.findall(r"`([^`]*)`", cell))))
            expected = table.get(kind)
            expected = set() if expected is None else {expected} if isinstance(expected, str) else set(expected)
            assert documented == expected, (feature, column, cell)


@pytest.mark.parametrize("item", [{"token": "hi", "logprob": -0.1, "top_logprobs": 1}, {"content": "hi", "probs": 7}],
                         ids=["top_logprobs a number", "probs a number"])
def test_llamacpp_alternatives_that_are_not_a_list_are_ignored(item):
    # found by the shape fuzz (test_review_shapes): a non-list alternatives field raised a raw TypeError
    body = {"content": "hi", "tokens_evaluated": 1, "completion_probabilities": [item]}
    response = native.parse_generate("llamacpp", body, "m", "huggingface", None)
    assert response.logprobs.tokens == ("hi",)
    assert response.logprobs.top_logprobs == ({},)
