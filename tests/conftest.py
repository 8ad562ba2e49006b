"""Shared fixtures. The suite is offline: no test may reach a public host."""

from __future__ import annotations

import os
import sys

import pytest

from llm_interface import Client, LLMInterface, rerank_pipeline
from llm_interface.hf_resolution import forget as forget_provider_mappings

FAKE_KEY = "hf_test_fake_key_0123456789abcdefghijklmnop"

if os.environ.get("CI", "").lower() == "true":
    # CI's verdict must not depend on the draw: the property tests (test_*fuzz*.py, test_review_shapes.py) see the
    # same examples on every CI run. Locally they keep drawing new ones, which is how they find new bugs.
    try:
        from hypothesis import settings as _hypothesis_settings
    except ImportError:  # the fuzz modules fail on their own under CI=true (support.skips.require)
        pass
    else:
        _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
        _hypothesis_settings.load_profile("ci")

KEY_VARS = (
    "HUGGINGFACE_API_KEY", "HF_TOKEN", "HUGGINGFACE_TOKEN", "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_API_BASE", "HF_API_BASE", "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_API_BASE",
    "LLM_INTERFACE_ALIASES", "LLM_INTERFACE_CACHE_MODE",
)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No real key, token file, .env or alias file of the developer's leaks into a test."""
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    # Non-chat tasks read the Hub's provider mapping by default (provider="auto"); the tests written for
    # hf-inference pin it, and the tests of auto resolution (test_hf_provider_resolution.py) unset this.
    monkeypatch.setenv("LLM_INTERFACE_HF_PROVIDER", "hf-inference")
    monkeypatch.delenv("LLM_INTERFACE_HF_HUB", raising=False)
    forget_provider_mappings()
    monkeypatch.chdir(tmp_path)
    LLMInterface.reset()
    rerank_pipeline.forget()  # the Hub's pipeline tags are remembered per process
    yield
    LLMInterface.reset()


@pytest.fixture
def client():
    with Client({"huggingface": FAKE_KEY}, interface_options={"retry_attempts": 0}) as c:
        yield c


@pytest.fixture
def loopback():
    """A real HTTP server on 127.0.0.1 that replays scripted answers (see tests/support/loopback.py); a request
    the test did not script gets a 500, so a missing answer fails loudly."""
    from support.loopback import LoopbackServer, Status

    with LoopbackServer(default=Status(500, "no answer queued")) as server:
        yield server


@pytest.fixture
def server():
    """A loopback server steered by each message's text ("sleep 0.1", "status 404", "hang 3", "fail429 2 tag"):
    concurrent callers each get their own answer (see support.loopback.steer_by_text)."""
    from support.loopback import LoopbackServer, steer_by_text

    with LoopbackServer() as server:
        server.responder = steer_by_text(server)
        yield server


def pytest_terminal_summary(terminalreporter):
    """How many docs examples ran and which were skipped, and why (tests/test_docs_examples.py)."""
    docs = sys.modules.get("test_docs_examples")
    report = getattr(docs, "REPORT", None)
    if not report:
        return
    ran = sum(page["ran"] for page in report.values())
    commands = sum(page["commands"] for page in report.values())
    skipped = [block for page in report.values() for block in page["skipped"]]
    terminalreporter.write_line(f"docs examples: {ran} blocks ran ({commands} llm-interface commands), {len(skipped)} skipped:")
    for block in skipped:
        terminalreporter.write_line(f"  {block}")


# Real models and servers (tiny Qwen2, transformers serve, llama.cpp), built/started once per session.
from support.fixtures import embedding_model, llama_server, tiny_chat_model, tiny_gguf, transformers_server  # noqa: E402,F401
