"""Debug mode: wire bodies in the log, with every key redacted.

Turned on by ``LLM_INTERFACE_DEBUG=1``, ``Client(debug=True)``, or by setting the
``llm_interface.wire`` logger (or ``llm_interface``) to DEBUG yourself. Both transports call
``log_call`` / ``log_answer`` / ``log_event`` only after one cheap ``wire_logger.isEnabledFor``
check, so the normal path pays nothing. Whatever is logged passes through ``redact`` first.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any, AnyStr, Iterable, Mapping, Optional

logger = logging.getLogger("llm_interface")
wire_logger = logging.getLogger("llm_interface.wire")

MAX_LOGGED_BODY = 4000  # characters of one body; a long prompt is cut, not the point of a debug log

# Header names whose values are secrets, whatever the provider calls them.
_SECRET_HEADERS = re.compile(r"authorization|api[-_]?key|token|secret|cookie", re.IGNORECASE)
# Key shapes we know, for a key that ends up somewhere unexpected (a body, a URL, an error text).
_KEY_SHAPES = re.compile(r"\b(hf_|sk-|sk_|gsk_|xai-|r8_)[A-Za-z0-9_\-]{8,}")
REDACTED = "[redacted]"  # the one placeholder: logs, exceptions, the proxy's answers


def debug_from_env() -> bool:
    return os.environ.get("LLM_INTERFACE_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def enable(stream: Any = None) -> None:
    """Log wire bodies: the ``llm_interface`` logger goes to DEBUG, with a stderr handler when
    nothing else would print it (an application that configured logging keeps its own handlers)."""
    logger.setLevel(logging.DEBUG)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def redact(value: Any, secrets: Iterable[Optional[str]] = ()) -> str:
    """``value`` as text with each secret (and anything shaped like a known key) replaced by ``[redacted]``.

    Secrets are the exact values to hide (the keys a call carries); the shapes catch a key that
    travelled somewhere we did not expect.
    """
    text = value if isinstance(value, str) else (
        value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)
    )
    return _KEY_SHAPES.sub(lambda m: m.group(1) + REDACTED, scrub(text, secrets))


def scrub(value: AnyStr, secrets: Iterable[Optional[str]]) -> AnyStr:
    """``value`` (text or bytes) with each exact secret replaced by ``REDACTED``; nothing else changes.
    The one scrubber for logs, exceptions and the proxy's answers."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            if isinstance(value, str):
                value = value.replace(secret, REDACTED)
            else:
                value = value.replace(secret.encode("utf-8"), REDACTED.encode("utf-8"))
    return value


def redact_headers(headers: Mapping[str, str]) -> dict:
    """Headers with every secret-bearing value replaced (``Authorization: Bearer [redacted]``)."""
    out = {}
    for name, value in headers.items():
        if _SECRET_HEADERS.search(name):
            scheme = value.split(" ", 1)[0] + " " if " " in str(value) else ""
            out[name] = scheme + REDACTED
        else:
            out[name] = redact(value)
    return out


def secrets_of(headers: Mapping[str, str]) -> list:
    """The secret values in a call's headers (the bearer token without its scheme)."""
    found = []
    for name, value in headers.items():
        if _SECRET_HEADERS.search(name) and value:
            found.append(str(value))
            if " " in str(value):
                found.append(str(value).split(" ", 1)[1])
    return found


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LOGGED_BODY else text[:MAX_LOGGED_BODY] + f"... ({len(text)} chars)"


def log_call(method: str, url: str, headers: Mapping[str, str], body: Optional[bytes]) -> None:
    secrets = secrets_of(headers)
    wire_logger.debug(
        "-> %s %s headers=%s body=%s",
        method, redact(url, secrets), redact_headers(headers), _cut(redact(body or b"", secrets)),
    )


def log_answer(url: str, status: int, content: Optional[bytes], secrets: Iterable[str] = ()) -> None:
    wire_logger.debug("<- %s %s body=%s", status, redact(url, secrets), _cut(redact(content or b"", secrets)))


def log_event(data: bytes) -> None:
    wire_logger.debug("<- sse %s", _cut(redact(data)))
