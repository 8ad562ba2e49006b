"""Streams give their connection back to the pool: 20 consecutive streams, sync and async, go over one
TCP connection (the server counts the connections it accepted), whether the body is chunked (TGI, the
router) or has a Content-Length; a stream abandoned mid-way is closed, not pooled, and the next call
still works."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from optional import require

from llm_interface import AsyncClient, Client

STREAMS = 20


def _event(text: str, finish=None) -> bytes:
    chunk = {"object": "chat.completion.chunk",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


EVENTS = [_event("Hello"), _event(" there", "stop"), b"data: [DONE]\n\n"]
COMPLETION = json.dumps({"object": "chat.completion", "model": "m", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}]}).encode()


class CountingServer(ThreadingHTTPServer):
    """HTTP/1.1 keep-alive on 127.0.0.1 that counts the TCP connections it accepts. The text of the user's
    message picks the answer: "chunked" (a chunked SSE body), "length" (an SSE body with Content-Length),
    "endless" (chunked events until the client hangs up), "held" (a chunked SSE body whose last chunk never
comes: [DONE], then the server holds the connection open); anything else is a whole chat completion."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.accepted = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.accepted += 1

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        kind = body["messages"][-1]["content"]
        self.send_response(200)
        if kind == "length":
            data = b"".join(EVENTS)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if kind not in ("chunked", "endless", "held"):
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(COMPLETION)))
            self.end_headers()
            self.wfile.write(COMPLETION)
            return
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if kind == "endless":
                while not self.server.stopping.is_set():
                    self._chunk(_event("x"))
            for data in EVENTS:
                self._chunk(data)
            if kind == "held":
                self.server.stopping.wait()
                self.close_connection = True
                return
            self._chunk(b"")  # the last chunk: the body is complete
        except OSError:  # the client hung up (an abandoned stream)
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


@pytest.fixture
def counting():
    server = CountingServer()
    yield server
    server.stop()


def _sync_texts(url: str, kinds) -> list:
    with Client(interface_options={"retry_attempts": 0}) as client:
        texts = []
        for kind in kinds:
            if kind in ("chunked", "length", "held"):
                with client.stream_message("openai-compatible", kind, {"api_base": url}) as stream:
                    texts.append(stream.text())
            elif kind == "endless":
                with client.stream_message("openai-compatible", kind, {"api_base": url}) as stream:
                    for number, _chunk in enumerate(stream):
                        if number == 3:
                            break  # abandoned mid-way
                texts.append(None)
            else:
                texts.append(client.send_message("openai-compatible", kind, {"api_base": url}).results)
        return texts


def _async_texts(url: str, kinds) -> list:
    require("aiohttp", "async")

    async def main():
        async with AsyncClient(interface_options={"retry_attempts": 0}, backend="aiohttp") as client:
            texts = []
            for kind in kinds:
                if kind in ("chunked", "length", "held"):
                    async with client.stream_message_async("openai-compatible", kind, {"api_base": url}) as stream:
                        texts.append("".join([chunk.text async for chunk in stream]))
                elif kind == "endless":
                    async with client.stream_message_async("openai-compatible", kind, {"api_base": url}) as stream:
                        number = 0
                        async for _chunk in stream:
                            number += 1
                            if number == 3:
                                break
                    texts.append(None)
                else:
                    texts.append((await client.send_message_async("openai-compatible", kind, {"api_base": url})).results)
            return texts

    return asyncio.run(main())


RUNNERS = {"sync": _sync_texts, "async": _async_texts}


@pytest.mark.parametrize("mode", sorted(RUNNERS))
@pytest.mark.parametrize("kind", ["chunked", "length"])
def test_consecutive_streams_reuse_one_connection(counting, mode, kind):
    texts = RUNNERS[mode](counting.url, [kind] * STREAMS)
    assert texts == ["Hello there"] * STREAMS
    assert counting.accepted == 1


@pytest.mark.parametrize("mode", sorted(RUNNERS))
def test_a_stream_then_calls_share_the_connection(counting, mode):
    texts = RUNNERS[mode](counting.url, ["chunked", "whole", "chunked", "whole"])
    assert texts == ["Hello there", "Hi", "Hello there", "Hi"]
    assert counting.accepted == 1


@pytest.mark.parametrize("mode", sorted(RUNNERS))
def test_an_abandoned_stream_is_closed_not_pooled(counting, mode):
    """The half-read body cannot go back to the pool (the next answer would start mid-stream): the
    connection is closed, and the calls after it open a new one and get whole answers."""
    texts = RUNNERS[mode](counting.url, ["chunked", "endless", "chunked", "whole", "chunked"])
    assert texts == ["Hello there", None, "Hello there", "Hi", "Hello there"]
    assert counting.accepted == 2


@pytest.mark.parametrize("mode", sorted(RUNNERS))
def test_a_body_that_does_not_end_after_done_is_closed_without_waiting(counting, mode):
    """[DONE] came but the body's last chunk never does: the answer is returned (reading the rest gives up
    after ``DRAIN_SECONDS``, it does not wait for the read timeout) and that connection is not pooled."""
    texts = RUNNERS[mode](counting.url, ["held", "chunked", "chunked"])
    assert texts == ["Hello there"] * 3
    assert counting.accepted == 2
