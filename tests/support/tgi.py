"""TGI's native generation payloads (``/generate`` and ``/generate_stream``), built one way for every test.

The shapes are TGI's own (tests/fixtures/hf-reference/tgi-snapshots): ``/generate`` answers
``{"generated_text", "details"}``; ``/generate_stream`` sends one event per token, ``generated_text`` and
``details`` only on the last, as ``data:{...}`` lines (TGI writes no space after the colon) and no ``[DONE]``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence


def token(text: str, id: int = 0, logprob: Optional[float] = -0.5, special: bool = False) -> Dict[str, Any]:
    return {"id": id, "text": text, "logprob": logprob, "special": special}


def words_as_tokens(text: str) -> List[Dict[str, Any]]:
    """``text`` cut at spaces, each piece but the first keeping its leading space, as tokenizers do."""
    return [token(w if n == 0 else " " + w, id=n) for n, w in enumerate(text.split(" "))]


def generate_answer(text: str, finish_reason: str = "length", tokens: Optional[Sequence[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """The ``/generate`` body for ``text``."""
    count = len(tokens) if tokens is not None else len(text.split(" "))
    return {"generated_text": text, "details": {"finish_reason": finish_reason, "generated_tokens": count, "seed": None}}


def stream_events(tokens: Sequence[Dict[str, Any]], generated_text: Optional[str] = None,
                  finish_reason: str = "length") -> List[Dict[str, Any]]:
    """The ``/generate_stream`` events for ``tokens``: the last carries the whole text and the details."""
    whole = generated_text if generated_text is not None else "".join(t["text"] for t in tokens)
    events = []
    for position, tok in enumerate(tokens):
        last = position == len(tokens) - 1
        events.append({
            "index": position + 1, "token": tok, "top_tokens": None,
            "generated_text": whole if last else None,
            "details": {"finish_reason": finish_reason, "generated_tokens": len(tokens), "seed": None} if last else None,
        })
    return events


def sse(events: Sequence[Any], done: bool = False) -> bytes:
    """Events as TGI writes them: ``data:{json}`` blank-line separated; ``[DONE]`` only on the OpenAI routes."""
    return ("".join(f"data:{json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")).encode("utf-8")
