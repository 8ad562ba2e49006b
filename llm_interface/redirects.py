"""The redirect rule, the same for both transports: a redirect to another origin drops every secret
header (``Authorization``, ``X-Api-Key``, any header ``redact`` treats as secret), as requests does
for ``Authorization`` alone. Same origin means same host and port, with the same scheme or an
upgrade from http to https on the default ports. Pure.
"""

from __future__ import annotations

from typing import Dict, Mapping
from urllib.parse import urlsplit

from .redact import is_secret_header

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def crosses_origin(old_url: str, new_url: str) -> bool:
    """Whether following ``old_url`` -> ``new_url`` must drop the call's secrets."""
    old, new = urlsplit(old_url), urlsplit(new_url)
    try:
        old_port = old.port or _DEFAULT_PORTS.get(old.scheme)
        new_port = new.port or _DEFAULT_PORTS.get(new.scheme)
    except ValueError:
        return True
    if (old.hostname or "").lower() != (new.hostname or "").lower():
        return True
    if old.scheme == new.scheme:
        return old_port != new_port
    # http -> https on the default ports is the one scheme change that keeps them (as requests).
    return not (old.scheme == "http" and new.scheme == "https" and old_port == 80 and new_port == 443)


def without_secrets(headers: Mapping[str, str]) -> Dict[str, str]:
    return {name: value for name, value in headers.items() if not is_secret_header(name)}
