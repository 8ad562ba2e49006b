"""Redis: the shared cache and the shared rate limit, against a real redis-server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from support.loopback import LoopbackServer, Status, free_port

from llm_interface import Client, RateLimitError, errors
from llm_interface.cache import make_cache
from llm_interface.ratelimit import RateLimiter
from llm_interface.request import Request

pytest_plugins = ("redis_server",)  # its fixtures: redis_server, redis_url

SECRET = "hf_test_fake_key_SECRET_redis_0123456789"


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def raw(url):
    import redis

    return redis.Redis.from_url(url, socket_timeout=1)


def test_redis_cache_roundtrip_ttl_and_prefixed_clear(redis_url):
    cache = make_cache("redis", url=redis_url, ttl=100)
    other = raw(redis_url)
    other.set("someone-else:key", "keep me")
    cache.set("k1", {"v": [1, "é"]})
    cache.set("k2", {"v": 2}, ttl=0)
    assert cache.get("k1") == {"v": [1, "é"]}
    assert 0 < other.pttl("llm_interface:cache:k1") <= 100_000
    assert other.pttl("llm_interface:cache:k2") == -1  # forever
    assert len(cache) == 2  # this prefix's keys only, not someone-else:key
    cache.clear()
    assert len(cache) == 0
    assert cache.get("k1") is None and cache.get("k2") is None
    assert other.get("someone-else:key") == b"keep me"
    cache.close()


def test_corrupt_redis_entry_is_a_miss(redis_url, caplog):
    cache = make_cache("redis", path=redis_url)
    raw(redis_url).set("llm_interface:cache:bad", b"{trunc")
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        assert cache.get("bad") is None
    assert "corrupt" in caplog.text


def test_workers_share_the_cache_and_tenants_stay_apart(redis_url, server):
    worker1 = Client({"huggingface": SECRET})
    worker2 = Client({"huggingface": SECRET})
    other_tenant = Client({"huggingface": "hf_another_tenant_key"})
    for client in (worker1, worker2, other_tenant):
        client.configure_cache("redis", url=redis_url, ttl=60)
    options = {"api_base": server.url}
    assert not worker1.send_message("huggingface", "hello", options).cached
    assert worker2.send_message("huggingface", "hello", options).cached
    assert not other_tenant.send_message("huggingface", "hello", options).cached
    assert server.count == 2
    stored = b"".join(raw(redis_url).get(k) for k in raw(redis_url).keys("llm_interface:cache:*"))
    assert b"echo: hello" in stored and SECRET.encode() not in stored and b"Bearer" not in stored
    for client in (worker1, worker2, other_tenant):
        client.close()


def test_errors_are_not_cached_in_redis(redis_url, server):
    with Client({"huggingface": SECRET}, interface_options={"retry_attempts": 0}) as client:
        client.configure_cache("redis", url=redis_url)
        server.script(Status(502))
        with pytest.raises(errors.ServerError):
            client.send_message("huggingface", "x", {"api_base": server.url})
        assert raw(redis_url).keys("llm_interface:cache:*") == []


def test_redis_outage_degrades_to_no_cache(server, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("redis", url=dead)
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            first = client.send_message("huggingface", "hi", {"api_base": server.url})
            second = client.send_message("huggingface", "hi", {"api_base": server.url})
    assert first.results == second.results == "echo: hi" and not second.cached
    assert "redis cache is unavailable" in caplog.text


def test_flush_cache_on_a_dead_redis_raises_instead_of_reporting_success():
    """Clearing was asked for itself: a store that could not do it is a typed error, not a warning
    and a silent return (issue 16, "a command never reports success it did not have")."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("redis", url=dead)
        with pytest.raises(errors.CacheUnavailableError, match="nothing was cleared") as caught:
            client.flush_cache()
    assert "redis" in str(caught.value) and SECRET not in str(caught.value)


def test_redis_going_away_mid_run(redis_server, server, caplog):
    """A second redis-server, stopped while a client uses it: the calls go on."""
    import shutil

    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import time

        deadline = time.monotonic() + 10
        while True:
            try:
                raw(url).ping()
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with Client({"huggingface": SECRET}) as client:
            client.configure_cache("redis", url=url)
            client.send_message("huggingface", "hi", {"api_base": server.url})
            assert client.send_message("huggingface", "hi", {"api_base": server.url}).cached
            process.terminate()
            process.wait(timeout=5)
            with caplog.at_level(logging.WARNING, logger="llm_interface"):
                after = client.send_message("huggingface", "hi", {"api_base": server.url})
            assert after.results == "echo: hi" and not after.cached
            assert "unavailable" in caplog.text
    finally:
        if process.poll() is None:
            process.kill()


# -- the shared rate limit ----------------------------------------------------------------------


def request(key=SECRET):
    return Request(provider="huggingface", task="chat", messages=({"role": "user", "content": "hi"},), api_key=key)


CHILD = """
import json, sys
from llm_interface.ratelimit import RateLimiter
from llm_interface.request import Request
from llm_interface.errors import RateLimitError
limiter = RateLimiter()
limiter.configure("huggingface", requests_per_minute=10, redis_url=sys.argv[1], max_wait=0)
req = Request(provider="huggingface", task="chat", messages=({"role": "user", "content": "hi"},), api_key=sys.argv[2])
granted = 0
for _ in range(int(sys.argv[3])):
    try:
        limiter.reserve(req)
        granted += 1
    except RateLimitError:
        pass
print(json.dumps({"granted": granted}))
"""


def run_child(url, count, key=SECRET):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, key, str(count)], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return json.loads(out.stdout)["granted"]


def test_two_processes_share_one_budget(redis_url):
    assert run_child(redis_url, 6) == 6
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=10, redis_url=redis_url, max_wait=0)
    granted = 0
    for _ in range(10):
        try:
            limiter.reserve(request())
            granted += 1
        except RateLimitError:
            pass
    assert granted == 4  # 10 per minute in all, 6 already taken by the other process
    assert run_child(redis_url, 3) == 0
    assert run_child(redis_url, 3, key="hf_other_tenant") == 3  # another key, another budget
    keys = raw(redis_url).keys("llm_interface:ratelimit:*")
    assert keys and all(SECRET.encode() not in k for k in keys)


def test_redis_limiter_waits_are_reserved_in_order(redis_url):
    # The Redis buckets run on the Redis server's clock, which a test cannot stop: the budget is slow (6 a
    # minute, a slot every 10 s), so the bounds below are exact whatever the time the calls themselves take.
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=6, tokens_per_minute=6000, redis_url=redis_url, max_wait=25)
    waits = [limiter.reserve(request()) for _ in range(8)]
    assert waits[:6] == [0.0] * 6  # the minute's budget, at once
    assert 0.0 < waits[6] <= 10.0  # queued one slot behind the budget, less what refilled meanwhile
    assert waits[6] < waits[7] <= 20.0  # queued behind the previous reservation, not beside it
    assert waits[7] - waits[6] <= 10.0  # one slot apart: a reservation takes one slot, no more
    with pytest.raises(RateLimitError):
        limiter.reserve(request())  # two slots past the queue: ~30 s, more than max_wait
    assert limiter.reserve(request(key="hf_test_other_key")) == 0.0  # another key, its own budget


def test_redis_limiter_outage_falls_back_to_the_process_budget(caplog):
    limiter = RateLimiter()
    limiter.configure("huggingface", requests_per_minute=1, redis_url=f"redis://127.0.0.1:{free_port()}/0", max_wait=0)
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        assert limiter.reserve(request()) == 0.0
        with pytest.raises(RateLimitError):
            limiter.reserve(request())
    assert "Redis is unavailable" in caplog.text
