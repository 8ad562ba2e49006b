"""Reading a server's body, which is untrusted input (DESIGN rule 10): lenient accessors for the fields an
answer may leave out or send in another shape, and the one way a parser says it cannot read an answer.

The rule every parser follows: an optional field of the wrong type reads as absent (``usage: "x"`` is no
usage, ``tool_calls: "x"`` no tool calls); a field the answer cannot do without (``choices``, a choice's
``message``, ``generated_text``) of the wrong type is an ``InvalidResponseError`` naming the field, with
provider, model, request id and a short excerpt of the body. Never another exception.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from .. import errors
from ..types import _int, _number

EXCERPT = 200

# One reader of JSON numbers for every parser: types.py's (it sits below the providers).
as_int = _int  # an int, or a float with an integral value; bools, NaN, strings read as absent
as_float = _number  # a finite number as float; bools, strings, NaN, infinities read as absent


def as_dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def text_of(content: Any) -> str:
    """A message's ``content``: a string, or the text of a content-part list (other parts are skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def excerpt(body: Any) -> str:
    """The first characters of ``body`` as JSON (or text), for an error message."""
    if isinstance(body, (bytes, bytearray)):
        text = bytes(body[: EXCERPT * 4]).decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:
        try:
            text = json.dumps(body, ensure_ascii=False, default=repr)
        except (ValueError, TypeError, RecursionError):
            text = repr(body)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def invalid(
    what: str,
    body: Any,
    *,
    provider: Optional[str],
    model: Optional[str],
    request_id: Optional[str],
    hint: str = "",
) -> errors.InvalidResponseError:
    """The error for an answer that cannot be read: ``what`` names what is wrong (``"choices[0].message is a
    str, not an object"``); the body is kept on the error and excerpted in its message."""
    message = f"The server's answer cannot be read: {what}. {hint + ' ' if hint else ''}Body: {excerpt(body)}"
    return errors.InvalidResponseError(message, provider=provider, model=model, request_id=request_id, body=body)


def kind(value: Any) -> str:
    """A JSON value's type in JSON's words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
