"""The wire types: what a provider asks to send (``HttpCall``), what comes back (``HttpResult``) and who
the call is for (``Context``). A leaf: it imports nothing of ours but errors, so providers, streams and
clients can speak of calls without loading a transport (and requests with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional

from . import errors


@dataclass(frozen=True)
class HttpCall:
    """What a provider wants sent. Headers are left out of the repr: they hold the key."""

    method: str
    url: str
    json: Any = None
    headers: Dict[str, str] = field(default_factory=dict, repr=False)
    stream: bool = False
    timeout: Any = None
    retry_headers: Dict[str, str] = field(default_factory=dict, repr=False)  # added on retries only


@dataclass
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: Any
    elapsed: float
    retries: int = 0

    @property
    def request_id(self) -> Optional[str]:
        return request_id_of(self.headers)


@dataclass(frozen=True)
class Context:
    """Who the call is for, so every error can say it."""

    provider: Optional[str] = None
    model: Optional[str] = None
    # The key this call sends, so that an error body echoing it (some servers quote the Authorization
    # header back) is scrubbed before it reaches an exception, a log line or the proxy's answer.
    secret: Optional[str] = field(default=None, repr=False, compare=False)


RetryHook = Callable[[int, float, errors.LLMInterfaceError], None]


def request_id_of(headers: Optional[Mapping[str, str]]) -> Optional[str]:
    if not headers:
        return None
    return headers.get("x-request-id") or headers.get("x-amzn-trace-id") or headers.get("cf-ray")


