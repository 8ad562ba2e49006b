"""The client-side rate limiter: the bucket arithmetic as a table, the limiter in process, the Client around it."""

from __future__ import annotations

import pytest

from llm_interface import Client, RateLimitError, errors
from llm_interface.ratelimit import RateLimiter, estimate_tokens, take
from llm_interface.request import Request


def req(text="x" * 40, max_tokens=None, key="hf_key_a", provider="huggingface"):
    params = {"max_tokens": max_tokens} if max_tokens else {}
    return Request(provider=provider, task="chat", messages=({"role": "user", "content": text},), params=params, api_key=key)


# (case, states, buckets (name, per minute, cost), now, max_wait) -> (wait, levels or None)
TAKE_CASES = [
    ("fresh bucket", [None], [("requests", 60, 1)], 0.0, 10, 0.0, [59.0]),
    ("empty bucket waits one refill", [(0.0, 0.0)], [("requests", 60, 1)], 0.0, 10, 1.0, [-1.0]),
    ("refills with time", [(0.0, 0.0)], [("requests", 60, 1)], 2.0, 10, 0.0, [1.0]),
    ("refill capped at the budget", [(0.0, 0.0)], [("requests", 60, 1)], 600.0, 10, 0.0, [59.0]),
    ("reservations queue", [(-3.0, 5.0)], [("requests", 60, 1)], 5.0, 10, 4.0, [-4.0]),
    ("too long: refused", [(-30.0, 0.0)], [("requests", 60, 1)], 0.0, 10, 31.0, None),
    ("cost above the budget counts as the budget", [None], [("tokens", 100, 500)], 0.0, 100, 0.0, [0.0]),
    ("slowest bucket decides", [None, (10.0, 0.0)], [("requests", 60, 1), ("tokens", 600, 70)], 0.0, 10, 6.0, [59.0, -60.0]),
]


@pytest.mark.parametrize("states,buckets,now,max_wait,wait,levels", [c[1:] for c in TAKE_CASES], ids=[c[0] for c in TAKE_CASES])
def test_take_table(states, buckets, now, max_wait, wait, levels):
    got_wait, got_states = take(states, buckets, now, max_wait)
    assert got_wait == pytest.approx(wait)
    if levels is None:
        assert got_states is None
    else:
        assert [level for level, _ in got_states] == pytest.approx(levels)
        assert all(updated == now for _, updated in got_states)


def test_estimate_tokens():
    assert estimate_tokens(req("x" * 40)) == 10
    assert estimate_tokens(req("x" * 41, max_tokens=100)) == 111
    prompt = Request(provider="huggingface", task="completion", prompt="y" * 8, params={"max_new_tokens": 2})
    assert estimate_tokens(prompt) == 4
    parts = Request(provider="huggingface", task="chat", messages=({"role": "user", "content": [{"type": "text", "text": "abcd"}]},))
    assert estimate_tokens(parts) == 1


def frozen_clock(now: float = 1000.0):
    """A clock that stands still, so the waits are exact (no refill while the test runs, however slow)."""
    return lambda: now


def test_requests_per_minute_reserves_in_order_and_refuses_past_max_wait():
    limiter = RateLimiter(clock=frozen_clock())
    limiter.configure("huggingface", requests_per_minute=120, max_wait=1.0)
    waits = [limiter.reserve(req()) for _ in range(120)]
    assert waits == [0.0] * 120
    assert limiter.reserve(req()) == pytest.approx(0.5)
    assert limiter.reserve(req()) == pytest.approx(1.0)
    with pytest.raises(RateLimitError, match="max_wait=1s") as info:
        limiter.reserve(req())
    assert info.value.retry_after == pytest.approx(1.5) and info.value.status is None


def test_the_buckets_refill_with_the_clock():
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.configure("huggingface", requests_per_minute=60, max_wait=10)
    for _ in range(60):
        limiter.reserve(req())
    assert limiter.reserve(req()) == pytest.approx(1.0)
    now[0] += 1.5  # the queued call's slot came, and half of the next one
    assert limiter.reserve(req()) == pytest.approx(0.5)


def test_budgets_are_per_key_and_per_provider():
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=1, max_wait=0)
    limiter.reserve(req(key="a"))
    limiter.reserve(req(key="b"))  # another key: its own budget
    limiter.reserve(req(key="a", provider="openai-compatible"))  # no limit there
    with pytest.raises(RateLimitError):
        limiter.reserve(req(key="a"))


def test_tokens_per_minute():
    limiter = RateLimiter(clock=frozen_clock())
    limiter.configure("huggingface", tokens_per_minute=600, max_wait=60)
    assert limiter.reserve(req("x" * 400, max_tokens=400)) == 0.0  # 500 of 600
    assert limiter.reserve(req("x" * 400, max_tokens=400)) == pytest.approx(40.0)  # 400 short at 10/s


def test_tokens_per_minute_refuses_a_wait_past_max_wait():
    limiter = RateLimiter(clock=frozen_clock())
    limiter.configure("huggingface", tokens_per_minute=600, max_wait=5)
    limiter.reserve(req("x" * 400, max_tokens=400))
    with pytest.raises(RateLimitError) as info:
        limiter.reserve(req("x" * 400, max_tokens=400))  # needs 400 more tokens: 40 s of refill
    assert info.value.retry_after == pytest.approx(40.0)


def test_removing_a_limit_and_bad_values():
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=1, max_wait=0)
    limiter.configure("huggingface")
    limiter.reserve(req())
    limiter.reserve(req())
    with pytest.raises(errors.InvalidRequestError):
        limiter.configure("huggingface", requests_per_minute=0)
    with pytest.raises(errors.InvalidRequestError):
        limiter.configure("huggingface", tokens_per_minute="many")


def test_client_waits_for_its_slot_before_sending(monkeypatch):
    from support.loopback import LoopbackServer

    slept = []
    monkeypatch.setattr("llm_interface.ratelimit.time.sleep", slept.append)
    with LoopbackServer() as server, Client({"huggingface": "hf_fake"}) as client:
        # 6 a minute: one slot per 10 s. The clock stands still, so the 7th call waits exactly one slot.
        client.configure_rate_limit("huggingface", requests_per_minute=6, max_wait=20)
        client.rate_limiter.clock = frozen_clock()
        for _ in range(7):
            client.send_message("huggingface", "hi", {"api_base": server.url})
        assert server.count == 7
    assert slept == [pytest.approx(10.0)]
