"""Issue 16 #3: a redirect to another origin drops every secret header (Authorization, X-Api-Key and
the rest redact treats as secret), sync and async; a same-origin redirect keeps them. Two loopback
servers: 127.0.0.1 and "localhost" are different hosts to a client (a port change is another origin
too, as in requests); the same-origin case redirects to another path of the same server."""

from __future__ import annotations

import json

import pytest
from loopback import Answer, LoopbackServer
from sync_async import MODES, ask

from llm_interface.redirects import crosses_origin

OK = {"id": "x", "object": "chat.completion", "model": "m",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
SECRET_HEADERS = {"Authorization": "Bearer fake-redirect-key-1", "X-Api-Key": "fake-redirect-key-2",
                  "X-Upstream-Token": "fake-redirect-key-3", "X-Client-Secret": "fake-redirect-key-4"}


@pytest.fixture
def target():
    with LoopbackServer() as server:
        yield server


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("cross", [True, False], ids=["other-host", "same-host"])
def test_secret_headers_follow_a_redirect_only_to_the_same_origin(loopback, target, mode, status, cross):
    if not cross:
        target = loopback
    location = f"http://localhost:{target.port}/v1/chat/completions" if cross else "/v1/chat/completions?moved=1"
    loopback.script(Answer(status, {"Location": location}, b""))
    target.script(Answer(body=json.dumps(OK).encode(), headers={"Content-Type": "application/json"}))
    options = {"api_base": loopback.url, "headers": {k: v for k, v in SECRET_HEADERS.items() if k != "Authorization"},
               "api_key": SECRET_HEADERS["Authorization"].split(" ")[1]}
    assert ask(mode, options).results == "ok"
    seen = {k.lower(): v for k, v in target.requests[-1].headers.items()}
    for name in SECRET_HEADERS:
        assert (name.lower() in seen) is (not cross), name
    assert loopback.count + (target.count if cross else 0) == 2


@pytest.mark.parametrize(
    "old, new, crosses",
    [
        ("http://a:80/x", "http://a/y", False),
        ("http://a/x", "https://a/y", False),  # the upgrade requests allows
        ("https://a/x", "http://a/y", True),  # a downgrade would send the key in clear
        ("http://a:8080/x", "http://a:8081/x", True),
        ("http://a/x", "http://b/x", True),
        ("http://A/x", "http://a/x", False),
        ("http://a:8080/x", "https://a:8443/x", True),
    ],
)
def test_the_origin_rule(old, new, crosses):
    assert crosses_origin(old, new) is crosses
