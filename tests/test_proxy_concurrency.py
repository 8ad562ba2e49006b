"""The proxy spends upstream resources only on clients that are there (issue 16 #5, #13).

- A streamed answer whose client goes away closes its upstream connection at once: the loopback
  upstream streams forever and counts its open connections.
- Slow upstream calls do not starve fast ones: with more slow calls in flight than any thread pool or
  connection pool the proxy ever had (128 threads, 64 connections), a fast call still answers.

Real processes on 127.0.0.1: uvicorn serving the proxy, a loopback upstream, httpx / openai clients.
"""

from __future__ import annotations

import asyncio
import json
import time

from loopback import Answer, LoopbackServer, Reply
from optional import require

require("fastapi", "server")
require("uvicorn", "server")
httpx = require("httpx", "test")
openai = require("openai", "test")

from proxy_server import ProxyServer  # noqa: E402

from llm_interface.server import ProxyConfig, create_app  # noqa: E402

KEY = "hf_fake_test_key_0123456789"
GRACE = 5.0  # seconds: generous; the disconnect is seen at once, the bound only keeps a failure from hanging
SLOW_CALLS = 160  # more than the 128 handler threads and the 64 pooled connections of the old proxy


def proxy_for(base: str) -> ProxyServer:
    return ProxyServer(create_app(ProxyConfig.from_mapping({
        "model_list": [{"model_name": "llama", "litellm_params": {
            "model": "huggingface/meta-llama/Llama-3.1-8B-Instruct", "api_key": KEY, "api_base": base}}],
        "llm_interface_settings": {"interface_options": {"retry_attempts": 0}},
    })))


def _token(n: int) -> bytes:
    chunk = {"id": "", "object": "chat.completion.chunk", "created": 1732000000, "model": "tgi",
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": f"t{n} "}, "finish_reason": None}]}
    return b"data:" + json.dumps(chunk).encode() + b"\n\n"


def endless_generation() -> LoopbackServer:
    """An upstream that generates until its client hangs up (an operator's bill that never ends)."""
    return LoopbackServer(default=Answer(200, {"Content-Type": "text/event-stream"}, endless=_token))


def wait_until(condition, seconds: float) -> float:
    """Seconds it took for ``condition()`` to hold, or -1 if it did not within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.02)
    return -1.0


def test_an_abandoned_stream_closes_its_upstream_connection():
    with endless_generation() as upstream, proxy_for(upstream.url) as proxy:
        ai = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-fake-test", max_retries=0, timeout=20)
        stream = ai.chat.completions.create(model="llama", messages=[{"role": "user", "content": "Go on"}], stream=True)
        pieces = [chunk.choices[0].delta.content for chunk, _ in zip(stream, range(5)) if chunk.choices]
        assert any(pieces) and upstream.open_connections == 1
        stream.close()
        ai.close()
        took = wait_until(lambda: upstream.open_connections == 0, GRACE)
        assert took >= 0, f"the upstream generation was still open {GRACE} s after its client left"
        sent_when_closed = upstream.count
        assert upstream.dropped and sent_when_closed == 1


def test_many_abandoned_streams_close_every_upstream_connection():
    streams = 12
    with endless_generation() as upstream, proxy_for(upstream.url) as proxy:
        clients = []
        for _ in range(streams):
            http = httpx.Client(base_url=proxy.url, timeout=20)
            response = http.send(http.build_request("POST", "/chat/completions", json={
                "model": "llama", "stream": True, "messages": [{"role": "user", "content": "Go on"}]}), stream=True)
            assert response.status_code == 200
            lines = response.iter_lines()  # kept: a dropped iterator would close the response already
            assert next(lines).startswith("data: ")  # the generation is flowing
            clients.append((http, response, lines))
        assert wait_until(lambda: upstream.open_connections == streams, GRACE) >= 0, (upstream.open_connections, upstream.connections_made, upstream.count)
        for http, response, _lines in clients:
            response.close()
            http.close()
        took = wait_until(lambda: upstream.open_connections == 0, GRACE)
        assert took >= 0, f"{upstream.open_connections} of {streams} upstream streams still open {GRACE} s later"
        assert len(upstream.dropped) == streams


def test_a_stream_read_to_the_end_still_ends_with_done():
    with LoopbackServer() as upstream, proxy_for(upstream.url) as proxy:
        answer = httpx.post(proxy.url + "/v1/chat/completions", timeout=20, json={
            "model": "llama", "stream": True, "messages": [{"role": "user", "content": "Hello there"}]})
    lines = [line for line in answer.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or "" for line in lines[:-1]
                   if json.loads(line[6:])["choices"])
    assert text == "echo: Hello there"


def test_slow_upstream_calls_do_not_starve_a_fast_one():
    slow = LoopbackServer(responder=lambda request: Reply(delay=120) if request.text == "slow" else None).start()
    try:
        with proxy_for(slow.url) as proxy:
            asyncio.run(_slow_and_fast(proxy.url, slow))
            slow.stop()  # ends the slow answers now, so the proxy can shut down
    finally:
        slow.stop()


async def _slow_and_fast(url: str, upstream: LoopbackServer) -> None:
    unbounded = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=180, limits=unbounded) as http:
        def ask(text: str):
            return http.post("/v1/chat/completions", json={"model": "llama", "messages": [{"role": "user", "content": text}]})

        slow_calls = [asyncio.ensure_future(ask("slow")) for _ in range(SLOW_CALLS)]
        deadline = time.monotonic() + 120
        while upstream.in_flight < SLOW_CALLS and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert upstream.in_flight >= SLOW_CALLS, f"only {upstream.in_flight} slow calls reached the upstream"
        fast = await asyncio.wait_for(ask("fast"), 60)
        assert fast.status_code == 200 and fast.json()["choices"][0]["message"]["content"] == "echo: fast"
        assert not any(call.done() for call in slow_calls), "answered only after the slow calls finished"
        assert upstream.in_flight >= SLOW_CALLS
        for call in slow_calls:
            call.cancel()
        await asyncio.gather(*slow_calls, return_exceptions=True)
