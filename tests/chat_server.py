"""A loopback OpenAI-chat server that counts its connections, for the async and batch tests.

Plain asyncio streams (no dependency), HTTP/1.1 with keep-alive, run in a thread with its own loop.
It records what the tests assert on: connections open now and at peak, requests in flight and at
peak, and connections the client dropped while the server was still answering.

What it answers is steered by the last message's text:
  ``sleep S``          wait S seconds, then answer (watching for the client hanging up)
  ``fail429 N TAG``    answer 429 (Retry-After: 0) to the first N requests with this text, then answer
  ``status CODE``      answer CODE with an OpenAI-style error body
  ``hang K``           (stream) send K chunks, then nothing until the client hangs up
  anything else        echo: ``"echo: <text>"``; streams send it word by word, then ``[DONE]``
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from typing import Any, Dict, List, Optional


class ChatServer:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.AbstractServer] = None
        self.port = 0
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.open_connections = 0
        self.peak_connections = 0
        self.connections_made = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.dropped = 0  # the client closed while we were still answering
        self.dropped_texts: List[str] = []  # ... and for which message (stragglers of other tests aside)
        self.requests: List[Dict[str, Any]] = []
        self.seen: Counter = Counter()
        self.request_started = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifetime -------------------------------------------------------------------------------

    def start(self) -> "ChatServer":
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self._server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    # -- HTTP -----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self.lock:
            self.open_connections += 1
            self.connections_made += 1
            self.peak_connections = max(self.peak_connections, self.open_connections)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                with self.lock:
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                self.request_started.set()
                try:
                    keep = await self._answer(reader, writer, path, headers, json.loads(body) if body else None)
                finally:
                    with self.lock:
                        self.in_flight -= 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with self.lock:
                self.open_connections -= 1
            writer.close()

    async def _client_left(self, reader: asyncio.StreamReader, seconds: float, text: str = "") -> bool:
        """Wait up to ``seconds``; True if the client hung up meanwhile."""
        try:
            data = await asyncio.wait_for(reader.read(1), seconds)
        except asyncio.TimeoutError:
            return False
        except ConnectionError:  # a reset (RST) is a hang-up too
            data = b""
        if not data:
            with self.lock:
                self.dropped += 1
                self.dropped_texts.append(text)
            return True
        return False

    async def _answer(self, reader, writer, path: str, headers: Dict[str, str], body: Any) -> bool:
        self.requests.append({"path": path, "headers": headers, "body": body})
        messages = (body or {}).get("messages") or [{}]
        text = str(messages[-1].get("content", ""))
        try:
            return await self._respond(reader, writer, text, body)
        except ConnectionError:  # the client hung up while we were writing
            with self.lock:
                self.dropped += 1
                self.dropped_texts.append(text)
            return False

    async def _respond(self, reader, writer, text: str, body: Any) -> bool:
        words = text.split()
        with self.lock:
            self.seen[text] += 1
            count = self.seen[text]
        if words[:1] == ["sleep"]:
            if await self._client_left(reader, float(words[1]), text):
                return False
        if words[:1] == ["fail429"] and count <= int(words[1]):
            await self._send(writer, 429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "0"})
            return True
        if words[:1] == ["status"]:
            await self._send(writer, int(words[1]), {"error": {"message": f"status {words[1]}", "type": "test"}})
            return True
        if (body or {}).get("stream"):
            return await self._stream(reader, writer, text, words)
        answer = {
            "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model") or "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"echo: {text}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(words), "completion_tokens": len(words) + 1, "total_tokens": 2 * len(words) + 1},
        }
        await self._send(writer, 200, answer)
        return True

    async def _send(self, writer, status: int, body: Any, extra: Optional[Dict[str, str]] = None) -> None:
        data = json.dumps(body).encode()
        head = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(data)}",
                "x-request-id: req-test"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    async def _stream(self, reader, writer, text: str, words: List[str]) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                     b"x-request-id: req-stream\r\n\r\n")

        def chunk(payload: Any) -> None:
            data = b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode()) + b"\n\n"
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))

        def delta(content: str, finish: Optional[str] = None) -> Dict[str, Any]:
            return {"id": "c", "object": "chat.completion.chunk", "model": "test-model",
                    "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}

        if words[:1] == ["hang"]:
            for i in range(int(words[1])):
                chunk(delta(f"part{i} "))
            await writer.drain()
            await self._client_left(reader, 10, text)
            return False
        pieces = ["echo:"] + words
        for i, piece in enumerate(pieces):
            chunk(delta(piece if i == 0 else " " + piece))
        chunk(delta("", "stop"))
        chunk(b"[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


try:
    import pytest
except ImportError:  # pragma: no cover - used outside pytest
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="module")
    def chat_server():
        server = ChatServer().start()
        yield server
        server.stop()

    @pytest.fixture
    def server(chat_server):
        """The module's server with fresh counters."""
        chat_server.reset()
        return chat_server
