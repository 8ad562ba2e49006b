"""Every failure the proxy answers, in OpenAI's error shape ``{"error": {message, type, param, code}}``.

Status mapping of the library's typed errors (documented in docs/proxy.md):

    ConfigurationError (bad input: options, messages)  400 invalid_request_error
    UnknownModelError                                  404 invalid_request_error / model_not_found
    UnsupportedTaskError (and NoProviderError)         400 invalid_request_error / unsupported_task
    BudgetExceededError (the client's configure_budget) 402 insufficient_quota / budget_exceeded
    MissingAPIKeyError, MissingDependencyError          500 server_error (the proxy's own set-up; the client
        gets a fixed message: the library's advice names server paths and Python calls, the operator's business)
    upstream AuthenticationError (401/403)             502 upstream_authentication_error
        (never 401: that status means the client's key for *this proxy* was refused)
    upstream PaymentRequiredError (402)                402 insufficient_quota
    upstream NotFoundError                             404 invalid_request_error / upstream_model_not_found
    upstream ValidationError (400/413/422)             the same status, invalid_request_error
    ModelNotSupportedError (router, no fitting provider) 400 invalid_request_error / model_not_supported
    upstream RateLimitError                            429 rate_limit_error (+ Retry-After)
    upstream ModelLoadingError                         503 model_loading (+ Retry-After)
    ResourceExhaustedError (a local model out of memory) 503 server_error / resource_exhausted
    ModelNotFoundError (a local model's files missing) 500 server_error / model_files_missing (fixed message)
    upstream ServerError, InvalidResponseError         502 upstream_error (InvalidResponseError: code
        invalid_upstream_response, a wrong-shaped answer)
    TimeoutError                                       504 timeout
    ConnectionError                                    502 upstream_connection_error
    StreamError                                        502 upstream_stream_error
    CacheUnavailableError (the proxy's cache store down) 503 server_error / cache_unavailable
    any other exception (a bug)                        500 server_error / internal_error, no traceback

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
    (errors.ModelNotFoundError, 500, "server_error", "model_files_missing"),
    (errors.UnknownModelError, 404, "invalid_request_error", "model_not_found"),
    (errors.UnsupportedTaskError, 400, "invalid_request_error", "unsupported_task"),
    (errors.BudgetExceededError, 402, "insufficient_quota", "budget_exceeded"),
    (errors.ConfigurationError, 400, "invalid_request_error", None),
    (errors.AuthenticationError, 502, "upstream_authentication_error", "upstream_authentication_failed"),
    (errors.PaymentRequiredError, 402, "insufficient_quota", "insufficient_quota"),
    (errors.NotFoundError, 404, "invalid_request_error", "upstream_model_not_found"),
    (errors.ModelNotSupportedError, 400, "invalid_request_error", "model_not_supported"),
    (errors.ValidationError, 400, "invalid_request_error", None),
    (errors.RateLimitError, 429, "rate_limit_error", "rate_limit_exceeded"),
    (errors.ModelLoadingError, 503, "model_loading", "model_loading"),
    (errors.ResourceExhaustedError, 503, "server_error", "resource_exhausted"),
    (errors.TimeoutError, 504, "timeout", "upstream_timeout"),
    (errors.ConnectionError, 502, "upstream_connection_error", "upstream_unreachable"),
    (errors.StreamError, 502, "upstream_stream_error", None),
    (errors.CacheUnavailableError, 503, "server_error", "cache_unavailable"),
    (errors.InvalidResponseError, 502, "upstream_error", "invalid_upstream_response"),
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
    message = _FOR_CLIENTS.get(code or "") or scrub(str(error), secrets)
    return status, error_body(message, type_, code), headers


# Set-up problems only the operator can fix: the library's own message says how in Python terms and
# names server paths (the token file), so the client gets this and the server log gets the original.
_FOR_CLIENTS = {
    "upstream_key_missing": "This proxy has no upstream API key for the model; its operator must configure one "
                            "(litellm_params.api_key in the proxy's config). See the proxy's log.",
    "model_files_missing": "This proxy's local model files for the model are missing; its operator must fix the "
                           "model path in the proxy's config. See the proxy's log.",
    "missing_dependency": "This proxy lacks a component it needs for this request; its operator must install it. "
                          "See the proxy's log.",
}


def internal_error(error: BaseException) -> Tuple[int, Dict[str, Any]]:
    """(status, body) for an exception that is not one of the library's typed errors: a bug, never
    shown as a traceback or as its own text (which could carry anything)."""
    return 500, error_body(f"The proxy failed to handle this request ({type(error).__name__}); "
                           "its operator can find the details in the proxy's log.", "server_error", "internal_error")
