"""Prompt templates: chat messages rendered into one raw prompt for raw-generation routes (TGI ``/generate``,
``hf-inference`` text-generation), for models served without a Messages API.

The formats follow each family's model card and its Hub ``chat_template`` (checked 2026-11-21): Llama 2 chat
and Code Llama instruct (``[INST] <<SYS>>``), Llama 3 (header ids, ``<|eot_id|>``), Mistral/Mixtral instruct,
Falcon instruct, MPT chat and ChatML (Qwen, OpenHermes), Zephyr, StarChat, WizardCoder and Alpaca (``### Instruction``),
Phind Code Llama, Vicuna, StableBeluga, Open-Assistant. A template is data: per role a ``pre_message`` and
``post_message`` around the content, the ``initial_prompt_value``/``final_prompt_value`` around everything,
``bos_token`` first, ``eos_token`` after each assistant turn (LiteLLM's ``register_prompt_template`` shape).

Which template a call uses, first rule that applies (``prompt_render.PromptRenderer.prompt_for``):
  1. ``prompt_template`` option (a registered name or a built-in family name) forces one;
  2. a template registered for the model with ``register_prompt_template``;
  3. the model's own Hub chat template (``tokenizer_config.json``, see ``hub.py``);
  4. the built-in family whose name patterns match the model id;
  5. plain ``role: content`` lines, with a logged warning (never silently).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..errors import InvalidRequestError
from ..request import content_text

logger = logging.getLogger("llm_interface")

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class PromptTemplate:
    """One way of writing a conversation as a single prompt string."""

    name: str
    roles: Mapping[str, Mapping[str, str]]
    initial_prompt_value: str = ""
    final_prompt_value: str = ""
    bos_token: str = ""
    eos_token: str = ""
    stop: Tuple[str, ...] = ()
    # Families without a system role (Llama 2, Mistral) fold the system text into the first user turn
    # with this format ("{system}" and "{user}" are replaced).
    system_in_user: Optional[str] = None
    default_system: Optional[str] = None
    strip: bool = False  # Llama 2 and Mistral templates strip each message's content

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        turns = [(m.get("role"), content_text(m.get("content"))) for m in messages]
        if self.default_system and not any(role == "system" for role, _ in turns):
            turns.insert(0, ("system", self.default_system))
        if self.system_in_user is not None:
            turns = self._fold_system(turns)
        parts = [self.bos_token, self.initial_prompt_value]
        for role, content in turns:
            wrap = self.roles.get(str(role)) or self.roles.get("user") or {}
            parts.append(wrap.get("pre_message", "").replace("{role}", str(role)))
            parts.append(content.strip() if self.strip else content)
            parts.append(wrap.get("post_message", "").replace("{role}", str(role)))
            if role == "assistant":
                parts.append(self.eos_token)
        parts.append(self.final_prompt_value)
        return "".join(parts)

    def _fold_system(self, turns: List[Tuple[Any, str]]) -> List[Tuple[Any, str]]:
        system = "\n\n".join(content for role, content in turns if role == "system")
        rest = [(role, content) for role, content in turns if role != "system"]
        if system and rest and rest[0][0] == "user":
            user = rest[0][1].strip() if self.strip else rest[0][1]
            folded = (self.system_in_user or "").replace("{system}", system.strip() if self.strip else system)
            rest[0] = ("user", folded.replace("{user}", user))
        elif system:
            rest.insert(0, ("user", system))
        return rest




def _same(pre: str, post: str) -> Dict[str, Dict[str, str]]:
    return {role: {"pre_message": pre, "post_message": post} for role in ROLES}


_LLAMA2_ROLES = {
    "user": {"pre_message": "[INST] ", "post_message": " [/INST]"},
    "assistant": {"pre_message": " ", "post_message": " "},
}
_ALPACA_SYSTEM = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
_INSTRUCTION_ROLES = {
    "system": {"pre_message": "", "post_message": "\n\n"},
    "user": {"pre_message": "### Instruction:\n", "post_message": "\n\n"},
    "assistant": {"pre_message": "### Response:\n", "post_message": "\n\n"},
}

BUILT_IN: Dict[str, PromptTemplate] = {
    t.name: t
    for t in (
        # <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST]
        PromptTemplate(
            "llama-2", _LLAMA2_ROLES, bos_token="<s>", eos_token="</s><s>", stop=("</s>",),
            system_in_user="<<SYS>>\n{system}\n<</SYS>>\n\n{user}", strip=True,
        ),
        PromptTemplate(
            "llama-3", _same("<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>"),
            final_prompt_value="<|start_header_id|>assistant<|end_header_id|>\n\n",
            bos_token="<|begin_of_text|>", stop=("<|eot_id|>", "<|end_of_text|>"), strip=True,
        ),
        # <s>[INST] {user} [/INST]{answer}</s>[INST] {user} [/INST]
        PromptTemplate(
            "mistral",
            {
                "user": {"pre_message": "[INST] ", "post_message": " [/INST]"},
                "assistant": {"pre_message": "", "post_message": ""},
            },
            bos_token="<s>", eos_token="</s>", stop=("</s>",), system_in_user="{system}\n\n{user}",
        ),
        PromptTemplate(
            "falcon-instruct",
            {
                "system": {"pre_message": "", "post_message": "\n"},
                "user": {"pre_message": "User: ", "post_message": "\n"},
                "assistant": {"pre_message": "Falcon: ", "post_message": "\n"},
            },
            final_prompt_value="Falcon:", stop=("\nUser:", "<|endoftext|>"),
        ),
        PromptTemplate(
            "chatml", _same("<|im_start|>{role}\n", "<|im_end|>\n"),
            final_prompt_value="<|im_start|>assistant\n", stop=("<|im_end|>", "<|endoftext|>"),
        ),
        PromptTemplate(
            "zephyr", _same("<|{role}|>\n", "</s>\n"), final_prompt_value="<|assistant|>\n", stop=("</s>",),
        ),
        # StarChat (HuggingFaceH4/starchat-*): <|system|>\n...<|end|>\n<|user|>\n...<|end|>\n<|assistant|>
        PromptTemplate(
            "starchat", _same("<|{role}|>\n", "<|end|>\n"), final_prompt_value="<|assistant|>\n", stop=("<|end|>",),
        ),
        PromptTemplate(
            "wizardcoder", _INSTRUCTION_ROLES, final_prompt_value="### Response:\n",
            default_system=_ALPACA_SYSTEM, stop=("</s>", "\n### Instruction:"),
        ),
        PromptTemplate(
            "phind-codellama",
            {
                "system": {"pre_message": "### System Prompt\n", "post_message": "\n\n"},
                "user": {"pre_message": "### User Message\n", "post_message": "\n\n"},
                "assistant": {"pre_message": "### Assistant\n", "post_message": "\n\n"},
            },
            final_prompt_value="### Assistant\n", stop=("</s>", "\n### User Message"),
        ),
        PromptTemplate(
            "vicuna",
            {
                "system": {"pre_message": "", "post_message": " "},
                "user": {"pre_message": "USER: ", "post_message": " "},
                "assistant": {"pre_message": "ASSISTANT: ", "post_message": ""},
            },
            final_prompt_value="ASSISTANT:", eos_token="</s>", stop=("</s>", "\nUSER:"),
            default_system=(
                "A chat between a curious user and an artificial intelligence assistant. "
                "The assistant gives helpful, detailed, and polite answers to the user's questions."
            ),
        ),
        PromptTemplate(
            "stablebeluga",
            {
                "system": {"pre_message": "### System:\n", "post_message": "\n\n"},
                "user": {"pre_message": "### User:\n", "post_message": "\n\n"},
                "assistant": {"pre_message": "### Assistant:\n", "post_message": "\n\n"},
            },
            final_prompt_value="### Assistant:\n", stop=("</s>", "\n### User:"),
        ),
        PromptTemplate(
            "open-assistant",
            {
                "system": {"pre_message": "<|system|>", "post_message": "</s>"},
                "user": {"pre_message": "<|prompter|>", "post_message": "</s>"},
                "assistant": {"pre_message": "<|assistant|>", "post_message": "</s>"},
            },
            final_prompt_value="<|assistant|>", stop=("</s>", "<|endoftext|>"),
        ),
    )
}

# Families whose prompt format is another's, under their own name (chosen by model id below).
for _alias, _same_as in (("codellama-instruct", "llama-2"), ("mpt-chat", "chatml"), ("alpaca", "wizardcoder")):
    BUILT_IN[_alias] = replace(BUILT_IN[_same_as], name=_alias)

# Model id patterns, most specific first (Code Llama before Llama 2, Phind before Code Llama...).
FAMILY_PATTERNS: Tuple[Tuple[str, str], ...] = (
    (r"phind-codellama", "phind-codellama"),
    (r"wizardcoder", "wizardcoder"),
    (r"codellama.*instruct|code-llama.*instruct", "codellama-instruct"),
    (r"llama-?3|llama3", "llama-3"),
    (r"llama-?2.*chat", "llama-2"),
    (r"mi[sx]tral.*instruct", "mistral"),
    (r"falcon.*instruct", "falcon-instruct"),
    (r"mpt.*chat", "mpt-chat"),
    (r"zephyr", "zephyr"),
    (r"starchat", "starchat"),
    (r"qwen|openhermes|chatml|dolphin", "chatml"),
    (r"vicuna", "vicuna"),
    (r"alpaca", "alpaca"),
    (r"stablebeluga", "stablebeluga"),
    (r"oasst|open-?assistant", "open-assistant"),
)


def family_of(model: Optional[str]) -> Optional[PromptTemplate]:
    """The built-in template whose pattern matches the model id, if any."""
    if not model:
        return None
    lowered = model.lower()
    for pattern, name in FAMILY_PATTERNS:
        if re.search(pattern, lowered):
            return BUILT_IN[name]
    return None


PLAIN = PromptTemplate(
    "plain",
    {role: {"pre_message": f"{role}: ", "post_message": "\n"} for role in ROLES},
    final_prompt_value="assistant:",
)


class PromptTemplates:
    """Templates registered at run time (per Client), by model id or by a name of your choice."""

    def __init__(self) -> None:
        self._registered: Dict[str, PromptTemplate] = {}

    def register(
        self,
        model: str,
        roles: Optional[Mapping[str, Mapping[str, str]]] = None,
        initial_prompt_value: str = "",
        final_prompt_value: str = "",
        bos_token: str = "",
        eos_token: str = "",
        stop: Optional[Iterable[str]] = None,
    ) -> PromptTemplate:
        if not isinstance(model, str) or not model:
            raise InvalidRequestError("register_prompt_template needs the model id (or a template name) as a string.")
        roles = dict(roles or {})
        for role, wrap in roles.items():
            if role not in ROLES or not isinstance(wrap, Mapping) or not set(wrap) <= {"pre_message", "post_message"}:
                raise InvalidRequestError(
                    f"roles[{role!r}] must be a role among {', '.join(ROLES)} mapped to "
                    "{'pre_message': str, 'post_message': str}."
                )
        template = PromptTemplate(
            model, {r: dict(w) for r, w in roles.items()}, initial_prompt_value, final_prompt_value,
            bos_token, eos_token, tuple(stop or ()),
        )
        self._registered[model] = template
        return template

    def registered(self, model: Optional[str]) -> Optional[PromptTemplate]:
        return self._registered.get(model) if model else None

    def named(self, name: str) -> PromptTemplate:
        """A forced template (the ``prompt_template`` option): registered first, then built-in."""
        found = self._registered.get(name) or BUILT_IN.get(name)
        if found is None:
            known = sorted(set(BUILT_IN) | set(self._registered) | {"hub"})
            raise InvalidRequestError(f"Unknown prompt_template {name!r}; known: {', '.join(known)}.")
        return found


def plain(messages: Sequence[Mapping[str, Any]], model: Optional[str]) -> str:
    logger.warning(
        "No prompt template for model %r: the chat messages are sent as plain 'role: content' lines. "
        "Pass options={'prompt_template': ...} or use register_prompt_template for a better prompt.", model,
    )
    return PLAIN.render(messages)
