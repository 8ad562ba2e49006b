"""In-process local generation: our Hugging Face local mode against ``model.generate`` called directly, same run.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_local.py [--model FOLDER] [--tokens 64] [--runs 15] [--device cpu]

Without ``--model`` it uses the tiny test model (tests/support/tiny_models.py, built offline and cached).
Both paths generate exactly ``--tokens`` new tokens greedily (``min_new_tokens`` holds back EOS), so
tokens/s compare like for like; runs alternate between the two paths and the medians are reported.
Target (issue 7): ours >= 0.95x direct. First-token latency: our stream's first non-empty chunk against
a bare ``TextIteratorStreamer`` + thread around ``model.generate`` (what the engine does inside).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

MESSAGES = [{"role": "user", "content": "Count to five."}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model folder (default: the tiny test model)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import TextIteratorStreamer

    from llm_interface import Client
    from llm_interface.providers import in_process

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    if args.model is None:
        from support.tiny_models import build_tiny_chat_model

        args.model = str(build_tiny_chat_model())
    client = Client(interface_options={"retry_attempts": 0})
    options = {
        "model": args.model, "local": True, "device": args.device, "temperature": 0, "max_tokens": args.tokens,
        "pipeline_kwargs": {"min_new_tokens": args.tokens},
    }
    client.send_message("huggingface", MESSAGES, options)  # load once (the registry keeps it)
    loaded = next(v for k, v in in_process._MODELS.items() if k[0] == "transformers" and k[1] == args.model)
    tokenizer, model = loaded.tokenizer, loaded.model

    def direct_inputs():
        inputs = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        return {k: v.to(model.device) for k, v in inputs.items()}

    generate_kwargs = dict(max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)

    def direct() -> float:
        start = time.perf_counter()
        inputs = direct_inputs()
        with torch.inference_mode():
            out = model.generate(**inputs, **generate_kwargs)
        tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        elapsed = time.perf_counter() - start
        assert out.shape[1] - inputs["input_ids"].shape[1] == args.tokens
        return args.tokens / elapsed

    def ours() -> float:
        start = time.perf_counter()
        response = client.send_message("huggingface", MESSAGES, options)
        elapsed = time.perf_counter() - start
        assert response.usage.completion_tokens == args.tokens
        return args.tokens / elapsed

    def direct_first_token() -> float:
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        start = time.perf_counter()
        inputs = direct_inputs()

        def run():
            with torch.inference_mode():
                model.generate(**inputs, **generate_kwargs, streamer=streamer)

        worker = threading.Thread(target=run)
        worker.start()
        first = None
        for piece in streamer:
            if piece and first is None:
                first = time.perf_counter() - start
        worker.join()
        return first * 1000

    def ours_first_token() -> float:
        start = time.perf_counter()
        first = None
        with client.stream_message("huggingface", MESSAGES, options) as stream:
            for chunk in stream:
                if chunk.text and first is None:
                    first = time.perf_counter() - start
        return first * 1000

    for fn in (direct, ours, direct_first_token, ours_first_token):
        fn()  # warm-up
    rates = {"direct": [], "ours": []}
    firsts = {"direct": [], "ours": []}
    for run in range(args.runs):
        # Alternate which path goes first: with a fixed order the path right after the streaming runs
        # measured ~20% slower here, whichever it was.
        for name in (("direct", "ours") if run % 2 == 0 else ("ours", "direct")):
            rates[name].append(direct() if name == "direct" else ours())
        firsts["direct"].append(direct_first_token())
        firsts["ours"].append(ours_first_token())

    med = {k: statistics.median(v) for k, v in rates.items()}
    first = {k: statistics.median(v) for k, v in firsts.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"transformers {transformers.__version__}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, device {args.device}")
    print(f"model: {args.model} ({sum(p.numel() for p in model.parameters()):,} parameters), "
          f"{args.tokens} new tokens, {args.runs} alternating runs, medians")
    print()
    print("| path | tokens/s | ratio to direct |")
    print("| --- | --- | --- |")
    print(f"| `model.generate` direct | {med['direct']:.1f} | 1.00x |")
    print(f"| `send_message` local mode | {med['ours']:.1f} | {med['ours'] / med['direct']:.3f}x |")
    print()
    print("| first token | ms (median) | min | max |")
    print("| --- | --- | --- | --- |")
    for name, label in (("direct", "TextIteratorStreamer + thread, direct"), ("ours", "`stream_message` local mode")):
        print(f"| {label} | {first[name]:.1f} | {min(firsts[name]):.1f} | {max(firsts[name]):.1f} |")


if __name__ == "__main__":
    main()
