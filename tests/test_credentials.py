"""One key-resolution order for every task: option > set_api_key > env vars > .env > HF token file."""

from __future__ import annotations

import os

import pytest

from llm_interface import Client, errors
from llm_interface.credentials import KEY_ENV_VARS, find_api_base, find_api_key, hf_token_file

VARS = KEY_ENV_VARS["huggingface"]


def key_of(client=None, **options):
    client = client or Client()
    return client.plan("huggingface", "chat", "hi", options or None).request.api_key


def test_the_order_end_to_end(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    with pytest.raises(errors.MissingAPIKeyError):
        key_of()
    token_file.write_text("hf_from_token_file\n")
    assert key_of() == "hf_from_token_file"
    (tmp_path / ".env").write_text("HF_TOKEN=hf_from_dotenv\n")
    assert key_of() == "hf_from_dotenv"
    assert "HF_TOKEN" not in os.environ  # .env is read, never written into the environment
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_from_env")
    assert key_of() == "hf_from_env"
    client = Client({"huggingface": "hf_from_set_api_key"})
    assert key_of(client) == "hf_from_set_api_key"
    assert key_of(client, api_key="hf_from_option") == "hf_from_option"


@pytest.mark.parametrize("winner", range(len(VARS)))
def test_env_var_order(monkeypatch, winner):
    for position, name in enumerate(VARS):
        if position >= winner:
            monkeypatch.setenv(name, f"hf_{name}")
    assert key_of() == f"hf_{VARS[winner]}"


def test_blank_values_are_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "   ")
    monkeypatch.setenv("HF_TOKEN", "hf_real")
    assert key_of() == "hf_real"
    (tmp_path / ".env").write_text("HUGGINGFACE_API_KEY=\n")
    assert key_of() == "hf_real"


def test_dotenv_order_follows_the_variable_order(tmp_path):
    (tmp_path / ".env").write_text("HUGGING_FACE_HUB_TOKEN=hf_last\nHUGGINGFACE_API_KEY=hf_first\n")
    assert key_of() == "hf_first"


def test_token_file_locations(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN_PATH")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hfhome"))
    assert hf_token_file() == tmp_path / "hfhome" / "token"
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert hf_token_file() == tmp_path / ".cache" / "huggingface" / "token"


def test_token_file_is_huggingface_only(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("hf_file")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    assert find_api_key("huggingface", None, {}) == "hf_file"
    assert find_api_key("openai-compatible", None, {}) is None
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", "sk-local")
    assert find_api_key("openai-compatible", None, {}) == "sk-local"


def test_api_base_order(tmp_path, monkeypatch):
    assert find_api_base("huggingface", None) is None
    (tmp_path / ".env").write_text("HF_API_BASE=http://dotenv:1\n")
    assert find_api_base("huggingface", None) == "http://dotenv:1"
    monkeypatch.setenv("HF_API_BASE", "http://env2:1")
    assert find_api_base("huggingface", None) == "http://env2:1"
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://env1:1")
    assert find_api_base("huggingface", None) == "http://env1:1"
    assert find_api_base("huggingface", "http://option:1") == "http://option:1"


def test_set_api_key_shapes():
    client = Client()
    client.set_api_key("hf", "hf_a")
    assert key_of(client) == "hf_a"
    client.set_api_key({"huggingface": " hf_b "})
    assert key_of(client) == "hf_b"


@pytest.mark.parametrize("args", [("huggingface",), ({"huggingface": ""},), ({"huggingface": 5},), ({"nope": "k"},),
                                  ({"huggingface": "k"}, "k"), (5,)])
def test_bad_set_api_key(args):
    with pytest.raises(errors.ConfigurationError):
        Client().set_api_key(*args)


def test_a_deleted_working_directory_is_no_dotenv_not_a_crash(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    token_file = tmp_path / "token"
    token_file.write_text("hf_file")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    assert find_api_key("huggingface", None, {}) == "hf_file"
    assert find_api_base("huggingface", None) is None


def test_the_token_file_is_read_again_only_when_it_changes(tmp_path, monkeypatch):
    import pathlib

    token_file = tmp_path / "token"
    token_file.write_text("hf_first")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    reads = []
    real_read_text, real_open = pathlib.Path.read_text, open

    def counting_open(file, *args, **kwargs):
        if os.fspath(file) == str(token_file):
            reads.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: (reads.append(self), real_read_text(self, *a, **k))[1])
    assert [find_api_key("huggingface", None, {}) for _ in range(3)] == ["hf_first"] * 3
    assert len(reads) == 1
    token_file.write_text("hf_second_longer")
    assert find_api_key("huggingface", None, {}) == "hf_second_longer"
    token_file.unlink()
    assert find_api_key("huggingface", None, {}) is None
