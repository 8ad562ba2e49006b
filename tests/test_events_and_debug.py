"""Hooks (Client.on/off), key-free events, the debug mode's wire log, and redaction."""

from __future__ import annotations

import asyncio
import logging

import pytest
from conftest import FAKE_KEY
from support.skips import require

from llm_interface import AsyncClient, Client, errors
from llm_interface import redact as redaction


def options(server, **more):
    return {"api_base": server.url, "model": "test-model", **more}


@pytest.fixture
def quiet_logger():
    """Debug mode changes the package logger's level and may add a handler: undo it after the test."""
    package = logging.getLogger("llm_interface")
    level, handlers = package.level, list(package.handlers)
    yield package
    package.setLevel(level)
    package.handlers[:] = handlers


@pytest.mark.parametrize(
    "text, secrets, expected",
    [
        ("Bearer hf_abcdefghijklmnop", (), "Bearer hf_[redacted]"),
        ("key=sk-abcdefghijklmnopqrst&x=1", (), "key=sk-[redacted]&x=1"),
        ("my secret is custom-key-123", ("custom-key-123",), "my secret is [redacted]"),
        ("nothing to hide", ("",), "nothing to hide"),
        (b'{"api_key": "hf_0123456789abcdef"}', (), '{"api_key": "hf_[redacted]"}'),
    ],
)
def test_redact(text, secrets, expected):
    assert redaction.text(text, secrets) == expected


def test_redact_headers_hides_every_secret_header():
    headers = redaction.headers({"Authorization": "Bearer abc123", "X-Api-Key": "k", "Content-Type": "application/json"})
    assert headers == {"Authorization": "Bearer [redacted]", "X-Api-Key": "[redacted]", "Content-Type": "application/json"}


def test_on_and_off_and_the_decorator_form(server):
    with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
        seen = []

        @c.on("response")
        def record(request, response):
            seen.append((request.model, response.usage.total_tokens, response.total_time is not None))

        c.send_message("huggingface", "one two", options(server))
        c.off("response", record)
        c.send_message("huggingface", "three", options(server))
        assert seen == [("test-model", 5, True)]
        with pytest.raises(ValueError, match="on_request"):
            c.on("on_nothing", print)


def test_a_raising_hook_never_breaks_the_call(server, caplog):
    with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
        c.on("request", lambda request: 1 / 0)
        assert c.send_message("huggingface", "fine", options(server)).results == "echo: fine"
    assert any("hook" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_debug_mode_logs_wire_bodies_without_the_key(server, caplog, monkeypatch, quiet_logger, how):
    if how == "environment":
        monkeypatch.setenv("LLM_INTERFACE_DEBUG", "1")
    with caplog.at_level(logging.DEBUG, logger="llm_interface"):
        with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}, debug=how == "argument") as c:
            c.send_message("huggingface", "wire body please", options(server))
            "".join(chunk.text for chunk in c.stream_message("huggingface", "streamed", options(server)))
            with pytest.raises(errors.AuthenticationError):
                c.send_message("huggingface", f"status 401 {FAKE_KEY}", options(server))
    wire = [r.getMessage() for r in caplog.records if r.name == "llm_interface.wire"]
    assert any("wire body please" in line and line.startswith("->") for line in wire)
    assert any("echo: wire body please" in line and line.startswith("<- 200") for line in wire)
    assert any(line.startswith("<- sse") for line in wire)
    assert any("Bearer [redacted]" in line for line in wire)
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert FAKE_KEY not in everything
    assert FAKE_KEY[10:30] not in everything


def test_debug_mode_in_the_async_transport_redacts_too(server, caplog, quiet_logger):
    require("aiohttp", "async")

    async def main():
        async with AsyncClient(api_keys={"huggingface": FAKE_KEY}, debug=True) as c:
            await c.send_message_async("huggingface", "async wire", options(server))

    with caplog.at_level(logging.DEBUG, logger="llm_interface"):
        asyncio.run(main())
    wire = [r.getMessage() for r in caplog.records if r.name == "llm_interface.wire"]
    assert any("async wire" in line for line in wire)
    assert FAKE_KEY not in caplog.text


def test_debug_mode_turns_the_package_logger_to_debug(quiet_logger, monkeypatch):
    quiet_logger.setLevel(logging.WARNING)
    Client(debug=True).close()
    assert quiet_logger.level == logging.DEBUG
    quiet_logger.setLevel(logging.WARNING)
    monkeypatch.setenv("LLM_INTERFACE_DEBUG", "true")
    Client().close()
    assert quiet_logger.level == logging.DEBUG


def test_no_wire_log_without_debug(server, caplog):
    with caplog.at_level(logging.INFO, logger="llm_interface"):
        with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
            c.send_message("huggingface", "quiet", options(server))
    assert not [r for r in caplog.records if r.name == "llm_interface.wire"]
