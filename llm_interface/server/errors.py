"""Every failure the proxy answers, in OpenAI's error shape ``{"error": {message, type, param, code}}``.

Status mapping of the library's typed errors (documented in docs/proxy.md):

    ConfigurationError (bad input: options, messages)  400 invalid_request_error
    UnknownModelError                                  404 invalid_request_error / model_not_found
    UnsupportedTaskError                               400 invalid_request_error / unsupported_task
    MissingAPIKeyError, MissingDependencyError          500 server_error (the proxy's own set-up)
    upstream AuthenticationError (401/403)             502 upstream_authentication_error
        (never 401: that status means the client's key for *this proxy* was refused)
    upstream PaymentRequiredError (402)                402 insufficient_quota
    upstream NotFoundError                             404 invalid_request_error / upstream_model_not_found
    upstream ValidationError (400/413/422)             the same status, invalid_request_error
    upstream RateLimitError                            429 rate_limit_error (+ Retry-After)
    upstream ModelLoadingError                         503 model_loading (+ Retry-After)
    upstream ServerError, InvalidResponseError         502 upstream_error
    TimeoutError                                       504 timeout
    ConnectionError                                    502 upstream_connection_error
    StreamError                                        502 upstream_stream_error

Messages pass through ``scrub`` so that no configured secret can ever be echoed to a client.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, Optional, Tuple

from .. import errors
from ..redact import scrub


class ProxyError(Exception):
    """An answer the proxy itself decides (bad key, unknown model, too large, bad body)."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: Optional[str] = None, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param


def error_body(message: str, type_: str, code: Optional[str] = None, param: Optional[str] = None) -> Dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# (class, status, type, code): the first class the error is an instance of wins, so order matters.
_MAPPING: Tuple[Tuple[type, int, str, Optional[str]], ...] = (
    (errors.MissingAPIKeyError, 500, "server_error", "upstream_key_missing"),
    (errors.MissingDependencyError, 500, "server_error", "missing_dependency"),
    (errors.UnknownModelError, 404, "invalid_request_error", "model_not_found"),
    (errors.UnsupportedTaskError, 400, "invalid_request_error", "unsupported_task"),
    (errors.ConfigurationError, 400, "invalid_request_error", None),
    (errors.AuthenticationError, 502, "upstream_authentication_error", "upstream_authentication_failed"),
    (errors.PaymentRequiredError, 402, "insufficient_quota", "insufficient_quota"),
    (errors.NotFoundError, 404, "invalid_request_error", "upstream_model_not_found"),
    (errors.ValidationError, 400, "invalid_request_error", None),
    (errors.RateLimitError, 429, "rate_limit_error", "rate_limit_exceeded"),
    (errors.ModelLoadingError, 503, "model_loading", "model_loading"),
    (errors.TimeoutError, 504, "timeout", "upstream_timeout"),
    (errors.ConnectionError, 502, "upstream_connection_error", "upstream_unreachable"),
    (errors.StreamError, 502, "upstream_stream_error", None),
    (errors.APIError, 502, "upstream_error", None),
)


def openai_error(error: errors.LLMInterfaceError, secrets: Iterable[str]) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    """(status, body, headers) for a typed library error."""
    status, type_, code = 500, "server_error", None
    for cls, mapped_status, mapped_type, mapped_code in _MAPPING:
        if isinstance(error, cls):
            status, type_, code = mapped_status, mapped_type, mapped_code
            break
    if isinstance(error, errors.ValidationError) and error.status in (400, 413, 422):
        status = error.status  # the upstream refused the content: keep its precise status
    headers: Dict[str, str] = {}
    wait = getattr(error, "retry_after", None) or getattr(error, "estimated_time", None)
    if wait:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    message = scrub(str(error), secrets)
    return status, error_body(message, type_, code), headers
