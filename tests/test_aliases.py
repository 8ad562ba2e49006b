"""Aliases: the shipped table, a project's aliases.json (cwd or $LLM_INTERFACE_ALIASES), run-time changes."""

from __future__ import annotations

import json

import pytest
import responses as responses_lib

from llm_interface import Client, LLMInterface, errors
from llm_interface.aliases import AliasTable, project_alias_file, write_alias

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
    with pytest.raises(errors.UnknownModelError):
        table.resolve("openai-compatible", None)


# Issue 17: a configured alias is an alias; any other name is a model id and goes out as given (the JS
# library's rule). These Hub ids have no organisation and used to be refused with UnknownModelError.
BARE_HUB_IDS = ["gpt2", "distilgpt2", "bert-base-uncased", "huggingface/another-model", "smol"]


@pytest.mark.parametrize("name", BARE_HUB_IDS)
@pytest.mark.parametrize("kind", ["chat", "embeddings"])
def test_a_name_that_is_no_alias_is_a_model_id(name, kind):
    assert AliasTable().resolve("huggingface", name, kind) == name


@pytest.mark.parametrize("name", BARE_HUB_IDS)
def test_bare_hub_ids_go_to_the_router_as_given(name, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_fake")
    with Client() as client:
        plan = client.plan("huggingface", "chat", "hi", {"model": name})
        call = plan.provider.prepare(plan.request)
    assert plan.request.model == name
    assert call.url == "https://router.huggingface.co/v1/chat/completions"
    assert call.json["model"] == name


@pytest.mark.parametrize("name", BARE_HUB_IDS)
def test_bare_hub_ids_go_to_hf_inference_for_embeddings(name, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_fake")
    with Client() as client:
        plan = client.plan("huggingface", "embeddings", ["a"], {"model": name})
        call = plan.provider.prepare(plan.request)
    assert call.url == f"https://router.huggingface.co/hf-inference/models/{name}/pipeline/feature-extraction"


def test_an_alias_still_wins_over_a_model_id_of_the_same_name():
    table = AliasTable()
    table.set("huggingface", "gpt2", "openai-community/gpt2")
    assert table.resolve("huggingface", "gpt2") == "openai-community/gpt2"


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


@responses_lib.activate
def test_a_name_nobody_serves_is_the_routers_404_with_a_hint():
    # The refusal used to happen here, before any request; now the server says, and the error helps.
    responses_lib.add(responses_lib.POST, "https://router.huggingface.co/v1/chat/completions",
                      json={"error": "Model smol does not exist"}, status=404)
    with Client(api_keys={"huggingface": "hf_test_fake"}, interface_options={"retry_attempts": 0}) as client:
        with pytest.raises(errors.NotFoundError) as caught:
            client.send_message("huggingface", "hi", {"model": "smol"})
    assert json.loads(responses_lib.calls[0].request.body)["model"] == "smol"
    assert "Check the model id" in str(caught.value) and caught.value.server_message == "Model smol does not exist"


@responses_lib.activate
@pytest.mark.parametrize("model,sent", [("huggingface/another-model", "another-model"), ("huggingface/gpt2", "gpt2")])
def test_litellm_style_names_without_an_organisation_go_out_as_given(model, sent):
    from llm_interface.compat import litellm

    responses_lib.add(responses_lib.POST, "https://router.huggingface.co/v1/chat/completions",
                      json={"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]})
    answer = litellm.completion(model, [{"role": "user", "content": "hi"}], api_key="hf_test_fake")
    assert answer.choices[0].message.content == "ok"
    assert json.loads(responses_lib.calls[0].request.body)["model"] == sent
