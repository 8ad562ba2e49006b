"""Debug mode: wire bodies in the log, with every secret redacted (by ``redact``).

Turned on by ``LLM_INTERFACE_DEBUG=1``, ``Client(debug=True)``, or by setting the
``llm_interface.wire`` logger (or ``llm_interface``) to DEBUG yourself. Both transports call
``log_call`` / ``log_answer`` / ``log_event`` only after one cheap ``wire_logger.isEnabledFor``
check, so the normal path pays nothing. Whatever is logged passes through ``redact.text`` first,
with the call's secrets (every secret header of the call, and every key any call registered).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Iterable, Mapping, Optional

from . import redact

logger = logging.getLogger("llm_interface")
wire_logger = logging.getLogger("llm_interface.wire")

MAX_LOGGED_BODY = 4000  # characters of one body; a long prompt is cut, not the point of a debug log


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


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LOGGED_BODY else text[:MAX_LOGGED_BODY] + f"... ({len(text)} chars)"


def log_call(method: str, url: str, headers: Mapping[str, str], body: Optional[bytes]) -> None:
    secrets = redact.secrets_of(headers)
    wire_logger.debug(
        "-> %s %s headers=%s body=%s",
        method, redact.text(url, secrets), redact.headers(headers), _cut(redact.text(body or b"", secrets)),
    )


def log_answer(url: str, status: int, content: Optional[bytes], secrets: Iterable[Optional[str]] = ()) -> None:
    wire_logger.debug("<- %s %s body=%s", status, redact.text(url, secrets), _cut(redact.text(content or b"", secrets)))


def log_event(data: bytes, secrets: Iterable[Optional[str]] = ()) -> None:
    wire_logger.debug("<- sse %s", _cut(redact.text(data, secrets)))
