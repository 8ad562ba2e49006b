"""Proxy overhead: throughput and latency of chat calls through ``llm-interface serve`` vs. straight to the upstream.

    PYTHONPATH=. python benchmarks/bench_proxy.py [--requests 400] [--concurrency 1 64]

The upstream is the loopback Hugging Face (TGI-format) server of ``tests/upstream.py``, in its own process;
the proxy is the installed console script (uvicorn, one worker) in another; the load comes from httpx
(async) in this one. Both paths are measured in the same run, so the ratio is what to read: the
machine's speed cancels out, the proxy's added work (auth, validation, the library's plan/parse,
re-encoding, a second HTTP hop) does not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import ROOT, server_process  # first: puts tests/ on the path
from loopback import free_port

MASTER = "sk-bench"


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within 30 s")


async def load(url: str, headers: dict, body: dict, total: int, concurrency: int) -> dict:
    latencies = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as client:
        async def one() -> None:
            started = time.perf_counter()
            if body.get("stream"):
                async with client.stream("POST", url, json=body) as answer:
                    answer.raise_for_status()
                    async for _ in answer.aiter_lines():
                        pass
            else:
                answer = await client.post(url, json=body)
                answer.raise_for_status()
            latencies.append(time.perf_counter() - started)

        queue = asyncio.Queue()
        for _ in range(total):
            queue.put_nowait(None)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await one()

        for _ in range(min(concurrency, 10)):  # warm the connections and the server
            await one()
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": total / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    upstream, upstream_url = server_process([str(ROOT / "tests" / "upstream.py")], env=env)
    port = free_port()
    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(
        "model_list:\n  - model_name: llama\n    litellm_params:\n"
        f"      model: huggingface/meta-llama/Llama-3.1-8B-Instruct\n      api_key: hf_bench_fake\n      api_base: {upstream_url}\n"
        f"general_settings: {{master_key: {MASTER}}}\nllm_interface_settings: {{interface_options: {{retry_attempts: 0}}}}\n"
    )
    script = shutil.which("llm-interface", path=str(Path(sys.executable).parent)) or "llm-interface"
    proxy = subprocess.Popen([script, "serve", "--config", str(config), "--port", str(port), "--log-level", "warning"], env=env)
    proxy_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(upstream_url + "/info", upstream)
        wait_for(proxy_url + "/health", proxy)
        rows = []
        for stream in (False, True):
            body = {"model": "llama", "messages": [{"role": "user", "content": "Say something short please"}], "max_tokens": 16}
            if stream:
                body["stream"] = True
            for concurrency in args.concurrency:
                direct = asyncio.run(load(upstream_url + "/v1/chat/completions", {"Authorization": "Bearer hf_bench_fake"},
                                          body, args.requests, concurrency))
                proxied = asyncio.run(load(proxy_url + "/v1/chat/completions", {"Authorization": f"Bearer {MASTER}"},
                                           body, args.requests, concurrency))
                rows.append((stream, concurrency, direct, proxied))
    finally:
        proxy.terminate()
        upstream.terminate()
        proxy.wait(10)
        upstream.wait(10)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{args.requests} requests per cell; upstream, proxy and load generator share the machine\n")
    print("| call | concurrency | direct req/s | proxy req/s | throughput ratio | direct p50 ms | proxy p50 ms | added p50 ms | proxy p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for stream, concurrency, direct, proxied in rows:
        print(f"| {'chat stream' if stream else 'chat'} | {concurrency} | {direct['rps']:.0f} | {proxied['rps']:.0f} | "
              f"{proxied['rps'] / direct['rps']:.2f} | {direct['p50']:.1f} | {proxied['p50']:.1f} | "
              f"{proxied['p50'] - direct['p50']:.1f} | {proxied['p99']:.1f} |")


if __name__ == "__main__":
    main()
