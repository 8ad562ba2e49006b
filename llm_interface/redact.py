"""Secret redaction: the one place that hides keys from errors, log lines and the proxy's answers.

Two kinds of secret are hidden:
- the exact values a call carries (its API key, every secret header such as ``X-Api-Key``): each
  ``Context`` and ``HttpCall`` registers them here when it is built (``remember``), so any error
  built later from a server's words (an HTML 200, a 200 ``{"error": ...}``, an SSE error event
  quoting the request back) is scrubbed without the code that builds it knowing the key;
- anything shaped like a known key (``hf_...``, ``sk-...``), for a key that travelled where we did
  not expect.

``LLMInterfaceError.__init__`` passes its message, server message and body through ``scrub``, so every
typed error is scrubbed in that one constructor. A leaf module: it imports nothing of ours.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any, AnyStr, Iterable, Mapping, Optional

REDACTED = "[redacted]"  # the one placeholder: logs, exceptions, the proxy's answers
MIN_SECRET = 4  # shorter values would redact ordinary words
MIN_REMEMBERED = 8  # a remembered secret hides itself from every later error: it must not be a common word
_REMEMBERED_MAX = 1024  # distinct secrets kept (oldest forgotten first): a proxy sees many keys

# Header names whose values are secrets, whatever the provider calls them.
SECRET_HEADER = re.compile(r"authorization|api[-_]?key|token|secret|cookie", re.IGNORECASE)
# Key shapes we know, for a key that ends up somewhere unexpected (a body, a URL, an error text).
_KEY_SHAPES = re.compile(r"\b(hf_|sk-|sk_|gsk_|xai-|r8_)[A-Za-z0-9_\-]{8,}")

_remembered: "OrderedDict[str, None]" = OrderedDict()
_lock = threading.Lock()


def remember(*secrets: Optional[str]) -> None:
    """Register secrets a call carries, so that every later error and log line hides them."""
    for secret in secrets:
        secret = str(secret or "").strip()
        if len(secret) < MIN_REMEMBERED:
            continue
        with _lock:
            if secret in _remembered:
                _remembered.move_to_end(secret)
                continue
            _remembered[secret] = None
            if len(_remembered) > _REMEMBERED_MAX:
                _remembered.popitem(last=False)


def remember_headers(headers: Mapping[str, str]) -> None:
    """Register the secret header values of a call (a bearer token without its scheme)."""
    for name, value in headers.items():
        if value and SECRET_HEADER.search(name):
            remember(str(value).strip().split(" ", 1)[-1])


def remembered() -> list:
    with _lock:
        return list(_remembered)


def is_secret_header(name: str) -> bool:
    return bool(SECRET_HEADER.search(name))


def secrets_of(headers: Mapping[str, str]) -> list:
    """The secret values in a call's headers (a bearer token also without its scheme)."""
    found = []
    for name, value in headers.items():
        if value and SECRET_HEADER.search(name):
            text = str(value)
            found.append(text)
            if " " in text:
                found.append(text.split(" ", 1)[1])
    return found


def _all(secrets: Iterable[Optional[str]]) -> list:
    # Longest first: a bearer value "Bearer k" must go before "k" leaves "Bearer [redacted]" half-done.
    wanted = {s for s in secrets if s and len(s) >= MIN_SECRET}
    wanted.update(remembered())
    return sorted(wanted, key=len, reverse=True)


def scrub(value: AnyStr, secrets: Iterable[Optional[str]] = ()) -> AnyStr:
    """``value`` (text or bytes) with each secret (``secrets`` and every remembered one) replaced by
    ``[redacted]``; text also loses every key-shaped word."""
    return _scrub(value, _all(secrets))


def _scrub(value: AnyStr, ordered: list) -> AnyStr:
    for secret in ordered:
        if isinstance(value, str):
            value = value.replace(secret, REDACTED)
        else:
            value = value.replace(secret.encode("utf-8"), REDACTED.encode("utf-8"))
    if isinstance(value, str):
        return _KEY_SHAPES.sub(lambda m: m.group(1) + REDACTED, value)
    return value


def text(value: Any, secrets: Iterable[Optional[str]] = ()) -> str:
    """``value`` (text, bytes or anything) as scrubbed text."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    return scrub(value, secrets)


def clip(value: Any, limit: int, secrets: Iterable[Optional[str]] = ()) -> str:
    """The first ``limit`` characters of ``value`` as scrubbed text, for a message quoting a body. Scrub
    first, then cut: a key cut in half is no longer a whole secret for the scrub to find."""
    return text(value, secrets)[:limit]


def scrub_value(value: Any, secrets: Iterable[Optional[str]] = ()) -> Any:
    """A parsed body (dicts, lists, text) with every string in it scrubbed; other values unchanged."""
    return _scrub_value(value, _all(secrets))


def _scrub_value(value: Any, ordered: list) -> Any:
    if isinstance(value, str):
        return _scrub(value, ordered)
    if isinstance(value, bytes):
        return _scrub(value, ordered)
    if isinstance(value, dict):
        return {_scrub_value(k, ordered): _scrub_value(v, ordered) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub_value(v, ordered) for v in value)
    return value


def headers(values: Mapping[str, str]) -> dict:
    """Headers with every secret-bearing value replaced (``Authorization: Bearer [redacted]``)."""
    out = {}
    for name, value in values.items():
        if SECRET_HEADER.search(name):
            scheme = str(value).split(" ", 1)[0] + " " if " " in str(value) else ""
            out[name] = scheme + REDACTED
        else:
            out[name] = text(value)
    return out
