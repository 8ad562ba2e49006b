"""Review: a server that echoes the caller's Authorization header back in a 200 answer never gets the key
into what the new commands print (doctor's text and --json) or into the call log. Each test uses a
distinctive key of no known shape, so only the exact-value scrub can hide it."""

from __future__ import annotations

import json
import uuid

import pytest
from support.loopback import Answer, LoopbackServer

from llm_interface.cli import main
from llm_interface.hf_hub import HUB_ENV
from llm_interface.providers.hf_routes import ROUTER_ENV


def fresh_key() -> str:
    return f"fake-review-{uuid.uuid4().hex}"  # fresh: a key remembered by an earlier test would hide a bug


def _auth(request) -> str:
    return next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")


def _echoing_hf(request):
    """The Hub's whoami, the router's catalogue and a TGI's /info, each quoting the Authorization header."""
    auth = _auth(request)
    if request.path == "/api/whoami-v2":
        body = {"type": "user", "name": auth, "fullname": auth, "orgs": [{"name": auth}],
                "auth": {"type": "access_token", "accessToken": {"displayName": auth, "role": "read"}}}
    elif request.path == "/v1/models":
        body = {"object": "list", "data": [{"id": auth, "object": "model", "owned_by": auth,
                                            "providers": [{"provider": auth, "status": "live"}]}]}
    elif request.path == "/info":
        body = {"model_id": auth, "version": auth}
    else:
        body = {}
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


@pytest.fixture
def echo(monkeypatch):
    with LoopbackServer(responder=_echoing_hf) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.delenv("REDIS_URL", raising=False)
        yield server


@pytest.mark.parametrize("as_json", [False, True])
def test_doctor_never_prints_a_key_the_hub_quotes_back(echo, capsys, monkeypatch, as_json):
    key = fresh_key()
    monkeypatch.setenv("HF_TOKEN", key)
    main(["doctor", *(["--json"] if as_json else []), "--api-base", echo.url.replace("127.0.0.1", "localhost")])
    captured = capsys.readouterr()
    assert echo.count >= 2  # whoami and the catalogue were asked (with the key)
    assert key not in captured.out + captured.err
    if as_json:
        json.loads(captured.out)  # still one JSON document
