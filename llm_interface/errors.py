"""One exception tree for everything llm_interface raises.

    LLMInterfaceError                  base: catch this to catch everything
    +-- ConfigurationError             bad input from the caller, found before any network I/O
    |   +-- MissingAPIKeyError         no key found anywhere (the message lists every way to set one)
    |   +-- UnknownProviderError       provider name not registered
    |   +-- UnknownModelError          alias unknown and not a model id
    |   +-- InvalidRequestError        empty message, wrong types, bad option values
    |   +-- UnsupportedTaskError       the provider/mode cannot do that task
    |   +-- MissingDependencyError     an optional extra is not installed (names the extra)
    +-- APIError                       the server answered with an error
    |   +-- AuthenticationError        401 / 403
    |   +-- PaymentRequiredError       402 (credits exhausted)
    |   +-- NotFoundError              404 / 410
    |   |   +-- ModelNotFoundError     a local model folder or file does not exist
    |   +-- ValidationError            400 / 413 / 422 (the server refused the request)
    |   +-- RateLimitError             429 (.retry_after in seconds, when the server said)
    |   +-- ModelLoadingError          503 with estimated_time, or a scaled-to-zero endpoint
    |   +-- ServerError                5xx and anything else unexpected from the server
    |   +-- ResourceExhaustedError     a local model ran out of memory (GPU or RAM)
    |   +-- InvalidResponseError       a 2xx whose body cannot be understood (HTML, empty, bad JSON)
    +-- TimeoutError                   connect or read timeout (also a builtins.TimeoutError)
    +-- ConnectionError                DNS, refused, reset (also a builtins.ConnectionError)
    +-- StreamError                    a stream ended early or broke mid-way (never a silent truncation)
    +-- CacheUnavailableError          an operation asked of the cache itself (flush_cache) could not run

Every error carries ``provider``, ``model``, ``status``, ``request_id`` and ``server_message`` (the
server's own words), and its ``str()`` says how to fix it where we know. API keys never reach an
error: every message, server message and body passes through ``redact.scrub`` in
``LLMInterfaceError.__init__``, which hides each secret a call registered (``redact.remember``) and
anything shaped like a key, so code that builds an error from a server's words need not know the key.
"""

from __future__ import annotations

import builtins
import json
from typing import Any, Mapping, Optional, Tuple

from . import redact
from .wait_headers import estimated_time


class LLMInterfaceError(Exception):
    """Base class of every error raised by llm_interface.

    ``retries`` is how many times the call was retried before this error was raised (``attempts`` =
    retries + 1): set by the transport's retry loop, 0 for errors raised before any request.
    """

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def __init__(
        self,
        message: str,
        *,
        provider: Optional[str] = None,
        model: Optional[str] = None,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        server_message: Optional[str] = None,
        body: Any = None,
    ) -> None:
        # The one place a server's words are scrubbed: a body quoting the request back (an HTML 200, a
        # 200 {"error": ...}, an SSE error event) must not carry the key into str, repr or .body.
        message = redact.text(message)
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status = status
        self.request_id = request_id
        self.server_message = None if server_message is None else redact.text(server_message)
        self.body = None if body is None else redact.scrub_value(body)
        self.retries = 0

    def __str__(self) -> str:
        where = ", ".join(
            f"{name}={value}"
            for name, value in (
                ("provider", self.provider),
                ("model", self.model),
                ("status", self.status),
                ("request_id", self.request_id),
            )
            if value is not None
        )
        return f"{self.message} [{where}]" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):  # picklable across processes (batches, multiprocessing)
        return (_rebuild, (type(self), self.message, self._fields()))

    def _fields(self) -> dict:
        return {
            "provider": self.provider,
            "model": self.model,
            "status": self.status,
            "request_id": self.request_id,
            "server_message": self.server_message,
            "body": self.body,
            "retries": self.retries,
        }


def _rebuild(cls, message, fields):
    error = cls.__new__(cls)
    LLMInterfaceError.__init__(error, message, **{k: v for k, v in fields.items() if k in _BASE_FIELDS})
    for key, value in fields.items():
        setattr(error, key, value)
    return error


_BASE_FIELDS = ("provider", "model", "status", "request_id", "server_message", "body")


class ConfigurationError(LLMInterfaceError):
    """The call cannot be made as asked; nothing was sent."""


class MissingAPIKeyError(ConfigurationError):
    """No API key was found for a provider that needs one."""


class UnknownProviderError(ConfigurationError):
    """The provider name is not registered."""


class UnknownModelError(ConfigurationError):
    """The model is neither a known alias nor something that looks like a model id."""


class InvalidRequestError(ConfigurationError, ValueError):
    """The message or an option is malformed (empty, wrong type, out of range)."""


class UnsupportedTaskError(ConfigurationError):
    """The provider, or the provider in this mode, cannot do the task asked."""


class NoProviderError(UnsupportedTaskError):
    """No (enabled, live) Inference Provider serves the model for the task; ``providers`` lists those the Hub
    names for it (hf_hub_mapping.py)."""

    def __init__(self, message: str, *, providers: Tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.providers = providers


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class APIError(LLMInterfaceError):
    """The server answered with an error status, or with a body we cannot read."""


class AuthenticationError(APIError):
    """401/403: the key is missing, wrong, or lacks permission for this model."""


class PaymentRequiredError(APIError):
    """402: the account has no credits left for this provider."""


class NotFoundError(APIError):
    """404/410: the model or route does not exist (or is not served)."""


class ValidationError(APIError):
    """400/413/422: the server refused the request's content."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the server's suggested wait in seconds, if any."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def _fields(self) -> dict:
        return {**super()._fields(), "retry_after": self.retry_after}


class ModelLoadingError(APIError):
    """503 while a model loads or an endpoint scales up. ``estimated_time`` is in seconds, if given."""

    def __init__(self, message: str, *, estimated_time: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.estimated_time = estimated_time

    def _fields(self) -> dict:
        return {**super()._fields(), "estimated_time": self.estimated_time}


class ServerError(APIError):
    """5xx, or an unexpected status."""


class ResourceExhaustedError(APIError):
    """A local model ran out of memory (CUDA out of memory, MemoryError): use a smaller model, a lower
    precision (``torch_dtype``, ``quantization``), fewer tokens, or another device."""


class ModelNotFoundError(NotFoundError):
    """A local model folder or ``.gguf`` file does not exist (or holds no model)."""


class InvalidResponseError(APIError):
    """A success status with a body that is not what the API promises (HTML, empty, malformed JSON)."""


class TimeoutError(LLMInterfaceError, builtins.TimeoutError):  # noqa: A001 - deliberate, documented shadow
    """The server did not connect or answer within the timeout."""


class ConnectionError(LLMInterfaceError, builtins.ConnectionError):  # noqa: A001
    """The server could not be reached (DNS, refused, reset)."""


class StreamError(LLMInterfaceError):
    """A stream broke or ended before the server said it was finished."""


class CacheUnavailableError(LLMInterfaceError):
    """The cache store could not do what was asked of it directly (``flush_cache``): down, locked, read-only.
    A call's own cache reads and writes never raise it: they warn and go on without the cache."""


class CacheMissError(ConfigurationError):
    """Replay mode: the request has no recorded answer, and the network may not be used."""


class ModelNotSupportedError(ValidationError):
    """The router answered 400 ``model_not_supported`` (or preflight found no provider fit for the request):
    ``alternatives`` holds the catalogue's providers for the model that would serve it (router_preflight.py)."""

    def __init__(self, message: str, *, alternatives: Tuple[Any, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.alternatives = alternatives


class BudgetExceededError(ConfigurationError):
    """A call would take the client past its ``configure_budget(usd=...)``; ``spent`` and ``budget`` in USD."""

    def __init__(self, message: str, *, spent: float = 0.0, budget: float = 0.0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.spent = spent
        self.budget = budget


# -- building errors from HTTP answers ---------------------------------------------------------

_HINTS = {
    AuthenticationError: "Check the API key: set it with LLMInterface.set_api_key(...), the api_key option, or HF_TOKEN.",
    PaymentRequiredError: "The account is out of credits; add credits or use another provider or endpoint.",
    NotFoundError: "Check the model id and the api_base; the model may not be served in this mode.",
    RateLimitError: "Slow down: raise retry_attempts, or set a client-side rate limit.",
    ModelLoadingError: (
        "The model is loading or scaling up; retry later, raise retry_attempts, or (for an Inference "
        "Endpoint scaled to zero) pass options={'scale_up_timeout': 600}."
    ),
}


def server_message_of(body: Any, headers: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The server's own words, from any of the error shapes Hugging Face surfaces use.

    ``error`` as a string, a list, or an object with ``message``; a top-level ``message`` or ``detail``;
    plain text; else the ``X-Error-Message`` header.
    """
    message: Optional[str] = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):
            message = error
        elif isinstance(error, list):
            message = "; ".join(str(item) for item in error)
        elif isinstance(error, dict):
            message = error.get("message") or error.get("detail") or json.dumps(error)
        elif isinstance(body.get("message"), str):
            message = body["message"]
        elif body.get("detail") is not None:
            detail = body["detail"]
            message = detail if isinstance(detail, str) else json.dumps(detail)
    elif isinstance(body, list) and body:
        message = "; ".join(str(item) for item in body)
    elif isinstance(body, str) and body.strip():
        message = _shorten(body.strip())
    if not message and headers:
        message = headers.get("x-error-message") or headers.get("X-Error-Message")
    return message


def _shorten(text: str, limit: int = 500) -> str:
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "the server answered with an HTML page instead of JSON (is api_base pointing at the API?)"
    return text if len(text) <= limit else text[:limit] + "..."


def error_for_status(
    status: int,
    body: Any,
    headers: Optional[Mapping[str, str]] = None,
    *,
    provider: Optional[str] = None,
    model: Optional[str] = None,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> APIError:
    """Build the typed error for an HTTP error answer. ``retry_after`` comes from retry.py's header parsing."""
    server_message = server_message_of(body, headers)
    common = dict(
        provider=provider,
        model=model,
        status=status,
        request_id=request_id,
        server_message=server_message,
        body=body,
    )
    estimated = estimated_time(body)
    cls: type
    if status in (401, 403):
        cls = AuthenticationError
    elif status == 402:
        cls = PaymentRequiredError
    elif status in (404, 410):
        cls = NotFoundError
    elif status in (400, 413, 422):
        cls = ValidationError
    elif status == 429:
        cls = RateLimitError
    elif status == 503 and (estimated is not None or _mentions_loading(server_message) or _says_nothing(body)):
        # A Dedicated Endpoint scaled to zero answers a bare 503 (no body) while a replica starts
        # (hf-endpoints docs, autoscaling): that is "loading", and the fix is X-Scale-Up-Timeout.
        cls = ModelLoadingError
    else:
        cls = ServerError
    text = f"{_STATUS_WORDS.get(status, 'HTTP error')} ({status})"
    if server_message:
        text += f": {server_message}"
    hint = _HINTS.get(cls)
    if hint:
        text += f". {hint}"
    if cls is RateLimitError:
        return RateLimitError(text, retry_after=retry_after, **common)
    if cls is ModelLoadingError:
        return ModelLoadingError(text, estimated_time=estimated, **common)
    return cls(text, **common)


def _says_nothing(body: Any) -> bool:
    return body is None or (isinstance(body, str) and not body.strip())


def _mentions_loading(message: Optional[str]) -> bool:
    return message is not None and "loading" in message.lower()


_STATUS_WORDS = {
    400: "Bad request",
    401: "Unauthorized",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    408: "Request timeout",
    410: "Gone",
    413: "Request too large",
    422: "Unprocessable request",
    424: "Generation failed",
    425: "Too early",
    429: "Rate limited",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
