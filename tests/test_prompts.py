"""Prompt templates: each built-in family renders the exact string its models expect; the Hub chat template of a
real tokenizer_config.json renders through the sandbox; the choice order is registered > Hub > family > plain."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import responses

from llm_interface import errors
from llm_interface.prompts import BUILT_IN, HubTemplate, family_of, tokenizer_config_url

HUB_CONFIG = Path(__file__).parent / "fixtures" / "hub" / "zephyr-7b-beta.tokenizer_config.json"
TGI = "http://127.0.0.1:9/tgi"
CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Capital of France?"},
]

EXPECTED = {
    "llama-2": "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Capital of France? [/INST]",
    "codellama-instruct": "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Capital of France? [/INST]",
    "llama-3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nCapital of France?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    "mistral": "<s>[INST] You are terse.\n\nHi [/INST]Hello.</s>[INST] Capital of France? [/INST]",
    "falcon-instruct": "You are terse.\nUser: Hi\nFalcon: Hello.\nUser: Capital of France?\nFalcon:",
    "chatml": (
        "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n"
    ),
    "zephyr": "<|system|>\nYou are terse.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello.</s>\n<|user|>\nCapital of France?</s>\n<|assistant|>\n",
    # HuggingFaceH4/starchat-beta's chat_template
    "starchat": "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nCapital of France?<|end|>\n<|assistant|>\n",
    "vicuna": "You are terse. USER: Hi ASSISTANT: Hello.</s>USER: Capital of France? ASSISTANT:",
    "alpaca": "You are terse.\n\n### Instruction:\nHi\n\n### Response:\nHello.\n\n### Instruction:\nCapital of France?\n\n### Response:\n",
    "wizardcoder": "You are terse.\n\n### Instruction:\nHi\n\n### Response:\nHello.\n\n### Instruction:\nCapital of France?\n\n### Response:\n",
    "phind-codellama": (
        "### System Prompt\nYou are terse.\n\n### User Message\nHi\n\n### Assistant\nHello.\n\n"
        "### User Message\nCapital of France?\n\n### Assistant\n"
    ),
    "stablebeluga": "### System:\nYou are terse.\n\n### User:\nHi\n\n### Assistant:\nHello.\n\n### User:\nCapital of France?\n\n### Assistant:\n",
    "open-assistant": "<|system|>You are terse.</s><|prompter|>Hi</s><|assistant|>Hello.</s><|prompter|>Capital of France?</s><|assistant|>",
}
EXPECTED["mpt-chat"] = EXPECTED["chatml"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_family_renders_exactly(name):
    assert BUILT_IN[name].render(CHAT) == EXPECTED[name]
    assert BUILT_IN[name].stop  # every family says where a turn ends


def test_every_builtin_is_tested():
    assert set(BUILT_IN) == set(EXPECTED)


def test_default_system_prompt_when_none_is_given():
    assert BUILT_IN["vicuna"].render([{"role": "user", "content": "Hi"}]).startswith("A chat between a curious user")
    assert BUILT_IN["llama-2"].render([{"role": "user", "content": " Hi "}]) == "<s>[INST] Hi [/INST]"


@pytest.mark.parametrize(
    "model, family",
    [
        ("meta-llama/Llama-2-7b-chat-hf", "llama-2"),
        ("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mistral"),
        ("mistralai/Mistral-7B-Instruct-v0.2", "mistral"),
        ("tiiuae/falcon-7b-instruct", "falcon-instruct"),
        ("mosaicml/mpt-7b-chat", "mpt-chat"),
        ("codellama/CodeLlama-34b-Instruct-hf", "codellama-instruct"),
        ("WizardLM/WizardCoder-Python-34B-V1.0", "wizardcoder"),
        ("Phind/Phind-CodeLlama-34B-v2", "phind-codellama"),
        ("HuggingFaceH4/zephyr-7b-beta", "zephyr"),
        ("HuggingFaceH4/starchat-beta", "starchat"),
        ("Qwen/Qwen2.5-7B-Instruct", "chatml"),
        ("teknium/OpenHermes-2.5-Mistral-7B", "chatml"),
        ("lmsys/vicuna-13b-v1.5", "vicuna"),
        ("chavinlo/alpaca-native", "alpaca"),
        ("stabilityai/StableBeluga2", "stablebeluga"),
        ("OpenAssistant/oasst-sft-4-pythia-12b-epoch-3.5", "open-assistant"),
    ],
)
def test_family_chosen_by_model_id(model, family):
    assert family_of(model).name == family


def test_hub_template_from_real_tokenizer_config():
    template = HubTemplate.from_config(json.loads(HUB_CONFIG.read_text()))
    assert template.render(CHAT) == EXPECTED["zephyr"]
    assert template.render([{"role": "user", "content": "Name the capital of France."}]) == (
        "<|user|>\nName the capital of France.</s>\n<|assistant|>\n"
    )
    assert template.stop == ("</s>",)


def test_hub_template_is_sandboxed():
    evil = HubTemplate({"chat_template": "{{ messages.__class__.__mro__ }}"})
    with pytest.raises(Exception) as caught:
        evil.render(CHAT)
    assert "unsafe" in str(caught.value).lower() or isinstance(caught.value, errors.InvalidRequestError)


def test_hub_template_raise_exception_is_a_clear_error():
    strict = HubTemplate({"chat_template": "{{ raise_exception('Only user and assistant roles are supported!') }}"})
    with pytest.raises(errors.InvalidRequestError, match="Only user and assistant"):
        strict.render(CHAT)


def test_hub_template_tokens_as_objects_and_named_templates():
    template = HubTemplate(
        {"bos_token": {"content": "<s>", "lstrip": False}, "eos_token": {"content": "</s>"},
         "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ bos_token }}{{ messages[0]['content'] }}{{ eos_token }}"}]}
    )
    assert template.render(CHAT) == "<s>You are terse.</s>"


def _generate(answer=" Paris"):
    responses.add(responses.POST, TGI + "/generate", json={"generated_text": answer})


def _sent():
    return json.loads(responses.calls[-1].request.body)


@responses.activate
def test_hub_template_is_fetched_once_and_used(client):
    model = "HuggingFaceH4/zephyr-7b-beta"
    responses.add(responses.GET, tokenizer_config_url(model), body=HUB_CONFIG.read_bytes(), content_type="application/json")
    _generate()
    _generate()
    for _ in range(2):
        result = client.send_message("huggingface", CHAT, {"api_base": TGI, "model": model, "raw": True})
    assert result.results == " Paris"
    gets = [c for c in responses.calls if c.request.method == "GET"]
    assert len(gets) == 1 and gets[0].request.headers["Authorization"].startswith("Bearer hf_test")
    assert _sent()["inputs"] == EXPECTED["zephyr"]
    assert _sent()["parameters"]["stop"] == ["</s>"]


@responses.activate
def test_registered_template_wins_over_hub_and_family(client):
    model = "HuggingFaceH4/zephyr-7b-beta"
    client.register_prompt_template(
        model, roles={"user": {"pre_message": "Q: ", "post_message": "\n"}, "assistant": {"pre_message": "A: ", "post_message": "\n"}},
        initial_prompt_value="<<", final_prompt_value="A:", bos_token="[B]", eos_token="[E]",
    )
    _generate()
    client.send_message("huggingface", CHAT[1:], {"api_base": TGI, "model": model, "raw": True})
    assert _sent()["inputs"] == "[B]<<Q: Hi\nA: Hello.\n[E]Q: Capital of France?\nA:"
    assert not [c for c in responses.calls if c.request.method == "GET"]


@responses.activate
def test_missing_hub_template_falls_back_to_family(client):
    model = "mistralai/Mistral-7B-Instruct-v0.2"
    responses.add(responses.GET, tokenizer_config_url(model), status=401, json={"error": "gated"})
    _generate()
    client.send_message("huggingface", CHAT, {"api_base": TGI, "model": model, "raw": True})
    assert _sent()["inputs"] == EXPECTED["mistral"]


@responses.activate
def test_forced_template_and_plain_fallback_warns(client, caplog):
    _generate()
    _generate()
    client.send_message("huggingface", CHAT, {"api_base": TGI, "prompt_template": "chatml"})
    assert _sent()["inputs"] == EXPECTED["chatml"] and _sent()["parameters"]["stop"] == ["<|im_end|>", "<|endoftext|>"]
    with caplog.at_level(logging.WARNING, logger="llm_interface"):
        client.send_message("huggingface", CHAT[1:2], {"api_base": TGI, "raw": True})
    assert _sent()["inputs"] == "user: Hi\nassistant:"
    assert "No prompt template" in caplog.text


@responses.activate
def test_raw_chat_on_serverless_goes_to_hf_inference_text_generation(client):
    model = "tiiuae/falcon-7b-instruct"
    responses.add(responses.GET, tokenizer_config_url(model), json={"eos_token": "<|endoftext|>"})  # no chat_template
    responses.add(responses.POST, "https://router.huggingface.co/hf-inference/models/" + model, json=[{"generated_text": " Paris\nUser:"}])
    result = client.send_message("huggingface", CHAT, {"model": model, "raw": True})
    assert _sent()["inputs"] == EXPECTED["falcon-instruct"]
    assert result.results == " Paris"  # cut at the family's stop sequence


def test_unknown_forced_template_lists_known(client):
    with pytest.raises(errors.InvalidRequestError, match="chatml"):
        client.prompt_templates.named("nope")
    with pytest.raises(errors.InvalidRequestError, match="pre_message"):
        client.register_prompt_template("m", roles={"user": {"prefix": "x"}})
