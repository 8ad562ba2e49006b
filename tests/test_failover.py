"""Failover across targets (llm_interface/failover.py) against two or three real loopback servers: a failing
primary, an endpoint that answers, the router pointed at a third; the hooks see each hop."""

from __future__ import annotations

import asyncio

import pytest
from conftest import FAKE_KEY
from support.loopback import LoopbackServer, Reply, Stall, Status, Truncate, free_port
from support.upstream import ERRORS, hf_routes

from llm_interface import Client, LLMInterface, errors, failover
from llm_interface.async_client import AsyncClient
from llm_interface.providers.hf_routes import ROUTER_ENV
from llm_interface.types import Response

NO_RETRY = {"retry_attempts": 0}


@pytest.fixture
def down():
    """The primary: every request answers 500 unless the test scripts otherwise."""
    with LoopbackServer(default=Status(500, ERRORS[500])) as server:
        yield server


@pytest.fixture
def up():
    """A TGI/TEI endpoint that answers every route (chat echoes the last user message)."""
    with LoopbackServer(responder=hf_routes) as server:
        yield server


@pytest.fixture
def facade():
    client = Client({"huggingface": FAKE_KEY})
    LLMInterface.reset(client)
    return client


def test_a_server_error_fails_over_to_the_next_endpoint(facade, down, up):
    response = LLMInterface.send_message("huggingface", "Hello", {"api_base": down.url},
                                         {**NO_RETRY, "fallbacks": [up.url]})
    assert response.results == "echo: Hello"
    assert response.served_by == up.url
    assert (down.count, up.count) == (1, 1)


def test_router_then_endpoint_then_router_in_any_order(facade, down, up, monkeypatch):
    with LoopbackServer(default=Status(402, ERRORS[402])) as router:
        monkeypatch.setenv(ROUTER_ENV, router.url)
        response = LLMInterface.send_message(
            "huggingface", "Hi", {"model": "meta-llama/Llama-3.1-8B-Instruct", "max_tokens": 20},
            {**NO_RETRY, "fallbacks": ["meta-llama/Llama-3.1-8B-Instruct:cerebras", down.url, up.url]},
        )
        assert [r.body["model"] for r in router.requests] == ["meta-llama/Llama-3.1-8B-Instruct",
                                                             "meta-llama/Llama-3.1-8B-Instruct:cerebras"]
    assert response.served_by == up.url
    # the other options travel to every target; the routing ones do not
    assert up.requests[0].body["max_tokens"] == 20 and up.requests[0].body["model"] == "tgi"


@pytest.mark.parametrize("status, error", [
    (400, errors.ValidationError), (401, errors.AuthenticationError), (422, errors.ValidationError),
])
def test_the_callers_own_mistakes_never_fail_over(facade, up, status, error):
    with LoopbackServer(default=Status(status, ERRORS.get(status, {"error": "bad request"}))) as primary:
        with pytest.raises(error):
            LLMInterface.send_message("huggingface", "Hi", {"api_base": primary.url}, {**NO_RETRY, "fallbacks": [up.url]})
    assert up.count == 0


def test_a_bad_option_raises_before_any_target_is_tried(facade, up):
    with pytest.raises(errors.InvalidRequestError):
        LLMInterface.send_message("huggingface", "Hi", {"api_base": up.url, "temperature": "hot"},
                                  {"fallbacks": [up.url + "/second"]})
    assert up.count == 0


def test_a_rate_limit_fails_over_only_after_the_retry_budget(facade, down, up):
    down.script(*[Status(429, ERRORS[429], {"Retry-After": "0"})] * 2)
    response = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url},
                                         {"retry_attempts": 1, "fallbacks": [up.url]})
    assert down.count == 2  # the first attempt and its one retry, then the next target
    assert response.served_by == up.url and response.results == "echo: Hi"


@pytest.mark.parametrize("status", [402, 500, 502, 503])
def test_each_status_another_target_can_fix_fails_over(facade, up, status):
    with LoopbackServer(default=Status(status, ERRORS.get(status, {"error": "bad gateway"}))) as primary:
        response = LLMInterface.send_message("huggingface", "Hi", {"api_base": primary.url},
                                             {**NO_RETRY, "fallbacks": [up.url]})
    assert response.served_by == up.url


def test_a_refused_connection_and_a_timeout_fail_over(facade, down, up):
    down.script(Stall(3))
    refused = f"http://127.0.0.1:{free_port()}"
    response = LLMInterface.send_message("huggingface", "Hi", {"api_base": refused, "timeout": 0.3},
                                         {**NO_RETRY, "fallbacks": [down.url, up.url]})
    assert response.served_by == up.url
    assert down.count == 1


def test_every_target_failing_raises_the_last_error_naming_each_attempt(facade, down):
    with LoopbackServer(default=Status(503, ERRORS[503])) as loading:
        with pytest.raises(errors.ModelLoadingError) as caught:
            LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url},
                                      {**NO_RETRY, "fallbacks": [loading.url]})
    note = caught.value.__notes__[0]
    assert f"{down.url} (ServerError)" in note and f"{loading.url} (ModelLoadingError)" in note


def test_the_hooks_see_each_hop(facade, down, up):
    seen = []
    facade.on("request", lambda request: seen.append(("request", request.api_base or request.model)))
    facade.on("error", lambda request, error: seen.append(("error", type(error).__name__)))
    facade.on("failover", lambda hop: seen.append(("failover", hop.number, hop.failed, type(hop.error).__name__, hop.next)))
    facade.on("response", lambda request, response: seen.append(("response", request.api_base or request.model)))
    LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    assert seen == [
        ("request", down.url), ("error", "ServerError"),
        ("failover", 1, down.url, "ServerError", up.url),
        ("request", up.url), ("response", up.url),
    ]


@pytest.mark.parametrize("fallbacks", ["http://one", [], [42], [""], [{}], {"model": "x"}])
def test_malformed_fallbacks_are_a_typed_error_that_shows_the_shape(facade, fallbacks):
    with pytest.raises(errors.InvalidRequestError, match="fallbacks"):
        LLMInterface.send_message("huggingface", "Hi", {"api_base": "http://127.0.0.1:9"}, {"fallbacks": fallbacks})


def test_a_dict_target_is_a_set_of_options(facade, down, up):
    response = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url},
                                         {**NO_RETRY, "fallbacks": [{"api_base": up.url, "max_tokens": 1}]})
    assert response.results == "echo:" and response.served_by == up.url


def test_without_fallbacks_served_by_stays_none(facade, up):
    assert LLMInterface.send_message("huggingface", "Hi", {"api_base": up.url}).served_by is None


# -- the cache ------------------------------------------------------------------------------------


def test_served_by_survives_the_cache_entry_round_trip():
    response = Response("hi", served_by="https://endpoint.example")
    assert Response.from_dict(response.to_dict()).served_by == "https://endpoint.example"
    assert "served_by" not in Response("hi").to_dict()  # answers without failover keep their old shape


def test_a_cached_answer_says_who_served_it_first(facade, down, up):
    facade.configure_cache("memory")
    first = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    again = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    assert again.cached and not first.cached
    assert again.served_by == up.url and up.count == 1


# -- streams --------------------------------------------------------------------------------------


def test_a_stream_fails_over_before_its_first_chunk(facade, down, up):
    with LLMInterface.stream_message("huggingface", "Hello there", {"api_base": down.url},
                                     {**NO_RETRY, "fallbacks": [up.url]}) as stream:
        text = "".join(chunk.text for chunk in stream)
    assert text == "echo: Hello there"
    assert stream.served_by == up.url and stream.response.served_by == up.url


def test_a_stream_broken_before_its_first_chunk_fails_over(facade, down, up):
    down.script(Truncate(events=0))
    stream = LLMInterface.stream_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    assert stream.text() == "echo: Hi" and stream.response.served_by == up.url


def test_a_stream_never_fails_over_after_its_first_chunk(facade, down, up):
    down.script(Truncate(events=2, text="half an answer"))
    stream = LLMInterface.stream_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    chunks = []
    with pytest.raises(errors.StreamError):
        for chunk in stream:
            chunks.append(chunk.text)
    assert chunks and up.count == 0


def test_stream_complete_fails_over(facade, down, up):
    stream = LLMInterface.stream_complete("huggingface", "Once", {"api_base": down.url + "/v1"},
                                          {**NO_RETRY, "fallbacks": [up.url + "/v1"]})
    assert stream.text().endswith("Once")  # the fake upstream streams words without their spaces
    assert stream.response.served_by == up.url + "/v1"


# -- other tasks ----------------------------------------------------------------------------------


def test_complete_and_embeddings_fail_over(facade, down, up):
    completion = LLMInterface.complete("huggingface", "Once", {"api_base": down.url + "/v1"},
                                       {**NO_RETRY, "fallbacks": [up.url + "/v1"]})
    assert completion.results == " continued: Once" and completion.served_by == up.url + "/v1"
    vectors = LLMInterface.embeddings("huggingface", ["ab", "abc"], {"api_base": down.url},
                                      {**NO_RETRY, "fallbacks": [up.url]})
    assert vectors.embeddings == [[2.0, 1.0, 1.0], [3.0, 1.0, 1.0]] and vectors.served_by == up.url


def test_a_client_of_ones_own_fails_over_through_the_module(down, up):
    with Client(interface_options=NO_RETRY) as client:
        response = failover.send_message(client, "huggingface", "Hi", {"api_base": down.url}, {"fallbacks": [up.url]})
    assert response.served_by == up.url


# -- async ----------------------------------------------------------------------------------------


def test_the_async_twins_fail_over(facade, down, up):
    hops = []
    facade.on("failover", hops.append)

    async def main():
        response = await LLMInterface.send_message_async("huggingface", "Hi", {"api_base": down.url},
                                                         {**NO_RETRY, "fallbacks": [up.url]})
        stream = LLMInterface.stream_message_async("huggingface", "Hey you", {"api_base": down.url},
                                                   {**NO_RETRY, "fallbacks": [up.url]})
        async with stream:
            text = "".join([chunk.text async for chunk in stream])
        completion = await LLMInterface.complete_async("huggingface", "Once", {"api_base": down.url + "/v1"},
                                                       {**NO_RETRY, "fallbacks": [up.url + "/v1"]})
        vectors = await LLMInterface.embeddings_async("huggingface", "ab", {"api_base": down.url},
                                                      {**NO_RETRY, "fallbacks": [up.url]})
        return response, text, stream.response, completion, vectors

    response, text, streamed, completion, vectors = asyncio.run(main())
    assert response.served_by == up.url and response.results == "echo: Hi"
    assert text == "echo: Hey you" and streamed.served_by == up.url
    assert completion.served_by == up.url + "/v1" and vectors.served_by == up.url
    assert [hop.next for hop in hops] == [up.url, up.url, up.url + "/v1", up.url]


def test_an_async_stream_never_fails_over_after_its_first_chunk(down, up):
    down.script(Truncate(events=2, text="half an answer"))

    async def main():
        async with AsyncClient(client=Client(interface_options=NO_RETRY)) as owner:
            stream = failover.stream_message_async(owner, "huggingface", "Hi", {"api_base": down.url}, {"fallbacks": [up.url]})
            chunks = []
            with pytest.raises(errors.StreamError):
                async for chunk in stream:
                    chunks.append(chunk.text)
            return chunks

    assert asyncio.run(main()) and up.count == 0


# -- a local model ----------------------------------------------------------------------------------


def test_an_endpoint_down_fails_over_to_the_tiny_local_model(facade, tiny_chat_model):
    with LoopbackServer(default=Status(503, ERRORS[503])) as endpoint:
        response = LLMInterface.send_message("huggingface", "Hi", {"api_base": endpoint.url, "max_tokens": 3},
                                             {**NO_RETRY, "fallbacks": [tiny_chat_model]})
    assert response.served_by == tiny_chat_model
    assert isinstance(response.results, str) and response.usage.completion_tokens <= 3


def test_reply_is_used_by_a_scripted_endpoint(facade, down):
    """A scripted fallback (not the upstream fake) is tried with the same message."""
    with LoopbackServer(default=Reply("scripted")) as scripted:
        response = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [scripted.url]})
    assert response.results == "scripted" and scripted.requests[0].body["messages"][-1]["content"] == "Hi"


# -- sessions and the chat ------------------------------------------------------------------------


def test_a_session_with_fallbacks_keeps_its_turns_whoever_answers(down, up):
    from llm_interface import Session

    with Client(interface_options=NO_RETRY) as client:
        chat = Session("huggingface", api_base=down.url, interface_options={"fallbacks": [up.url]}, client=client)
        assert chat.send("Hi").served_by == up.url
        assert "".join(c.text for c in chat.stream("Again")) == "echo: Again"
        assert chat.last_response.served_by == up.url

        async def later():
            await chat.send_async("Async")
            return [c.text async for c in chat.stream_async("Streamed")]

        assert "".join(asyncio.run(later())) == "echo: Streamed"
    assert [m["content"] for m in chat.history][-2:] == ["Streamed", "echo: Streamed"]
    assert len(chat.history) == 8 and down.count == 4


def test_the_chat_command_takes_fallbacks(down, up, monkeypatch, capsys):
    import io

    from llm_interface import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n"))
    assert cli.main(["chat", "--api-base", down.url, "--retries", "0", "--fallback", up.url]) == 0
    assert "echo: hello" in capsys.readouterr().out and up.count == 1


def test_served_by_never_carries_a_password_from_a_target_url(facade, down, up):
    secret_url = up.url.replace("http://", "http://user:fake-test-secret@")
    response = LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [secret_url]})
    assert response.served_by == up.url.replace("http://", "http://***@")
    assert "fake-test-secret" not in repr(response)


def test_the_call_log_shows_each_hop_and_who_served(facade, down, up, tmp_path):
    from llm_interface import call_log_db

    path = tmp_path / "calls.db"
    log = facade.configure_log(path)
    LLMInterface.send_message("huggingface", "Hi", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    stream = LLMInterface.stream_message("huggingface", "Streamed", {"api_base": down.url}, {**NO_RETRY, "fallbacks": [up.url]})
    stream.text()
    log.close()
    rows = sorted(call_log_db.every(path), key=lambda row: row["id"])
    assert [(row["error_type"], row["served_by"]) for row in rows] == [
        ("ServerError", None), (None, up.url), ("ServerError", None), (None, up.url)]
    assert [row["answer"] for row in rows if row["answer"]] == ["echo: Hi", "echo: Streamed"]


def test_a_stream_the_caller_got_wrong_is_raised_without_failing_over(facade, up):
    with LoopbackServer(default=Status(401, ERRORS[401])) as primary:
        with pytest.raises(errors.AuthenticationError):
            LLMInterface.stream_message("huggingface", "Hi", {"api_base": primary.url}, {**NO_RETRY, "fallbacks": [up.url]})
    assert up.count == 0
