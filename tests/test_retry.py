"""Retry: the delay function as a table of cases, then end to end against a loopback server."""

from __future__ import annotations

import email.utils
import logging

import pytest
from support.loopback import LoopbackServer, Reply, Reset, Stall, Status, Truncate

from llm_interface import Client, errors
from llm_interface.retry import RETRY_STATUSES, RetryPolicy, retry_delay, server_wait

NOW = 1_700_000_000.0


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(NOW + seconds_from_now, usegmt=True)


# (case id, status, headers, body, attempt, expected seconds); rand() is fixed at 0.5.
DELAY_CASES = [
    ("retry-after-ms wins", 429, {"retry-after-ms": "1500", "Retry-After": "9"}, None, 0, 1.5),
    ("retry-after seconds", 429, {"Retry-After": "7"}, None, 0, 7.0),
    ("retry-after any case", 429, {"RETRY-AFTER": "3"}, None, 0, 3.0),
    ("retry-after fractional", 429, {"Retry-After": "0.25"}, None, 0, 0.25),
    ("retry-after http date", 429, {"Retry-After": http_date(12)}, None, 0, 12.0),
    ("retry-after date -0000", 429, {"Retry-After": email.utils.formatdate(NOW + 4)}, None, 0, 4.0),
    ("retry-after date in the past", 429, {"Retry-After": http_date(-30)}, None, 0, 0.0),
    ("retry-after negative", 429, {"Retry-After": "-5"}, None, 0, 0.0),
    ("retry-after garbage: backoff", 429, {"Retry-After": "soon"}, None, 0, 0.5),
    ("retry-after nan: backoff", 429, {"Retry-After": "nan"}, None, 1, 1.0),
    ("retry-after capped", 429, {"Retry-After": "3600"}, None, 0, 30.0),
    ("retry-after inf: ignored", 429, {"Retry-After": "inf"}, None, 0, 0.5),
    ("ratelimit r=0", 429, {"RateLimit": '"api";r=0;t=55'}, None, 0, 30.0),
    ("ratelimit r=0 under cap", 429, {"RateLimit": '"api";r=0;t=12'}, None, 0, 12.0),
    ("ratelimit remaining: backoff", 429, {"RateLimit": '"api";r=5;t=55'}, None, 0, 0.5),
    ("ratelimit two policies", 429, {"RateLimit": '"burst";r=0;t=2, "api";r=0;t=20'}, None, 0, 20.0),
    ("ratelimit one exhausted of two", 429, {"RateLimit": '"burst";r=3;t=2, "api";r=0;t=9'}, None, 0, 9.0),
    ("ratelimit garbage r: backoff", 429, {"RateLimit": '"api";r=1.2.3;t=9'}, None, 0, 0.5),
    ("ratelimit garbage r beside a valid policy", 429, {"RateLimit": '"burst";r=1.2.3;t=2, "api";r=0;t=9'}, None, 0, 9.0),
    ("x-ratelimit-reset-requests 1s", 429, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s"}, None, 0, 1.0),
    ("x-ratelimit-reset-tokens 6m0s capped", 429, {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"}, None, 0, 30.0),
    ("x-ratelimit-reset 20ms", 429, {"x-ratelimit-reset-requests": "20ms"}, None, 0, 0.02),
    ("x-ratelimit-reset 1m2.5s", 429, {"X-RateLimit-Reset-Tokens": "1m2.5s"}, None, 0, 30.0),
    ("x-ratelimit-reset 12.5s", 429, {"x-ratelimit-reset-tokens": "12.5s"}, None, 0, 12.5),
    ("x-ratelimit-reset plain seconds", 429, {"x-ratelimit-reset-requests": "3"}, None, 0, 3.0),
    ("x-ratelimit longest spent wins", 429, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s",
                                            "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "7s"}, None, 0, 7.0),
    ("x-ratelimit requests remain: tokens rule", 429, {"x-ratelimit-remaining-requests": "10", "x-ratelimit-reset-requests": "9s",
                                                      "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "4s"}, None, 0, 4.0),
    ("x-ratelimit nothing spent: backoff", 429, {"x-ratelimit-remaining-requests": "4", "x-ratelimit-reset-requests": "9s"}, None, 0, 0.5),
    ("x-ratelimit garbage: backoff", 429, {"x-ratelimit-reset-requests": "soon"}, None, 0, 0.5),
    ("x-ratelimit unit garbage: backoff", 429, {"x-ratelimit-reset-requests": "5parsecs"}, None, 0, 0.5),
    ("retry-after beats x-ratelimit", 429, {"Retry-After": "2", "x-ratelimit-reset-requests": "9s"}, None, 0, 2.0),
    ("retry-after beats ratelimit", 429, {"Retry-After": "2", "RateLimit": '"api";r=0;t=20'}, None, 0, 2.0),
    ("503 estimated_time", 503, {}, {"error": "Model is loading", "estimated_time": 20.0}, 0, 20.0),
    ("estimated_time capped", 503, {}, {"error": "loading", "estimated_time": 500}, 0, 30.0),
    ("estimated_time bool ignored", 503, {}, {"estimated_time": True}, 0, 0.5),
    ("header beats body", 503, {"Retry-After": "1"}, {"estimated_time": 20.0}, 0, 1.0),
    ("backoff attempt 0", 500, {}, None, 0, 0.5),
    ("backoff attempt 1", 502, {}, None, 1, 1.0),
    ("backoff attempt 3", 504, None, None, 3, 4.0),
    ("backoff capped", 500, {}, None, 10, 30.0),
    ("backoff huge attempt: no overflow", 500, {}, None, 5000, 30.0),
    ("timeout (no status) backoff", None, None, None, 2, 2.0),
]


@pytest.mark.parametrize(
    "status,headers,body,attempt,expected", [c[1:] for c in DELAY_CASES], ids=[c[0] for c in DELAY_CASES]
)
def test_retry_delay_table(status, headers, body, attempt, expected):
    got = retry_delay(status, headers, body, attempt, multiplier=1.0, max_wait=30.0, now=NOW, rand=lambda: 0.5)
    assert got == pytest.approx(expected, abs=1e-6)


def test_full_jitter_spans_zero_to_the_exponential_bound():
    assert retry_delay(500, {}, None, 2, multiplier=0.5, now=NOW, rand=lambda: 0.0) == 0.0
    assert retry_delay(500, {}, None, 2, multiplier=0.5, now=NOW, rand=lambda: 0.999) == pytest.approx(1.998)


def test_server_wait_is_none_when_the_server_said_nothing():
    assert server_wait({"content-type": "application/json"}, {"error": "x"}, now=NOW) is None
    assert server_wait(None, None) is None


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES) + [None])
def test_retryable_statuses(status):
    assert RetryPolicy(attempts=1).should_retry(0, status)
    assert not RetryPolicy(attempts=1).should_retry(1, status)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
def test_other_4xx_never_retry(status):
    assert not RetryPolicy(attempts=5).should_retry(0, status)


# -- end to end ----------------------------------------------------------------------------------


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


@pytest.fixture
def sleeps(monkeypatch):
    """Record the transport's sleeps instead of sleeping: the waits asked for are the thing under test."""
    waits = []
    monkeypatch.setattr("llm_interface.transport.time.sleep", waits.append)
    return waits


def make_client(**iopts):
    options = {"retry_attempts": 3, "retry_multiplier": 0.0, **iopts}
    return Client({"huggingface": "hf_test_fake_key_retry"}, interface_options=options)


def send(client, server, text="hello", **options):
    return client.send_message("huggingface", text, {"api_base": server.url, **options})


def test_429_retry_after_then_success(server, sleeps, caplog):
    server.script(Status(429, {"error": "Rate limit reached"}, {"Retry-After": "2"}), Reply())
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        response = send(make_client(), server)
    assert response.results == "echo: hello"
    assert response.retries == 1
    assert server.count == 2
    assert sleeps == [2.0]
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "Retry 1/3" in record.getMessage() and "2.00s" in record.getMessage() and "429" in record.getMessage()
    assert "hf_test_fake_key_retry" not in caplog.text
    assert server.requests[0].headers["authorization"] == "Bearer hf_test_fake_key_retry"  # it was sent


def test_retry_after_http_date_is_honoured(server, sleeps):
    import time

    server.script(Status(429, None, {"Retry-After": email.utils.formatdate(time.time() + 20, usegmt=True)}), Reply())
    send(make_client(), server)
    assert server.count == 2
    assert 15.0 < sleeps[0] <= 20.0  # the date's whole-second resolution


def test_503_estimated_time_and_wait_for_model_header_on_hf_inference(server, sleeps):
    """hf-inference answers 503 + estimated_time while a model loads; the retry asks the server to wait."""
    server.script(Status(503, {"error": "Model x is currently loading", "estimated_time": 7.5}), Reply())
    client = make_client()
    plan = client.plan("huggingface", "chat", "hi", {"provider": "hf-inference", "model": "org/model"})
    call = plan.provider.prepare(plan.request)
    from dataclasses import replace

    call = replace(call, url=server.url + "/v1/chat/completions")  # the router's route, served on loopback
    result = client.transport.send(call, plan.context, plan.policy)
    assert result.retries == 1 and sleeps == [7.5] and server.count == 2
    assert "x-wait-for-model" not in server.requests[0].headers
    assert server.requests[1].headers["x-wait-for-model"] == "true"


def test_ratelimit_header(server, sleeps):
    server.script(Status(429, None, {"RateLimit": '"api";r=0;t=4'}), Reply())
    assert send(make_client(), server).retries == 1
    assert sleeps == [4.0]


def test_openai_ratelimit_reset_headers_set_the_wait(server, sleeps):
    """Issue 16 #11: x-ratelimit-reset-* were ignored (the wait was the backoff's)."""
    headers = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6.5s", "x-ratelimit-reset-requests": "20ms"}
    server.script(Status(429, None, headers), Reply())
    assert send(make_client(), server).retries == 1
    assert sleeps == [6.5]


def test_connection_reset_is_retried(server, sleeps):
    server.script(Reset(), Reset(), Reply())
    response = send(make_client(), server)
    assert response.results == "echo: hello" and response.retries == 2 and server.count == 3


def test_stall_past_the_timeout_is_a_timeout_then_retried(server, sleeps):
    server.script(Stall(2.0), Reply())
    client = make_client()
    seen = []
    client.on("retry", lambda request, number, wait, error: seen.append((number, type(error).__name__)))
    response = send(client, server, timeout=0.2)
    assert response.retries == 1 and server.count == 2
    assert seen == [(1, "TimeoutError")]  # the retry was for the timeout, not some other error


def test_stall_every_time_raises_timeout_with_attempts(server, sleeps):
    server.script(Stall(2.0), Stall(2.0))
    with pytest.raises(errors.TimeoutError) as info:
        send(make_client(retry_attempts=1), server, timeout=0.2)
    assert info.value.retries == 1 and info.value.attempts == 2 and server.count == 2
    assert "gave up after 2 attempts" in str(info.value)


def test_no_sleep_after_the_last_attempt(server, sleeps):
    server.script(*[Status(500)] * 3)
    with pytest.raises(errors.ServerError) as info:
        send(make_client(retry_attempts=2, retry_multiplier=1.0), server)
    assert server.count == 3
    assert len(sleeps) == 2  # between attempts only
    assert info.value.retries == 2 and info.value.attempts == 3


@pytest.mark.parametrize(
    "status,error", [(401, errors.AuthenticationError), (402, errors.PaymentRequiredError), (422, errors.ValidationError), (404, errors.NotFoundError)]
)
def test_other_4xx_fail_at_once(server, sleeps, status, error):
    server.script(Status(status, {"error": "no"}), Reply())
    with pytest.raises(error) as info:
        send(make_client(), server)
    assert server.count == 1 and sleeps == [] and info.value.retries == 0


def test_total_budget_stops_retrying_before_a_wait_that_would_pass_it(server, sleeps):
    server.script(*[Status(429, None, {"Retry-After": "4"})] * 5)
    with pytest.raises(errors.RateLimitError) as info:
        send(make_client(retry_attempts=10, max_retry_wait=10), server)
    assert sleeps == [4.0, 4.0]  # a third wait would make 12s > 10s
    assert server.count == 3
    assert info.value.retries == 2 and info.value.retry_after == 4.0
    assert "max_retry_wait=10s" in str(info.value)


def test_stream_retried_before_its_first_byte(server, sleeps):
    server.script(Status(503, {"error": "busy"}), Reply())
    stream = make_client().stream_message("huggingface", "one two", {"api_base": server.url})
    assert stream.text() == "echo: one two"
    assert stream.response.retries == 1 and server.count == 2


def test_stream_not_retried_once_bytes_flowed(server, sleeps):
    server.script(Truncate(events=2), Reply())
    stream = make_client().stream_message("huggingface", "one two three", {"api_base": server.url})
    received = []
    with pytest.raises(errors.StreamError):
        for chunk in stream:
            received.append(chunk.text)
    assert received == ["echo:", " one"]
    assert server.count == 1 and sleeps == []


def test_retry_hook_sees_each_retry(server, sleeps):
    client = make_client()
    seen = []
    client.hooks.add("on_retry", lambda request, number, wait, error: seen.append((number, type(error).__name__)))
    server.script(Status(502), Reset(), Reply())
    send(client, server)
    assert seen == [(1, "ServerError"), (2, "ConnectionError")]
