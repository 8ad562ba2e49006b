"""Core overhead: the facade against the raw transport it wraps, measured by ``benchmarks/run.py``.

The loopback TGI-like server (``--serve``: http.server in its own process, HTTP/1.1 keep-alive, answers
pre-built so that the client side dominates; it counts the TCP connections it accepts) and the measures:
  1. wall time and client CPU per non-streaming chat call: ``Client.send_message`` vs
     ``requests.Session.post(...).json()`` (and any peer);
  2. client CPU per streamed chunk over a 20,000-chunk stream: ``Client.stream_message`` vs
     ``resp.iter_lines()`` + ``json.loads``;
  3. TCP connections opened by 20 consecutive short chunked streams;
  4. statements timed in fresh interpreters (imports, cold start to the first answer), with or without
     bytecode.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STREAM_CHUNKS = 20_000
SHORT_CHUNKS = 20  # the streams whose TCP connections are counted
SHORT_WORD = b"briefly"  # in a streamed request's body: the short, chunked stream
COMPLETION = json.dumps({
    "id": "", "object": "chat.completion", "created": 1741265520, "model": "meta-llama/Llama-3.1-8B-Instruct",
    "system_fingerprint": "3.1.2-dev0-native",
    "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Deep learning is a subset of machine learning " * 4}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52},
}).encode()


def _stream_body(chunks: int) -> bytes:
    """A TGI 3 chat stream: ``data:`` events of one token each, a finish, a usage chunk, [DONE]."""
    def chunk(content, finish=None):
        return {"id": "", "object": "chat.completion.chunk", "created": 1741265520, "model": "tgi",
                "system_fingerprint": "3.1.2-dev0-native",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": content, "tool_calls": None},
                             "logprobs": None, "finish_reason": finish}], "usage": None}
    events = [b"data:" + json.dumps(chunk(" tok%d" % (n % 50))).encode() + b"\n\n" for n in range(chunks - 1)]
    events.append(b"data:" + json.dumps(chunk("", "stop")).encode() + b"\n\n")
    events.append(b'data:{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":%d,"total_tokens":%d}}\n\n'
                  % (chunks, chunks + 5))
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


def serve() -> None:
    """The loopback server (run in its own process)."""
    import http.server

    stream_body = _stream_body(STREAM_CHUNKS)
    short_events = [event + b"\n\n" for event in _stream_body(SHORT_CHUNKS).split(b"\n\n") if event]
    accepted = [0]  # TCP connections accepted so far: GET /connections

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive call, and the benchmark measures only that.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            accepted[0] += 1

        def do_GET(self):
            payload = str(accepted[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            streaming = b'"stream": true' in body or b'"stream":true' in body
            if streaming and SHORT_WORD in body:  # a short stream, chunked like TGI's and the router's
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in short_events + [b""]:  # the empty chunk ends the body
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                return
            payload = stream_body if streaming else COMPLETION
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if streaming else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-request-id", "bench")
            self.end_headers()
            self.wfile.write(payload)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT", httpd.server_address[1], flush=True)
    httpd.serve_forever()


KEY = "hf_bench_fake_key"
QUESTION = "What is deep learning?"


def raw_session():
    import requests

    session = requests.Session()
    # A fair baseline: our session skips requests' per-call environment scan when no proxy is set,
    # so the raw one does too (trust_env=True would make the comparison measure that setting).
    session.trust_env = False
    return session


def bench_calls(url: str, rounds: int, calls: int, peers: Optional[Dict[str, Callable[[], str]]] = None):
    """(median wall, 10th percentile wall, mean client CPU) per call, in seconds, of each of "raw",
    "facade" and the ``peers`` (name -> one call's text), one call of each in turn."""
    from llm_interface import Client

    client = Client({"huggingface": KEY}, interface_options={"retry_attempts": 0})
    session = raw_session()
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"messages": [{"role": "user", "content": QUESTION}], "model": "tgi", "max_tokens": 40}

    def facade():
        return client.send_message("huggingface", QUESTION, {"api_base": url, "max_tokens": 40}).results

    def raw():
        return session.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=(10, 120)).json()

    runners = {"raw": raw, "facade": facade, **(peers or {})}
    expected = raw()["choices"][0]["message"]["content"]
    for name, fn in runners.items():
        assert name == "raw" or fn() == expected, name
    # One call of each, alternately, each timed on its own: the median of thousands of single calls
    # shrugs off the bursts of noise that a 2-core machine running the server too is full of.
    per_call: Dict[str, List[float]] = {name: [] for name in runners}
    cpu = dict.fromkeys(runners, 0.0)
    for _ in range(rounds * calls):
        for name, fn in runners.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            per_call[name].append(time.perf_counter() - started)
            cpu[name] += time.process_time() - started_cpu
    client.close()
    session.close()
    count = rounds * calls
    p10 = {name: statistics.quantiles(values, n=10)[0] for name, values in per_call.items()}
    return ({name: statistics.median(values) for name, values in per_call.items()}, p10,
            {name: total / count for name, total in cpu.items()})


def raw_stream(session, url: str, words: str = "Tell me a long story") -> int:
    """A stream read the raw way: ``iter_lines`` + ``json.loads``; the number of content deltas."""
    body = {"messages": [{"role": "user", "content": words}], "model": "tgi", "stream": True}
    count = 0
    with session.post(url + "/v1/chat/completions", json=body, stream=True, timeout=(10, 120)) as response:
        for line in response.iter_lines():
            if line.startswith(b"data:"):
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                obj = json.loads(data)
                for choice in obj.get("choices") or ():
                    count += 1 if (choice.get("delta") or {}).get("content") is not None else 0
    return count


def facade_stream(client, url: str, words: str = "Tell me a long story") -> int:
    count = 0
    with client.stream_message("huggingface", words, {"api_base": url}) as stream:
        for chunk in stream:
            count += 1 if chunk.text is not None else 0
    return count


def bench_stream(url: str, rounds: int, peers: Optional[Dict[str, Callable[[], int]]] = None):
    """Client CPU per chunk (seconds) of each of "raw", "facade" and the ``peers`` (name -> one whole
    20,000-chunk stream read), the least disturbed of ``rounds`` runs each, interleaved."""
    from llm_interface import Client

    client = Client({"huggingface": KEY}, interface_options={"retry_attempts": 0})
    session = raw_session()
    runners = {"raw": lambda: raw_stream(session, url), "facade": lambda: facade_stream(client, url), **(peers or {})}
    for fn in runners.values():
        fn()  # warm: connection open, code paths loaded
    cpu: Dict[str, List[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, fn in runners.items():
            started = time.process_time()
            fn()
            cpu[name].append((time.process_time() - started) / STREAM_CHUNKS)
    client.close()
    session.close()
    return {name: min(values) for name, values in cpu.items()}  # CPU time: the least disturbed run


def accepted(url: str) -> int:
    """How many TCP connections the benchmark server has accepted (asked over a connection of its own)."""
    import urllib.request

    with urllib.request.urlopen(url + "/connections", timeout=10) as answer:
        return int(answer.read())


def bench_connections(url: str, streams: int = 20, peers: Optional[Dict[str, Callable[[], Any]]] = None):
    """TCP connections each client opens for ``streams`` consecutive short, chunked streams: "raw"
    (requests), "facade" (Client), "facade async" (AsyncClient over aiohttp, when installed), the ``peers``
    (name -> a function that makes the client and returns one stream's reader)."""
    from llm_interface import Client

    words = SHORT_WORD.decode()
    counts = {}
    session = raw_session()
    client = Client({"huggingface": KEY}, interface_options={"retry_attempts": 0})
    runners: Dict[str, Callable[[], Any]] = {
        "raw": lambda: lambda: raw_stream(session, url, words),
        "facade": lambda: lambda: facade_stream(client, url, words),
        **(peers or {}),
    }
    for name, make in runners.items():
        before = accepted(url) + 1  # + the count request's own connection
        read = make()
        for _ in range(streams):
            assert read() >= SHORT_CHUNKS - 1, name  # read whole (a client may fold the finish chunk)
        counts[name] = accepted(url) - before
    session.close()
    client.close()
    try:
        import aiohttp  # noqa: F401 - the async client's backend
    except ImportError:
        return counts
    counts["facade async"] = _async_connections(url, streams, words)
    return counts


def _async_connections(url: str, streams: int, words: str) -> int:
    import asyncio

    from llm_interface import AsyncClient

    async def main() -> int:
        async with AsyncClient(api_keys={"huggingface": KEY}, interface_options={"retry_attempts": 0}, backend="aiohttp") as c:
            before = accepted(url) + 1
            for _ in range(streams):
                stream = c.stream_message_async("huggingface", words, {"api_base": url})
                async with stream:
                    assert len([chunk async for chunk in stream]) >= SHORT_CHUNKS - 1
            return accepted(url) - before

    return asyncio.run(main())


def fresh_process_times(statements: Dict[str, str], runs: int, bytecode: bool = True) -> Dict[str, float]:
    """Seconds of each statement in a fresh interpreter, the least disturbed (the minimum) of ``runs``, the
    statements interleaved run by run: on a shared machine a start-up's spikes come from the neighbours.
    Without ``bytecode``, every module is compiled from source (an empty pycache, nothing written): a
    fresh checkout, a container built without .pyc files."""
    import tempfile

    # find_spec first (outside the timer, for all): how the package is *located* depends on the install
    # (an editable install adds a finder module); what is timed is the statement itself.
    code = ("import importlib.util, time; importlib.util.find_spec('llm_interface'); "
            "t = time.perf_counter()\n{0}\nprint(time.perf_counter() - t)")
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    times: Dict[str, List[float]] = {name: [] for name in statements}
    with tempfile.TemporaryDirectory() as empty:
        flags = [] if bytecode else ["-X", f"pycache_prefix={empty}", "-B"]
        for _ in range(runs):
            for name, statement in statements.items():
                out = subprocess.run([sys.executable, *flags, "-c", code.format(statement)],
                                     capture_output=True, text=True, env=env, check=True)
                times[name].append(float(out.stdout.split()[-1]))
    return {name: min(v) for name, v in times.items()}


IMPORTS = {
    "import llm_interface": "import llm_interface",
    "from llm_interface import LLMInterface": "from llm_interface import LLMInterface",
    "import requests": "import requests",
}


def bench_import(runs: int):
    # Compare like with like: requests is installed with its bytecode compiled; a source checkout
    # under PYTHONDONTWRITEBYTECODE=1 would recompile llm_interface on every import.
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "llm_interface")], check=True)
    # ``import llm_interface`` is lazy (PEP 562); the facade's real first-use cost is importing
    # LLMInterface, which pulls requests and the client, so that is measured too.
    times = fresh_process_times(IMPORTS, runs)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    heavy = subprocess.run([sys.executable, "-X", "importtime", "-c", "from llm_interface import LLMInterface"],
                           capture_output=True, text=True, env=env, check=True).stderr
    top = []
    for line in heavy.splitlines()[1:]:
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[0].split(":")[-1].strip().isdigit():
            top.append((int(parts[0].split(":")[-1]), parts[2]))
    return times, sorted(top, reverse=True)[:8]


def cold_starts(url: str) -> Dict[str, str]:
    """A fresh process's way to its first answer: import, build the client, one call (``fresh_process_times``)."""
    body = {"messages": [{"role": "user", "content": QUESTION}], "model": "tgi", "max_tokens": 40}
    return {
        "requests": f"import requests\ns = requests.Session(); s.trust_env = False\n"
                    f"s.post({url + '/v1/chat/completions'!r}, json={body!r}, timeout=(10, 120)).json()",
        "llm_interface": f"from llm_interface import Client\n"
                         f"Client({{'huggingface': {KEY!r}}}).send_message('huggingface', {QUESTION!r}, "
                         f"{{'api_base': {url!r}, 'max_tokens': 40}}).results",
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        raise SystemExit("The measures live in benchmarks/run.py (python benchmarks/run.py [--quick]); "
                         "this file's own command line starts the loopback server: --serve")
    serve()
