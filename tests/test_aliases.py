"""Aliases: the shipped table, a project's aliases.json (cwd or $LLM_INTERFACE_ALIASES), run-time changes."""

from __future__ import annotations

import json

import pytest

from llm_interface import Client, LLMInterface, errors
from llm_interface.aliases import AliasTable, looks_like_model_id, project_alias_file, write_alias

SHIPPED_CHAT = {
    "default": "meta-llama/Meta-Llama-3-8B-Instruct",
    "large": "meta-llama/Meta-Llama-3-8B-Instruct",
    "agent": "meta-llama/Meta-Llama-3-8B-Instruct",
    "small": "microsoft/Phi-3-mini-4k-instruct",
}
SHIPPED_EMBEDDINGS = {
    "default": "sentence-transformers/all-mpnet-base-v2",
    "large": "sentence-transformers/sentence-t5-large",
    "small": "sentence-transformers/all-MiniLM-L6-v2",
}


def test_shipped_aliases():
    for alias, model in SHIPPED_CHAT.items():
        assert LLMInterface.get_model_by_alias("huggingface", alias) == model
    for alias, model in SHIPPED_EMBEDDINGS.items():
        assert LLMInterface.get_embeddings_model_by_alias("huggingface", alias) == model
    names = LLMInterface.client.get_all_model_names()  # the facade's is JS's list of names (tests/peers)
    assert names["huggingface"]["chat"] == SHIPPED_CHAT
    assert names["huggingface"]["embeddings"] == SHIPPED_EMBEDDINGS
    assert LLMInterface.client.get_model_by_alias("hf", "nope") is None
    assert LLMInterface.get_model_by_alias("hf", "nope") == "nope"  # JS: a name that is no alias comes back


def write(path, table):
    path.write_text(json.dumps(table), encoding="utf-8")
    return path


def test_project_file_in_the_working_directory_overrides(tmp_path):
    write(tmp_path / "aliases.json", {"huggingface": {"chat": {"small": "Qwen/Qwen2.5-0.5B-Instruct"}}})
    table = AliasTable()
    assert table.get("huggingface", "small") == "Qwen/Qwen2.5-0.5B-Instruct"
    assert table.get("huggingface", "default") == SHIPPED_CHAT["default"]  # the rest is kept
    assert table.get("huggingface", "small", "embeddings") == SHIPPED_EMBEDDINGS["small"]


def test_project_file_from_the_environment_wins_over_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "aliases.json", {"huggingface": {"chat": {"small": "from/cwd"}}})
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    monkeypatch.setenv("LLM_INTERFACE_ALIASES", str(write(elsewhere / "mine.json", {
        "huggingface": {"chat": {"small": "from/env"}, "embeddings": {"default": "BAAI/bge-small-en-v1.5"}},
        "openai-compatible": {"chat": {"default": "local-model"}},
    })))
    table = AliasTable()
    assert table.get("huggingface", "small") == "from/env"
    assert table.get("huggingface", "default", "embeddings") == "BAAI/bge-small-en-v1.5"
    assert table.get("openai-compatible", "default") == "local-model"


def test_the_alias_file_is_used_by_calls(tmp_path):
    write(tmp_path / "aliases.json", {"huggingface": {"chat": {"tiny": "HuggingFaceTB/SmolLM2-135M-Instruct"}}})
    with Client({"huggingface": "hf_x"}) as client:
        assert client.plan("huggingface", "chat", "hi", {"model": "tiny"}).request.model == "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.mark.parametrize("content,words", [
    ("{not json", "Cannot read"),
    ('["a"]', "must map provider"),
    ('{"huggingface": {"chat": {"a": "b"}, "images": {}}}', "images"),
])
def test_a_broken_alias_file_is_a_configuration_error(tmp_path, content, words):
    (tmp_path / "aliases.json").write_text(content, encoding="utf-8")
    with pytest.raises(errors.ConfigurationError) as caught:
        AliasTable().get("huggingface", "default")
    assert words in str(caught.value)


def test_env_var_pointing_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_INTERFACE_ALIASES", str(tmp_path / "missing.json"))
    with pytest.raises(errors.ConfigurationError):
        AliasTable().get("huggingface", "default")


def test_set_model_alias_at_run_time_wins(tmp_path):
    write(tmp_path / "aliases.json", {"huggingface": {"chat": {"small": "from/file"}}})
    LLMInterface.set_model_alias("huggingface", "small", "from/runtime")
    LLMInterface.set_embeddings_model_alias("huggingface", "mine", "BAAI/bge-base-en-v1.5")
    assert LLMInterface.get_model_by_alias("huggingface", "small") == "from/runtime"
    assert LLMInterface.get_embeddings_model_by_alias("huggingface", "mine") == "BAAI/bge-base-en-v1.5"
    LLMInterface.reset()
    assert LLMInterface.get_model_by_alias("huggingface", "small") == "from/file"


def test_clients_do_not_share_run_time_aliases():
    a, b = Client(), Client()
    a.set_model_alias("huggingface", "small", "x/a")
    assert b.get_model_by_alias("huggingface", "small") == SHIPPED_CHAT["small"]


@pytest.mark.parametrize("alias,model", [("", "x/y"), ("a", ""), (None, "x/y"), ("a", 5)])
def test_bad_set_model_alias(alias, model):
    with pytest.raises(errors.ConfigurationError):
        LLMInterface.set_model_alias("huggingface", alias, model)


def test_resolve():
    table = AliasTable()
    assert table.resolve("huggingface", None) == SHIPPED_CHAT["default"]
    assert table.resolve("huggingface", "small") == SHIPPED_CHAT["small"]
    assert table.resolve("huggingface", "org/model") == "org/model"
    assert table.resolve("huggingface", "org/model:together") == "org/model:together"
    assert table.resolve("huggingface", "whatever", strict=False) == "whatever"
    with pytest.raises(errors.UnknownModelError) as caught:
        table.resolve("huggingface", "smol")
    assert "agent, default, large, small" in str(caught.value)
    with pytest.raises(errors.UnknownModelError):
        table.resolve("openai-compatible", None)


@pytest.mark.parametrize("name,expected", [
    ("meta-llama/Llama-3.1-8B-Instruct", True), ("gpt2:together", True), ("model.gguf", True),
    ("https://x.endpoints.huggingface.cloud", True), ("small", False), ("gpt2", False),
])
def test_looks_like_model_id(name, expected):
    assert looks_like_model_id(name) is expected


def test_write_alias_expands_home_and_keeps_the_other_aliases(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LLM_INTERFACE_ALIASES", "~/al.json")
    write(tmp_path / "al.json", {"huggingface": {"chat": {"small": "org/kept"}}})
    assert write_alias("huggingface", "tiny", "org/tiny") == tmp_path / "al.json"
    assert write_alias("huggingface", "vec", "org/vec", kind="embeddings") == tmp_path / "al.json"
    assert json.loads((tmp_path / "al.json").read_text()) == {
        "huggingface": {"chat": {"small": "org/kept", "tiny": "org/tiny"}, "embeddings": {"vec": "org/vec"}}}
    assert AliasTable().get("huggingface", "tiny") == "org/tiny"
    assert write_alias("huggingface", "x", "org/x", path="~/other.json") == tmp_path / "other.json"


def test_write_alias_defaults_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLM_INTERFACE_ALIASES", raising=False)
    assert write_alias("huggingface", "tiny", "org/tiny") == tmp_path / "aliases.json"
    assert project_alias_file() == tmp_path / "aliases.json"


@pytest.mark.parametrize("kind, path", [("chat", "missing-dir/al.json"), ("vision", None)])
def test_write_alias_errors_are_configuration_errors(tmp_path, monkeypatch, kind, path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.ConfigurationError):
        write_alias("huggingface", "tiny", "org/tiny", kind=kind, path=path)


def test_a_deleted_working_directory_means_no_project_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LLM_INTERFACE_ALIASES", raising=False)
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert project_alias_file() is None
    assert AliasTable().get("huggingface", "default") == SHIPPED_CHAT["default"]
