"""EasyLLM's prompt builders by name, each rendering one of llm_interface's built-in templates
(``llm_interface/prompts/templates.py``: one set of templates, not a second copy).

A builder takes a list of ``{"role", "content"}`` messages (or objects with ``role``/``content``, as
EasyLLM's ``ChatMessage``), or a plain string (one user message), and returns the prompt string. Each
carries ``.template`` (the built-in's name) and ``.stop`` (its stop sequences).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

from ... import errors
from ...prompts.templates import BUILT_IN


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


def _builder(easyllm_name: str, template_name: str) -> Callable[[Any], str]:
    template = BUILT_IN[template_name]

    def build(messages: Any) -> str:
        return template.render(as_messages(messages))

    build.__name__ = build.__qualname__ = f"build_{easyllm_name}_prompt"
    build.__doc__ = f"EasyLLM's {easyllm_name} prompt: llm_interface's built-in {template_name!r} template."
    build.template = template_name  # type: ignore[attr-defined]
    build.stop = list(template.stop)  # type: ignore[attr-defined]
    return build


build_llama2_prompt = _builder("llama2", "llama-2")
build_vicuna_prompt = _builder("vicuna", "vicuna")
build_wizardlm_prompt = _builder("wizardlm", "vicuna")  # WizardLM 1.x chats in Vicuna's USER:/ASSISTANT: format
build_stablebeluga_prompt = _builder("stablebeluga", "stablebeluga")
build_open_assistant_prompt = _builder("open_assistant", "open-assistant")
build_chatml_falcon_prompt = _builder("chatml_falcon", "chatml")
build_chatml_starchat_prompt = _builder("chatml_starchat", "starchat")
build_falcon_prompt = _builder("falcon", "falcon-instruct")

# EasyLLM's string names for ``huggingface.prompt_builder = "llama2"``.
PROMPT_MAPPING: Dict[str, Callable[[Any], str]] = {
    "llama2": build_llama2_prompt,
    "vicuna": build_vicuna_prompt,
    "wizardlm": build_wizardlm_prompt,
    "stablebeluga": build_stablebeluga_prompt,
    "open_assistant": build_open_assistant_prompt,
    "chatml_falcon": build_chatml_falcon_prompt,
    "chatml_starchat": build_chatml_starchat_prompt,
    "falcon": build_falcon_prompt,
}

llama2_stop_sequences = build_llama2_prompt.stop  # type: ignore[attr-defined]
vicuna_stop_sequences = build_vicuna_prompt.stop  # type: ignore[attr-defined]
wizardlm_stop_sequences = build_wizardlm_prompt.stop  # type: ignore[attr-defined]
stablebeluga_stop_sequences = build_stablebeluga_prompt.stop  # type: ignore[attr-defined]
open_assistant_stop_sequences = build_open_assistant_prompt.stop  # type: ignore[attr-defined]
chatml_falcon_stop_sequences = build_chatml_falcon_prompt.stop  # type: ignore[attr-defined]
chatml_starchat_stop_sequences = build_chatml_starchat_prompt.stop  # type: ignore[attr-defined]
falcon_stop_sequences = build_falcon_prompt.stop  # type: ignore[attr-defined]
