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


# -- a key the server quotes where our message cuts the quote short -------------------------------------
# Errors quote the first N characters of a body the server sent; cutting before scrubbing left the key's
# head in the message (the scrub only knows whole keys). Each answer puts the key across that cut.

def _straddling(key: str, at: int) -> str:
    return "x" * (at - len(key) // 2) + key + " tail"


def _shown(error) -> str:
    return str(error) + repr(error) + str(error.server_message) + json.dumps(error.body, default=str)


def _head(key: str) -> str:
    return key[:12]  # "fake-review-": a prefix no filler or placeholder spells


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_non_json_200_never_shows_the_head_of_a_quoted_key(mode):
    from sync_async import ask

    from llm_interface import errors

    key = fresh_key()
    body = _straddling(key, 200).encode()
    with LoopbackServer() as server:
        server.script(Answer(200, {"Content-Type": "text/plain"}, body))
        with pytest.raises(errors.InvalidResponseError) as caught:
            ask(mode, {"api_base": server.url, "api_key": key})
    assert _head(key) not in _shown(caught.value)


@pytest.mark.parametrize("stream_of", ["chat", "responses"])
def test_a_malformed_sse_event_never_shows_the_head_of_a_quoted_key(stream_of, monkeypatch):
    from llm_interface import Client, errors

    key = fresh_key()
    event = b"data: {" + _straddling(key, 120).encode() + b"\n\n"
    with LoopbackServer() as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)  # the Responses API goes to the router
        server.script(Answer(200, {"Content-Type": "text/event-stream"}, chunks=[event]))
        with Client(interface_options={"retry_attempts": 0}) as client, pytest.raises(errors.LLMInterfaceError) as caught:
            if stream_of == "chat":
                "".join(c.text or "" for c in client.stream_message("openai-compatible", "hi",
                                                                     {"api_base": server.url, "api_key": key}))
            else:
                "".join(c.text or "" for c in client.stream_respond("huggingface", "hi",
                                                                     {"model": "openai/gpt-oss-120b:groq", "api_key": key}))
    assert server.count == 1
    assert _head(key) not in _shown(caught.value)


def test_a_server_routes_unreadable_answer_never_shows_the_head_of_a_quoted_key():
    from llm_interface import LLMInterface, errors

    key = fresh_key()
    body = json.dumps({"said": _straddling(key, 200)}).encode()  # /slots wants a list
    with LoopbackServer(responder=lambda r: Answer(200, {"Content-Type": "application/json"}, body)) as server:
        with pytest.raises(errors.LLMInterfaceError) as caught:
            LLMInterface.slots("huggingface", {"api_base": server.url, "server": "llamacpp", "api_key": key})
    assert _head(key) not in _shown(caught.value)


@pytest.mark.parametrize("at", [30, 95])
def test_health_detail_never_shows_a_key_the_server_quotes(at):
    from llm_interface import LLMInterface
    from llm_interface.servers import detect

    key = fresh_key()
    body = json.dumps({"object": "list", "said": _straddling(key, at)}).encode()
    detect.forget()
    try:
        with LoopbackServer(responder=lambda r: Answer(200, {"Content-Type": "application/json"}, body)) as server:
            health = LLMInterface.health("huggingface", {"api_base": server.url, "server": "llama-cpp-python",
                                                         "api_key": key})
    finally:
        detect.forget()
    assert health.ok and _head(key) not in repr(health) + health.detail


def test_the_hub_mapping_kept_in_a_files_cache_never_holds_a_key_the_hub_quotes(monkeypatch, tmp_path):
    from llm_interface import Client
    from llm_interface.hf_resolution import forget
    from llm_interface.providers.hf_hub_mapping import DEFAULT_PROVIDER_ENV

    key = fresh_key()
    model = "test/review-embedder"
    embeddings = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]}

    def hub_and_router(request):
        if request.path.startswith("/api/models/"):
            mapping = [{"provider": "groq", "providerId": _auth(request), "task": "feature-extraction", "status": "live"},
                       {"provider": "deepinfra", "providerId": "test/di", "task": "feature-extraction", "status": "live"}]
            body = {"id": model, "inferenceProviderMapping": mapping}
        else:
            body = embeddings
        return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    forget()
    try:
        with LoopbackServer(responder=hub_and_router) as server:
            monkeypatch.setenv(HUB_ENV, server.url)
            monkeypatch.setenv(ROUTER_ENV, server.url)
            monkeypatch.delenv(DEFAULT_PROVIDER_ENV, raising=False)
            with Client({"huggingface": key}) as client:
                client.configure_cache("files", path=str(tmp_path / "cache"))
                client.embeddings("huggingface", ["a"], {"model": model}, {"cache": False})
            assert any(r.path.startswith("/api/models/") for r in server.requests)
    finally:
        forget()
    stored = [p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert stored and b"deepinfra" in b" ".join(stored)
    assert not [s for s in stored if key.encode() in s]
