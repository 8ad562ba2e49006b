"""Review: the new parsers and readers give a result or a typed error for any answer, never a raw exception;
and the call log writes a row for every task's answer shape."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from support.loopback import Answer, LoopbackServer
from support.skips import require

from llm_interface import Client
from llm_interface.providers.hf_routes import ROUTER_ENV

KEY = "hf_test_fake_review_shapes_0123456789"

# task method -> (its arguments after the provider, an hf-inference answer of that task)
TASK_ANSWERS = {
    "token_classification": (("My name is Sarah",),
                             [{"entity_group": "PER", "score": 0.99, "word": "Sarah", "start": 11, "end": 16}]),
    "fill_mask": (("Paris is the [MASK] of France.",),
                  [{"score": 0.9, "token": 3007, "token_str": "capital", "sequence": "paris is the capital of france."}]),
    "sentence_similarity": (("A fox.", ["A dog.", "A car."]), [0.7, 0.1]),
}


@pytest.mark.parametrize("method", list(TASK_ANSWERS))
def test_the_call_log_writes_a_row_for_every_text_task(method, tmp_path, monkeypatch, caplog):
    args, answer = TASK_ANSWERS[method]
    body = json.dumps(answer).encode()
    with LoopbackServer(responder=lambda r: Answer(200, {"Content-Type": "application/json"}, body)) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        path = tmp_path / "calls.db"
        with Client({"huggingface": KEY}, interface_options={"retry_attempts": 0}) as client:
            client.configure_log(path)
            with caplog.at_level(logging.WARNING, logger="llm_interface"):
                getattr(client, method)("huggingface", *args)
                client.close()
    assert "could not write" not in caplog.text
    connection = sqlite3.connect(path)
    try:
        (answer_column,) = connection.execute("SELECT answer FROM calls").fetchone()
    finally:
        connection.close()
    assert answer_column is not None and json.loads(answer_column)


# -- self-hosted servers' own routes: a server's malformed answer is a result or a typed error ----------

HUGE = "1" + "0" * 400  # valid JSON; past float's range


def _answering(routes):
    """A loopback responder: path -> raw JSON text (200), every other path 404."""
    def answer(request):
        if request.path in routes:
            return Answer(200, {"Content-Type": "application/json"}, routes[request.path].encode())
        return Answer(404, {"Content-Type": "application/json"}, b'{"error": "no route"}')
    return answer


@pytest.fixture
def no_detection_memory():
    from llm_interface.servers import detect

    detect.forget()
    yield
    detect.forget()


@pytest.mark.parametrize("server, call, routes", [
    ("vllm", lambda i, o: i.pooling("huggingface", ["a cat"], o), {"/pooling": f'{{"data": [{{"index": 0, "data": [{HUGE}]}}]}}'}),
    ("tei", lambda i, o: i.pooling("huggingface", ["a cat"], o), {"/embed_all": f"[[[0.1, {HUGE}]]]"}),
    ("sglang", lambda i, o: i.generate("huggingface", "Hi", o),
     {"/generate": f'{{"text": "hi", "meta_info": {{"prompt_tokens": {HUGE}, "completion_tokens": 1}}}}'}),
    ("llamacpp", lambda i, o: i.generate("huggingface", "Hi", o),
     {"/completion": f'{{"content": "hi", "tokens_predicted": {HUGE}, "tokens_evaluated": 1}}'}),
], ids=["vllm pooling", "tei embed_all", "sglang generate", "llamacpp completion"])
def test_a_number_past_floats_range_is_no_raw_overflow(no_detection_memory, server, call, routes):
    from llm_interface import LLMInterface, errors

    with LoopbackServer(responder=_answering(routes)) as loop:
        try:
            call(LLMInterface, {"api_base": loop.url, "server": server})
        except errors.LLMInterfaceError:
            pass  # a typed error is fine; an OverflowError is not
        assert loop.count >= 1


def test_detection_reads_an_odd_owned_by_without_a_raw_type_error(no_detection_memory):
    from llm_interface import LLMInterface, errors

    routes = {"/v1/models": '{"data": [{"id": "m", "owned_by": ["vllm"]}, {"id": "n", "owned_by": {"a": 1}}]}',
              "/metrics": "# HELP x y\nx 1\n"}
    with LoopbackServer(responder=_answering(routes)) as loop:
        try:
            LLMInterface.metrics("huggingface", {"api_base": loop.url})
        except errors.LLMInterfaceError:
            pass  # an unknown server may have no metrics: typed
        assert any(r.path == "/v1/models" for r in loop.requests)


# -- property: the new parsers of the Hub's, the router's and the servers' answers, on any JSON --------

hypothesis = require("hypothesis", "test")
st = require("hypothesis.strategies", "test")
from test_body_fuzz import ANY_JSON, FUZZ, shaped  # noqa: E402

from llm_interface import catalogue, errors  # noqa: E402
from llm_interface.hf_hub import Account  # noqa: E402
from llm_interface.providers import hf_hub_mapping  # noqa: E402
from llm_interface.servers import detect, native  # noqa: E402

OFFER = {"provider": "groq", "status": "live", "context_length": 8192, "pricing": {"input": 0.1, "output": 0.2},
         "supports_tools": True, "supports_structured_output": False, "is_model_author": False}
CATALOGUE_MODEL = {"id": "a/b", "object": "model", "owned_by": "a", "created": 1, "providers": [OFFER]}
HUB_MODEL = {"id": "a/b", "pipeline_tag": "text-generation", "inferenceProviderMapping": {
    "groq": {"status": "live", "providerId": "x", "task": "conversational", "adapter": "lora", "adapterWeightsPath": "w"}}}
HUB_MAPPING_LIST = {"inferenceProviderMapping": [{"provider": "groq", "status": "live", "providerId": "x",
                                                  "task": "conversational"}]}
WHOAMI = {"type": "user", "name": "n", "isPro": False, "canPay": True, "periodEnd": 1700000000,
          "orgs": [{"name": "o", "canPay": True, "roleInOrg": "admin"}],
          "auth": {"type": "access_token", "accessToken": {"displayName": "t", "role": "fineGrained", "fineGrained": {
              "global": ["inference.serverless.write"],
              "scoped": [{"entity": {"type": "org", "name": "o"}, "permissions": ["inference.endpoints.infer.write"]}]}}}}
SLOTS = [{"id": 0, "n_ctx": 4096, "is_processing": False, "next_token": {"n_decoded": 3}}]
SGLANG_GENERATE = {"text": "hi", "meta_info": {"prompt_tokens": 1, "completion_tokens": 2, "finish_reason": {"type": "stop"},
                                               "output_token_logprobs": [[-0.1, 5, "hi"]]}}
LLAMACPP_COMPLETION = {"content": "hi", "tokens_evaluated": 1, "tokens_predicted": 2, "stop": True, "stop_type": "eos",
                       "completion_probabilities": [{"token": "hi", "logprob": -0.1,
                                                     "top_logprobs": [{"token": "hi", "logprob": -0.1}]}]}

PARSERS = {
    "router catalogue": (shaped({"object": "list", "data": [CATALOGUE_MODEL]}),
                         lambda b: catalogue.catalogue_rows(catalogue.parse_catalogue(b))),
    "router model": (shaped(CATALOGUE_MODEL), catalogue.parse_model),
    "hub listing": (shaped([HUB_MODEL]), lambda b: catalogue.parse_hub_listing(b, "conversational")),
    "hub mapping": (shaped(HUB_MODEL), lambda b: hf_hub_mapping.parse_mapping(b, "a/b")),
    "hub mapping list": (shaped(HUB_MAPPING_LIST), lambda b: hf_hub_mapping.parse_mapping(b, "a/b")),
    "whoami": (shaped(WHOAMI), lambda b: Account.from_whoami(b).may_call_inference),
    "slots": (shaped(SLOTS), native.parse_slots),
    "sglang generate": (shaped(SGLANG_GENERATE), lambda b: native.parse_generate("sglang", b, "m", "p", None)),
    "llamacpp completion": (shaped(LLAMACPP_COMPLETION),
                            lambda b: native.parse_generate("llamacpp", b, "m", "p", None)),
    "vllm pooling": (shaped({"data": [{"index": 0, "data": [[0.1, 0.2]]}]}),
                     lambda b: native.parse_pooling("vllm", b, 1, "m", None)),
    "tei embed_all": (shaped([[[0.1, 0.2]]]), lambda b: native.parse_pooling("tei", b, 1, "m", None)),
    "metrics": (st.text(max_size=80) | ANY_JSON, lambda b: native.parse_metrics("vllm", b)),
    "detect /info": (ANY_JSON, detect.kind_from_info),
    "detect /props": (ANY_JSON, detect.kind_from_props),
    "detect /v1/models": (shaped({"data": [{"id": "m", "owned_by": "vllm"}]}), detect.kind_from_models),
    "detect /get_model_info": (ANY_JSON, detect.kind_from_model_info),
    "detect /health": (ANY_JSON, lambda b: detect.kind_from_health(b, {})),
}


@pytest.mark.parametrize("name", list(PARSERS))
def test_a_parser_gives_a_result_or_a_typed_error_for_any_body(name):
    strategy, parse = PARSERS[name]

    @FUZZ
    @hypothesis.given(strategy)
    def check(body):
        try:
            parse(body)
        except errors.LLMInterfaceError:
            pass

    check()


# -- llm-interface logs on a file that is not a call log -------------------------------------------------

@pytest.mark.parametrize("content", [b"not a database at all", None], ids=["not sqlite", "sqlite without calls"])
@pytest.mark.parametrize("action", [["list"], ["export"], ["show", "1"], ["search", "fox"]])
def test_logs_on_a_file_that_is_not_a_call_log_is_a_typed_error(tmp_path, capsys, content, action):
    from llm_interface.cli import main

    path = tmp_path / "other.db"
    if content is None:
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE notes (x TEXT)")
        connection.commit()
        connection.close()
    else:
        path.write_bytes(content)
    code = main(["logs", *action, "--path", str(path)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "ConfigurationError" in err and "not a call log" in err


# -- cost: a token count past float's range from the server ------------------------------------------------

def test_a_huge_token_count_with_a_priced_catalogue_is_no_raw_overflow(monkeypatch):
    model = "test/priced-model"
    catalogue = {"object": "list", "data": [{"id": model, "providers": [
        {"provider": "groq", "status": "live", "pricing": {"input": 0.1, "output": 0.2}}]}]}
    chat = ('{"id": "c", "model": "test/priced-model", "choices": [{"index": 0, "finish_reason": "stop", '
            '"message": {"role": "assistant", "content": "hi"}}], '
            f'"usage": {{"prompt_tokens": {HUGE}, "completion_tokens": 1, "total_tokens": {HUGE}}}}}')

    def router(request):
        if request.path == "/v1/models":
            return Answer(200, {"Content-Type": "application/json"}, json.dumps(catalogue).encode())
        return Answer(200, {"Content-Type": "application/json"}, chat.encode())

    with LoopbackServer(responder=router) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        with Client({"huggingface": KEY}, interface_options={"retry_attempts": 0}) as client:
            client.list_models("huggingface")  # the prices are now known
            answer = client.send_message("huggingface", "hi", {"model": model + ":groq"})
    assert answer.results == "hi" and answer.cost is None  # a cost nobody can compute is unknown
    assert any(r.path == "/v1/chat/completions" for r in server.requests)
