"""End to end over a real socket: a loopback stand-in for TGI/TEI answers /generate, /generate_stream and /embed
with bodies taken from TGI's snapshots, and the static facade drives it."""

from __future__ import annotations

import json

import pytest
from recordings import snapshot
from support import tgi as tgi_payloads
from support.loopback import Answer, LoopbackServer, Status

from llm_interface import Client, LLMInterface

GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")


def _generate_stream_events():
    events = tgi_payloads.stream_events(GENERATE["details"]["tokens"], GENERATE["generated_text"])
    return [tgi_payloads.sse([event]) for event in events]  # one write per event, as TGI flushes them


def tgi_routes(request):
    """TGI's native routes, with TGI's own snapshot bodies."""
    json_headers = {"Content-Type": "application/json", "x-prompt-tokens": "3"}
    if request.path == "/generate_stream":
        return Answer(headers={"Content-Type": "text/event-stream"}, chunks=_generate_stream_events())
    if request.path == "/generate":
        return Answer(headers=json_headers, body=json.dumps(GENERATE).encode())
    if request.path == "/embed":
        return Answer(headers=json_headers, body=json.dumps([[float(len(text)), 1.0] for text in request.body["inputs"]]).encode())
    return Status(404)


@pytest.fixture
def tgi():
    with LoopbackServer(responder=tgi_routes) as server:
        yield server


@pytest.mark.timeout(30)
def test_facade_over_a_loopback_tgi(tgi):
    LLMInterface.reset(Client(interface_options={"retry_attempts": 0}))
    options = {"api_base": tgi.url, "max_tokens": 10, "timeout": 5}

    result = LLMInterface.complete("huggingface", "Test request", {**options, "logprobs": True})
    assert result.results == GENERATE["generated_text"]
    assert result.usage.prompt_tokens == 3 and result.usage.completion_tokens == 10
    assert result.logprobs.sum == pytest.approx(sum(t["logprob"] for t in GENERATE["details"]["tokens"]))

    stream = LLMInterface.stream_complete("huggingface", "Test request", {**options, "stop": ["/projects"]})
    text = "".join(chunk.text for chunk in stream)
    assert text == stream.response.results == " for /api/v1"  # cut at the stop sequence, held back while streaming
    assert stream.response.finish_reason == "stop"

    vectors = LLMInterface.embeddings("huggingface", ["a", "bb", "ccc"], {"api_base": tgi.url, "batch_size": 2, "timeout": 5})
    assert [v[0] for v in vectors.embeddings] == [1.0, 2.0, 3.0]
    assert [r.path for r in tgi.requests] == ["/generate", "/generate_stream", "/embed", "/embed"]
    assert tgi.requests[1].body["parameters"]["stop"] == ["/projects"]
