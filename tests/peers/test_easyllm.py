"""EasyLLM's own prompt-builder tests, ported import for import: the expected strings are EasyLLM's.

Peer source: philschmid/easyllm at 1f37a9307d68545f41639f392a301baadda7188a,
``tests/prompt_utils/test_*.py`` (expected strings and errors) and ``easyllm/prompt_utils/*.py``
(the formats for multi-turn and the anthropic/falcon builders, which have no tests there).
"""

from __future__ import annotations

import json

import pytest
import responses
from recordings import body_bytes, exchange, snapshot

from llm_interface.compat.easyllm import huggingface, prompt_utils
from llm_interface.compat.easyllm.prompt_utils import (
    build_chatml_falcon_prompt,
    build_chatml_hf_prompt,
    build_chatml_starchat_prompt,
    build_falcon_prompt,
    build_llama2_prompt,
    build_open_assistant_prompt,
    build_stablebeluga_prompt,
    build_vicuna_prompt,
    build_wizardlm_prompt,
)

SYSTEM_AND_USER = [{"content": "You are a chat bot.", "role": "system"}, {"content": "Hello!", "role": "user"}]
WITH_FUNCTION = [{"content": "You are a chat bot.", "role": "system"}, {"content": "some_function()", "role": "function"}]


# tests/prompt_utils/test_<name>.py: (builder, single "Hello!" string, system + user, function-call error)
CASES = [
    (build_chatml_hf_prompt, "<|system|>\n<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>",
     "<|system|>\nYou are a chat bot.<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>", "HF ChatML does not support function calls."),
    (build_llama2_prompt, "<s>[INST] Hello! [/INST]",
     "<s>[INST] <<SYS>>\nYou are a chat bot.\n<</SYS>>\n\nHello! [/INST]", "Llama 2 does not support function calls."),
    (build_vicuna_prompt, "\n\nUSER: Hello!\nASSISTANT: ",
     "You are a chat bot.\n\nUSER: Hello!\nASSISTANT: ", "Vicuna does not support function calls."),
    (build_wizardlm_prompt, "USER: Hello! ASSISTANT: ",
     "You are a chat bot. USER: Hello! ASSISTANT: ", "WizardLM does not support function calls."),
    (build_stablebeluga_prompt, "### System:\n\n\n### User:\nHello!\n\n### Assistant:",
     "### System:\nYou are a chat bot.\n\n### User:\nHello!\n\n### Assistant:", "stablebeluga does not support function calls."),
    (build_open_assistant_prompt, "<|system|></s><|prompter|>Hello!</s><|assistant|>",
     "<|system|>You are a chat bot.</s><|prompter|>Hello!</s><|assistant|>", "Open Assistant does not support function calls."),
]


@pytest.mark.parametrize("builder, single, multiple, function_error", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_easyllm_prompt_utils_tests(builder, single, multiple, function_error):
    assert builder("Hello!") == single
    assert builder(SYSTEM_AND_USER) == multiple
    with pytest.raises(ValueError, match=function_error):
        builder(WITH_FUNCTION)


def test_chatml_falcon_and_starchat_are_chatml_hf_with_their_eos():
    # easyllm/prompt_utils/chatml_hf.py: falcon ends turns with <|endoftext|>, starchat with <|end|>.
    assert build_chatml_falcon_prompt(SYSTEM_AND_USER) == build_chatml_hf_prompt(SYSTEM_AND_USER, "<|endoftext|>")
    assert build_chatml_falcon_prompt(SYSTEM_AND_USER) == (
        "<|system|>\nYou are a chat bot.<|endoftext|>\n<|user|>\nHello!<|endoftext|>\n<|assistant|>")
    assert build_chatml_starchat_prompt(SYSTEM_AND_USER) == build_chatml_hf_prompt(SYSTEM_AND_USER)


def test_multi_turn_follows_easyllm_exactly():
    # easyllm/prompt_utils/llama2.py keeps the assistant text unstripped; vicuna.py ends assistant turns with </s>.
    chat = SYSTEM_AND_USER + [{"role": "assistant", "content": "Hi there!"}, {"role": "user", "content": "  How are you?  "}]
    assert build_llama2_prompt(chat) == (
        "<s>[INST] <<SYS>>\nYou are a chat bot.\n<</SYS>>\n\nHello! [/INST] Hi there! </s><s>[INST] How are you? [/INST]")
    assert build_vicuna_prompt(chat) == (
        "You are a chat bot.\n\nUSER: Hello!\nASSISTANT: Hi there!</s>\nUSER: How are you?\nASSISTANT: ")
    assert build_wizardlm_prompt(chat) == "You are a chat bot. USER: Hello! ASSISTANT: Hi there! USER: How are you? ASSISTANT: "
    assert build_falcon_prompt(chat) == (
        "System: You are a chat bot.\nUser: Hello!\nFalcon: Hi there!\nUser: How are you?\nFalcon: ")


def test_a_late_system_message_or_unknown_role_is_a_value_error():
    # Every easyllm builder: a system message is allowed only first; anything else is "Invalid message role".
    for builder in prompt_utils.PROMPT_MAPPING.values():
        with pytest.raises(ValueError, match="Invalid message role: system"):
            builder([{"role": "user", "content": "Hi"}, {"role": "system", "content": "late"}])
        with pytest.raises(ValueError, match="Invalid message role: tool"):
            builder([{"role": "tool", "content": "x"}])


def test_prompt_mapping_and_stop_sequences():
    # easyllm/prompt_utils/__init__.py: PROMPT_MAPPING's names; each module's *_stop_sequences.
    assert set(prompt_utils.PROMPT_MAPPING) == {"chatml_falcon", "chatml_starchat", "llama2", "open_assistant",
                                               "stablebeluga", "vicuna", "wizardlm", "falcon", "anthropic"}
    assert prompt_utils.llama2_stop_sequences == ["</s>"]
    assert prompt_utils.chatml_falcon_stop_sequences == ["<|endoftext|>"]
    assert prompt_utils.chatml_starchat_stop_sequences == ["<|end|>"]
    assert prompt_utils.falcon_stop_sequences == ["\nUser:", "<|endoftext|>", " User:", "###"]
    assert prompt_utils.anthropic_stop_sequences == ["\n\nUser:", "User:"]


def test_chat_message_objects_are_accepted():
    # easyllm/schema/base.py: ChatMessage has role and content; builders take a list of them.
    class ChatMessage:
        def __init__(self, role, content):
            self.role, self.content = role, content

    assert build_llama2_prompt([ChatMessage("user", "Hi")]) == "<s>[INST] Hi [/INST]"


# The README's idioms (philschmid/easyllm README.md and docs/clients/huggingface.md at 1f37a93), against
# recorded Hugging Face answers: ``prompt_builder = "llama2"``, ``print(response)``, the streaming loop.
GENERATE = snapshot("test_flash_llama/test_flash_llama_simple.json")
CHAT_STREAM = exchange("test_openai_compatibility_with_stream_true#2")["response"]
CHAT = exchange("test_openai_compatibility_without_base_url#2")["response"]


@pytest.fixture
def hf_key(monkeypatch):
    monkeypatch.setenv("HUGGINGFACE_TOKEN", "hf_test_fake")
    monkeypatch.setattr(huggingface, "prompt_builder", None)


@responses.activate
def test_readme_chat_completion_with_the_llama2_builder_by_name(hf_key, capsys):
    responses.add(responses.POST, "https://router.huggingface.co/hf-inference/models/meta-llama/Llama-2-70b-chat-hf",
                  json=[GENERATE], status=200)
    huggingface.prompt_builder = "llama2"
    response = huggingface.ChatCompletion.create(
        model="meta-llama/Llama-2-70b-chat-hf",
        messages=[
            {"role": "system", "content": "\nYou are a helpful assistant speaking like a pirate. argh!"},
            {"role": "user", "content": "What is the sun?"},
        ],
        temperature=0.9,
        top_p=0.6,
        max_tokens=256,
    )
    print(response)
    assert GENERATE["generated_text"][:20] in capsys.readouterr().out
    sent = json.loads(responses.calls[-1].request.body)["inputs"]
    assert sent == build_llama2_prompt([{"role": "system", "content": "\nYou are a helpful assistant speaking like a pirate. argh!"},
                                        {"role": "user", "content": "What is the sun?"}])
    assert sent.startswith("<s>[INST] <<SYS>>\n\nYou are a helpful")  # EasyLLM keeps the system text as given
    assert response.choices[0].message.tool_calls is None  # absent fields read as None, as EasyLLM's pydantic models


@responses.activate
def test_readme_streaming_loop(hf_key):
    responses.add(responses.POST, "https://router.huggingface.co/v1/chat/completions", body=body_bytes(CHAT_STREAM),
                  status=200, content_type="text/event-stream")
    text = ""
    for chunk in huggingface.ChatCompletion.create(model="meta-llama/Meta-Llama-3.1-8B-Instruct",
                                                   messages=[{"role": "user", "content": "Hi"}], stream=True):
        text += chunk["choices"][0]["delta"].get("content") or ""
        assert chunk.choices[0].delta.content is None or isinstance(chunk.choices[0].delta.content, str)
    assert text


@responses.activate
def test_only_the_parameters_passed_are_sent(hf_key):
    """A deliberate difference (docs/migration.md): EasyLLM's ``ChatCompletion.create`` signature
    (easyllm/clients/huggingface.py at 1f37a93) defaults temperature=0.9, top_p=0.6, top_k=10,
    max_tokens=1024 and frequency_penalty=1.0 and sends them all, overriding the model's own generation
    settings without the caller asking. Here a call that passes none sends none; one passed is sent."""
    for _ in range(2):
        responses.add(responses.POST, "https://router.huggingface.co/v1/chat/completions", body=body_bytes(CHAT),
                      status=200, content_type="application/json")
    model = "meta-llama/Meta-Llama-3.1-8B-Instruct"
    huggingface.ChatCompletion.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    body = json.loads(responses.calls[-1].request.body)
    assert not {"temperature", "top_p", "top_k", "max_tokens", "frequency_penalty"} & set(body)
    huggingface.ChatCompletion.create(model=model, messages=[{"role": "user", "content": "Hi"}], temperature=0.2)
    assert json.loads(responses.calls[-1].request.body)["temperature"] == 0.2
