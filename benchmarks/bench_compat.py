"""What the drop-in adapters add to a call: LiteLLM/EasyLLM/AbstractLLM style next to ``Client.send_message``.

    PYTHONPATH=. python benchmarks/bench_compat.py [--n 2000]

Two settings, each in the same run: memory-cache hits (the adapter's own cost shows most there, no network)
and loopback calls (a real HTTP round trip to a TGI-like server on 127.0.0.1). Figures are the median (p90)
of n timed calls after a warm-up; compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse

from harness import timed  # first: puts tests/ on the path
from loopback import LoopbackServer

from llm_interface import LLMInterface
from llm_interface.compat import abstractllm, easyllm, litellm

MESSAGES = [{"role": "user", "content": "Explain the importance of low latency LLMs."}]


def run(label: str, base: str, n: int) -> None:
    client = LLMInterface.client
    easyllm.huggingface.api_base = base
    llm = abstractllm.create_llm("huggingface", model="tgi", inference_api_url=base)
    calls = {
        "Client.send_message": lambda: client.send_message("huggingface", MESSAGES, {"api_base": base, "model": "tgi"}),
        "litellm.completion": lambda: litellm.completion(model="huggingface/tgi", messages=MESSAGES, api_base=base),
        "easyllm ChatCompletion.create": lambda: easyllm.huggingface.ChatCompletion.create(model="tgi", messages=MESSAGES),
        "abstractllm generate": lambda: llm.generate(MESSAGES[0]["content"]),
    }
    raw = None
    print(f"\n{label} (n={n})\n| call | median us | p90 us | vs Client |\n|---|---|---|---|")
    for name, call in calls.items():
        median, p90, _ = timed(call, n)
        raw = raw or median
        print(f"| {name} | {median:.1f} | {p90:.1f} | {median / raw:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    with LoopbackServer() as server:
        LLMInterface.client.configure_cache("memory")
        run("memory-cache hits", server.url, args.n)
        LLMInterface.client.configure_cache("memory", mode="off")
        run("loopback calls", server.url, max(200, args.n // 10))


if __name__ == "__main__":
    main()
