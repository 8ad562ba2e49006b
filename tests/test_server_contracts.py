"""Contracts against the real servers that run here: llama-cpp-python's server and ``transformers serve``,
both on the tiny model (tests/support). Detection, info, health, tokenize and token counts hit their
real routes; the counts are checked against what each server itself reports for a chat call
(``usage.prompt_tokens``). The servers start once per session (tests/support/fixtures.py) and the tests
skip with the install step while the extras are missing (they fail under CI=true)."""

from __future__ import annotations

import pytest
from support.tiny_models import REPLIES

from llm_interface import Client, errors
from llm_interface.servers import detect, tools

pytestmark = pytest.mark.timeout(300)

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def client():
    detect.forget()
    with Client(interface_options={"retry_attempts": 0}) as c:
        yield c
    detect.forget()


def base(server):
    return {"api_base": server.base_url}


# -- llama-cpp-python's server ------------------------------------------------------------------------


def test_llama_server_is_detected_by_its_models_list(client, llama_server):
    assert tools.detect_server(client, "huggingface", base(llama_server)) == "llama-cpp-python"
    # the /v1 suffix is the same server: detected once
    assert detect.known(llama_server.url) == "llama-cpp-python"


def test_llama_server_info_and_health(client, llama_server):
    info = tools.server_info(client, "huggingface", base(llama_server))
    assert (info.kind, info.model_id) == ("llama-cpp-python", llama_server.model)
    health = tools.health(client, "huggingface", base(llama_server))
    assert health.ok and health.status == 200 and "/v1/models" in health.detail


def test_llama_server_tokenize_matches_the_in_process_tokenizer(client, llama_server, tiny_gguf):
    import llama_cpp

    tokens = tools.tokenize(client, "huggingface", "Hello there", base(llama_server))
    local = llama_cpp.Llama(model_path=tiny_gguf, vocab_only=True, verbose=False)
    assert list(tokens.ids) == local.tokenize(b"Hello there", special=True)
    assert tokens.kind == "llama-cpp-python" and tokens.count > 0


def test_llama_server_counts_are_exact_with_the_local_tokenizer_and_said_not_to_be_without(
    client, llama_server, tiny_chat_model
):
    reply = client.send_message("huggingface", HELLO, {**base(llama_server), "model": llama_server.model, "temperature": 0})
    assert reply.results == REPLIES["Hello"]
    local = tools.count_tokens(client, "huggingface", HELLO, {**base(llama_server), "tokenizer": tiny_chat_model})
    assert local.exact and local.count == reply.usage.prompt_tokens
    plain = tools.count_tokens(client, "huggingface", HELLO, base(llama_server))
    assert not plain.exact and "/extras/tokenize" in plain.source and 0 < plain.count < reply.usage.prompt_tokens


def test_llama_server_has_no_rerank_route_of_its_own(client, llama_server):
    with pytest.raises(errors.UnsupportedTaskError):
        client.rerank("huggingface", "q", ["a"], {**base(llama_server), "server": "llama-cpp-python"})


# -- transformers serve -------------------------------------------------------------------------------


def test_transformers_serve_is_detected_by_health_and_request_id(client, transformers_server):
    assert tools.detect_server(client, "huggingface", base(transformers_server)) == "transformers"


def test_transformers_serve_health_and_info(client, transformers_server):
    health = tools.health(client, "huggingface", base(transformers_server))
    assert health.ok and health.kind == "transformers" and "ok" in health.detail
    info = tools.server_info(client, "huggingface", base(transformers_server))
    assert info.kind == "transformers"  # /v1/models fails offline (500): no model id, and no error


def test_transformers_serve_has_no_tokenizer_route_so_counts_come_from_the_local_tokenizer(
    client, transformers_server, tiny_chat_model
):
    with pytest.raises(errors.UnsupportedTaskError):
        tools.tokenize(client, "huggingface", "Hello", base(transformers_server))
    options = {**base(transformers_server), "model": transformers_server.model, "temperature": 0}
    reply = client.send_message("huggingface", HELLO, options)
    count = tools.count_tokens(client, "huggingface", HELLO, {**base(transformers_server), "tokenizer": tiny_chat_model})
    assert count.exact and count.count == reply.usage.prompt_tokens
    estimate = tools.count_tokens(client, "huggingface", HELLO, base(transformers_server))
    assert not estimate.exact and estimate.source.startswith("estimate")


def test_llama_server_detokenize_round_trips(client, llama_server):
    tokens = tools.tokenize(client, "huggingface", "Paris is nice", base(llama_server))
    assert tools.detokenize(client, "huggingface", list(tokens.ids), base(llama_server)) == "Paris is nice"


# -- round two: completions extras, native routes, the cache rule and Sessions on the real server ---------


def test_llama_server_completions_with_echo_and_logprobs(client, llama_server):
    options = {**base(llama_server), "model": llama_server.model, "max_tokens": 3, "temperature": 0,
               "echo": True, "logprobs": 2}
    reply = client.complete("huggingface", "Hello there", options)
    assert reply.results.startswith("Hello there")
    lp = reply.logprobs
    assert lp is not None and lp.tokens and len(lp.tokens) == len(lp.token_logprobs)
    assert "".join(lp.tokens).startswith("Hello there")  # the prompt's tokens come first with echo
    assert all(v is None or v <= 0 for v in lp.token_logprobs)


def test_llama_server_named_takes_the_openai_completions_route_from_its_root(client, llama_server):
    options = {"api_base": llama_server.url, "server": "llama-cpp-python", "model": llama_server.model,
               "max_tokens": 3, "temperature": 0}
    by_root = client.complete("huggingface", "Hello", options)
    by_v1 = client.complete("huggingface", "Hello", {**options, "api_base": llama_server.base_url})
    assert by_root.results == by_v1.results and by_root.usage.prompt_tokens == by_v1.usage.prompt_tokens


@pytest.mark.parametrize("call", [tools.metrics, tools.slots])
def test_llama_server_has_no_metrics_or_slots_routes(client, llama_server, call):
    with pytest.raises(errors.UnsupportedTaskError):
        call(client, "huggingface", base(llama_server))


def test_llama_server_introspection_replays_from_a_recording(client, llama_server, tmp_path):
    client.configure_cache("files", path=str(tmp_path), mode="record")
    info = tools.server_info(client, "huggingface", base(llama_server))
    tokens = tools.tokenize(client, "huggingface", "Hello there", base(llama_server))
    detect.forget()
    client.configure_cache("files", path=str(tmp_path), mode="replay")
    assert tools.server_info(client, "huggingface", base(llama_server)) == info
    assert tools.tokenize(client, "huggingface", "Hello there", base(llama_server)) == tokens
    with pytest.raises(errors.CacheMissError):
        tools.health(client, "huggingface", base(llama_server))


def test_a_session_on_the_llama_server_counts_its_budget_with_the_local_tokenizer(client, llama_server, tiny_chat_model):
    from llm_interface import Session

    options = {**base(llama_server), "model": llama_server.model, "temperature": 0, "max_tokens": 4}
    first = client.send_message("huggingface", HELLO, options)
    exact = tools.count_tokens(client, "huggingface", HELLO, {"tokenizer": tiny_chat_model}).count
    assert exact == first.usage.prompt_tokens
    # a budget that holds the first exchange, not a second: the session trims by the same exact count
    chat = Session("huggingface", options=options, client=client, tokenizer=tiny_chat_model, token_budget=exact + 1)
    assert chat.counts_exactly()
    chat.send("Hello")
    reply = chat.send("Hello")
    assert reply.usage.prompt_tokens <= exact + 1 and chat.counts_exactly()


def test_llama_server_structured_output_in_openais_shape(client, llama_server):
    # without "server", an api_base ending in /v1 is taken for TGI's and gets TGI's grammar, which
    # llama-cpp-python refuses (500, "Input should be 'text' or 'json_object'")
    options = {**base(llama_server), "server": "llama-cpp-python", "model": llama_server.model, "temperature": 0,
               "max_tokens": 24, "response_format": {"type": "json_object"}}
    reply = client.send_message("huggingface", HELLO, options)
    assert reply.results.lstrip().startswith("{")  # the server's JSON grammar held the answer to an object


def test_transformers_serve_complete_takes_its_openai_completions_route(client, transformers_server):
    detected = tools.detect_server(client, "huggingface", {"api_base": transformers_server.url})
    assert detected == "transformers"  # detected once: complete then takes /v1/completions, not TGI's /generate
    options = {"api_base": transformers_server.url, "model": transformers_server.model, "max_tokens": 4,
               "temperature": 0}
    reply = client.complete("huggingface", "Hello", options)
    assert isinstance(reply.results, str) and reply.results
