"""Every row of issue 15's table in one command: llm_interface next to its raw baseline (and the peers that
are installed), interleaved in the same run, with the ratio and whether the goal is met.

    python benchmarks/run.py            # a few minutes on 2 cores
    python benchmarks/run.py --quick    # fewer repetitions (about a minute)

Rows: a non-streaming call (wall, client CPU) vs ``requests.Session`` with ``trust_env = False``; client CPU
per streamed chunk vs ``iter_lines`` + ``json.loads``; TCP connections over 20 consecutive streams; the
import of ``LLMInterface`` vs ``import requests`` in fresh processes, with and without bytecode; memory,
files and sqlite cache hits through ``send_message`` vs a dict lookup; an async batch (2,000 calls of
50 ms at concurrency 64) vs raw aiohttp; cold start to the first answer vs requests. The servers run in
processes of their own (bench_core.py, latency_server.py); peers: peers.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import harness  # first: puts tests/ on the path (the cache benchmark's loopback server)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_batch  # noqa: E402
import bench_cache  # noqa: E402
import bench_core  # noqa: E402
import peers  # noqa: E402

Row = Dict[str, Any]


def row(measure: str, ours: float, base: float, unit: str, goal: Optional[str], met: Optional[bool],
        peer_values: Optional[Dict[str, float]] = None) -> Row:
    ratio = ours / base if unit and base else None  # counts (connections) are compared as they are
    return {"measure": measure, "ours": ours, "base": base, "unit": unit, "ratio": ratio, "goal": goal,
            "met": met, "peers": {name: value / base for name, value in (peer_values or {}).items()} if base else {}}


def core_rows(quick: bool) -> List[Row]:
    process, url = harness.server_process([str(Path(bench_core.__file__)), "--serve"])
    try:
        calls, _p10, cpu = bench_core.bench_calls(url, rounds=2 if quick else 4, calls=150 if quick else 300,
                                                   peers=peers.calls(url))
        chunk = bench_core.bench_stream(url, rounds=2 if quick else 3, peers=peers.streams(url))
        connections = bench_core.bench_connections(url, 20, peers.short_streams(url))
        cold = bench_core.fresh_process_times({**bench_core.cold_starts(url), **peers.cold_starts(url)}, 3 if quick else 7)
    finally:
        process.terminate()
        process.wait(10)
    others = [name for name in calls if name not in ("raw", "facade")]
    stream_others = [name for name in chunk if name not in ("raw", "facade")]
    return [
        row("non-streaming call, wall (median)", calls["facade"] * 1e6, calls["raw"] * 1e6, "us", "<= 1.05x",
            calls["facade"] <= 1.05 * calls["raw"], {n: calls[n] * 1e6 for n in others}),
        row("non-streaming call, client CPU", cpu["facade"] * 1e6, cpu["raw"] * 1e6, "us", "<= 1.05x",
            cpu["facade"] <= 1.05 * cpu["raw"], {n: cpu[n] * 1e6 for n in others}),
        row("streaming, client CPU per chunk", chunk["facade"] * 1e6, chunk["raw"] * 1e6, "us", "<= 1.2x",
            chunk["facade"] <= 1.2 * chunk["raw"], {n: chunk[n] * 1e6 for n in stream_others}),
        row("TCP connections over 20 streams, sync", connections["facade"], connections["raw"], "", "1",
            connections["facade"] == 1, {n: v for n, v in connections.items() if n not in ("raw", "facade", "facade async")}),
        *([row("TCP connections over 20 streams, async (aiohttp)", connections["facade async"], connections["raw"], "",
               "1", connections["facade async"] == 1)] if "facade async" in connections else []),
        row("cold start to first answer (fresh process)", cold["llm_interface"] * 1e3, cold["requests"] * 1e3, "ms",
            "<= 1.1x", cold["llm_interface"] <= 1.1 * cold["requests"],
            {n: cold[n] * 1e3 for n in cold if n not in ("llm_interface", "requests")}),
    ]


def import_rows(quick: bool) -> List[Row]:
    runs = 5 if quick else 11
    statements = {"ours": "from llm_interface import LLMInterface", "requests": "import requests", **peers.imports()}
    out = []
    compiled, _top = bench_core.bench_import(1)  # compiles llm_interface's bytecode (like an installed package)
    del compiled
    for bytecode in (True, False):
        times = bench_core.fresh_process_times(statements, runs, bytecode=bytecode)
        label = "with bytecode" if bytecode else "without bytecode"
        out.append(row(f"`from llm_interface import LLMInterface` vs `import requests`, {label}",
                       times["ours"] * 1e3, times["requests"] * 1e3, "ms", "<= 1.2x",
                       times["ours"] <= 1.2 * times["requests"],
                       {n: times[n] * 1e3 for n in statements if n not in ("ours", "requests")}))
    return out


def cache_rows(quick: bool) -> List[Row]:
    measured = {name: median for name, median, _p90, _low in bench_cache.measure(500 if quick else 2000)}
    lookup = measured["raw dict lookup"]
    out = []
    for backend, goal in (("memory", 20.0), ("files", 50.0), ("sqlite", 50.0)):
        hit = measured[f"send_message hit: {backend}"]
        out.append(row(f"{backend} cache hit through send_message (median)", hit, lookup, "us", f"<= {goal:.0f} us",
                       hit <= goal))
    return out


def batch_rows(quick: bool) -> List[Row]:
    try:
        import aiohttp  # noqa: F401 - both sides of this row need it
    except ImportError:
        return []
    calls = 500 if quick else 2000
    median = bench_batch.measure(["raw-aiohttp", "llm-async"], calls, 64, 0.05, 1 if quick else 2)
    ours, raw = median["llm-async"]["seconds"], median["raw-aiohttp"]["seconds"]
    # Throughput is calls per second: the ratio is raw's seconds over ours (>= 0.97x: at most 3% slower).
    return [row(f"async batch, {calls} calls x 50 ms at 64, throughput vs raw aiohttp", calls / ours, calls / raw,
                "calls/s", ">= 0.97x", raw / ours >= 0.97)]


def print_table(rows: List[Row]) -> None:
    names = sorted({name for r in rows for name in r["peers"]})
    print("| measure | llm_interface | baseline | ratio | " + " | ".join(names) + (" | " if names else "") + "goal | met |")
    print("|---|---:|---:|---:|" + "---:|" * len(names) + "---|---|")
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
        peer_cells = [f"{r['peers'][n]:.2f}x" if n in r["peers"] and r["unit"] else
                      (f"{r['peers'][n] * r['base']:.0f}" if n in r["peers"] else "") for n in names]
        digits = 1 if r["unit"] else 0
        print(f"| {r['measure']} | {r['ours']:.{digits}f}{unit} | {r['base']:.{digits}f}{unit} | {ratio} | "
              + "".join(f"{c} | " for c in peer_cells) + f"{r['goal']} | {'yes' if r['met'] else 'NO'} |")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", default="core,imports,cache,batch", help="sections to run (comma-separated)")
    args = parser.parse_args(argv)
    sections = {"core": core_rows, "imports": import_rows, "cache": cache_rows, "batch": batch_rows}
    load_before = os.getloadavg()
    rows: List[Row] = []
    for name in args.only.split(","):
        rows.extend(sections[name](args.quick))
        print(f"[{name} done, load average {os.getloadavg()[0]:.2f}]", file=sys.stderr)
    load_after = os.getloadavg()
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} cores; {'quick' if args.quick else 'full'} run; "
          f"peers installed: {', '.join(peers.installed()) or 'none'}; load average (1, 5, 15 min) before "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} "
          f"{load_after[1]:.2f} {load_after[2]:.2f}\n")
    print_table(rows)
    print("\nPeers' columns are their ratio to the same baseline (connections: their count).")


if __name__ == "__main__":
    main()
