"""A reasoning model's thinking, kept apart from its answer.

Follows (checked 2026-12-01): the Inference Providers router and the OpenAI-compatible servers behind it
send the thinking of gpt-oss, DeepSeek-R1, Qwen3 and GLM in a field of its own beside ``content``:
``message.reasoning`` (gpt-oss on the router, Groq, OpenRouter) or ``message.reasoning_content``
(DeepSeek's API, vLLM's and SGLang's reasoning parsers), and ``delta.reasoning`` /
``delta.reasoning_content`` in a stream. Some providers instead leave DeepSeek-R1's and Qwen3's
``<think>...</think>`` block at the start of ``content``; that block is split out here too.

The rule, the same for whole answers and streams (``split_think`` is a ``ThinkSplitter`` fed once):
content that begins (after white space) with ``<think>`` is reasoning up to ``</think>``; the white space
after ``</think>`` is dropped; an unclosed block (the answer was cut by ``max_tokens`` while thinking) is all
reasoning. A ``<think>`` anywhere else is the answer's own text and stays in it.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

OPEN, CLOSE = "<think>", "</think>"
# The fields a message or a stream delta carries the thinking in, the first found wins.
FIELDS = ("reasoning_content", "reasoning")
_UNDECIDED, _THINKING, _ANSWER = 0, 1, 2


def reasoning_field(message: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The thinking a message (or delta) carries in a field of its own, or None."""
    if not message:
        return None
    for name in FIELDS:
        value = message.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _held_back(text: str, marker: str) -> int:
    """Length of the longest end of ``text`` that begins ``marker`` (the next piece may complete it)."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


class ThinkSplitter:
    """Splits one choice's streamed content into (reasoning, answer) pieces; ``flush`` at the end."""

    __slots__ = ("_state", "_pending", "_strip")

    def __init__(self) -> None:
        self._state = _UNDECIDED
        self._pending = ""
        self._strip = False  # drop the white space between </think> and the answer

    def feed(self, text: str) -> Tuple[str, str]:
        if self._state == _ANSWER:
            return "", self._answer(text)
        pending = self._pending + text
        self._pending = ""
        if self._state == _UNDECIDED:
            stripped = pending.lstrip()
            if stripped.startswith(OPEN):
                self._state, pending = _THINKING, stripped[len(OPEN):]
            elif OPEN.startswith(stripped):  # nothing yet, or the start of "<think>": wait for more
                self._pending = pending
                return "", ""
            else:
                self._state = _ANSWER
                return "", pending
        at = pending.find(CLOSE)
        if at != -1:
            self._state, self._strip = _ANSWER, True
            return pending[:at], self._answer(pending[at + len(CLOSE):])
        keep = _held_back(pending, CLOSE)
        if keep:
            self._pending = pending[-keep:]
            pending = pending[:-keep]
        return pending, ""

    def _answer(self, text: str) -> str:
        if self._strip:
            text = text.lstrip()
            self._strip = not text
        return text

    def flush(self) -> Tuple[str, str]:
        """What is held back: the start of an answer that never became ``<think>``, or unclosed thinking."""
        pending, self._pending = self._pending, ""
        if self._state == _THINKING:
            return pending, ""
        return "", pending


def split_think(text: str) -> Tuple[Optional[str], str]:
    """A whole answer's content as (reasoning or None, answer): the stream's rule applied at once."""
    if not text or OPEN not in text:
        return None, text
    splitter = ThinkSplitter()
    reasoning, answer = splitter.feed(text)
    rest_reasoning, rest_answer = splitter.flush()
    return (reasoning + rest_reasoning) or None, answer + rest_answer


def reasoning_and_text(message: Optional[Mapping[str, Any]], text: str) -> Tuple[Optional[str], str]:
    """A whole answer's (reasoning, text): the reasoning field, else a leading ``<think>`` block of the text."""
    field = reasoning_field(message)
    thought, answer = split_think(text)
    if field is not None:
        return (field + thought if thought else field), answer
    return thought, answer


__all__ = ["ThinkSplitter", "reasoning_and_text", "reasoning_field", "split_think"]
