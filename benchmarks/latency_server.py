"""An OpenAI-chat-shaped server that answers every request after a fixed latency (default 50 ms).

Run alone (``python benchmarks/latency_server.py --port 8000``) or let ``bench_batch.py`` start it in
its own process, so that the client being measured does not share its interpreter with the server.
It prints ``PORT <n>`` once it listens. aiohttp.web: one process, one event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aiohttp import web


def make_app(latency: float) -> web.Application:
    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(latency)
        text = body["messages"][-1]["content"]
        answer = {
            "id": "chatcmpl-bench", "object": "chat.completion", "model": body.get("model") or "bench",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "echo: " + text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17},
        }
        return web.Response(body=json.dumps(answer).encode(), content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


async def serve(port: int, latency: float) -> None:
    runner = web.AppRunner(make_app(latency), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    print("PORT", site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.latency))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
