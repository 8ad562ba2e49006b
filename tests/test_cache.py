"""The response cache: backends, the key, and the Client around them (against a loopback server)."""

from __future__ import annotations

import json
import logging
import os

import pytest
from support.loopback import LoopbackServer, Status, Truncate
from support.skips import require

from llm_interface import CacheMissError, Client, LLMInterface, errors
from llm_interface.cache import BACKENDS, cache_key, make_cache
from llm_interface.cache.files import FileCache
from llm_interface.request import Request

SECRET = "hf_test_fake_key_SECRET_do_not_store_0123456789"


def backend(name, tmp_path, **kw):
    if name == "sqlite":
        require("diskcache", "sqlite")
    return make_cache(name, path=str(tmp_path / f"cache-{name}"), **kw)


LOCAL_BACKENDS = ["memory", "files", "sqlite"]


@pytest.mark.parametrize("name", LOCAL_BACKENDS)
def test_backend_roundtrip_delete_clear(name, tmp_path):
    cache = backend(name, tmp_path)
    assert cache.get("a" * 64) is None
    cache.set("a" * 64, {"x": [1, 2], "t": "é"})
    cache.set("b" * 64, {"y": None})
    assert cache.get("a" * 64) == {"x": [1, 2], "t": "é"}
    cache.delete("a" * 64)
    assert cache.get("a" * 64) is None and cache.get("b" * 64) == {"y": None}
    cache.clear()
    assert cache.get("b" * 64) is None
    cache.close()


@pytest.mark.parametrize("name", LOCAL_BACKENDS)
def test_backend_ttl_expires(name, tmp_path, monkeypatch):
    import time

    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])  # files and diskcache read time.time()
    cache = backend(name, tmp_path, ttl=100, **({"timer": lambda: clock[0]} if name == "memory" else {}))
    cache.set("k1", {"v": 1})
    cache.set("k2", {"v": 2}, ttl=0)  # 0: forever
    clock[0] += 99
    assert cache.get("k1") == {"v": 1}
    clock[0] += 2
    assert cache.get("k1") is None
    assert cache.get("k2") == {"v": 2}


def test_memory_cache_is_bounded_lru():
    cache = make_cache("memory", maxsize=2)
    cache.set("a", {"v": 1})
    cache.set("b", {"v": 2})
    cache.get("a")
    cache.set("c", {"v": 3})
    assert cache.get("b") is None and cache.get("a") == {"v": 1} and len(cache) == 2


def test_all_backends_are_registered():
    assert set(BACKENDS) == {"memory", "files", "sqlite", "redis"}
    with pytest.raises(errors.ConfigurationError, match="known: files, memory, redis, sqlite"):
        make_cache("mongo")


def test_files_are_pretty_sorted_json_named_by_key(tmp_path):
    cache = FileCache(tmp_path)
    cache.set("ab12", {"b": 1, "a": {"z": 1, "y": 2}})
    text = (tmp_path / "ab12.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ab12.json"]  # no temporary file left behind


def test_files_refuse_keys_that_are_paths(tmp_path):
    with pytest.raises(ValueError):
        FileCache(tmp_path).set("../evil", {})


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"value": [1]}', b'{"other": 1}', b"\xff\xfe"])
def test_corrupt_file_entry_is_a_miss_with_a_warning(tmp_path, caplog, content):
    (tmp_path / "k.json").write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        assert FileCache(tmp_path).get("k") is None
    assert "corrupt" in caplog.text


def test_corrupt_sqlite_entry_is_a_miss_with_a_warning(tmp_path, caplog):
    cache = backend("sqlite", tmp_path)
    cache._cache.set("k", "{truncated")
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        assert cache.get("k") is None
    assert "corrupt" in caplog.text


def test_sqlite_is_shared_between_processes(tmp_path):
    import subprocess
    import sys

    cache = backend("sqlite", tmp_path)
    code = (
        "import sys; from llm_interface.cache import make_cache;"
        "c = make_cache('sqlite', path=sys.argv[1]); c.set('from-child', {'pid': 1}); c.close()"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code, cache.path], check=True, env=env, timeout=60)
    assert cache.get("from-child") == {"pid": 1}


# -- the key ---------------------------------------------------------------------------------------


def req(**changes):
    base = dict(
        provider="huggingface", task="chat", model="m1", messages=({"role": "user", "content": "hi"},),
        params={"temperature": 0.2}, api_key=SECRET,
    )
    return Request(**{**base, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "m2"},
        {"params": {"temperature": 0.3}},
        {"params": {"temperature": 0.2, "max_tokens": 5}},
        {"messages": ({"role": "user", "content": "hi!"},)},
        {"task": "completion"},
        {"api_base": "http://127.0.0.1:1"},
        {"provider": "openai-compatible"},
        {"settings": {"provider": "together"}},
        {"api_key": "hf_another_tenant"},
    ],
    ids=lambda c: ",".join(c),
)
def test_everything_that_changes_the_answer_changes_the_key(changes):
    assert cache_key(req(**changes)) != cache_key(req())


@pytest.mark.parametrize(
    "changes",
    [{"timeout": 3}, {"headers": {"X-Trace": "1"}}, {"stream": True}, {"settings": {"stream": True, "bill_to": "org"}}],
    ids=lambda c: ",".join(c),
)
def test_how_the_call_travels_does_not_change_the_key(changes):
    assert cache_key(req(**changes)) == cache_key(req())


def test_key_is_a_digest_free_of_the_api_key():
    key = cache_key(req())
    assert len(key) == 64 and SECRET not in key
    assert cache_key(req(api_key="other"), scope="fixtures") == cache_key(req(), scope="fixtures")


# -- the Client with a cache -----------------------------------------------------------------------


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


@pytest.fixture(params=LOCAL_BACKENDS)
def cached_client(request, tmp_path):
    client = Client({"huggingface": SECRET}, interface_options={"retry_attempts": 0})
    if request.param == "sqlite":
        require("diskcache", "sqlite")
    client.configure_cache(request.param, path=str(tmp_path / "store"))
    yield client
    client.close()


def ask(client, server, text="hello", options=None, iopts=None):
    return client.send_message("huggingface", text, {"api_base": server.url, **(options or {})}, iopts)


def test_hit_skips_the_network_and_says_cached(cached_client, server):
    first = ask(cached_client, server)
    second = ask(cached_client, server)
    assert server.count == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.results == first.results == "echo: hello"
    assert second.usage == first.usage and second.finish_reason == "stop" and second.retries == 0


def test_model_and_temperature_never_share_an_entry(cached_client, server):
    ask(cached_client, server, options={"model": "a", "temperature": 0.1})
    ask(cached_client, server, options={"model": "b", "temperature": 0.1})
    ask(cached_client, server, options={"model": "a", "temperature": 0.9})
    assert server.count == 3
    assert ask(cached_client, server, options={"model": "b", "temperature": 0.1}).cached
    assert server.count == 3


def test_cache_false_refresh_and_zero_ttl(cached_client, server):
    ask(cached_client, server)
    assert not ask(cached_client, server, iopts={"cache": False}).cached
    assert not ask(cached_client, server, iopts={"cache_timeout_seconds": 0}).cached
    refreshed = ask(cached_client, server, iopts={"refresh": True})
    assert not refreshed.cached and server.count == 4
    assert ask(cached_client, server).cached and server.count == 4


def test_errors_are_never_cached(cached_client, server):
    server.script(Status(500, {"error": "boom"}))
    with pytest.raises(errors.ServerError):
        ask(cached_client, server)
    response = ask(cached_client, server)
    assert not response.cached and response.results == "echo: hello" and server.count == 2


def test_streams_are_cached_and_replayed_as_chunks(cached_client, server):
    stream = cached_client.stream_message("huggingface", "one two", {"api_base": server.url})
    live = [c.text for c in stream]
    replay = cached_client.stream_message("huggingface", "one two", {"api_base": server.url})
    chunks = list(replay)
    assert server.count == 1
    assert "".join(c.text for c in chunks) == "".join(live) == "echo: one two"
    assert chunks[-1].finish_reason == "stop" and replay.response.cached
    # and a plain call shares the stream's entry
    assert ask(cached_client, server, "one two").cached and server.count == 1


def test_a_truncated_stream_is_not_cached(cached_client, server):
    server.script(Truncate(events=1))
    with pytest.raises(errors.StreamError):
        cached_client.stream_message("huggingface", "one two", {"api_base": server.url}).text()
    assert not ask(cached_client, server, "one two").cached and server.count == 2


def test_the_api_key_never_reaches_the_stored_bytes(tmp_path, server):
    for name in ("files", "sqlite"):
        if name == "sqlite":
            require("diskcache", "sqlite")
        store = tmp_path / name
        with Client({"huggingface": SECRET}) as client:
            client.configure_cache(name, path=str(store))
            ask(client, server, options={"headers": {"Authorization": "Bearer " + SECRET}})
        stored = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
        assert b"echo: hello" in stored  # the bytes searched do hold the entry
        assert SECRET.encode() not in stored and b"Bearer" not in stored and b"Authorization" not in stored
    # the request did carry it: the test would catch a leak
    assert server.requests[-1].headers["authorization"] == "Bearer " + SECRET


def test_fixture_file_is_readable(tmp_path, server):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path))
        ask(client, server, options={"model": "tgi", "temperature": 0.5})
    (file,) = tmp_path.glob("*.json")
    entry = json.loads(file.read_text())["value"]
    assert entry["type"] == "Response"
    assert entry["data"]["results"] == "echo: hello"
    assert entry["request"] == {
        "provider": "huggingface", "task": "chat", "model": "tgi",
        "messages": [{"role": "user", "content": "hello"}], "params": {"temperature": 0.5},
    }


def test_tenants_do_not_read_each_other(tmp_path, server):
    shared = make_cache("files", path=str(tmp_path))
    alice = Client({"huggingface": "hf_alice_key"}, cache=shared)
    bob = Client({"huggingface": "hf_bob_key"}, cache=shared)
    ask(alice, server)
    assert not ask(bob, server).cached and server.count == 2
    assert ask(alice, server).cached


def test_corrupt_entry_through_the_client_is_a_miss(tmp_path, server, caplog):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path))
        ask(client, server)
        (file,) = tmp_path.glob("*.json")
        file.write_text(file.read_text()[:40])  # truncated mid-write by something else
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            response = ask(client, server)
        assert not response.cached and server.count == 2 and "corrupt" in caplog.text
        assert ask(client, server).cached  # rewritten whole


def test_unreadable_entry_shape_is_a_miss(server, caplog):
    with Client({"huggingface": SECRET}) as client:
        cache = client.configure_cache("memory")
        plan = client.plan("huggingface", "chat", "hello", {"api_base": server.url})
        cache.set(plan.cache_key, {"type": "Response", "data": ["not", "a", "dict"]})
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            assert not ask(client, server).cached
        assert "cannot be read" in caplog.text
        cache.set(plan.cache_key, {"type": "os.system", "data": {}})
        assert not ask(client, server).cached


def test_full_disk_degrades_to_no_cache(tmp_path, server, monkeypatch, caplog):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path))

        def full(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("llm_interface.cache.files.tempfile.mkstemp", full)
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            response = ask(client, server)
        assert response.results == "echo: hello" and not response.cached
        assert "unavailable" in caplog.text and "No space left" in caplog.text
        assert not ask(client, server).cached


def test_a_folder_that_breaks_after_configure_degrades_to_no_cache(tmp_path, server, caplog):
    """The rule for every backend (docs/cache.md): a store that fails while in use degrades with a WARNING.
    (A path that is wrong at configure time is a ConfigurationError there: test_config_validation.py.)"""
    store = tmp_path / "store"
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(store))
        store.write_text("")  # replaced by a file after configure: every write now fails
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            assert ask(client, server).results == "echo: hello"
        assert "unavailable" in caplog.text


def test_ttl_per_call_turns_the_cache_on_with_memory(server):
    with Client({"huggingface": SECRET}) as client:
        assert not ask(client, server).cached and client.cache is None
        ask(client, server, iopts={"cache_timeout_seconds": 60})
        assert ask(client, server, iopts={"cache_timeout_seconds": 60}).cached and server.count == 2


def test_flush_cache(cached_client, server):
    ask(cached_client, server)
    cached_client.flush_cache()
    assert not ask(cached_client, server).cached and server.count == 2


def test_facade_twins(tmp_path, server):
    LLMInterface.set_api_key({"huggingface": SECRET})
    LLMInterface.configure_cache("files", path=str(tmp_path), ttl=3600)
    LLMInterface.send_message("huggingface", "hello", {"api_base": server.url})
    assert LLMInterface.send_message("huggingface", "hello", {"api_base": server.url}).cached
    LLMInterface.flush_cache()
    assert list(tmp_path.glob("*.json")) == []


# -- record / replay / off ---------------------------------------------------------------------------


def test_replay_miss_raises_naming_the_request_and_never_calls(tmp_path, server):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path), mode="replay")
        with pytest.raises(CacheMissError) as info:
            ask(client, server, "What is deep learning?")
        assert server.count == 0
        message = str(info.value)
        assert "What is deep learning?" in message and "--llm-cache=record" in message and SECRET not in message
        with pytest.raises(CacheMissError):
            client.stream_message("huggingface", "x", {"api_base": server.url})
        with pytest.raises(CacheMissError):
            ask(client, server, iopts={"cache": False})  # replay means no network, whatever the call asks
        assert server.count == 0


def test_record_then_replay_without_a_key(tmp_path, server, monkeypatch):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path), mode="record", scope="fixtures")
        ask(client, server)
        assert not ask(client, server).cached  # record always calls and rewrites
        assert server.count == 2
    with Client() as ci:  # CI: no key at all
        ci.configure_cache("files", path=str(tmp_path), mode="replay", scope="fixtures")
        response = ask(ci, server)
    assert response.cached and response.results == "echo: hello" and server.count == 2


def test_off_mode_bypasses_the_cache(tmp_path, server):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path), mode="off")
        ask(client, server)
        ask(client, server)
    assert server.count == 2 and list(tmp_path.glob("*.json")) == []


def test_mode_from_the_environment(tmp_path, server, monkeypatch):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path))
        monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "replay")
        with pytest.raises(CacheMissError):
            ask(client, server)
        monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "auto")
        ask(client, server)
        monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "bogus")
        with pytest.raises(errors.ConfigurationError, match="LLM_INTERFACE_CACHE_MODE"):
            ask(client, server)
    with pytest.raises(errors.ConfigurationError, match="mode must be one of"):
        Client().configure_cache("memory", mode="sometimes")


# -- other result types ---------------------------------------------------------------------------


def test_other_result_types_are_stored_with_their_type_name():
    """Embeddings, classifications and reranks are cached once their type has to_dict/from_dict."""
    from llm_interface import types
    from llm_interface.cache.entries import decode_entry as _decode_entry
    from llm_interface.cache.entries import encode_entry as _encode_entry

    request = req()
    assert _encode_entry(request, object()) is None  # not a result type: not cached
    entry = _encode_entry(request, types.Response("hi", model="m"))
    assert entry["type"] == "Response" and _decode_entry(entry, "k").results == "hi"
    samples = {
        "EmbeddingResponse": types.EmbeddingResponse([[0.5, 1.0]], model="e"),
        "ClassificationResponse": types.ClassificationResponse((types.Classification((types.Label("pos", 0.9),)),)),
        "RerankResponse": types.RerankResponse((types.RerankResult(1, 0.7),)),
    }
    for name, sample in samples.items():
        stored = _encode_entry(request, sample)
        assert json.loads(json.dumps(stored))["type"] == name
        assert _decode_entry(stored, "k") == sample


def test_an_entry_the_store_cannot_serialise_costs_the_entry_not_the_answer(tmp_path, server, caplog):
    from llm_interface import types

    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("files", path=str(tmp_path))
        plan = client.plan("huggingface", "chat", "hello", {"api_base": server.url})
        odd = types.Response("hi", tool_calls=({"function": {"arguments": object()}},))
        with caplog.at_level(logging.WARNING, logger="llm_interface"):
            assert client.recorder.succeeded(plan, odd, 0.0, 0).results == "hi"
        assert "unavailable" in caplog.text and list(tmp_path.glob("*.json")) == []


def test_a_hand_edited_expiry_is_a_miss_with_a_warning(tmp_path, caplog):
    from llm_interface.cache.files import FileCache

    cache = FileCache(path=str(tmp_path))
    cache.set("k" * 64, {"results": "hi"}, ttl=60)
    entry = next(tmp_path.glob("*.json"))
    entry.write_text(entry.read_text().replace('"expires_at": ', '"expires_at": "2030-01-01", "was": '))
    assert cache.get("k" * 64) is None
    assert "corrupt" in caplog.text


@pytest.mark.parametrize("ttl", [float("inf"), float("nan"), -1])
def test_a_ttl_that_is_not_finite_seconds_is_refused_before_the_call(ttl):
    from llm_interface import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="cache_timeout_seconds"):
        Client().plan("huggingface", "chat", "hi", {"api_base": "http://127.0.0.1:9"}, {"cache_timeout_seconds": ttl})
