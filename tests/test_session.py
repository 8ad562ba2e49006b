"""Session: conversation memory, bounds, streaming, save/load, async, against the loopback server."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import FAKE_KEY
from support.skips import require

from llm_interface import Client, Session, errors
from llm_interface.session import approx_tokens


@pytest.fixture
def session_client():
    with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
        yield c


def new(server, client, **kw):
    return Session("huggingface", model="test-model", client=client, api_base=server.url, **kw)


def sent_messages(server, n=-1):
    return server.requests[n].body["messages"]


def test_each_turn_carries_the_conversation(server, session_client):
    chat = new(server, session_client, system="Be brief.", temperature=0.2)
    assert chat.send("first").results == "echo: first"
    chat.send("second")
    assert sent_messages(server) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"},
        {"role": "user", "content": "second"},
    ]
    assert server.requests[-1].body["temperature"] == 0.2
    assert chat.history[-1] == {"role": "assistant", "content": "echo: second"}
    chat.reset()
    assert chat.history == [{"role": "system", "content": "Be brief."}]


def test_max_messages_drops_the_oldest_turns_and_keeps_the_system(server, session_client):
    chat = new(server, session_client, system="S", max_messages=4)
    for word in ("one", "two", "three"):
        chat.send(word)
    # system + at most 3 more: the newest complete turn and the new user message fit, older turns went.
    assert sent_messages(server) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "echo: two"},
        {"role": "user", "content": "three"},
    ]
    assert [m["content"] for m in chat.history] == ["S", "three", "echo: three"]


def test_token_budget_drops_the_oldest_turns(server, session_client):
    long = "word " * 40  # ~50 tokens a message
    chat = new(server, session_client, system="S", token_budget=150)
    for i in range(4):
        chat.send(f"{i} {long}")
    history = chat.history
    assert history[0] == {"role": "system", "content": "S"}
    assert sum(approx_tokens(m) for m in history) <= 150
    assert history[-1]["content"].startswith("echo: 3")
    assert len(history) < 9  # something was dropped


def test_the_newest_user_message_is_kept_even_over_budget(server, session_client):
    chat = new(server, session_client, token_budget=5)
    text = "a message much longer than five tokens " * 3
    chat.send(text)
    assert sent_messages(server)[-1] == {"role": "user", "content": text}  # whole, not truncated
    assert chat.history[-2] == {"role": "user", "content": text}


def test_a_failed_send_leaves_the_history_as_it_was(server, session_client):
    chat = new(server, session_client)
    chat.send("ok")
    before = chat.history
    with pytest.raises(errors.AuthenticationError):
        chat.send("status 401")
    assert chat.history == before


def test_stream_keeps_the_turn_once_complete_and_not_when_abandoned(server, session_client):
    chat = new(server, session_client)
    assert "".join(c.text for c in chat.stream("tell me")) == "echo: tell me"
    assert chat.history[-1] == {"role": "assistant", "content": "echo: tell me"}
    chunks = chat.stream("hang 3")
    next(chunks)
    chunks.close()  # abandoned half-way
    assert len(chat.history) == 2


def test_save_and_load_round_trip_without_the_key(server, session_client, tmp_path):
    chat = new(server, session_client, system="S", max_messages=10, api_key=FAKE_KEY, max_tokens=20)
    chat.send("remember me")
    path = tmp_path / "chat.json"
    chat.save(path)
    text = path.read_text()
    assert FAKE_KEY not in text
    assert json.loads(text)["options"] == {"api_base": server.url, "max_tokens": 20}
    again = Session.load(path, client=session_client)
    assert again.history == chat.history and again.max_messages == 10
    again.send("and now")
    assert [m["content"] for m in sent_messages(server)] == ["S", "remember me", "echo: remember me", "and now"]


def test_bad_arguments_and_files_are_clear_errors(tmp_path):
    with pytest.raises(errors.InvalidRequestError, match="max_messages"):
        Session("huggingface", max_messages=0)
    with pytest.raises(errors.InvalidRequestError, match="prompt"):
        Session("huggingface").send({"prompt": "raw"})
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(errors.InvalidRequestError, match="Not a saved Session"):
        Session.load(bad)


def test_send_async_and_stream_async(server, session_client):
    require("aiohttp", "async")
    chat = new(server, session_client)

    async def main():
        await chat.send_async("async one")
        text = "".join([c.text async for c in chat.stream_async("async two")])
        await chat._async().aclose()
        return text

    assert asyncio.run(main()) == "echo: async two"
    assert [m["content"] for m in chat.history] == ["async one", "echo: async one", "async two", "echo: async two"]
