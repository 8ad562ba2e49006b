"""A loopback server speaking Hugging Face's wire format (TGI / TEI), for end-to-end tests and benchmarks.

Chat answers echo the last user message (``echo: <text>``), as TGI's Messages API shapes it; streams
come as TGI sends them (``data:{...}`` without a space, then ``data: [DONE]``). A message starting with
``!status NNN`` answers that status with Hugging Face's error body; ``!leak`` answers 400 quoting the Authorization header; ``!midstream`` breaks a stream with
TGI's in-stream error event. Every request's path, headers and body are kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

ERRORS = {
    401: {"error": "Invalid username or password."},
    402: {"error": "You have exceeded your monthly included credits for Inference Providers."},
    404: {"error": "Model nope/nope does not exist"},
    422: {"error": "Input validation error: `inputs` must have less than 4096 tokens.", "error_type": "validation"},
    429: {"error": "Rate limit reached. You reached free usage limit (reset hourly)."},
    500: {"error": "Internal server error", "error_type": "generation"},
    503: {"error": "Model tgi is currently loading", "estimated_time": 20.0},
}


def _vector(text: str) -> List[float]:
    return [float(len(text)), float(sum(c in "aeiou" for c in text)), 1.0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go in two writes: without this, 40 ms delayed-ACK stalls

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/info":
            return self._json(200, {"model_id": "loopback/echo", "max_total_tokens": 4096})
        self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})  # type: ignore[attr-defined]
        path = self.path.rstrip("/")
        if path.endswith("/chat/completions"):
            return self._chat(body)
        if path.endswith("/v1/completions"):
            return self._completion(body)
        if path.endswith(("/generate", "/generate_stream")):
            return self._generate(body, stream=path.endswith("_stream"))
        if path.endswith(("/embed", "/pipeline/feature-extraction")):
            inputs = body.get("inputs")
            return self._json(200, [_vector(t) for t in (inputs if isinstance(inputs, list) else [inputs])])
        if path.endswith("/v1/embeddings"):
            inputs = body.get("input")
            inputs = inputs if isinstance(inputs, list) else [inputs]
            return self._json(200, {"object": "list", "model": "loopback", "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
                                    "data": [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)]})
        if path.endswith("/rerank"):
            query = set(body.get("query", "").split())
            scores = [(i, len(query & set(t.split())) / (1 + len(t.split()))) for i, t in enumerate(body.get("texts") or ())]
            return self._json(200, [{"index": i, "score": s} for i, s in sorted(scores, key=lambda p: -p[1])])
        if path.endswith("/predict"):
            return self._json(200, [[{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}]])
        self._json(404, {"error": f"no route {self.path}"})

    # -- answers ---------------------------------------------------------------------------------

    def _chat(self, body: Dict[str, Any]) -> None:
        text = _last_user_text(body)
        if self._maybe_error(text):
            return
        answer = f"echo: {text}"
        if body.get("max_tokens") == 1:
            answer = answer.split()[0]
        usage = {"prompt_tokens": len(text.split()), "completion_tokens": len(answer.split()), "total_tokens": len(text.split()) + len(answer.split())}
        base = {"id": "", "created": 1732000000, "model": "tgi", "system_fingerprint": "3.3.6-native"}
        if not body.get("stream"):
            return self._json(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "message": {"role": "assistant", "content": answer}, "logprobs": None, "finish_reason": "stop"}]})
        events = []
        words = answer.split(" ")
        for position, word in enumerate(words):
            piece = word if position == 0 else " " + word
            events.append({**base, "object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": piece}, "logprobs": None, "finish_reason": None}]})
        if text.startswith("!midstream"):
            events.append({"error": "Request failed during generation: Server error: CUDA out of memory", "error_type": "generation"})
            return self._sse(events, done=False)
        events.append({**base, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": "stop"}]})
        events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        self._sse(events, done=True)

    def _completion(self, body: Dict[str, Any]) -> None:
        prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else (body.get("prompt") or [""])[0]
        if self._maybe_error(prompt):
            return
        answer = f" continued: {prompt}"
        base = {"id": "", "created": 1732000000, "model": "tgi", "system_fingerprint": "3.3.6-native", "object": "text_completion"}
        if not body.get("stream"):
            return self._json(200, {**base, "choices": [{"index": 0, "text": answer, "logprobs": None, "finish_reason": "length"}],
                                    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
        events = [{**base, "choices": [{"index": 0, "text": w, "logprobs": None, "finish_reason": ""}]} for w in answer.split(" ")]
        events.append({**base, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "length"}]})
        self._sse(events, done=True)

    def _generate(self, body: Dict[str, Any], stream: bool) -> None:
        """TGI's native routes: an object from /generate, token events from /generate_stream."""
        prompt = body.get("inputs") or ""
        if self._maybe_error(prompt):
            return
        answer = f" continued: {prompt}"
        words = answer.split(" ")
        details = {"finish_reason": "length", "generated_tokens": len(words), "seed": None}
        if not stream:
            return self._json(200, {"generated_text": answer, "details": details})
        events = [
            {"index": n + 1, "token": {"id": n, "text": w if n == 0 else " " + w, "logprob": -0.5, "special": False},
             "generated_text": None, "details": None}
            for n, w in enumerate(words)
        ]
        events[-1]["generated_text"] = answer
        events[-1]["details"] = details
        self._sse(events, done=False)

    def _maybe_error(self, text: str) -> bool:
        if text.startswith("!leak"):  # an upstream that echoes the credentials it got (some do, in 401 bodies)
            self._json(400, {"error": f"Bad request with {self.headers.get('Authorization')}"})
            return True
        if text.startswith("!status "):
            status = int(text.split()[1])
            self._json(status, ERRORS.get(status, {"error": "error"}), {"X-Request-Id": "loopback-req"})
            return True
        return False

    def _json(self, status: int, payload: Any, headers: Dict[str, str] = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: List[Any], done: bool) -> None:
        data = "".join(f"data:{json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")
        raw = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _last_user_text(body: Dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or ()):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
    return ""


class Upstream:
    """``with Upstream() as up: up.url``: a threaded loopback server on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.requests = []  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> List[Dict[str, Any]]:
        return self.server.requests  # type: ignore[attr-defined]

    def __enter__(self) -> "Upstream":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:  # pragma: no cover - used by benchmarks/bench_proxy.py in a subprocess
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.requests = _Discard()  # type: ignore[attr-defined]  # a long benchmark must not grow memory
    print(server.server_address[1], flush=True)
    server.serve_forever()


class _Discard(list):
    def append(self, _item: Any) -> None:
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
