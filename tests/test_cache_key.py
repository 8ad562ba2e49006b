"""What the cache keeps and what names it: no secret in any byte a backend stores; every field that changes
the answer changes the key, and the ones that do not (how the call travels) do not; a hit is checked.

Tables, so that a new field or a new backend is one line."""

from __future__ import annotations

import pytest
from loopback import LoopbackServer
from optional import require

from llm_interface import Client

pytest_plugins = ("redis_server",)  # redis_url: a real redis-server on 127.0.0.1, emptied per test

KEY = "hf_test_fake_DISTINCTIVE_cachekey_7c1e5a"  # the client's key
CALL_KEY = "tgi_test_fake_other_shape_key_93b2"  # a key given to one call, of another shape than hf_...
HEADER_SECRET = "fake-secret-header-value-test-4d8f"  # a custom secret header's value
SECRETS = (KEY, CALL_KEY, HEADER_SECRET)


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def memory_bytes(cache, _where):
    return repr(list(cache._data.items())).encode()


def folder_bytes(_cache, where):
    return b"".join(p.name.encode() + p.read_bytes() for p in sorted(where.rglob("*")) if p.is_file())


def redis_bytes(cache, _where):
    import redis

    raw = redis.Redis.from_url(cache.url, socket_timeout=1)
    out = []
    for name in raw.keys("*"):
        kind = raw.type(name)
        value = raw.get(name) if kind == b"string" else repr(raw.hgetall(name)).encode() if kind == b"hash" else b""
        out.append(name + b"=" + value)
    return b"\n".join(out)


# (backend, its extra to install, every byte it stored)
BACKENDS = [
    ("memory", "cachetools", memory_bytes),
    ("files", "cachetools", folder_bytes),
    ("sqlite", "diskcache", folder_bytes),
    ("redis", "redis", redis_bytes),
]


@pytest.mark.parametrize("name,module,stored", BACKENDS, ids=[b[0] for b in BACKENDS])
def test_no_secret_in_any_byte_a_backend_stores(name, module, stored, tmp_path, server, request):
    require(module, name)
    where = tmp_path / "store"
    kwargs = {"url": request.getfixturevalue("redis_url")} if name == "redis" else {"path": str(where)}
    with Client({"huggingface": KEY}) as client:
        cache = client.configure_cache(name, **kwargs)
        if name == "redis":  # the limiter's buckets live in the same Redis: they are searched too
            client.configure_rate_limit("huggingface", requests_per_minute=1000, redis_url=kwargs["url"])
        base = {"api_base": server.url, "headers": {"X-Api-Key": HEADER_SECRET}}
        client.send_message("huggingface", "plain call", base)
        client.send_message("huggingface", "a call's own key", {**base, "api_key": CALL_KEY})
        client.send_message("huggingface", {"prompt": "a completion"}, {**base, "openai_format": True})
        with client.stream_message("huggingface", "a stream", base) as stream:
            "".join(chunk.text for chunk in stream)
        assert client.send_message("huggingface", "plain call", base).cached  # the entries are really there
        data = stored(cache, where)
    assert b"echo: plain call" in data and b"echo: a stream" in data
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret} found in what the {name} cache stored"
    assert b"Bearer" not in data


BASE = {"api_base": "http://127.0.0.1:9/v1", "model": "org/model"}

# (what changes, options for the call; message "hello" unless "message" is given) -- each must change the key
CHANGES_THE_KEY = [
    ("model", {"model": "org/other-model"}),
    ("api_base", {"api_base": "http://127.0.0.1:9/other"}),
    ("message text", {"message": "hello!"}),
    ("message role", {"message": [{"role": "system", "content": "hello"}]}),
    ("a system message", {"message": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]}),
    ("completion, not chat", {"message": {"prompt": "hello"}}),
    ("temperature", {"temperature": 0.5}),
    ("top_p", {"top_p": 0.9}),
    ("top_k", {"top_k": 40}),
    ("max_tokens", {"max_tokens": 7}),
    ("stop", {"stop": ["\n"]}),
    ("seed", {"seed": 3}),
    ("n", {"n": 2}),
    ("frequency_penalty", {"frequency_penalty": 0.5}),
    ("presence_penalty", {"presence_penalty": 0.5}),
    ("repetition_penalty", {"repetition_penalty": 1.2}),
    ("logprobs", {"logprobs": True}),
    ("top_logprobs", {"top_logprobs": 2}),
    ("logit_bias", {"logit_bias": {"50256": -100}}),
    ("response_format", {"response_format": {"type": "json_object"}}),
    ("tools", {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}),
    ("tool_choice", {"tool_choice": "none"}),
    ("an unknown param", {"mirostat": 2}),
    ("inference provider", {"provider": "together"}),
    ("prompt template", {"prompt_template": "chatml"}),
    ("raw generation route", {"raw": True, "prompt_template": "chatml"}),
    ("openai routes", {"openai_format": True}),
    ("the tenant (another key)", {"api_key": "hf_test_fake_another_tenant"}),
]

# How the call travels, not what it answers: the same key (docs/cache.md). A stream and a plain call share
# one entry on purpose: the stream's aggregate is the call's answer, and a hit replays it as chunks.
SAME_KEY = [
    ("stream", {"stream": True}),
    ("timeout", {"timeout": 5}),
    ("headers", {"headers": {"X-Trace": "1"}}),
    ("bill_to", {"bill_to": "my-org"}),
    ("scale_up_timeout", {"scale_up_timeout": 30}),
    ("camelCase spelling", {"maxTokens": 7, "max_tokens": None}),
]


def key_of(client, options):
    options = {**BASE, **options}
    message = options.pop("message", "hello")
    task = "completion" if isinstance(message, dict) and "prompt" in message else "chat"
    stream = bool(options.pop("stream", False))
    return client.plan("huggingface", task, message, {k: v for k, v in options.items() if v is not None},
                       stream=stream).cache_key


@pytest.fixture(scope="module")
def keyed():
    with Client({"huggingface": KEY}) as client:
        client.configure_cache("memory")
        yield client


@pytest.mark.parametrize("what,options", CHANGES_THE_KEY, ids=[c[0] for c in CHANGES_THE_KEY])
def test_each_field_that_changes_the_answer_changes_the_key(keyed, what, options):
    assert key_of(keyed, options) != key_of(keyed, {})
    assert key_of(keyed, options) == key_of(keyed, options)  # and it is stable


@pytest.mark.parametrize("what,options", SAME_KEY, ids=[c[0] for c in SAME_KEY])
def test_how_the_call_travels_does_not_change_the_key(keyed, what, options):
    if what == "camelCase spelling":
        assert key_of(keyed, {"maxTokens": 7}) == key_of(keyed, {"max_tokens": 7})
    else:
        assert key_of(keyed, options) == key_of(keyed, {})


def test_every_key_differs_from_every_other(keyed):
    keys = [key_of(keyed, options) for _what, options in CHANGES_THE_KEY]
    assert len(set(keys)) == len(keys)
    assert all(KEY not in k for k in keys)


# (what is wrong with the stored entry) -- a hit is checked: each is a miss that calls the network
BAD_ENTRIES = [
    ("not an object", ["a", "list"]),
    ("an unknown type", {"type": "os.system", "data": {}}),
    ("data not an object", {"type": "Response", "data": ["not", "a", "dict"]}),
    ("no data", {"type": "Response"}),
]


@pytest.mark.parametrize("what,entry", BAD_ENTRIES, ids=[c[0] for c in BAD_ENTRIES])
@pytest.mark.parametrize("name", ["memory", "files", "sqlite"])
def test_a_hit_checks_the_entry(name, what, entry, tmp_path, server):
    if name == "sqlite":
        require("diskcache", "sqlite")
    with Client({"huggingface": KEY}) as client:
        cache = client.configure_cache(name, **({} if name == "memory" else {"path": str(tmp_path / "store")}))
        options = {"api_base": server.url}
        key = client.plan("huggingface", "chat", "hello", options).cache_key
        cache.set(key, entry)
        answer = client.send_message("huggingface", "hello", options)
    assert not answer.cached and answer.results == "echo: hello" and server.count == 1
