"""A real HTTP server on 127.0.0.1 for end-to-end tests: each test says how to answer, the server
records what it saw (requests, and whether the client closed the socket)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional


@dataclass
class Seen:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the server sends. ``chunks`` are written one by one (flushed), with ``pause`` between."""

    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: Optional[List[bytes]] = None
    pause: float = 0.0
    delay: float = 0.0  # before the status line: for read timeouts
    endless: Optional[Callable[[int], bytes]] = None  # chunk n -> bytes, forever (until the client hangs up)
    gate: Optional[threading.Event] = None  # after the first chunk, wait for the test to open it


class LoopbackServer:
    def __init__(self) -> None:
        self.seen: List[Seen] = []
        self.answers: List[Answer] = []
        self.default = Answer(status=500, body=b"no answer queued")
        self.client_gone = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append(Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answer = server.answers.pop(0) if server.answers else server.default
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                try:
                    if answer.endless is not None:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        n = 0
                        while True:  # until the client closes the socket
                            self.wfile.write(answer.endless(n))
                            self.wfile.flush()
                            n += 1
                            time.sleep(0.001)
                    elif answer.chunks is not None:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for number, chunk in enumerate(answer.chunks):
                            if number == 1 and answer.gate is not None:
                                answer.gate.wait(10)
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            if answer.pause:
                                time.sleep(answer.pause)
                        self.close_connection = True
                    else:
                        self.send_header("Content-Length", str(len(answer.body)))
                        self.end_headers()
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    server.client_gone.set()

            do_GET = do_POST

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
