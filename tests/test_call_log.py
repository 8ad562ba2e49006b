"""The call log: one SQLite row per call (sync, stream, error, async), written by a background thread that a call
never waits for, capped with rotation, read back by ``llm-interface logs``; never a key or a secret header."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.loopback import LoopbackServer, Status, Truncate, free_port

from llm_interface import Client, LLMInterface, errors
from llm_interface.call_log_db import LOG_ENV
from llm_interface.cli import main

KEY = "hf_test_fake_log_key_0123456789abcdef"
SECRET_HEADER = ("X-Acme-Secret", "s3cret-header-value-test-0042")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server():
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def client():
    with Client({"huggingface": KEY}, interface_options={"retry_attempts": 0}) as c:
        yield c


def rows(path):
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in connection.execute("SELECT * FROM calls ORDER BY id")]
    finally:
        connection.close()


def test_one_row_per_call_with_what_happened(client, server, tmp_path):
    path = tmp_path / "calls.db"
    client.configure_log(path)
    options = {"api_base": server.url, "max_tokens": 20, "temperature": 0.5}
    client.send_message("huggingface", "Hello, fox", options)
    with client.stream_message("huggingface", "a streamed fox", options) as stream:
        stream.text()
    server.script(Status(422, {"error": "Input validation error: max_tokens too big", "error_type": "validation"}))
    with pytest.raises(errors.ValidationError):
        client.send_message("huggingface", "too long", options)
    client.close()

    ok, streamed, failed = rows(path)
    assert ok["provider"] == "huggingface" and ok["task"] == "chat"
    assert json.loads(ok["messages"]) == [{"role": "user", "content": "Hello, fox"}]
    assert ok["answer"] == "echo: Hello, fox"
    assert json.loads(ok["options"]) == {"max_tokens": 20, "temperature": 0.5, "api_base": server.url}
    assert json.loads(ok["usage"])["total_tokens"] > 0
    assert ok["request_id"] == "req-loopback"
    assert ok["latency_ms"] > 0 and ok["cached"] == 0 and ok["error_type"] is None and ok["cost"] is None
    assert ok["time"].endswith("+00:00")
    assert streamed["answer"] == "echo: a streamed fox" and json.loads(streamed["options"])["stream"] is True
    assert failed["error_type"] == "ValidationError" and failed["status"] == 422
    assert "max_tokens too big" in failed["error"] and failed["answer"] is None
    assert failed["latency_ms"] is not None


def test_a_stream_that_fails_is_logged_with_its_error(client, server, tmp_path):
    path = tmp_path / "calls.db"
    client.configure_log(path)
    server.script(Truncate(events=1))
    with pytest.raises(errors.StreamError):
        with client.stream_message("huggingface", "cut short", {"api_base": server.url}) as stream:
            stream.text()
    client.close()
    (row,) = rows(path)
    assert row["error_type"] == "StreamError" and row["answer"] is None


def test_async_calls_are_logged_too(client, server, tmp_path):
    import asyncio

    from llm_interface import AsyncClient

    path = tmp_path / "calls.db"
    client.configure_log(path)

    async def two():
        aclient = AsyncClient(client=client, backend="threads")
        await asyncio.gather(*(aclient.send_message_async("huggingface", f"async {n}", {"api_base": server.url}) for n in range(2)))

    asyncio.run(two())
    client.close()
    assert sorted(r["answer"] for r in rows(path)) == ["echo: async 0", "echo: async 1"]


def test_the_log_never_holds_the_key_or_a_secret_header(client, server, tmp_path):
    path = tmp_path / "calls.db"
    client.configure_log(path)
    options = {"api_base": server.url, "headers": {SECRET_HEADER[0]: SECRET_HEADER[1]}}
    client.send_message("huggingface", f"please repeat {KEY} and {SECRET_HEADER[1]}", options)  # echoed back
    server.script(Status(401, {"error": f"bad token {KEY}"}))
    with pytest.raises(errors.AuthenticationError):
        client.send_message("huggingface", "again", options)
    with client.stream_message("huggingface", f"stream {KEY}", options) as stream:
        stream.text()
    client.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("calls.db*"))
    assert data  # something was written
    for secret in (KEY, KEY[3:], SECRET_HEADER[1]):
        assert secret.encode() not in data
    assert b"X-Acme-Secret" in data  # the header's name is kept, for the record
    assert len(rows(path)) == 3


def test_a_call_never_waits_for_the_disk(client, server, tmp_path):
    path = tmp_path / "calls.db"
    log = client.configure_log(path, queue_size=3)
    stuck_in_write, gate = threading.Event(), threading.Event()
    writing = log._store.append

    def stuck(batch):  # the disk hangs until the test lets it go
        stuck_in_write.set()
        gate.wait()
        writing(batch)

    log._store.append = stuck
    client.send_message("huggingface", "the first", {"api_base": server.url})
    assert stuck_in_write.wait(30)  # the writer holds that record and hangs on the disk
    done = []
    caller = threading.Thread(target=lambda: done.extend(
        client.send_message("huggingface", f"call {n}", {"api_base": server.url}).results for n in range(8)))
    caller.start()
    caller.join(60)
    try:
        assert not caller.is_alive(), "a call waited for the stuck log writer"
        assert len(done) == 8
        assert rows(path) == []  # nothing reached the disk yet
        assert log.dropped == 8 - 3  # the queue holds 3: the other calls were not logged, and counted
    finally:
        gate.set()
    client.close()
    assert len(rows(path)) == 1 + 3


def test_close_writes_everything_queued(client, server, tmp_path):
    path = tmp_path / "calls.db"
    log = client.configure_log(path)
    for n in range(30):
        client.send_message("huggingface", f"call {n}", {"api_base": server.url})
    client.close()
    assert len(rows(path)) == 30 == log.written and log.dropped == 0


def test_a_normal_exit_flushes_the_default_clients_log(server, tmp_path):
    """The facade's client is never closed: the interpreter's exit writes what is queued."""
    path = tmp_path / "calls.db"
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from llm_interface import LLMInterface\n"
        "LLMInterface.set_api_key({'huggingface': %r})\n"
        "LLMInterface.configure_log(%r)\n"
        "for n in range(50):\n"
        "    LLMInterface.send_message('huggingface', f'call {n}', {'api_base': %r})\n"
    ) % (str(ROOT), KEY, str(path), server.url)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120, cwd=tmp_path)
    assert len(rows(path)) == 50


def test_the_size_cap_rotates_the_file_and_ids_go_on(client, server, tmp_path):
    path = tmp_path / "calls.db"
    log = client.configure_log(path, max_bytes=16 * 1024, backups=2)
    words = "lorem ipsum " * 100  # about 1.2 KB a call, twice (message and answer)
    for n in range(60):
        client.send_message("huggingface", f"{n} {words}", {"api_base": server.url})
    client.close()
    assert log._store.rotations >= 2
    files = [path, Path(f"{path}.1"), Path(f"{path}.2")]
    assert all(f.exists() for f in files) and not Path(f"{path}.3").exists()  # the oldest were dropped
    assert all(f.stat().st_size <= 16 * 1024 * 5 // 4 for f in files)  # the cap, plus at most about one chunk
    ids = sorted(r["id"] for f in files for r in rows(f))
    assert ids == list(range(ids[0], 61)) and ids[0] > 1  # unbroken up to the last call; the first ones rotated out


def test_configure_log_rejects_bad_settings(client, tmp_path):
    with pytest.raises(errors.ConfigurationError, match="max_bytes"):
        client.configure_log(tmp_path / "calls.db", max_bytes=10)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(errors.ConfigurationError, match="cannot be opened"):
        client.configure_log(tmp_path / "file" / "calls.db")


def test_logs_commands_read_it_back(client, server, tmp_path, capsys):
    path = tmp_path / "calls.db"
    client.configure_log(path)
    client.send_message("huggingface", "the quick brown fox", {"api_base": server.url})
    client.send_message("huggingface", "a lazy dog", {"api_base": server.url})
    client.close()
    capsys.readouterr()

    assert main(["logs", "list", "--path", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["2", "1"]  # newest first
    assert "echo: a lazy dog" in lines[0] and "\tok\t" in lines[0]

    assert main(["logs", "show", "1", "--path", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["messages"] == [{"role": "user", "content": "the quick brown fox"}]

    assert main(["logs", "search", "FOX", "--path", str(path)]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["1"]

    assert main(["logs", "export", "--json", "--path", str(path)]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in exported] == [1, 2] and exported[1]["answer"] == "echo: a lazy dog"

    assert main(["logs", "show", "99", "--path", str(path)]) == 1
    assert "No call 99" in capsys.readouterr().err
    assert main(["logs", "show", "x", "--path", str(path)]) == 2


def test_logs_without_a_log_says_how_to_turn_it_on(tmp_path, capsys):
    assert main(["logs", "--path", str(tmp_path / "none.db")]) == 2
    assert "configure_log" in capsys.readouterr().err


def test_the_cli_logs_its_calls_when_the_env_var_is_set(server, tmp_path, monkeypatch, capsys):
    path = tmp_path / "cli.db"
    monkeypatch.setenv(LOG_ENV, str(path))
    monkeypatch.setenv("HF_TOKEN", KEY)
    assert main(["send", "huggingface", "from the shell", "--api-base", server.url]) == 0
    assert main(["send", "huggingface", "down", "--api-base", f"http://127.0.0.1:{free_port()}", "--retries", "0"]) == 1
    capsys.readouterr()
    assert main(["logs", "list"]) == 0  # the default path is $LLM_INTERFACE_LOG
    out = capsys.readouterr().out
    assert "echo: from the shell" in out and "ConnectionError" in out
    assert KEY.encode() not in path.read_bytes()


def test_facade_configure_log_and_a_second_configure_replaces_the_first(server, tmp_path):
    LLMInterface.set_api_key({"huggingface": KEY})
    first = LLMInterface.configure_log(tmp_path / "one.db")
    LLMInterface.send_message("huggingface", "to one", {"api_base": server.url})
    second = LLMInterface.configure_log(tmp_path / "two.db")  # closes the first: written, hooks removed
    LLMInterface.send_message("huggingface", "to two", {"api_base": server.url})
    second.close()
    assert [r["answer"] for r in rows(first.path)] == ["echo: to one"]
    assert [r["answer"] for r in rows(second.path)] == ["echo: to two"]


def test_cache_hits_are_logged_as_cached_for_calls_streams_and_batches(client, server, tmp_path):
    path = tmp_path / "calls.db"
    client.configure_cache("memory")
    client.configure_log(path)
    seen = []
    client.on("cache_hit", lambda request, response: seen.append((request.api_key, response.cached)))
    options = {"api_base": server.url}
    first = client.send_message("huggingface", "cache me", options)
    again = client.send_message("huggingface", "cache me", options)
    with client.stream_message("huggingface", "cache me", options) as stream:
        assert stream.text() == first.results
    client.send_messages("huggingface", ["cache me", "a new one"], options, progress=False)
    client.close()
    assert again.cached and server.count == 2  # one call, then only "a new one" reached the server
    assert seen == [(None, True)] * 3  # the hook sees no key
    logged = rows(path)
    assert [r["cached"] for r in logged[:3]] == [0, 1, 1]  # the call, the repeat, the stream replayed
    batch = {r["answer"]: r["cached"] for r in logged[3:]}  # the batch's two, in either order
    assert batch == {"echo: cache me": 1, "echo: a new one": 0}
    hit = logged[1]
    assert hit["error_type"] is None and hit["latency_ms"] is not None and hit["retries"] == 0
