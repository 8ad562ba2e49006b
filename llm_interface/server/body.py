"""Reading a client's JSON body: finite numbers only, and LiteLLM's one tolerance (trailing commas).

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e400`` (which becomes ``inf``); none of them is
JSON, and forwarded upstream they make the library send a non-JSON body. They are refused with 400.

LiteLLM's proxy accepts a body with a trailing comma before ``}`` or ``]`` (its own Hugging Face page's
curl has one), so this proxy does too: only that, outside strings. Anything else that is not JSON is
still a 400: this is no general repair of bad JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any, Optional

from .errors import ProxyError

_NOT_FINITE = "Numbers in the request body must be finite: NaN and infinities are not JSON."


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e400" parses as inf
        raise ProxyError(400, f"{_NOT_FINITE} Got {text}.")
    return value


def _no_constant(name: str) -> Any:
    raise ProxyError(400, f"{_NOT_FINITE} Got {name}.")


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=_finite, parse_constant=_no_constant)


def without_trailing_commas(text: str) -> Optional[str]:
    """``text`` with each comma that is followed (after whitespace) by ``}`` or ``]`` removed, outside
    strings; None when there is no such comma (nothing to tolerate)."""
    out, changed = [], False
    in_string = escaped = False
    for position, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == ",":
            after = position + 1
            while after < len(text) and text[after] in " \t\r\n":
                after += 1
            if text[after:after + 1] in ("}", "]"):
                changed = True
                continue
        out.append(char)
    return "".join(out) if changed else None


def parse_body(raw: bytes) -> Any:
    """The JSON value of a request body; ProxyError(400) for anything but JSON (trailing commas allowed)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProxyError(400, "The request body is not UTF-8 text; send JSON.") from None
    if not text.strip():
        raise ProxyError(400, "The request body is empty; send a JSON object.")
    try:
        return _loads(text)
    except json.JSONDecodeError as error:
        tolerated = without_trailing_commas(text)
        if tolerated is not None:
            try:
                return _loads(tolerated)
            except json.JSONDecodeError:
                pass
        raise ProxyError(400, f"The request body is not valid JSON: {error.msg} at line {error.lineno} "
                              f"column {error.colno}.") from None
