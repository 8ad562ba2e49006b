"""What the benchmark scripts share: the tests' loopback servers on the path, the timing loop, and a server
started in its own process (so that the client being measured does not share its interpreter)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # loopback.py, upstream.py


def timed(fn: Callable[[], object], n: int, warmup: int = 50) -> Tuple[float, float, float]:
    """(median, p90, min) in microseconds of ``n`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return statistics.median(samples) / 1000.0, samples[int(len(samples) * 0.9)] / 1000.0, samples[0] / 1000.0


def server_process(argv: List[str], env: Optional[dict] = None) -> Tuple[subprocess.Popen, str]:
    """Start ``python *argv``, a server that prints its port as the last word of its first line once it
    listens; (the process, its base URL)."""
    process = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, text=True, env=env)
    words = process.stdout.readline().split()
    if not words or not words[-1].isdigit():
        process.kill()
        raise SystemExit(f"{' '.join(argv)} did not start")
    return process, f"http://127.0.0.1:{words[-1]}"
