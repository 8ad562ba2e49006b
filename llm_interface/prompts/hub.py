"""A model's own chat template from the Hugging Face Hub (``tokenizer_config.json``), rendered safely.

Follows transformers' ``apply_chat_template`` (checked 2026-11-21): the Jinja template receives ``messages``,
``bos_token``, ``eos_token``, ``add_generation_prompt`` and may call ``raise_exception``; ``chat_template`` is
a string or a list of ``{"name", "template"}`` (the one named ``default`` is used); ``bos_token``/``eos_token``
are strings or ``{"content": ...}`` objects in older configs. Templates are foreign code, so they run in
jinja2's ``ImmutableSandboxedEnvironment``: no attribute access to Python internals, no mutation.

Fetching is I/O and lives in the Client (``Client.hub_chat_template``); this module is pure.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping, Optional, Sequence

from ..errors import InvalidRequestError
from ..hf_hub import hub_url


def tokenizer_config_url(model: str, revision: str = "main") -> str:
    return f"{hub_url()}/{model}/resolve/{revision}/tokenizer_config.json"


def _token(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("content") or "")
    return value if isinstance(value, str) else ""


class HubTemplate:
    """A chat template taken from a ``tokenizer_config.json`` (the dict, already fetched)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        template = config.get("chat_template")
        if isinstance(template, list):
            named = {t.get("name"): t.get("template") for t in template if isinstance(t, Mapping)}
            template = named.get("default") or next(iter(named.values()), None)
        if not isinstance(template, str) or not template:
            raise InvalidRequestError("This tokenizer_config.json has no chat_template.")
        self.source = template
        self.bos_token = _token(config.get("bos_token"))
        self.eos_token = _token(config.get("eos_token"))
        # The eos token is where a chat turn ends; generation should stop there too.
        self.stop = tuple(t for t in (self.eos_token,) if t)

    @classmethod
    def from_config(cls, config: Any) -> Optional["HubTemplate"]:
        """None when the config has no usable chat template (many base models)."""
        if not isinstance(config, Mapping) or not config.get("chat_template"):
            return None
        return cls(config)

    def render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = True) -> str:
        from jinja2.exceptions import TemplateError

        try:
            return _compile(self.source).render(
                messages=[dict(m) for m in messages],
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                add_generation_prompt=add_generation_prompt,
            )
        except TemplateError as exc:
            raise InvalidRequestError(
                f"The model's Hub chat template refused these messages: {exc}. "
                "Pass options={'prompt_template': ...} to use another template."
            ) from exc


def _raise_exception(message: str) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)


@lru_cache(maxsize=64)
def _compile(source: str) -> Any:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise_exception
    # transformers' tojson keeps non-ASCII text as is.
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
    return env.from_string(source)
