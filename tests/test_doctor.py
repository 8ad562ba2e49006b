"""``llm-interface doctor``, driven through the real CLI against loopback servers standing in for the Hub, the router
and a TGI server (answers from tests/fixtures/doctor, written from the documented shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.loopback import Answer, LoopbackServer, free_port

from llm_interface.cli import main
from llm_interface.credentials import find_api_key, key_source
from llm_interface.hf_hub import HUB_ENV, Account
from llm_interface.providers.hf_routes import ROUTER_ENV

FIXTURES = Path(__file__).parent / "fixtures" / "doctor"
KEY = "hf_test_fake_doctor_key_0123456789abcdef"


def _fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _json(status, body):
    return Answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8"))


class FakeHF:
    """The Hub's whoami, the router's catalogue and TGI's /info on one loopback server; each answer replaceable."""

    def __init__(self, server):
        self.server = server
        self.whoami = _json(200, _fixture("whoami-v2.json"))
        self.models = _json(200, _fixture("router-models.json"))
        self.info = _json(200, {"model_id": "test/tiny-model", "max_total_tokens": 4096, "version": "3.3.6"})
        server.responder = self.answer

    def answer(self, request):
        if request.path == "/api/whoami-v2":
            return self.whoami
        if request.path == "/v1/models":
            return self.models
        if request.path == "/info":
            return self.info
        return _json(404, {"error": f"no route {request.path}"})


@pytest.fixture
def hf(monkeypatch):
    with LoopbackServer() as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.delenv("REDIS_URL", raising=False)  # a developer's Redis is not this test's
        yield FakeHF(server)


def doctor(capsys, *args):
    """Run the CLI twice (text and --json): (exit code, text, parsed JSON); neither output holds the key."""
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    json_code = main(["doctor", "--json", *args])
    captured = capsys.readouterr()
    assert json_code == code
    assert KEY not in text and KEY not in captured.out + captured.err
    assert KEY[3:] not in text and KEY[3:] not in captured.out  # nor the key without its prefix
    report = json.loads(captured.out)
    assert report["ok"] is (code == 0)
    return code, text, {check["name"]: check for check in report["checks"]}


def test_all_well_exits_0_and_says_where_the_key_is_from(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    code, text, checks = doctor(capsys, "--api-base", hf.server.url + "/v1")
    assert code == 0, text
    assert "[ok] key: found in the environment variable HF_TOKEN" in text
    assert checks["account"]["status"] == "ok"
    assert checks["account"]["details"]["user"] == "test-user"
    assert checks["account"]["details"]["role"] == "read"
    assert checks["api_base"]["status"] == "ok" and "test/tiny-model" in checks["api_base"]["summary"]
    assert checks["aliases"]["status"] == "ok"
    # The Hub was asked with the key; the TGI server's /health and /info without it (not a Hugging Face host).
    whoami = [r for r in hf.server.requests if r.path == "/api/whoami-v2"]
    assert whoami and all(r.headers.get("authorization") == f"Bearer {KEY}" for r in whoami)
    assert all("authorization" not in r.headers for r in hf.server.requests if r.path in ("/health", "/info"))
    assert "nothing failed" in text


def test_no_key_fails_and_says_how_to_set_one(hf, capsys):
    code, text, checks = doctor(capsys)
    assert code == 1
    assert checks["key"]["status"] == "fail"
    assert "HF_TOKEN" in checks["key"]["fix"] and "hf auth login" in checks["key"]["fix"]
    assert checks["account"]["status"] == "skip"


@pytest.mark.parametrize("where", ["dotenv", "token file"])
def test_the_key_source_is_named_for_dotenv_and_the_token_file(hf, capsys, monkeypatch, tmp_path, where):
    if where == "dotenv":
        (tmp_path / ".env").write_text(f"HUGGINGFACE_API_KEY={KEY}\n")
        expected = "HUGGINGFACE_API_KEY in ./.env"
    else:
        token = tmp_path / "token"
        token.write_text(KEY + "\n")
        monkeypatch.setenv("HF_TOKEN_PATH", str(token))
        expected = f"the token file {token}"
    code, text, checks = doctor(capsys)
    assert code == 0, text
    assert checks["key"]["details"]["source"] == expected


def test_key_source_follows_find_api_keys_order(monkeypatch, tmp_path):
    token = tmp_path / "token"
    token.write_text("hf_test_from_the_file_0123456789")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token))
    (tmp_path / ".env").write_text("HF_TOKEN=hf_test_from_dotenv_0123456789\n")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_test_from_env_0123456789")
    order = [({"huggingface": "hf_test_set_0123456789"}, "set_api_key", "hf_test_set_0123456789"),
             ({}, "the environment variable HUGGING_FACE_HUB_TOKEN", "hf_test_from_env_0123456789")]
    for configured, source, key in order:
        assert key_source("huggingface", configured) == source
        assert find_api_key("huggingface", None, configured) == key
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN")
    assert key_source("huggingface", {}) == "HF_TOKEN in ./.env"
    (tmp_path / ".env").unlink()
    assert key_source("huggingface", {}) == f"the token file {token}"
    token.unlink()
    assert key_source("huggingface", {}) is None and find_api_key("huggingface", None, {}) is None


def test_a_rejected_key_fails_with_where_to_make_a_new_one(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    hf.whoami = Answer(401, {"Content-Type": "application/json", "X-Error-Message": "Invalid credentials in Authorization header"},
                       b'{"error": "Invalid credentials in Authorization header"}')
    code, text, checks = doctor(capsys)
    assert code == 1
    assert checks["account"]["status"] == "fail"
    assert "401" in checks["account"]["summary"]
    assert "settings/tokens/new" in checks["account"]["fix"]


def test_a_fine_grained_token_without_the_inference_permission_fails(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    hf.whoami = _json(200, _fixture("whoami-v2-fine-grained.json"))
    code, text, checks = doctor(capsys)
    assert code == 1
    assert checks["account"]["status"] == "fail"
    assert "inference.serverless.write" in checks["account"]["fix"]
    assert checks["account"]["details"]["permissions"] == ["discussion.write", "post.write", "repo.content.read", "repo.write"]


def test_a_fine_grained_token_with_the_permission_passes():
    body = _fixture("whoami-v2-fine-grained.json")
    body["auth"]["accessToken"]["fineGrained"]["scoped"][0]["permissions"].append("inference.serverless.write")
    assert Account.from_whoami(body).may_call_inference
    assert not Account.from_whoami(_fixture("whoami-v2-fine-grained.json")).may_call_inference
    assert Account.from_whoami({"auth": "odd", "orgs": [1, None], "periodEnd": True}).role is None  # lenient


def test_credits_are_not_published_and_a_402_is_explained(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    code, text, checks = doctor(capsys)
    credits = checks["credits"]
    assert credits["status"] == "info"
    assert "does not publish the credits left or the enabled providers" in credits["summary"]
    assert "402" in credits["fix"] and "monthly credits only" in credits["fix"]
    assert "2027-01-01" in credits["fix"]  # periodEnd 1798761600
    assert "bill_to='test-org'" in credits["fix"]  # the org that can pay
    assert credits["details"]["can_pay"] is False


def test_an_api_base_that_does_not_answer_fails(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    dead = f"http://127.0.0.1:{free_port()}"
    code, text, checks = doctor(capsys, "--api-base", dead)
    assert code == 1
    assert checks["api_base"]["status"] == "fail" and dead in checks["api_base"]["summary"]
    assert "HUGGINGFACE_API_BASE" in checks["api_base"]["fix"]


def test_an_api_base_from_the_environment_is_checked_and_no_info_is_fine(hf, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", KEY)
    monkeypatch.setenv("HUGGINGFACE_API_BASE", hf.server.url)
    hf.info = _json(404, {"error": "not found"})
    code, text, checks = doctor(capsys)
    assert code == 0, text
    assert checks["api_base"]["status"] == "ok" and "no /info" in checks["api_base"]["summary"]


def test_aliases_pointing_to_unserved_models_fail(hf, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", KEY)
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps({"huggingface": {"chat": {
        "default": "meta-llama/Llama-3.1-8B-Instruct:cerebras",   # served by that provider
        "fast": "meta-llama/Llama-3.1-8B-Instruct:fastest",       # a policy, not a provider
        "gone": "test-org/retired-model",                          # in no provider's catalogue
        "wrong": "meta-llama/Llama-3.1-8B-Instruct:sambanova",    # staging there, not live
        "mine": "https://my-endpoint.example/v1",                 # an endpoint: not the router's business
    }}}))
    monkeypatch.setenv("LLM_INTERFACE_ALIASES", str(aliases))
    code, text, checks = doctor(capsys)
    assert code == 1
    unserved = checks["aliases"]["details"]["unserved"]
    assert set(unserved) == {"gone", "wrong"}
    assert checks["aliases"]["details"]["providers"]["default"] == ["cerebras", "novita"]  # live ones only
    assert "sambanova does not serve it; served by cerebras, novita" in unserved["wrong"]
    assert "llm-interface aliases set huggingface" in checks["aliases"]["fix"]


def test_offline_it_says_what_it_could_not_check_and_exits_0(capsys, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(HUB_ENV, dead)
    monkeypatch.setenv(ROUTER_ENV, dead)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("HF_TOKEN", KEY)
    code, text, checks = doctor(capsys, "--timeout", "2")
    assert code == 0, text
    assert checks["account"]["status"] == "skip" and "could not reach the Hub" in checks["account"]["summary"]
    assert checks["aliases"]["status"] == "skip" and "could not read the router's catalogue" in checks["aliases"]["summary"]
    assert "not checked: account, api_base, cache, redis, aliases" in text


def test_a_files_cache_is_reached_and_an_unreachable_redis_fails(hf, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", KEY)
    code, text, checks = doctor(capsys, "--cache", "files", "--cache-path", str(tmp_path / "cache"),
                                "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    assert checks["cache"]["status"] == "ok" and checks["cache"]["details"]["entries"] == 0
    assert checks["redis"]["status"] == "fail"  # not running (or the [redis] extra missing: also a failure)
    assert code == 1


def test_doctor_is_in_the_cli_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "doctor" in help_text and "logs" in help_text


def test_the_installed_command_runs_as_a_process(hf, tmp_path):
    """The same report from a separate process (``python -m llm_interface.cli``), as a user's shell runs it."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "HF_TOKEN": KEY, "PYTHONPATH": str(root), "HF_TOKEN_PATH": str(tmp_path / "none")}
    done = subprocess.run([sys.executable, "-m", "llm_interface.cli", "doctor", "--json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert KEY not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert {c["name"]: c["status"] for c in report["checks"]}["account"] == "ok"
