"""LiteLLM's Hugging Face page, its proxy recipe, run verbatim (issue 17): the page's config.yaml,
``llm-interface serve --config config.yaml`` as a real process on 127.0.0.1, and the page's curl byte
for byte (the real ``curl`` when installed, else the same bytes through httpx).

The page: LiteLLM docs, providers/huggingface (seed-docs 000), tab "PROXY" of the serverless chat
section. Its curl posts to ``/chat/completions`` (no ``/v1``) and its body has a trailing comma;
LiteLLM's proxy serves both route spellings (BerriAI/litellm litellm/proxy/_types.py @
0bf90f0c206a923c997ac1ee780d1e4b02af811c, ``LiteLLMRoutes.openai_routes``) and accepts that body.

Only the address changes: the page's ``0.0.0.0:4000`` becomes the free port the proxy was started on
(``--port``), and the upstream is a loopback fake Hugging Face (``HUGGINGFACE_API_BASE``) that replays a
recorded chat answer from tests/fixtures/hf-reference. The key is a fake one from the environment, as
the page's ``os.environ/HUGGINGFACE_API_KEY`` reads it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback import Answer, LoopbackServer, free_port
from optional import require
from recordings import body_bytes, exchange

require("fastapi", "server")
require("uvicorn", "server")
require("yaml", "server")
httpx = require("httpx", "test")

PAGE_CONFIG = """\
model_list:
  - model_name: llama-3.1-8B-instruct
    litellm_params:
      model: huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct
      api_key: os.environ/HUGGINGFACE_API_KEY
"""

PAGE_CURL = """\
curl --location 'http://0.0.0.0:4000/chat/completions' \\
    --header 'Authorization: Bearer sk-1234' \\
    --header 'Content-Type: application/json' \\
    --data '{
    "model": "llama-3.1-8B-instruct",
    "messages": [
      {
          "role": "user",
          "content": "I like you!"
      }
      ],
}'
"""

RECORDED = exchange("InferenceClientVCRTest.test_chat_completion_no_stream#0")["response"]
FAKE_KEY = "hf_fake_test_recipe_key_0123456789"
REPO = Path(__file__).resolve().parent.parent


def replay(request):
    if request.method == "POST" and request.path.endswith("/chat/completions"):
        return Answer(RECORDED["status"], {"Content-Type": "application/json"}, body_bytes(RECORDED))
    return Answer(404, {"Content-Type": "application/json"}, b'{"error": "not recorded"}')


def serve_command(config: Path, port: int) -> list:
    script = Path(sys.executable).with_name("llm-interface")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "llm_interface.cli"]
    return [*head, "serve", "--config", str(config), "--port", str(port)]


@pytest.fixture
def recipe(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(PAGE_CONFIG)
    port = free_port()
    with LoopbackServer(responder=replay) as upstream:
        env = {**os.environ, "HUGGINGFACE_API_KEY": FAKE_KEY, "HUGGINGFACE_API_BASE": upstream.url,
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        process = subprocess.Popen(serve_command(config, port), cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, process.stdout.read().decode(errors="replace")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the proxy did not start within 60 s"
                time.sleep(0.1)
            yield port, upstream
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            process.stdout.close()


def run_the_page_curl(port: int) -> dict:
    command = PAGE_CURL.replace("0.0.0.0:4000", f"0.0.0.0:{port}")
    if shutil.which("curl") and shutil.which("sh"):
        done = subprocess.run(["sh", "-c", command], capture_output=True, timeout=60)  # as a user pastes it
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return json.loads(done.stdout)
    words = shlex.split(command)  # the same bytes without a curl binary
    headers = dict(h.split(": ", 1) for h in (words[i + 1] for i, w in enumerate(words) if w == "--header"))
    body = words[words.index("--data") + 1].encode()
    url = words[words.index("--location") + 1].replace("0.0.0.0", "127.0.0.1")
    answer = httpx.post(url, content=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_litellm_page_proxy_recipe_runs_verbatim(recipe):
    port, upstream = recipe
    answer = run_the_page_curl(port)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "llama-3.1-8B-instruct"  # the public name the client sent
    assert answer["choices"][0]["message"]["content"] == RECORDED["body"]["choices"][0]["message"]["content"]
    sent = upstream.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.body["messages"] == [{"role": "user", "content": "I like you!"}]
