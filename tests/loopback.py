"""A scriptable OpenAI-compatible (TGI-like) HTTP server on 127.0.0.1, for end-to-end tests and benchmarks.

It answers ``POST /v1/chat/completions`` (JSON, or SSE when the body says ``"stream": true``) and
``POST /v1/completions`` in the OpenAI shapes TGI serves, plus ``GET /health``. Each request takes
the next action from the script; when the script is empty, ``default`` answers (a normal reply).
Every request is recorded (``requests``, ``count``), so a test can assert how many attempts it saw.

    from loopback import LoopbackServer, Reply, Reset, Stall, Status, Truncate

    with LoopbackServer() as server:
        server.script(Status(429, headers={"Retry-After": "0"}), Reply("hi"))
        client.send_message("huggingface", "Hello", {"api_base": server.url})
        assert server.count == 2

For concurrent callers, ``server.responder = fn`` picks the action per request instead of a shared
queue: ``fn(recorded_request) -> action or None`` (None: fall through to the script, then the default).

Actions:
    Reply(text=None)          200, the chat completion; text None echoes the last user message
    Status(code, body, headers)  an error answer (JSON body)
    Stall(seconds)            say nothing for ``seconds`` (past the client's timeout), then hang up
    Reset()                   reset the TCP connection (RST) without answering
    Truncate(events=1)        200 SSE: a few events, then hang up before the finish and [DONE]
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional


@dataclass(frozen=True)
class Reply:
    text: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (latency, not a fault)


@dataclass(frozen=True)
class Status:
    code: int
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    seconds: float = 5.0


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Truncate:
    events: int = 1


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: Any
    at: float


def echo_text(body: Any) -> str:
    """What ``Reply()`` answers: the last user message, echoed (so a test can check it got its own answer)."""
    if isinstance(body, dict):
        if isinstance(body.get("prompt"), str):
            return "echo: " + body["prompt"]
        for message in reversed(body.get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                return "echo: " + (content if isinstance(content, str) else json.dumps(content))
    return "echo"


def chat_completion(text: str, model: str = "tgi", prompt_tokens: int = 5) -> Dict[str, Any]:
    completion_tokens = max(1, len(text.split()))
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "loopback",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def text_completion(text: str, model: str = "tgi") -> Dict[str, Any]:
    return {
        "id": "cmpl-loopback",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": max(1, len(text.split())), "total_tokens": 5 + max(1, len(text.split()))},
    }


def chat_events(text: str, model: str = "tgi") -> List[Dict[str, Any]]:
    """The SSE events TGI sends for ``text``: one delta per word, then the finish with usage."""
    words = text.split(" ")
    base = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": w if i == 0 else " " + w}, "finish_reason": None}]}
        for i, w in enumerate(words)
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None})
    return events


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: the client's pool is exercised
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms delayed-ACK stalls
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.owner._record(self, None)
        if self.path == "/health":
            self._send(200, b"", {})
        else:
            self._json(404, {"error": f"no route {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = self.server.owner._record(self, body)
        action = self.server.owner._next(recorded)
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            self._json(404, {"error": f"no route {self.path}"})
            return
        if isinstance(action, Status):
            self._json(action.code, action.body if action.body is not None else {"error": f"status {action.code}"}, action.headers)
        elif isinstance(action, Stall):
            self.server.owner._stopping.wait(action.seconds)
            self.close_connection = True
        elif isinstance(action, Reset):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif isinstance(action, Truncate):
            events = chat_events(echo_text(body))[: action.events]
            self._sse(events, done=False)
        else:
            assert isinstance(action, Reply), action
            if action.delay:
                self.server.owner._stopping.wait(action.delay)
            text = action.text if action.text is not None else echo_text(body)
            model = body.get("model") or "tgi" if isinstance(body, dict) else "tgi"
            if isinstance(body, dict) and body.get("stream"):
                self._sse(chat_events(text, model), done=True, headers=action.headers)
            elif self.path == "/v1/completions":
                self._json(200, text_completion(text, model), action.headers)
            else:
                self._json(200, chat_completion(text, model), action.headers)

    def _send(self, status: int, data: bytes, headers: Dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self._send(status, data, {"Content-Type": "application/json", **(headers or {})})

    def _sse(self, events: List[Dict[str, Any]], done: bool, headers: Optional[Dict[str, str]] = None) -> None:
        # No Content-Length: the body ends when the server closes, as TGI's SSE over HTTP/1.1 close.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        for event in events:
            self.wfile.write(b"data: " + json.dumps(event).encode("utf-8") + b"\n\n")
            self.wfile.flush()
        if done:
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    owner: "LoopbackServer"


class LoopbackServer:
    """A scripted server on 127.0.0.1 (a free port), in a background thread. Use it as a context manager."""

    def __init__(self, default: Any = None) -> None:
        self.default = default if default is not None else Reply()
        self.responder: Optional[Callable[[Recorded], Any]] = None
        self.requests: List[Recorded] = []
        self._script: Deque[Any] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL (``api_base``); the chat route is ``url + "/v1/chat/completions"``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *actions: Any) -> "LoopbackServer":
        """Queue actions, one per coming request (after any queued before)."""
        with self._lock:
            self._script.extend(actions)
        return self

    def reset(self) -> None:
        """Forget the recorded requests and the script."""
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def _record(self, handler: _Handler, body: Any) -> Recorded:
        recorded = Recorded(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body, time.monotonic())
        with self._lock:
            self.requests.append(recorded)
        return recorded

    def _next(self, recorded: Recorded) -> Any:
        if self.responder is not None:
            action = self.responder(recorded)
            if action is not None:
                return action
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def start(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
