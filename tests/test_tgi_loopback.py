"""End to end over a real socket: a loopback stand-in for TGI/TEI answers /generate, /generate_stream and /embed
with bodies taken from TGI's snapshots, and the static facade drives it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llm_interface import Client, LLMInterface
from recordings import snapshot

GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")


class _Handler(BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body))
        if self.path == "/generate_stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            tokens = GENERATE["details"]["tokens"]
            for position, token in enumerate(tokens):
                last = position == len(tokens) - 1
                event = {"index": position + 1, "token": token, "top_tokens": None,
                         "generated_text": GENERATE["generated_text"] if last else None,
                         "details": {"finish_reason": "length", "generated_tokens": len(tokens), "seed": None} if last else None}
                self.wfile.write(f"data:{json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            return
        if self.path == "/generate":
            payload = GENERATE
        elif self.path == "/embed":
            payload = [[float(len(text)), 1.0] for text in body["inputs"]]
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-prompt-tokens", "3")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def tgi():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.timeout(30)
def test_facade_over_a_loopback_tgi(tgi):
    LLMInterface.reset(Client(interface_options={"retry_attempts": 0}))
    options = {"api_base": tgi, "max_tokens": 10, "timeout": 5}

    result = LLMInterface.complete("huggingface", "Test request", {**options, "logprobs": True})
    assert result.results == GENERATE["generated_text"]
    assert result.usage.prompt_tokens == 3 and result.usage.completion_tokens == 10
    assert result.logprobs.sum == pytest.approx(sum(t["logprob"] for t in GENERATE["details"]["tokens"]))

    stream = LLMInterface.stream_complete("huggingface", "Test request", {**options, "stop": ["/projects"]})
    text = "".join(chunk.text for chunk in stream)
    assert text == stream.response.results == " for /api/v1"  # cut at the stop sequence, held back while streaming
    assert stream.response.finish_reason == "stop"

    vectors = LLMInterface.embeddings("huggingface", ["a", "bb", "ccc"], {"api_base": tgi, "batch_size": 2, "timeout": 5})
    assert [v[0] for v in vectors.embeddings] == [1.0, 2.0, 3.0]
    paths = [path for path, _ in _Handler.seen]
    assert paths == ["/generate", "/generate_stream", "/embed", "/embed"]
    assert _Handler.seen[1][1]["parameters"]["stop"] == ["/projects"]
