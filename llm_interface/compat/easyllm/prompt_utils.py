"""EasyLLM's prompt builders, byte for byte: ``build_llama2_prompt``, ``build_vicuna_prompt``, ...

EasyLLM's outputs are the spec (philschmid/easyllm ``easyllm/prompt_utils/*.py`` and their tests, commit
1f37a93): each builder takes a list of ``{"role", "content"}`` messages (or objects with ``role`` and
``content``, as EasyLLM's ``ChatMessage``) or a plain string, and returns the prompt string. A string is one
user message, after an empty system message for every format except Llama 2 (so ``build_vicuna_prompt("Hi")``
starts with EasyLLM's blank line). A ``function`` message raises ``ValueError("<Model> does not support
function calls.")``, a system message anywhere but first or an unknown role ``ValueError("Invalid message
role: ...")``, as EasyLLM's do (llm_interface's InvalidRequestError is a ValueError).

These are EasyLLM's strings, not llm_interface's built-in templates (``llm_interface/prompts``), which follow
the model cards and differ in places (docs/migration.md lists where).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional

from ... import errors


def as_messages(messages: Any) -> List[Dict[str, Any]]:
    """EasyLLM's inputs (a string, dicts, or ChatMessage-like objects) as message dicts."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if not isinstance(messages, (list, tuple)):
        raise errors.InvalidRequestError("messages must be a string or a list of {'role', 'content'} messages.")
    out = []
    for message in messages:
        if isinstance(message, Mapping):
            out.append(dict(message))
        elif hasattr(message, "role") and hasattr(message, "content"):
            out.append({"role": message.role, "content": message.content})
        else:
            raise errors.InvalidRequestError(f"Each message needs a role and a content, got {message!r}.")
    return out


@dataclass(frozen=True)
class _Format:
    """One EasyLLM prompt format. Each role's piece is ``fmt.format(text)``; ``text`` is the content stripped
    unless that role is in ``raw`` (EasyLLM keeps Llama 2's system and assistant text, and Falcon's and
    Anthropic's system text, as given)."""

    label: str  # the model name in the function-call error
    system: str
    user: str
    assistant: str
    prefix: str = ""
    suffix: str = ""
    separator: str = ""
    raw: frozenset = frozenset()
    string_has_system: bool = True  # a string prompt gets an empty system message first
    lstrip: bool = False  # WizardLM strips the joined conversation's start

    def render(self, messages: Any) -> str:
        chat = as_messages(messages)
        if isinstance(messages, str) and self.string_has_system:
            chat.insert(0, {"role": "system", "content": ""})
        pieces = []
        for index, message in enumerate(chat):
            role, content = message.get("role"), message.get("content")
            if role == "function":
                raise errors.InvalidRequestError(f"{self.label} does not support function calls.")
            if role not in ("user", "assistant") and not (role == "system" and index == 0):
                raise errors.InvalidRequestError(f"Invalid message role: {role}")
            text = content if isinstance(content, str) else ("" if content is None else str(content))
            if role not in self.raw:
                text = text.strip()
            pieces.append(getattr(self, role).format(text))
        body = self.separator.join(pieces)
        if self.lstrip:
            body = body.lstrip()
        return self.prefix + body + self.suffix


def _chatml_hf(eos: str) -> _Format:
    return _Format("HF ChatML", "<|system|>\n{}" + eos + "\n", "<|user|>\n{}" + eos + "\n",
                   "<|assistant|>\n{}" + eos + "\n", suffix="<|assistant|>")


_FORMATS: Dict[str, _Format] = {
    "llama2": _Format("Llama 2", "<<SYS>>\n{}\n<</SYS>>\n\n", "{}", " [/INST] {} </s><s>[INST] ",
                      prefix="<s>[INST] ", suffix=" [/INST]", raw=frozenset({"system", "assistant"}),
                      string_has_system=False),
    "vicuna": _Format("Vicuna", "{}\n\n", "USER: {}\n", "ASSISTANT: {}</s>\n", suffix="ASSISTANT: "),
    "wizardlm": _Format("WizardLM", "{}", "USER: {}", "ASSISTANT: {}", suffix=" ASSISTANT: ", separator=" ",
                        lstrip=True),
    "stablebeluga": _Format("stablebeluga", "### System:\n{}\n\n", "### User:\n{}\n\n", "### Assistant:\n{}\n\n",
                            suffix="### Assistant:"),
    "open_assistant": _Format("Open Assistant", "<|system|>{}</s>", "<|prompter|>{}</s>", "<|assistant|>{}</s>",
                              suffix="<|assistant|>"),
    "chatml_falcon": _chatml_hf("<|endoftext|>"),
    "chatml_starchat": _chatml_hf("<|end|>"),
    "falcon": _Format("falcon", "System: {}\n", "User: {}\n", "Falcon: {}\n", suffix="Falcon: ", raw=frozenset({"system"})),
    "anthropic": _Format("anthropic", "{}", "\n\nHuman: {}", "\n\nAssistant: {}", suffix="\n\nAssistant: ",
                         raw=frozenset({"system"})),
}

_STOPS: Dict[str, List[str]] = {
    "llama2": ["</s>"], "vicuna": ["</s>"], "wizardlm": ["</s>"], "stablebeluga": ["</s>"],
    "open_assistant": ["</s>"], "chatml_falcon": ["<|endoftext|>"], "chatml_starchat": ["<|end|>"],
    "falcon": ["\nUser:", "<|endoftext|>", " User:", "###"], "anthropic": ["\n\nUser:", "User:"],
}


def _builder(name: str) -> Callable[[Any], str]:
    spec = _FORMATS[name]

    def build(messages: Any) -> str:
        return spec.render(messages)

    build.__name__ = build.__qualname__ = f"build_{name}_prompt"
    build.__doc__ = f"EasyLLM's {name} prompt, byte for byte."
    build.stop = list(_STOPS[name])  # type: ignore[attr-defined]
    return build


def build_chatml_hf_prompt(messages: Any, EOS_TOKEN: str = "<|end|>") -> str:  # noqa: N803 - EasyLLM's name
    """HuggingFaceH4's ChatML (StarChat, Zephyr-style): ``<|system|>\\n...<|end|>\\n<|user|>\\n...``."""
    return _chatml_hf(EOS_TOKEN).render(messages)


build_llama2_prompt = _builder("llama2")
build_vicuna_prompt = _builder("vicuna")
build_wizardlm_prompt = _builder("wizardlm")
build_stablebeluga_prompt = _builder("stablebeluga")
build_open_assistant_prompt = _builder("open_assistant")
build_chatml_falcon_prompt = _builder("chatml_falcon")
build_chatml_starchat_prompt = _builder("chatml_starchat")
build_falcon_prompt = _builder("falcon")
build_anthropic_prompt = _builder("anthropic")

# EasyLLM's string names for ``huggingface.prompt_builder = "llama2"``.
PROMPT_MAPPING: Dict[str, Callable[[Any], str]] = {
    "chatml_falcon": build_chatml_falcon_prompt,
    "chatml_starchat": build_chatml_starchat_prompt,
    "llama2": build_llama2_prompt,
    "open_assistant": build_open_assistant_prompt,
    "stablebeluga": build_stablebeluga_prompt,
    "vicuna": build_vicuna_prompt,
    "wizardlm": build_wizardlm_prompt,
    "falcon": build_falcon_prompt,
    "anthropic": build_anthropic_prompt,
}


def _stops(builder: Callable[[Any], str]) -> List[str]:
    stop: Optional[List[str]] = getattr(builder, "stop", None)
    return list(stop or ())


llama2_stop_sequences = _stops(build_llama2_prompt)
vicuna_stop_sequences = _stops(build_vicuna_prompt)
wizardlm_stop_sequences = _stops(build_wizardlm_prompt)
stablebeluga_stop_sequences = _stops(build_stablebeluga_prompt)
open_assistant_stop_sequences = _stops(build_open_assistant_prompt)
chatml_falcon_stop_sequences = _stops(build_chatml_falcon_prompt)
chatml_starchat_stop_sequences = _stops(build_chatml_starchat_prompt)
falcon_stop_sequences = _stops(build_falcon_prompt)
anthropic_stop_sequences = _stops(build_anthropic_prompt)
