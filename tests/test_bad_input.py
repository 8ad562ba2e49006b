"""Bad input to a call is a typed error that names the argument and the fix, raised before anything is sent.

One class of bug, one table: non-finite numbers (NaN would go out as the non-JSON token ``NaN``), values JSON
cannot carry (a set), lone surrogates (a raw UnicodeEncodeError, in the body and in the cache key). A new
case is one line: (what is called with what, the words the error must hold).
"""

from __future__ import annotations

import asyncio
import math

import pytest
from loopback import LoopbackServer

from llm_interface import AsyncClient, Client, errors

SECRET = "hf_test_fake_key_bad_input_0123456789"
NAN, INF = math.nan, math.inf
LONE = "caf\udce9"  # what bytes decoded with errors="surrogateescape" leave behind

# (task, message or inputs, options, words in the error)
CASES = [
    ("chat", "hi", {"temperature": NAN}, "temperature must be a finite number"),
    ("chat", "hi", {"temperature": INF}, "temperature must be a finite number"),
    ("chat", "hi", {"top_p": NAN}, "top_p must be a finite number"),
    ("chat", "hi", {"frequency_penalty": -INF}, "frequency_penalty must be a finite number"),
    ("chat", "hi", {"seed": NAN}, "seed must be an int"),
    ("chat", "hi", {"seed": 1.5}, "seed must be an int"),
    ("chat", "hi", {"repetition_penalty": NAN}, "options['repetition_penalty'] is nan"),
    ("chat", "hi", {"logit_bias": {"50256": INF}}, "options['logit_bias']['50256'] is inf"),
    ("chat", "hi", {"response_format": {"type": "json", "value": {"enum": {"a", "b"}}}},
     "options['response_format']['value']['enum'] is a set"),
    ("chat", "hi", {"tools": [object()]}, "options['tools'][0] is a object"),
    ("chat", "hi", {"stop": ["ok", LONE]}, "lone surrogate"),
    ("chat", {"messages": [{"role": "user", "content": "hi"}], "temperature": NAN}, {}, "temperature"),
    ("chat", LONE, {}, "message holds a lone surrogate"),
    ("chat", [{"role": "user", "content": [{"type": "text", "text": LONE}]}], {},
     "messages[0]['content'][0]['text'] holds a lone surrogate"),
    ("chat", [{"role": "system", "content": "be brief", "name": LONE}, {"role": "user", "content": "hi"}], {},
     "messages[0]['name']"),
    ("completion", {"prompt": LONE}, {}, "prompt holds a lone surrogate"),
    ("embeddings", ["ok", LONE], {}, "input[1] holds a lone surrogate"),
    ("embeddings", LONE, {}, "input holds a lone surrogate"),
    ("classify", ["ok", LONE], {}, "input[1] holds a lone surrogate"),
    ("rerank", (LONE, ["a doc"]), {}, "input['query'] holds a lone surrogate"),
    ("rerank", ("q", ["a doc", LONE]), {}, "input['documents'][1] holds a lone surrogate"),
]


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def call(client, task, what, options):
    if task == "chat":
        return client.send_message("huggingface", what, options)
    if task == "completion":
        return client.send_message("huggingface", what, options)
    if task == "rerank":
        return client.rerank("huggingface", what[0], what[1], options)
    return getattr(client, task)("huggingface", what, options)


@pytest.mark.parametrize("task,what,options,words", CASES, ids=[c[3][:40] for c in CASES])
def test_bad_input_is_a_typed_error_and_nothing_is_sent(server, task, what, options, words):
    with Client({"huggingface": SECRET}) as client:
        client.configure_cache("memory")  # the cache key is built from the same input: it must not be the one to fail
        with pytest.raises(errors.InvalidRequestError) as caught:
            call(client, task, what, {"api_base": server.url, "model": "org/model", **options})
    assert words in str(caught.value)
    assert server.count == 0


@pytest.mark.parametrize("task,what,options,words", CASES[:3] + CASES[12:13], ids=["nan", "inf", "top_p", "surrogate"])
def test_the_async_client_refuses_the_same(server, task, what, options, words):
    async def main():
        with Client({"huggingface": SECRET}) as sync:
            async with AsyncClient(sync, backend="threads") as client:
                await client.send_message_async("huggingface", what, {"api_base": server.url, **options})

    with pytest.raises(errors.InvalidRequestError) as caught:
        asyncio.run(main())
    assert words in str(caught.value) and server.count == 0


@pytest.mark.parametrize("options", [
    {"temperature": 0.0, "top_p": 1, "seed": 0, "logit_bias": {50256: -100}},  # int keys: JSON writes them as strings
    {"response_format": {"type": "json_object"}, "stop": ("a", "b")},
    {"repetition_penalty": 1.1, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
])
def test_plain_json_options_still_pass(server, options):
    with Client({"huggingface": SECRET}) as client:
        answer = client.send_message("huggingface", "héllo 👋", {"api_base": server.url, **options})
    assert answer.results == "echo: héllo 👋" and server.count == 1
