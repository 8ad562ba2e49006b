"""The installed ``llm-interface`` console script, run in a subprocess against a loopback upstream."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.loopback import free_port
from support.skips import missing, require
from support.upstream import Upstream

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = shutil.which("llm-interface", path=str(Path(sys.executable).parent)) or shutil.which("llm-interface")
SECRET = "hf_cli_secret_never_print_0123456789"

pytest_plugins = ("redis_server",)  # a real redis-server on 127.0.0.1: redis_server, redis_url

if SCRIPT is None:  # the whole module runs the installed command; under CI=true this fails instead
    missing("the console script is not installed: pip install -e .")


@pytest.fixture(scope="module")
def upstream():
    with Upstream() as server:
        yield server


@pytest.fixture
def run(upstream, tmp_path):
    def run(*args, stdin=None, base=True, extra_env=None):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_TOKEN_PATH": str(tmp_path / "no-token")}
        if base:
            env["HUGGINGFACE_API_BASE"] = upstream.url
        env.update(extra_env or {})
        return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)

    return run


def test_send_prints_the_answer(run, upstream):
    done = run("send", "huggingface", "hello world", "--max-tokens", "7", "--temperature", "0.2")
    assert (done.returncode, done.stdout, done.stderr) == (0, "echo: hello world\n", "")
    body = upstream.requests[-1].body
    assert body["max_tokens"] == 7 and body["temperature"] == 0.2 and "stream" not in body


def test_send_streams(run, upstream):
    done = run("send", "huggingface", "tell me a story", "--stream")
    assert (done.returncode, done.stdout) == (0, "echo: tell me a story\n")
    assert upstream.requests[-1].body["stream"] is True


def test_send_reads_stdin_and_takes_a_system_message(run, upstream):
    done = run("send", "huggingface", "-", "--system", "Be brief.", stdin="from stdin")
    assert (done.returncode, done.stdout) == (0, "echo: from stdin\n")
    assert upstream.requests[-1].body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_send_json_for_scripts(run):
    done = run("send", "huggingface", "hi", "--json")
    answer = json.loads(done.stdout)
    assert answer["results"] == "echo: hi" and answer["usage"]["total_tokens"] == 3
    streamed = [json.loads(line) for line in run("send", "huggingface", "a b", "--json", "--stream").stdout.splitlines()]
    assert "".join(c.get("text", "") for c in streamed[:-1]) == "echo: a b"
    assert streamed[-1]["results"] == "echo: a b"


def test_any_option_passes_through(run, upstream):
    assert run("send", "huggingface", "hi", "-o", "top_p=0.5", "-o", "seed=3").returncode == 0
    body = upstream.requests[-1].body
    assert body["top_p"] == 0.5 and body["seed"] == 3


def test_provider_failure_is_one_line_and_exit_1(run):
    done = run("send", "huggingface", "!status 429", "--retries", "0", extra_env={"HF_TOKEN": SECRET})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("llm-interface: error: RateLimitError: Rate limited (429)")
    assert "Traceback" not in done.stderr and SECRET not in done.stderr


def test_debug_shows_the_traceback(run):
    done = run("--debug", "send", "huggingface", "!status 401", "--retries", "0")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "AuthenticationError" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("bogus",),
        ("send", "huggingface"),
        ("send", "huggingface", "hi", "--temperature", "warm"),
        ("send", "huggingface", "hi", "--temperature", "5"),  # the library's InvalidRequestError
        ("send", "nope", "hi"),  # unknown provider
        ("send", "huggingface", "hi", "-o", "novalue"),
    ],
)
def test_bad_usage_exits_2(run, args, upstream):
    before = len(upstream.requests)
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip()
    assert len(upstream.requests) == before


def test_missing_key_says_how_to_set_one(run):
    done = run("send", "huggingface", "hi", base=False)
    assert done.returncode == 2
    assert "MissingAPIKeyError" in done.stderr and "HF_TOKEN" in done.stderr


@pytest.mark.parametrize("command", [(), ("send",), ("embed",), ("classify",), ("rerank",), ("aliases",),
                                     ("aliases", "list"), ("aliases", "set"), ("cache",), ("serve",)])
def test_help_everywhere_with_an_example(run, command):
    done = run(*command, "--help")
    assert done.returncode == 0
    assert "example:" in done.stdout and "llm-interface" in done.stdout


def test_aliases_set_then_used(run, upstream, tmp_path):
    done = run("aliases", "set", "huggingface", "tiny", "org/tiny-model")
    assert done.returncode == 0
    assert json.loads((tmp_path / "aliases.json").read_text())["huggingface"]["chat"]["tiny"] == "org/tiny-model"
    listed = run("aliases", "list", "huggingface").stdout.splitlines()
    assert "huggingface\tchat\ttiny\torg/tiny-model" in listed
    assert "huggingface\tembeddings\tsmall\tsentence-transformers/all-MiniLM-L6-v2" in listed
    assert run("send", "huggingface", "hi", "--model", "tiny").returncode == 0
    assert upstream.requests[-1].body["model"] == "org/tiny-model"


def test_aliases_set_expands_home_in_the_environment_file(run, tmp_path):
    env = {"HOME": str(tmp_path), "LLM_INTERFACE_ALIASES": "~/al.json"}
    done = run("aliases", "set", "huggingface", "tiny", "org/tiny-model", extra_env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "al.json").read_text())["huggingface"]["chat"]["tiny"] == "org/tiny-model"
    assert "huggingface\tchat\ttiny\torg/tiny-model" in run("aliases", "list", "huggingface", extra_env=env).stdout
    done = run("aliases", "set", "huggingface", "x", "org/x", "--file", str(tmp_path / "no-dir" / "a.json"))
    assert done.returncode != 0 and "Traceback" not in done.stderr and "alias file" in done.stderr


def test_cache_memory_backend_is_refused(run):
    done = run("cache", "stats", "--backend", "memory")
    assert done.returncode == 2 and "persistent" in done.stderr


def test_cache_stats_and_clear_with_redis(run, redis_url):
    import redis

    other = redis.Redis.from_url(redis_url, socket_timeout=1)
    other.set("llm_interface:cache:a", "{}")
    other.set("llm_interface:cache:b", "{}")
    other.set("someone-else:key", "keep me")
    done = run("cache", "stats", "--backend", "redis", "--url", redis_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"entries": 2}
    done = run("cache", "clear", "--backend", "redis", "--url", redis_url)
    assert done.returncode == 0, done.stderr
    assert other.keys("llm_interface:cache:*") == [] and other.get("someone-else:key") == b"keep me"
    assert run("cache", "stats", "--backend", "redis", "--url", redis_url).stdout.strip() == "entries\t0"


# (command, the words on its one line) -- an unavailable store is exit 1 and one line, never "cleared"
CACHE_DOWN = [
    (["cache", "stats"], "no statistics"),
    (["cache", "clear"], "nothing was cleared"),
    (["cache", "stats", "--json"], "no statistics"),
]


@pytest.mark.parametrize("args,words", CACHE_DOWN, ids=[" ".join(c[0]) for c in CACHE_DOWN])
def test_cache_command_with_redis_down_fails_in_one_line(run, args, words):
    require("redis", "redis")
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    done = run(*args, "--backend", "redis", "--url", dead)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and "cleared" not in done.stdout and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "redis cache is unavailable" in lines[0] and words in lines[0], done.stderr


# (backend and path or URL that is wrong at configure time, the words) -- exit 2: fix the command
CACHE_MISCONFIGURED = [
    (["--backend", "redis", "--url", "x"], "is not a Redis URL"),
    (["--backend", "files", "--path", "a-file"], "is a file"),
    (["--backend", "sqlite", "--path", "a-file"], "is a file"),
]


@pytest.mark.parametrize("args,words", CACHE_MISCONFIGURED, ids=[c[1] for c in CACHE_MISCONFIGURED])
def test_cache_command_with_a_bad_store_setting_exits_2(run, tmp_path, args, words):
    (tmp_path / "a-file").write_text("")
    done = run("cache", "clear", *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "cleared" not in done.stdout


def test_serve_runs_the_proxy(run, upstream, tmp_path):
    require("fastapi", "server")  # skips, or fails under CI=true
    import httpx

    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: llama\n"
        "    litellm_params: {model: huggingface/meta-llama/Llama-3.1-8B-Instruct, api_key: os.environ/HF_TOKEN, "
        f"api_base: {upstream.url}}}\n"
        "general_settings: {master_key: sk-test}\n"
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_TOKEN": SECRET}
    process = subprocess.Popen([SCRIPT, "serve", "--config", str(config), "--port", str(port), "--log-level", "debug"],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "the proxy did not start"
            time.sleep(0.1)
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", headers={"Authorization": "Bearer sk-test"},
                            json={"model": "llama", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
        assert answer.json()["choices"][0]["message"]["content"] == "echo: hi"
        assert upstream.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    finally:
        process.terminate()
        logs, _ = process.communicate(timeout=10)
    assert f"127.0.0.1:{port}" in logs  # bound to loopback by default
    assert SECRET not in logs and "sk-test" not in logs


def test_embed(run):
    done = run("embed", "huggingface", "hello", "bye", "--model", "org/embedder")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [[5.0, 2.0, 1.0], [3.0, 1.0, 1.0]]


def test_classify(run):
    done = run("classify", "huggingface", "I love it", "--model", "org/classifier")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\t")[0] == "POSITIVE"


def test_rerank(run):
    done = run("rerank", "huggingface", "red fox", "a red fox", "blue sky", "--model", "org/reranker")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split("\t")[0] == "0"


def _echo_the_authorization(request):
    """An upstream that quotes the caller's Authorization header back, in the way the message asks."""
    from support.loopback import Answer

    auth = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
    how = request.text
    if how == "html 200":
        return Answer(headers={"Content-Type": "text/html"}, body=f"<html>bad credentials: {auth}</html>".encode())
    if how == "error 200":
        return Answer(headers={"Content-Type": "application/json"}, body=json.dumps({"error": f"refused {auth}"}).encode())
    if how == "error 401":
        return Answer(401, {"Content-Type": "application/json", "X-Error-Message": auth},
                      json.dumps({"error": f"invalid {auth}"}).encode())
    if how == "sse error":
        event = json.dumps({"error": f"token {auth} rejected", "error_type": "validation"})
        return Answer(headers={"Content-Type": "text/event-stream"}, chunks=[f"data: {event}\n\n".encode()])
    return Answer(500, body=b"unexpected")


@pytest.mark.parametrize("how,stream", [("html 200", False), ("error 200", False), ("error 401", False),
                                        ("sse error", True)])
def test_a_key_the_server_quotes_back_is_never_printed_even_with_debug(run, how, stream):
    """Issue 16 #1 through the CLI: a distinctive key of no known shape, quoted back by the server in a
    200 page, a 200 error object, an error answer and an SSE error event; --debug prints the traceback
    and the DEBUG lines, and none of it may carry the key."""
    from support.loopback import LoopbackServer

    key = "fake-cli-echo-7f3a9c2e51d8b604"
    with LoopbackServer(responder=_echo_the_authorization) as echo:
        args = ["--debug", "send", "huggingface", how, "--retries", "0", "--api-base", echo.url]
        done = run(*args, *(["--stream"] if stream else []), extra_env={"HF_TOKEN": key, "LLM_INTERFACE_DEBUG": "1"})
        assert echo.count == 1
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert key not in done.stdout and key not in done.stderr
    assert "<- " in done.stderr  # the DEBUG lines of the answer were printed, and scrubbed
