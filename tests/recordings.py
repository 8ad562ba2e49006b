"""Access to the real Hugging Face exchanges recorded in ``tests/fixtures/hf-reference`` (a copy of
``shared/hf-reference``; see its README for provenance)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

REFERENCE = Path(__file__).parent / "fixtures" / "hf-reference"


@lru_cache(maxsize=None)
def exchanges() -> List[Dict[str, Any]]:
    return json.loads((REFERENCE / "recorded-exchanges.json").read_text(encoding="utf-8"))


def exchanges_for(task: str, *, stream: bool | None = None, status: int | None = None) -> List[Dict[str, Any]]:
    return [
        case
        for case in exchanges()
        if case["task"] == task
        and (stream is None or case["stream"] == stream)
        and (status is None or case["response"]["status"] == status)
    ]


def exchange(name: str) -> Dict[str, Any]:
    for case in exchanges():
        if case["name"] == name:
            return case
    raise KeyError(name)


@lru_cache(maxsize=None)
def error_bodies() -> List[Dict[str, Any]]:
    return json.loads((REFERENCE / "error_bodies.json").read_text(encoding="utf-8"))["cases"]


def snapshot(path: str) -> Any:
    return json.loads((REFERENCE / "tgi-snapshots" / path).read_text(encoding="utf-8"))


def body_bytes(response: Dict[str, Any]) -> bytes:
    """The recorded body as the server sent it: JSON re-encoded, text as is."""
    body = response["body"]
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")
