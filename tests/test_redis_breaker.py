"""A frozen Redis (SIGSTOP: connections open, nothing answers) costs one socket timeout per cool-down, not
three per call: the breaker shared by the Redis cache and the Redis rate limiter stops asking it, says so
once in the log, and asks again after the cool-down. Waits are counted as the Redis commands sent while the
server is frozen (each one waits its whole timeout), not timed."""

from __future__ import annotations

import logging
import signal
import time

import pytest
from loopback import LoopbackServer

from llm_interface import Client
from llm_interface.cache.breaker import COOL_DOWN
from llm_interface.cache.redis import breaker_of
from llm_interface.ratelimit import RateLimiter
from llm_interface.request import Request

pytest_plugins = ("redis_server",)  # private_redis: a server of the test's own, to freeze

SECRET = "hf_test_fake_key_breaker_0123456789"


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


@pytest.fixture
def commands(monkeypatch):
    """Every command sent to any Redis from this process, by name (cache GET/SET, the limiter's EVALSHA)."""
    import redis

    sent = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


@pytest.fixture
def frozen(private_redis):
    """A private redis-server's URL and two switches: freeze() (SIGSTOP) and thaw() (SIGCONT)."""
    url, process = private_redis
    breaker = breaker_of(url)
    yield url, lambda: process.send_signal(signal.SIGSTOP), lambda: process.send_signal(signal.SIGCONT)
    process.send_signal(signal.SIGCONT)
    breaker.clock = time.monotonic
    breaker.record_success()


def later(url, seconds=COOL_DOWN + 1):
    """Move the breaker's clock past the cool-down (no sleeping in tests)."""
    breaker_of(url).clock = lambda: time.monotonic() + seconds


def test_a_frozen_redis_is_asked_once_per_cool_down_by_the_cache_and_the_limiter(frozen, server, commands, caplog):
    url, freeze, thaw = frozen
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("redis", url=url)
        client.configure_rate_limit("huggingface", requests_per_minute=600, redis_url=url)
        options = {"api_base": server.url}
        client.send_message("huggingface", "warm", options)
        assert client.send_message("huggingface", "warm", options).cached
        assert {"GET", "SET", "EVALSHA"} <= set(commands)  # both really use this Redis while it answers

        freeze()
        commands.clear()
        with caplog.at_level(logging.DEBUG, logger="llm_interface"):
            answers = [client.send_message("huggingface", f"question {i}", options).results for i in range(5)]
        assert answers == [f"echo: question {i}" for i in range(5)]
        # Before the breaker: GET, EVALSHA and SET per call, each waiting 0.5 s: 15 waits. Now the first GET only.
        assert commands == ["GET"]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "not asked again" in r.getMessage()]
        assert len(warnings) == 1 and "redis cache is unavailable" in warnings[0].getMessage()

        thaw()
        later(url)  # the cool-down is over: one probe, Redis answers, the breaker closes
        commands.clear()
        with caplog.at_level(logging.INFO, logger="llm_interface"):
            client.send_message("huggingface", "after", options)
        assert commands[0] == "GET" and "EVALSHA" in commands and "SET" in commands
        assert "answers again" in caplog.text
        assert client.send_message("huggingface", "after", options).cached


def test_the_limiter_alone_stops_asking_a_frozen_redis(frozen, commands, caplog):
    url, freeze, _thaw = frozen
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=2, redis_url=url, max_wait=0)
    request = Request(provider="huggingface", task="chat", messages=({"role": "user", "content": "hi"},), api_key=SECRET)
    freeze()
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        assert limiter.reserve(request) == 0.0 and limiter.reserve(request) == 0.0  # this process's budget
    assert commands == ["EVALSHA"]
    assert caplog.text.count("not asked again") == 1 and "rate limit's Redis is unavailable" in caplog.text


def test_a_redis_that_refuses_connections_is_skipped_too(server, commands, caplog):
    from loopback import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    try:
        with Client({"huggingface": SECRET}) as client:
            client.configure_cache("redis", url=dead)
            with caplog.at_level(logging.WARNING, logger="llm_interface"):
                for _ in range(3):
                    assert client.send_message("huggingface", "hi", {"api_base": server.url}).results == "echo: hi"
        assert commands == ["GET"] and caplog.text.count("not asked again") == 1
    finally:
        breaker_of(dead).record_success()
