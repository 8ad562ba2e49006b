"""Checks a call before its first attempt, so a configuration mistake fails at once with a typed error
(never a ConnectionError retried twice): the URL must be http(s) with a host, header names and values
must be one latin-1 line. Whitespace around a header value (a key read with ``open("token").read()``
ends in a newline) is stripped. Secret header values are never printed. Pure; both transports call it.
"""

from __future__ import annotations

import functools
import re
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

from . import errors, redact
from .wire import HttpCall, encoded, timeouts

_BAD_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_BAD_HEADER_CHARS = re.compile(r"[\r\n\x00]")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field-name


def check_url(url: str) -> None:
    """An InvalidRequestError naming the fix unless ``url`` is an http(s) URL with a host."""
    def bad(why: str) -> errors.InvalidRequestError:
        return errors.InvalidRequestError(
            f"The URL {redact.text(url)!r} {why}; check api_base (e.g. 'http://localhost:8080' or 'https://host/v1')."
        )

    if not isinstance(url, str) or not url:
        raise bad("is empty")
    if _BAD_URL_CHARS.search(url):
        raise bad("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - parsing it raises on a bad port
    except ValueError as exc:
        raise bad(f"cannot be parsed ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise bad("does not start with http:// or https://")
    if not host:
        raise bad("has no host name")


# check_url is pure and asked on every call with the same few URLs: remembered (an error is not).
_checked_url = functools.lru_cache(maxsize=256)(check_url)


def checked_headers(headers: Dict[str, str]) -> Dict[str, str]:
    """``headers`` with surrounding whitespace stripped from each value; an InvalidRequestError for a
    name or value that cannot go on the wire (CR, LF, NUL, non-latin-1), never printing a secret."""
    out = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise errors.InvalidRequestError(
                f"The header name {name!r} is not a valid HTTP header name (letters, digits and -_ only)."
            )
        text = str(value).strip()
        secret = redact.is_secret_header(name)
        if secret and " " in text:  # "Bearer  <key read with its padding>": one space after the scheme
            scheme, token = text.split(None, 1)
            text = f"{scheme} {token.strip()}"
        shown = "its value" if secret else repr(text)
        if _BAD_HEADER_CHARS.search(text):
            raise errors.InvalidRequestError(
                f"The header {name} has a line break or NUL inside {shown}; "
                + ("check the API key (copy it again, on one line)." if secret else "remove it.")
            )
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise errors.InvalidRequestError(
                f"The header {name} has characters HTTP headers cannot carry (non-latin-1) in {shown}; "
                + ("check the API key: keys are plain ASCII." if secret else "use ASCII.")
            ) from None
        out[name] = text
    return out


def ready(call: HttpCall) -> Tuple[Optional[bytes], Dict[str, str], Dict[str, str]]:
    """(body bytes, headers, retry headers) of a call that passed every check, built once for all its
    attempts; a typed ConfigurationError for anything that cannot succeed (it is never retried)."""
    (_checked_url if isinstance(call.url, str) else check_url)(call.url)
    timeouts(call.timeout)
    data, headers = encoded(call)
    return data, checked_headers(headers), checked_headers(call.retry_headers) if call.retry_headers else {}
