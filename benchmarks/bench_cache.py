"""Cache hit cost through ``send_message``, next to a raw dict lookup, a raw file read and a loopback call.

    PYTHONPATH=. python benchmarks/bench_cache.py [--n 2000]

Each figure is the median (and p90) of n timed calls after a warm-up, in one run on one machine, so the
ratios are what to compare. Targets (issue 4): a hit costs <= 50 us (memory) and <= 1 ms (files, sqlite).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from harness import timed  # first: puts tests/ on the path
from loopback import LoopbackServer

from llm_interface import Client

MESSAGE = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Explain the importance of low latency LLMs."}]


def measure(n: int) -> list:
    """Rows of (what, median us, p90 us, min us): the baselines first (the raw dict lookup is row 0)."""
    rows = []
    with LoopbackServer() as server, tempfile.TemporaryDirectory() as tmp:
        options = {"api_base": server.url, "model": "tgi", "max_tokens": 64, "temperature": 0.2}

        # Baselines, in the same run.
        entry_file = Path(tmp, "raw.json")
        data = {"results": "x" * 400, "model": "tgi", "usage": {"prompt_tokens": 5}}
        entry_file.write_text(json.dumps(data, indent=2))
        table = {"k" * 64: data}
        rows.append(("raw dict lookup", *timed(lambda: table["k" * 64], n)))
        rows.append(("raw file read (read_bytes)", *timed(entry_file.read_bytes, n)))
        rows.append(("raw file read + json.loads", *timed(lambda: json.loads(entry_file.read_bytes()), n)))

        for backend in ("memory", "files", "sqlite"):
            client = Client({"huggingface": "hf_bench_fake_key"})
            client.configure_cache(backend, path=os.path.join(tmp, backend))
            first = client.send_message("huggingface", MESSAGE, options)
            assert not first.cached
            hit = client.send_message("huggingface", MESSAGE, options)
            assert hit.cached and hit.results == first.results
            rows.append((f"send_message hit: {backend}", *timed(lambda c=client: c.send_message("huggingface", MESSAGE, options), n)))
            client.close()

        client = Client({"huggingface": "hf_bench_fake_key"})
        rows.append(
            ("send_message miss: loopback HTTP", *timed(lambda: client.send_message("huggingface", MESSAGE, options), max(200, n // 10), 20))
        )
        client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    rows = measure(n)
    base = rows[0][1]
    print(f"n={n}, python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("| what | median us | p90 us | min us | median / dict lookup |")
    print("|---|---:|---:|---:|---:|")
    for name, median, p90, low in rows:
        print(f"| {name} | {median:.1f} | {p90:.1f} | {low:.1f} | {median / base:.0f} |")


if __name__ == "__main__":
    main()
