"""The pytest plugin, run in a throwaway project with pytester: record, replay offline, miss, off."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
from support.loopback import LoopbackServer

pytest_plugins = ["pytester"]

USER_TEST = """
import os
from llm_interface import Client, LLMInterface

def test_answer(llm_cache):
    r = LLMInterface.send_message("huggingface", "hello", {"api_base": os.environ["LOOPBACK_URL"]})
    assert r.results == "echo: hello"

def test_own_client(llm_cache):
    client = llm_cache.apply(Client())
    r = client.send_message("huggingface", "own client", {"api_base": os.environ["LOOPBACK_URL"]})
    assert r.results == "echo: own client"
"""

NEW_TEST = """
import os
from llm_interface import LLMInterface

def test_not_recorded(llm_cache):
    LLMInterface.send_message("huggingface", "never recorded", {"api_base": os.environ["LOOPBACK_URL"]})
"""


def plugin_args():
    """Load the plugin by name unless the installed package's entry point already does."""
    names = {ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    return [] if "llm_interface.pytest_plugin" in names else ["-p", "llm_interface.pytest_plugin"]


@pytest.fixture
def server(monkeypatch):
    with LoopbackServer() as s:
        monkeypatch.setenv("LOOPBACK_URL", s.url)
        yield s


def run(pytester, *args):
    return pytester.runpytest_inprocess(*plugin_args(), "-p", "no:cacheprovider", *args)


def test_record_then_replay_offline_without_a_key(pytester, server, monkeypatch):
    pytester.makepyfile(test_user=USER_TEST)
    monkeypatch.setenv("HF_TOKEN", "hf_test_fake_key_plugin_secret")
    recorded = run(pytester, "--llm-cache=record")
    recorded.assert_outcomes(passed=2)
    assert server.count == 2
    fixtures = sorted((pytester.path / "tests" / "llm_cache").glob("*.json"))
    assert len(fixtures) == 2
    for file in fixtures:
        text = file.read_text()
        assert "hf_test_fake_key_plugin_secret" not in text
        assert json.loads(text)["expires_at"] is None

    monkeypatch.delenv("HF_TOKEN")  # CI: no secrets
    replayed = run(pytester)  # replay is the default
    replayed.assert_outcomes(passed=2)
    assert server.count == 2  # nothing reached the network
    assert "llm_cache mode replay" in replayed.stdout.str()


def test_replay_miss_fails_naming_the_request(pytester, server):
    pytester.makepyfile(test_new=NEW_TEST)
    result = run(pytester, "--llm-cache=replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CacheMissError*never recorded*--llm-cache=record*"])
    assert server.count == 0


def test_auto_records_only_what_is_missing_and_off_ignores_fixtures(pytester, server, monkeypatch):
    pytester.makepyfile(test_user=USER_TEST)
    monkeypatch.setenv("HF_TOKEN", "hf_test_fake_key_plugin")
    run(pytester, "--llm-cache=auto").assert_outcomes(passed=2)
    run(pytester, "--llm-cache=auto").assert_outcomes(passed=2)
    assert server.count == 2
    run(pytester, "--llm-cache=off").assert_outcomes(passed=2)
    assert server.count == 4


def test_fixtures_dir_option_and_env_mode(pytester, server, monkeypatch):
    pytester.makepyfile(test_user=USER_TEST)
    monkeypatch.setenv("HF_TOKEN", "hf_test_fake_key_plugin")
    monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "record")
    run(pytester, "--llm-cache-dir=recorded").assert_outcomes(passed=2)
    assert len(list((pytester.path / "recorded").glob("*.json"))) == 2
    monkeypatch.setenv("LLM_INTERFACE_CACHE_MODE", "replay")
    run(pytester, "--llm-cache-dir=recorded").assert_outcomes(passed=2)
    assert server.count == 2


def test_default_client_is_restored_after_the_test(pytester, server):
    pytester.makepyfile(
        test_restore="""
from llm_interface import LLMInterface

def test_a(llm_cache):
    assert LLMInterface.client.cache_mode == "replay"

def test_b():
    assert LLMInterface.client.cache_mode is None and LLMInterface.client.cache is None
"""
    )
    run(pytester, "-p", "no:randomly").assert_outcomes(passed=2)
