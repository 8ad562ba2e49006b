"""The one scriptable HTTP server on 127.0.0.1 for end-to-end tests and benchmarks.

It speaks the OpenAI shapes TGI serves (``POST /v1/chat/completions``: JSON, or SSE when the body says
``"stream": true``; ``POST /v1/completions``) plus ``GET /health``. Each request takes the next action
from the script; when the script is empty, ``default`` answers (a normal reply). The server records
what tests assert on: every request (``requests``, ``count``), the requests whose client hung up
before the answer was complete (``dropped``, and the ``client_gone`` event), and its connections
(``connections_made``, ``peak_connections``) and requests in flight (``peak_in_flight``).

    from support.loopback import LoopbackServer, Reply, Reset, Stall, Status, Truncate

    with LoopbackServer() as server:
        server.script(Status(429, headers={"Retry-After": "0"}), Reply("hi"))
        client.send_message("huggingface", "Hello", {"api_base": server.url})
        assert server.count == 2

For concurrent callers a shared queue cannot say which answer goes to whom: ``server.responder = fn``
picks the action per request instead: ``fn(recorded_request) -> action or None`` (None: fall through
to the script, then the default). ``steer_by_text`` is such a responder, steered by the message text.

Actions:
    Reply(text=None, headers, delay)   200, the chat (or text) completion; text None echoes the last user
                                       message; ``delay`` seconds first (ended early if the client hangs up)
    Status(code, body, headers)        an error answer (JSON body)
    Stall(seconds)                     say nothing for ``seconds`` (past the client's timeout), then hang up
    Reset()                            reset the TCP connection (RST) without answering
    Truncate(events=1, text, hold)     200 SSE: a few events, then hang up before the finish and [DONE]
                                       (after waiting up to ``hold`` seconds for the client to hang up first)
    Answer(status, headers, body, chunks, pause, delay, endless, gate)
                                       literal bytes on any route, for exact wire shapes: ``body`` with a
                                       Content-Length, or ``chunks`` written one by one (close-delimited)
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional

__all__ = [
    "Answer", "LoopbackServer", "Recorded", "Reply", "Reset", "Stall", "Status", "Truncate",
    "chat_completion", "chat_events", "free_port", "steer_by_text", "text_completion",
]


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
    text: Optional[str] = None  # what the events spell (None: the echo)
    hold: float = 0.0  # seconds to wait for the client to hang up before the server does


@dataclass(frozen=True)
class Answer:
    """Literal bytes. ``chunks`` are written one by one (flushed), with ``pause`` between."""

    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: Optional[List[bytes]] = None
    pause: float = 0.0
    delay: float = 0.0  # before the status line: for read timeouts
    endless: Optional[Callable[[int], bytes]] = None  # chunk n -> bytes, forever (until the client hangs up)
    gate: Optional[threading.Event] = None  # after the first chunk, wait for the test to open it


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: Any  # parsed JSON, else the text
    at: float

    @property
    def text(self) -> str:
        """The last message's content (or the prompt): what ``steer_by_text`` and ``Reply()`` read."""
        if not isinstance(self.body, dict):
            return ""
        if isinstance(self.body.get("prompt"), str):
            return self.body["prompt"]
        messages = self.body.get("messages") or [{}]
        content = messages[-1].get("content", "") if isinstance(messages[-1], dict) else ""
        return content if isinstance(content, str) else json.dumps(content)


def _usage(prompt_tokens: int, text: str) -> Dict[str, int]:
    completion_tokens = max(1, len(text.split()))
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}


def chat_completion(text: str, model: str = "tgi", prompt_tokens: int = 5) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "loopback",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": _usage(prompt_tokens, text),
    }


def text_completion(text: str, model: str = "tgi", prompt_tokens: int = 5) -> Dict[str, Any]:
    return {
        "id": "cmpl-loopback",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(prompt_tokens, text),
    }


def chat_events(text: str, model: str = "tgi") -> List[Dict[str, Any]]:
    """The SSE events TGI sends for ``text``: one delta per word, then the finish."""
    words = text.split(" ")
    base = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": w if i == 0 else " " + w}, "finish_reason": None}]}
        for i, w in enumerate(words)
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None})
    return events


def steer_by_text(server: "LoopbackServer") -> Callable[[Recorded], Any]:
    """A responder that reads the action from the message text, so concurrent callers each get theirs:

      ``sleep S``        answer after S seconds (the wait ends if the client hangs up: see ``dropped``)
      ``fail429 N TAG``  429 (Retry-After: 0) to the first N requests with this text, then answer
      ``status CODE``    CODE with an OpenAI-style error body
      ``hang K``         (stream) K events, then nothing until the client hangs up
      anything else      the echo, ``"echo: <text>"``
    """

    def respond(request: Recorded) -> Any:
        words = request.text.split()
        verb = words[0] if words else ""
        if verb == "sleep":
            return Reply(delay=float(words[1]))
        if verb == "fail429":
            attempt = sum(r.text == request.text for r in server.requests)  # this one included
            if attempt <= int(words[1]):
                return Status(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "0"})
        if verb == "status":
            return Status(int(words[1]), {"error": {"message": f"status {words[1]}", "type": "test"}})
        if verb == "hang":
            count = int(words[1])
            return Truncate(count, text=" ".join(f"part{i}" for i in range(count)), hold=10)
        return Reply()

    return respond


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: the client's pool is exercised
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms delayed-ACK stalls
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._connected(+1)

    def finish(self) -> None:
        self.server.owner._connected(-1)
        super().finish()

    def do_GET(self) -> None:
        if self.path == "/health":
            self.server.owner._record(self, None)
            self._send(200, b"", {})
        else:
            self.do_POST()

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        recorded = owner._record(self, body)
        action = owner._next(recorded)
        owner._in_flight(+1)
        try:
            self._act(action, recorded)
        except (BrokenPipeError, ConnectionResetError):  # the client hung up while we were writing
            owner._hung_up(recorded)
            self.close_connection = True
        finally:
            owner._in_flight(-1)

    def _act(self, action: Any, recorded: Recorded) -> None:
        body = recorded.body
        if isinstance(action, Answer):
            return self._literal(action, recorded)
        if isinstance(action, Status):
            return self._json(action.code, action.body if action.body is not None else {"error": f"status {action.code}"}, action.headers)
        if isinstance(action, Stall):
            self._client_left(action.seconds, recorded)
            self.close_connection = True
            return
        if isinstance(action, Reset):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            return self._json(404, {"error": f"no route {self.path}"})
        if isinstance(action, Truncate):
            text = action.text if action.text is not None else "echo: " + recorded.text
            self._sse(chat_events(text)[: action.events], done=False)
            if action.hold:
                self._client_left(action.hold, recorded)
            return
        assert isinstance(action, Reply), action
        if action.delay and self._client_left(action.delay, recorded):
            self.close_connection = True
            return
        text = action.text if action.text is not None else "echo: " + recorded.text
        model = (body.get("model") if isinstance(body, dict) else None) or "tgi"
        prompt_tokens = len(recorded.text.split())
        if isinstance(body, dict) and body.get("stream"):
            self._sse(chat_events(text, model), done=True, headers=action.headers)
        elif self.path == "/v1/completions":
            self._json(200, text_completion(text, model, prompt_tokens), action.headers)
        else:
            self._json(200, chat_completion(text, model, prompt_tokens), action.headers)

    def _client_left(self, seconds: float, recorded: Recorded) -> bool:
        """Wait up to ``seconds`` (less if the server stops); True, and recorded as dropped, if the client
        hung up meanwhile. A readable socket that peeks empty is a hang-up (an RST too)."""
        owner = self.server.owner
        deadline = time.monotonic() + seconds
        while not owner._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            if readable:
                try:
                    gone = not self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    gone = True
                if gone:
                    owner._hung_up(recorded)
                    return True
                owner._stopping.wait(remaining)  # the client sent more (a pipelined request): still there
        return False

    def _literal(self, answer: Answer, recorded: Recorded) -> None:
        stopping = self.server.owner._stopping
        if answer.delay:
            stopping.wait(answer.delay)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.endless is None and answer.chunks is None:
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return
        self.send_header("Connection", "close")  # the body ends when the server closes
        self.end_headers()
        self.close_connection = True
        if answer.endless is not None:
            n = 0
            while not stopping.is_set():  # until the client hangs up (the write raises)
                self.wfile.write(answer.endless(n))
                self.wfile.flush()
                n += 1
                time.sleep(0.001)
            return
        for number, chunk in enumerate(answer.chunks):
            if number == 1 and answer.gate is not None:
                answer.gate.wait(10)
            self.wfile.write(chunk)
            self.wfile.flush()
            if answer.pause:
                stopping.wait(answer.pause)

    def _send(self, status: int, data: bytes, headers: Dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self._send(status, data, {"Content-Type": "application/json", "x-request-id": "req-loopback", **(headers or {})})

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

    def __init__(self, default: Any = None, responder: Optional[Callable[[Recorded], Any]] = None) -> None:
        self.default = default if default is not None else Reply()
        self.responder = responder
        self.requests: List[Recorded] = []
        self.dropped: List[Recorded] = []  # the client hung up before the answer was complete
        self.client_gone = threading.Event()  # ... at least once
        self.connections_made = self.open_connections = self.peak_connections = 0
        self.in_flight = self.peak_in_flight = 0
        self._script: Deque[Any] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        # shutdown() waits for serve_forever's next poll: a short one keeps a server per test cheap.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

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

    def _hung_up(self, recorded: Recorded) -> None:
        with self._lock:
            self.dropped.append(recorded)
        self.client_gone.set()

    def _connected(self, change: int) -> None:
        with self._lock:
            self.open_connections += change
            self.connections_made += max(change, 0)
            self.peak_connections = max(self.peak_connections, self.open_connections)

    def _in_flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

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


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens now: free to bind (a server started right after may take
    it), and a connection to it is refused. The one free_port of the tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
