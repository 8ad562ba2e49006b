"""Client: planning, caching, hooks, several configurations, and no key anywhere it should not be."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import FAKE_KEY
from support.loopback import Answer, free_port

from llm_interface import Client, errors

COMPLETION = {"object": "chat.completion", "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}]}


def ok():
    return Answer(body=json.dumps(COMPLETION).encode(), headers={"Content-Type": "application/json"})


ERROR_ANSWERS = {
    "401": Answer(status=401, body=b'{"error": "Invalid username or password."}', headers={"X-Error-Message": "Invalid username or password."}),
    "402": Answer(status=402, body=b'{"error": "credits"}'),
    "404": Answer(status=404, body=b'{"error": "Model x does not exist"}'),
    "422-text": Answer(status=422, body=b"Failed to deserialize the JSON body"),
    "429": Answer(status=429, body=b'{"error": "slow"}', headers={"Retry-After": "0"}),
    "503": Answer(status=503, body=b'{"error": "loading", "estimated_time": 0}'),
    "500-html": Answer(status=500, body=b"<html>oops</html>"),
    "200-empty": Answer(body=b""),
    "200-in-body-error": Answer(body=b'{"error": "boom", "error_type": "generation"}'),
    "stream-error": Answer(headers={"Content-Type": "text/event-stream"}, chunks=[b'data: {"error": {"message": "bad", "http_status_code": 422}}\n\n']),
    "stream-cut": Answer(headers={"Content-Type": "text/event-stream"}, chunks=[b'data: {"choices": [{"index": 0, "delta": {"content": "a"}}]}\n\n']),
}


def test_no_key_in_errors_reprs_or_debug_logs(loopback, caplog):
    """Every failure path, with the fake key set three ways: the key appears in no error, no repr,
    and no log line at DEBUG (urllib3's included)."""
    caplog.set_level(logging.DEBUG)
    seen = []
    client = Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 1, "retry_multiplier": 0})
    client.hooks.add("on_error", lambda request, error: seen.append(repr(request)))
    client.hooks.add("on_request", lambda request: seen.append(repr(request)))
    options = {"api_base": loopback.url, "api_key": FAKE_KEY, "headers": {"X-Api-Key": FAKE_KEY}}
    for name, answer in ERROR_ANSWERS.items():
        loopback.script(answer, answer)  # the same answer again for a retry
        with pytest.raises(errors.LLMInterfaceError) as caught:
            if name.startswith("stream"):
                with client.stream_message("huggingface", "hi", options) as stream:
                    list(stream)
            else:
                client.send_message("huggingface", "hi", options)
        loopback.reset()  # the retry's copy, if the error was not retried
        error = caught.value
        seen += [str(error), repr(error), repr(vars(error)), str(error.__cause__), repr(error.__cause__)]
    for bad_options in ({"api_base": f"http://127.0.0.1:{free_port()}", "api_key": FAKE_KEY},
                        {"api_base": loopback.url, "api_key": FAKE_KEY, "temperature": "x"}):
        with pytest.raises(errors.LLMInterfaceError) as caught:
            client.send_message("huggingface", "hi", bad_options)
        seen += [str(caught.value), repr(caught.value), repr(caught.value.__cause__)]
    with pytest.raises(errors.MissingAPIKeyError) as caught:
        Client().send_message("huggingface", "hi")
    seen.append(str(caught.value))
    plan = client.plan("huggingface", "chat", "hi", options)
    call = plan.provider.prepare(plan.request)
    assert call.headers["Authorization"] == f"Bearer {FAKE_KEY}"  # it is really there...
    seen += [repr(client), repr(plan), repr(plan.request), repr(call), plan.request.describe(), str(plan.cache_key)]
    seen += [record.getMessage() for record in caplog.records]
    assert any("urllib3" in record.name for record in caplog.records)  # DEBUG logging was on
    leaks = [text for text in seen if FAKE_KEY in text or FAKE_KEY[:20] in text]
    assert leaks == []  # ...and nowhere else
    client.close()


def test_send_message_end_to_end(loopback):
    loopback.script(ok())
    with Client(interface_options={"retry_attempts": 0}) as client:
        result = client.send_message("huggingface", [{"role": "user", "content": "hi"}],
                                     {"api_base": loopback.url, "max_tokens": 5}, {"include_original_response": True})
    assert result.results == str(result) == "Hi!"
    assert result.provider == "huggingface" and result.original == COMPLETION
    assert result.request_time is not None and result.total_time >= result.request_time
    assert loopback.requests[0].body == {"messages": [{"role": "user", "content": "hi"}], "model": "tgi", "max_tokens": 5}


def test_message_dict_carries_model_and_options(loopback):
    loopback.script(ok())
    with Client() as client:
        client.send_message("huggingface", {"model": "my-model", "messages": [{"role": "user", "content": "hi"}],
                                            "max_tokens": 3, "api_base": loopback.url})
    assert loopback.requests[0].body["model"] == "my-model"
    assert loopback.requests[0].body["max_tokens"] == 3


def test_cache_key_depends_on_model_and_options(loopback):
    """The JS library's cache key ignores model and options; ours does not."""
    loopback.script(*[ok() for _ in range(4)])
    with Client() as client:
        def send(**o):
            return client.send_message("huggingface", "hi", {"api_base": loopback.url, **o}, {"cache_timeout_seconds": 60})

        first = send(model="a")
        again = send(model="a")
        assert (first.cached, again.cached) == (False, True)
        assert again.results == first.results
        send(model="b")
        send(model="a", temperature=0.5)
        assert send(model="a", timeout=30).cached  # how long we wait does not change the answer
        assert len(loopback.requests) == 3
        assert not client.send_message("huggingface", "hi", {"api_base": loopback.url, "model": "a"},
                                       {"cache_timeout_seconds": 60, "refresh": True}).cached
        assert len(loopback.requests) == 4


def test_no_caching_unless_asked(loopback):
    loopback.script(ok(), ok())
    with Client() as client:
        client.send_message("huggingface", "hi", {"api_base": loopback.url})
        assert not client.send_message("huggingface", "hi", {"api_base": loopback.url}).cached
    assert len(loopback.requests) == 2


def test_hooks_see_requests_responses_and_errors_and_a_raising_hook_is_ignored(loopback):
    loopback.script(ok(), Answer(status=404, body=b'{"error": "nope"}'))
    events = []
    with Client(interface_options={"retry_attempts": 0}) as client:
        client.hooks.add("on_request", lambda request: events.append("request"))
        client.hooks.add("on_response", lambda request, response: events.append(response.results))
        client.hooks.add("on_error", lambda request, error: events.append(type(error).__name__))
        client.hooks.add("on_response", lambda request, response: 1 / 0)
        client.send_message("huggingface", "hi", {"api_base": loopback.url})
        with pytest.raises(errors.NotFoundError):
            client.send_message("huggingface", "hi", {"api_base": loopback.url})
    assert events == ["request", "Hi!", "request", "NotFoundError"]


def test_several_clients_several_configurations(loopback):
    loopback.script(ok(), ok())
    a = Client({"huggingface": "hf_a"})
    b = Client({"huggingface": "hf_b"})
    a.send_message("huggingface", "hi", {"api_base": loopback.url})
    b.send_message("huggingface", "hi", {"api_base": loopback.url})
    assert [s.headers["authorization"] for s in loopback.requests] == ["Bearer hf_a", "Bearer hf_b"]
    a.close(), b.close()


def test_unknown_provider_and_unsupported_task():
    client = Client()
    with pytest.raises(errors.UnknownProviderError) as caught:
        client.send_message("openia", "hi")
    assert "huggingface" in str(caught.value) and "openai-compatible" in str(caught.value)
    with pytest.raises(errors.UnsupportedTaskError):
        client.plan("openai-compatible", "rerank", None, inputs=["a"])


def test_interface_options_merge_over_client_defaults():
    client = Client({"huggingface": "hf_x"}, interface_options={"retry_attempts": 7, "include_original_response": True})
    plan = client.plan("huggingface", "chat", "hi", None, {"retry_multiplier": 0})
    assert (plan.options.retry_attempts, plan.options.include_original_response, plan.options.retry_multiplier) == (7, True, 0)
    assert plan.policy.attempts == 7


def test_get_interface_config_value():
    client = Client()
    assert client.get_interface_config_value("huggingface", "url") == "https://router.huggingface.co/v1/chat/completions"
    assert client.get_interface_config_value("huggingface", "model")["small"] == "microsoft/Phi-3-mini-4k-instruct"
    with pytest.raises(errors.ConfigurationError):
        client.get_interface_config_value("huggingface", "colour")
