"""Batch throughput: ``send_messages`` (threads) and ``send_messages_async`` (aiohttp) next to the raw
transports, in the same run, against a 50 ms loopback server in its own process.

    PYTHONPATH=. python benchmarks/bench_batch.py                 # 2,000 calls, concurrency 64, 3 rounds
    PYTHONPATH=. python benchmarks/bench_batch.py --calls 500 --rounds 1

Each mode runs in a fresh subprocess (so its peak RSS is its own), after a warm-up of ``concurrency``
calls that opens the connections; the modes are interleaved round by round so that a change in the
machine's load hits them all alike. Reported, median round of each: throughput, as a share of the
ideal (``calls * latency / concurrency`` seconds) and as a ratio to its raw transport; the client
process's CPU time per call (steadier than wall time on a loaded machine); peak RSS.

Targets (issue 5): llm_interface async >= 0.9x raw aiohttp; llm_interface sync >= 0.9x raw
requests with threads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent

from harness import server_process  # noqa: E402

KEY = "hf_bench_fake_key_0123456789"
MODES = ("raw-aiohttp", "llm-async", "raw-requests-threads", "llm-sync")
RAW_OF = {"llm-async": "raw-aiohttp", "llm-sync": "raw-requests-threads"}


def body(i: int) -> dict:
    return {"model": "bench", "messages": [{"role": "user", "content": f"prompt number {i}"}]}


# -- the modes (each runs in its own process) ---------------------------------------------------


def raw_aiohttp(url: str, calls: int, concurrency: int) -> list:
    import aiohttp

    async def main(n: int) -> list:
        connector = aiohttp.TCPConnector(limit=concurrency)
        headers = {"Authorization": f"Bearer {KEY}"}
        async with aiohttp.ClientSession(connector=connector) as session:
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> str:
                async with gate:
                    async with session.post(url + "/v1/chat/completions", json=body(i), headers=headers) as r:
                        r.raise_for_status()
                        return (await r.json())["choices"][0]["message"]["content"]

            await asyncio.gather(*(one(i) for i in range(concurrency)))  # warm-up
            started = time.perf_counter()
            out = await asyncio.gather(*(one(i) for i in range(n)))
            return [time.perf_counter() - started, out]

    return asyncio.run(main(calls))


def raw_requests_threads(url: str, calls: int, concurrency: int) -> list:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.trust_env = False  # a fair baseline: our session skips the per-call environment scan too
    session.mount("http://", HTTPAdapter(pool_maxsize=concurrency))
    headers = {"Authorization": f"Bearer {KEY}"}

    def one(i: int) -> str:
        r = session.post(url + "/v1/chat/completions", json=body(i), headers=headers, timeout=(10, 120))
        r.raise_for_status()
        return r.json()["choices"][0]["message"]["content"]

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(concurrency)))  # warm-up
        started = time.perf_counter()
        out = list(pool.map(one, range(calls)))
        return [time.perf_counter() - started, out]


def llm_sync(url: str, calls: int, concurrency: int) -> list:
    from llm_interface import Client

    options = {"api_base": url, "model": "bench"}
    with Client({"huggingface": KEY}) as client:
        client.send_messages("huggingface", [m["messages"] for m in map(body, range(concurrency))], options,
                             concurrency=concurrency, progress=False)  # warm-up
        messages = [body(i)["messages"] for i in range(calls)]
        started = time.perf_counter()
        out = client.send_messages("huggingface", messages, options, concurrency=concurrency, progress=False)
        return [time.perf_counter() - started, [r.results for r in out]]


def llm_async(url: str, calls: int, concurrency: int) -> list:
    from llm_interface import AsyncClient

    options = {"api_base": url, "model": "bench"}

    async def main() -> list:
        async with AsyncClient(api_keys={"huggingface": KEY}, max_connections=concurrency, backend="aiohttp") as c:
            await c.send_messages_async("huggingface", [body(i)["messages"] for i in range(concurrency)], options,
                                        concurrency=concurrency, progress=False)  # warm-up
            messages = [body(i)["messages"] for i in range(calls)]
            started = time.perf_counter()
            out = await c.send_messages_async("huggingface", messages, options, concurrency=concurrency, progress=False)
            return [time.perf_counter() - started, [r.results for r in out]]

    return asyncio.run(main())


RUNNERS = {
    "raw-aiohttp": raw_aiohttp,
    "raw-requests-threads": raw_requests_threads,
    "llm-sync": llm_sync,
    "llm-async": llm_async,
}


def child(mode: str, url: str, calls: int, concurrency: int) -> None:
    cpu = time.process_time()
    seconds, texts = RUNNERS[mode](url, calls, concurrency)
    cpu = time.process_time() - cpu  # includes the warm-up's concurrency calls
    ok = texts == [f"echo: prompt number {i}" for i in range(calls)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    cpu_us = cpu / (calls + concurrency) * 1e6
    print(json.dumps({"mode": mode, "seconds": seconds, "ok": ok, "rss_mb": rss_mb, "cpu_us": cpu_us}))


# -- the driver -----------------------------------------------------------------------------------


def measure(modes: list, calls: int, concurrency: int, latency: float, rounds: int) -> dict:
    """Each mode's median round (seconds, cpu_us, rss_mb, ok), the modes interleaved round by round, each
    in a fresh process, against one latency server."""
    server, url = server_process([str(HERE / "latency_server.py"), "--latency", str(latency)])
    runs: dict = {mode: [] for mode in modes}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    try:
        for round_number in range(rounds):
            for mode in modes:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, "--url", url, "--calls", str(calls),
                     "--concurrency", str(concurrency)],
                    capture_output=True, text=True, env=env, timeout=600,
                )
                if out.returncode != 0:
                    raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"round {round_number + 1} {mode:22s} {result['seconds']:.3f}s "
                      f"{calls / result['seconds']:.0f} calls/s cpu={result['cpu_us']:.0f}us/call "
                      f"ok={result['ok']} rss={result['rss_mb']:.0f} MB", file=sys.stderr)
                runs[mode].append(result)
    finally:
        server.terminate()
        server.wait(10)
    # The median round of each mode, for wall time and CPU apiece: steadier than the best or the mean
    # on a shared machine.
    return {
        mode: {
            "seconds": statistics.median(r["seconds"] for r in results),
            "cpu_us": statistics.median(r["cpu_us"] for r in results),
            "rss_mb": max(r["rss_mb"] for r in results),
            "ok": all(r["ok"] for r in results),
        }
        for mode, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Batch throughput against raw aiohttp / requests.")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.url, args.calls, args.concurrency)

    modes = args.modes.split(",")
    median = measure(modes, args.calls, args.concurrency, args.latency, args.rounds)
    ideal = args.calls * args.latency / args.concurrency
    load = os.getloadavg()[0]
    print(f"\n{args.calls} calls, {args.latency * 1000:.0f} ms latency, concurrency {args.concurrency}, "
          f"median of {args.rounds} rounds; ideal {ideal:.2f}s; load average {load:.1f} on {os.cpu_count()} CPUs\n")
    print("| mode | seconds | calls/s | share of ideal | throughput vs raw | client CPU us/call | CPU vs raw "
          "| peak RSS MB | answers ok |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in modes:
        r = median[mode]
        raw = RAW_OF.get(mode)
        ratio = f"{median[raw]['seconds'] / r['seconds']:.2f}x" if raw in median else "(raw)"
        cpu_ratio = f"{r['cpu_us'] / median[raw]['cpu_us']:.2f}x" if raw in median else "(raw)"
        print(f"| {mode} | {r['seconds']:.2f} | {args.calls / r['seconds']:.0f} | {ideal / r['seconds']:.0%} | "
              f"{ratio} | {r['cpu_us']:.0f} | {cpu_ratio} | {r['rss_mb']:.0f} | {r['ok']} |")


if __name__ == "__main__":
    main()
