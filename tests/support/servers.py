"""Start and stop real local inference servers for end-to-end tests.

Each context manager starts a server on 127.0.0.1 on a free port in its own
process group, waits until it answers a readiness route, yields a
``RunningServer`` and always kills the whole process group on exit.  If the
server dies or is not ready in time, ``ServerStartError`` carries its log.
The pytest fixtures (``support/fixtures.py``) check the packages first and skip with the install step
(``support.skips``); a server started without them dies and ``ServerStartError`` shows why.

Run ``python tests/support/servers.py`` to start every server and exercise it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

if __package__ in (None, ""):  # run as a script (the self-check below): make ``support`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.loopback import free_port  # noqa: E402

HOST = "127.0.0.1"

# One thread and no hub access: the test box has 2 cores shared between the
# server and the test process, and there is no network for model downloads.
SERVER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


class ServerStartError(RuntimeError):
    """The server exited or did not become ready; the message has its log."""


@dataclass
class RunningServer:
    url: str  # root, e.g. http://127.0.0.1:PORT
    base_url: str  # OpenAI-style base, url + "/v1"
    model: str  # value to send as the request's "model" field
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Children (uvicorn workers) may outlive the leader; kill the group anyway.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def run_server(
    cmd: Sequence[str],
    *,
    port: int,
    ready_path: str,
    model: str,
    startup_timeout: float,
    env: dict | None = None,
) -> Iterator[RunningServer]:
    """Run ``cmd`` until the with-block ends; ready when GET ready_path is 200."""
    url = f"http://{HOST}:{port}"
    log_file = tempfile.NamedTemporaryFile(prefix="llm-server-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env={**os.environ, **SERVER_ENV, **(env or {})},
        start_new_session=True,  # own process group, so killpg gets everything
    )
    server = RunningServer(url=url, base_url=url + "/v1", model=model, log_path=log_path)
    try:
        _wait_ready(proc, url + ready_path, startup_timeout, server)
        yield server
    except BaseException:
        # Keep the log for post-mortems; its path is in the failing output.
        print(f"server log kept at {log_path}", file=sys.stderr)
        raise
    else:
        log_path.unlink(missing_ok=True)
    finally:
        _kill_group(proc)
        log_file.close()


def _wait_ready(proc, ready_url, timeout, server: RunningServer) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(
                f"server exited with {proc.returncode} before ready; log:\n{server.log()}"
            )
        if _http_ok(ready_url):
            return
        time.sleep(0.25)
    raise ServerStartError(f"server not ready after {timeout:.0f}s at {ready_url}; log:\n{server.log()}")


def _console_script(name: str) -> str:
    """The venv's entry point next to this interpreter, else one on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise ImportError(f"no '{name}' command found: pip install 'transformers[serving]'")
    return found


@contextlib.contextmanager
def transformers_server(
    model_dir: Path | str,
    *,
    port: int | None = None,
    startup_timeout: float = 240.0,
    extra_args: Sequence[str] = (),
) -> Iterator[RunningServer]:
    """``transformers serve`` pinned to a local model folder, on CPU.

    The folder is passed as FORCE_MODEL so it is loaded at start-up; requests
    must then send ``model`` equal to that path (``server.model``) or omit it:
    any other name gets HTTP 400 "Server is pinned to ...".  Ready when
    ``GET /health`` answers 200 (``/v1/models`` is unusable offline: 500).
    """
    model_dir = str(Path(model_dir).resolve())
    port = port or free_port()
    cmd = [
        _console_script("transformers"), "serve", model_dir,
        "--host", HOST, "--port", str(port), "--device", "cpu", "--log-level", "info",
        *extra_args,
    ]
    with run_server(
        cmd, port=port, ready_path="/health", model=model_dir, startup_timeout=startup_timeout
    ) as server:
        yield server


@contextlib.contextmanager
def llama_cpp_server(
    gguf_path: Path | str,
    *,
    port: int | None = None,
    embedding: bool = False,
    n_ctx: int = 512,
    model_alias: str | None = None,
    startup_timeout: float = 120.0,
    extra_args: Sequence[str] = (),
) -> Iterator[RunningServer]:
    """``python -m llama_cpp.server`` serving one GGUF file.

    With ``embedding=True`` the same model also answers ``/v1/embeddings``.
    The request ``model`` field is not checked; ``server.model`` is the alias
    (defaults to the file stem).  Ready when ``GET /v1/models`` answers 200.
    """
    gguf_path = str(Path(gguf_path).resolve())
    alias = model_alias or Path(gguf_path).stem
    port = port or free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", gguf_path, "--model_alias", alias,
        "--host", HOST, "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", "1", "--n_threads_batch", "1",
        "--embedding", "true" if embedding else "false",
        *extra_args,
    ]
    with run_server(
        cmd, port=port, ready_path="/v1/models", model=alias, startup_timeout=startup_timeout
    ) as server:
        yield server


# --------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------

def _post(url: str, body: dict, timeout: float = 120.0):
    req = urllib.request.Request(
        url, data=(body if isinstance(body, str) else json.dumps(body)).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _exercise_chat(server: RunningServer, label: str) -> None:
    from tiny_models import REPLIES, WEATHER_TOOL, WEATHER_TOOL_CALL_MESSAGE

    chat_url = server.base_url + "/chat/completions"
    for prompt, expected in REPLIES.items():
        t = time.monotonic()
        status, text = _post(chat_url, {
            "model": server.model, "temperature": 0, "max_tokens": 40,
            "messages": [{"role": "user", "content": prompt}],
        })
        dt = time.monotonic() - t
        body = json.loads(text)
        choice = body["choices"][0]
        ok = choice["message"]["content"] == expected and choice["finish_reason"] == "stop"
        n = body.get("usage", {}).get("completion_tokens", 0)
        print(f"[{label}] {prompt!r} -> {choice['message']['content']!r} "
              f"{choice['finish_reason']} {'OK' if ok else 'MISMATCH'} "
              f"({dt * 1000:.0f} ms, {n / dt:.0f} tok/s)")

    weather = [{"role": "user", "content": "What is the weather in Paris?"}]
    status, text = _post(chat_url, {
        "model": server.model, "temperature": 0, "max_tokens": 60,
        "tools": [WEATHER_TOOL], "messages": weather,
    })
    print(f"[{label}] tool call: {status} {json.loads(text)['choices'][0]}")
    status, text = _post(chat_url, {
        "model": server.model, "temperature": 0, "max_tokens": 60, "tools": [WEATHER_TOOL],
        # llama-cpp-python rejects content=None next to tool_calls (HTTP 500
        # validation error); "" renders the same prompt on both servers.
        "messages": weather + [
            {**WEATHER_TOOL_CALL_MESSAGE, "content": ""},
            {"role": "tool", "tool_call_id": "call_0", "content": "22C, sunny"},
        ],
    })
    print(f"[{label}] tool result: {status} {json.loads(text)['choices'][0]}")

    req = urllib.request.Request(
        chat_url,
        data=json.dumps({
            "model": server.model, "temperature": 0, "stream": True,
            "messages": [{"role": "user", "content": "Count to five."}],
        }).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        lines = [ln.decode().strip() for ln in resp if ln.strip()]
    print(f"[{label}] stream: {len(lines)} SSE lines, last: {lines[-1][:160]}")


def _self_check() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from tiny_models import build_tiny_chat_model, build_tiny_gguf

    cache = os.environ.get("LLM_INTERFACE_TEST_CACHE")
    model_dir = build_tiny_chat_model(cache)

    t = time.monotonic()
    with transformers_server(model_dir) as server:
        print(f"transformers serve ready in {time.monotonic() - t:.1f}s at {server.base_url}")
        _exercise_chat(server, "transformers")

    try:
        gguf = build_tiny_gguf(cache)
        t = time.monotonic()
        with llama_cpp_server(gguf, embedding=True) as server:
            print(f"llama_cpp.server ready in {time.monotonic() - t:.1f}s at {server.base_url}")
            _exercise_chat(server, "llama.cpp")
            t = time.monotonic()
            status, text = _post(server.base_url + "/embeddings",
                                 {"model": server.model, "input": ["hello", "world"]})
            data = json.loads(text)["data"]
            print(f"[llama.cpp] embeddings: {status} {len(data)} vectors of dim "
                  f"{len(data[0]['embedding'])} ({(time.monotonic() - t) * 1000:.0f} ms)")
    except (ImportError, ServerStartError) as exc:
        print(f"llama.cpp skipped: {exc}")


if __name__ == "__main__":
    _self_check()
