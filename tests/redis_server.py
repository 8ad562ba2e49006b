"""A real redis-server on 127.0.0.1 for the session (Debian: apt-get install -y redis-server).

A test module uses its fixtures with ``pytest_plugins = ("redis_server",)``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest
from support.loopback import free_port
from support.skips import missing, require


def _start():
    """(url, process) of a throwaway redis-server, answering: no persistence, loopback only."""
    redis = require("redis", "redis")
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"redis-server on port {port} did not start")
            time.sleep(0.05)
    client.close()
    return url, process


def _stop(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)  # a frozen (SIGSTOPped) server cannot act on SIGTERM
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def redis_server():
    """(url, process) of a redis-server shared by the session."""
    url, process = _start()
    yield url, process
    _stop(process)


@pytest.fixture
def private_redis():
    """(url, process) of a redis-server of this test's own, which the test may stop, freeze (SIGSTOP) or kill."""
    url, process = _start()
    yield url, process
    _stop(process)


@pytest.fixture
def redis_url(redis_server):
    """The server's URL, emptied before each test."""
    import redis

    url, _ = redis_server
    client = redis.Redis.from_url(url, socket_timeout=1)
    client.flushdb()
    client.close()
    return url
