"""The only place HTTP happens (sync). Retries live here; foreign exceptions are translated here, once.

Providers describe a call as an ``HttpCall``; the transport sends it under a ``RetryPolicy`` and
hands back an ``HttpResult`` (or an ``HttpStream`` of SSE events), raising the typed errors of
``errors.py`` for anything else. The async transport (``async_transport.py``) mirrors this file
with aiohttp and shares every decision with it through the helpers below.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.request import getproxies_environment

import requests
import urllib3
from requests.adapters import HTTPAdapter

from . import debug, errors
from .retry import RetryPolicy, retry_delay, server_wait
from .sse import SSEDecoder
from .wire import Context, HttpCall, HttpResult, RetryHook, request_id_of

logger = logging.getLogger("llm_interface")
_wire = debug.wire_logger

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
POOL_SIZE = 64  # matches the largest batch concurrency we document


def timeouts(value: Any) -> Tuple[float, float]:
    """(connect, read) seconds from a number, a pair, or None (the defaults)."""
    if value is None:
        return (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return (min(float(value), DEFAULT_CONNECT_TIMEOUT), float(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and v > 0 for v in value
    ):
        return (float(value[0]), float(value[1]))
    raise errors.InvalidRequestError(f"timeout must be seconds > 0 or a (connect, read) pair, got {value!r}")


def decode_body(content: bytes) -> Any:
    """JSON when the bytes are JSON (whatever the content-type says), else text, else None."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def success_body(status: int, headers: Mapping[str, str], content: bytes, ctx: Context) -> Any:
    """The JSON of a 2xx answer; an empty, HTML or malformed body is an InvalidResponseError."""
    if not content or not content.strip():
        raise errors.InvalidResponseError(
            "The server answered with an empty body; check api_base points at an inference API.",
            provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers),
        )
    try:
        return json.loads(content)
    except ValueError as exc:
        text = content[:200].decode("utf-8", "replace")
        raise errors.InvalidResponseError(
            f"The server's answer is not JSON ({errors.server_message_of(text)!s}); "
            "check api_base points at an inference API.",
            provider=ctx.provider, model=ctx.model, status=status, request_id=request_id_of(headers), body=text,
        ) from exc


def error_from_answer(
    status: int, headers: Mapping[str, str], content: bytes, ctx: Context, secrets: Optional[List[str]] = None
) -> errors.APIError:
    """The typed error for an error answer, with every secret the call carried (``secrets``, else
    ``ctx.secret``) scrubbed from its body, message and server message: some servers quote the
    request's headers back, in the body or in a header such as X-Error-Message."""
    if secrets is None:
        secrets = [ctx.secret] if ctx.secret else []
    content = debug.scrub(content, secrets)
    error = errors.error_for_status(
        status,
        decode_body(content),
        headers,
        provider=ctx.provider,
        model=ctx.model,
        request_id=request_id_of(headers),
        retry_after=server_wait(headers, None) if status == 429 else None,
    )
    error.message = debug.scrub(error.message, secrets)
    if error.server_message:
        error.server_message = debug.scrub(error.server_message, secrets)
    return error


def encoded(call: HttpCall) -> Tuple[Optional[bytes], Dict[str, str]]:
    """(body bytes, request headers) of a call, built once for all its attempts (both transports)."""
    headers = dict(call.headers)
    if call.json is None:
        return None, headers
    headers["Content-Type"] = "application/json"
    return json.dumps(call.json, ensure_ascii=False).encode("utf-8"), headers


def answer_error(call: HttpCall, status: int, headers: Mapping[str, str], content: bytes, ctx: Context) -> errors.APIError:
    """The typed error for an error answer, logged first in debug mode; the key and every other
    secret header (``X-Api-Key``...) are redacted from both."""
    secrets = debug.secrets_of(call.headers)
    if ctx.secret:
        secrets.append(ctx.secret)
    if _wire.isEnabledFor(logging.DEBUG):
        debug.log_answer(call.url, status, content, secrets)
    return error_from_answer(status, headers, content, ctx, secrets)


def timeout_error(ctx: Context, call: HttpCall, what: str) -> errors.TimeoutError:
    connect, read = timeouts(call.timeout)
    return errors.TimeoutError(
        f"{what} timed out (connect {connect:g}s, read {read:g}s) for {_where(call.url)}; "
        "raise the timeout option or retry_attempts.",
        provider=ctx.provider, model=ctx.model,
    )


def connection_error(ctx: Context, call: HttpCall, exc: BaseException) -> errors.ConnectionError:
    return errors.ConnectionError(
        f"Could not connect to {_where(call.url)} ({type(exc).__name__}); check api_base and the network.",
        provider=ctx.provider, model=ctx.model,
    )


def request_failed_error(ctx: Context, call: HttpCall, exc: BaseException) -> errors.ConnectionError:
    return errors.ConnectionError(
        f"The request to {_where(call.url)} failed: {type(exc).__name__}.",
        provider=ctx.provider, model=ctx.model,
    )


def read_error(ctx: Context, call: HttpCall, exc: BaseException, timed_out: bool) -> errors.LLMInterfaceError:
    """A 2xx answer whose body stalled (``timed_out``) or broke off while being read. Not retried:
    the server may already have done the work."""
    if timed_out:
        return timeout_error(ctx, call, "Reading the answer")
    return errors.ConnectionError(
        f"The answer from {_where(call.url)} broke off while being read ({type(exc).__name__}).",
        provider=ctx.provider, model=ctx.model,
    )


def _read_timed_out(exc: BaseException) -> bool:
    """requests reports a read timeout while reading a body as a ConnectionError wrapping urllib3's."""
    return isinstance(exc, requests.exceptions.Timeout) or bool(
        exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError)
    )


def _where(url: str) -> str:
    return url.split("?", 1)[0]


class Retrier:
    """The retry loop's bookkeeping, shared by the sync and async transports."""

    __slots__ = ("policy", "ctx", "on_retry", "retries", "waited")

    def __init__(self, policy: RetryPolicy, ctx: Context, on_retry: Optional[RetryHook]) -> None:
        self.policy = policy
        self.ctx = ctx
        self.on_retry = on_retry
        self.retries = 0
        self.waited = 0.0

    def wait_or_raise(
        self, error: errors.LLMInterfaceError, headers: Optional[Mapping[str, str]], cause: Optional[BaseException]
    ) -> float:
        """Seconds to wait before the next attempt; raises ``error`` (from ``cause``) when there is none."""
        delay = self.next_wait(error, headers, error.body if headers is not None else None)
        if delay is None:
            if cause is not None:
                raise error from cause
            raise error
        return delay

    def next_wait(self, error: errors.LLMInterfaceError, headers: Optional[Mapping[str, str]], body: Any) -> Optional[float]:
        """Seconds to wait before trying again, or None to give up (then raise ``error``).

        Giving up happens before any sleep: there is never a wait after the last attempt. The total
        budget (``max_retry_wait``) counts the waits: a retry whose wait would pass it is not made,
        since sleeping and then failing anyway only delays the error.
        """
        error.retries = self.retries
        retryable = isinstance(error, (errors.APIError, errors.TimeoutError, errors.ConnectionError))
        if not retryable or not self.policy.should_retry(self.retries, error.status):
            if self.retries and retryable:
                error.message += f" (gave up after {self.retries + 1} attempts)"
            return None
        delay = retry_delay(
            error.status, headers, body, self.retries,
            multiplier=self.policy.multiplier, max_wait=self.policy.max_wait,
        )
        if self.waited + delay > self.policy.budget:
            error.message += (
                f" (gave up after {self.retries + 1} attempts: the next wait of {delay:.1f}s would pass "
                f"max_retry_wait={self.policy.budget:g}s)"
            )
            return None
        self.retries += 1
        self.waited += delay
        logger.warning(
            "Retry %d/%d for %s %s in %.2fs: %s",
            self.retries, self.policy.attempts, self.ctx.provider, self.ctx.model or "(server default model)", delay, error,
        )
        if self.on_retry is not None:
            self.on_retry(self.retries, delay, error)
        return delay


def _arrivals(raw: Any) -> Iterator[bytes]:
    """The body's bytes as they arrive.

    ``raw.stream(n)`` is fine for chunked answers (one read per HTTP chunk), but on a close-delimited
    answer (no Content-Length, no chunking: HTTP/1.0-style servers and some proxies) it blocks until
    ``n`` bytes have arrived, so tokens would stall in 8 KB bursts. ``read1`` returns whatever is
    there (urllib3 >= 2.3).
    """
    if getattr(raw, "chunked", False) or not hasattr(raw, "read1"):
        yield from raw.stream(8192, decode_content=True)
        return
    while True:
        data = raw.read1(8192, decode_content=True)
        if not data:
            return
        yield data


class HttpStream:
    """An open SSE answer. Iterate for ``(event, data)``; close (or use ``with``) to free the connection."""

    def __init__(self, response: requests.Response, ctx: Context, retries: int, started: float) -> None:
        self._response = response
        self._ctx = ctx
        self.retries = retries
        self.started = started
        self.headers = response.headers
        self.request_id = request_id_of(response.headers)
        self.closed = False

    def __iter__(self) -> Iterator[Tuple[Optional[str], bytes]]:
        decoder = SSEDecoder()
        logged = _wire.isEnabledFor(logging.DEBUG)
        try:
            for chunk in _arrivals(self._response.raw):
                if logged:
                    debug.log_event(chunk)
                yield from decoder.feed(chunk)
        except requests.exceptions.RequestException as exc:
            raise self._broken(exc) from exc
        except Exception as exc:  # urllib3 errors: ProtocolError, ReadTimeoutError (read timeout mid-stream)
            if type(exc).__module__.startswith("urllib3"):
                raise self._broken(exc) from exc
            raise
        finally:
            self.close()
        yield from decoder.close()

    def _broken(self, exc: BaseException) -> errors.StreamError:
        reason = "read timed out" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc) else type(exc).__name__
        return errors.StreamError(
            f"The stream broke before it finished ({reason}); the answer so far is incomplete.",
            provider=self._ctx.provider, model=self._ctx.model, request_id=self.request_id,
        )

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._response.close()

    def __enter__(self) -> "HttpStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


class Transport:
    """A requests.Session with pooled connections; thread-safe for concurrent calls."""

    def __init__(self, session: Optional[requests.Session] = None) -> None:
        self._session = session

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=16, pool_maxsize=POOL_SIZE, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # A set session.auth stops requests from reading ~/.netrc, whose credentials would replace
            # our Authorization header.
            session.auth = _keep_headers
            if not getproxies_environment():
                # No proxy to honour: skip requests' per-call scan of the environment (a visible share of
                # a call's CPU), keeping a CA bundle named there.
                session.trust_env = False
                session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _post(self, call: HttpCall, headers: Dict[str, str], data: Optional[bytes]) -> requests.Response:
        if _wire.isEnabledFor(logging.DEBUG):
            debug.log_call(call.method, call.url, headers, data)
        return self.session.request(
            call.method, call.url, data=data, headers=headers, timeout=timeouts(call.timeout),
            stream=True, allow_redirects=True,  # the body is read by the caller, like the async transport
        )

    def _attempts(self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook]):
        """(the first 2xx requests.Response, retries made); the typed error is raised once retries are spent."""
        retrier = Retrier(policy, ctx, on_retry)
        data, headers = encoded(call)
        while True:
            cause: Optional[BaseException] = None
            answer_headers: Optional[Mapping[str, str]] = None
            try:
                response = self._post(call, headers, data)
            except requests.exceptions.Timeout as exc:
                error: errors.LLMInterfaceError = timeout_error(ctx, call, "The request")
                cause = exc
            except requests.exceptions.ConnectionError as exc:
                error = connection_error(ctx, call, exc)
                cause = exc
            except requests.exceptions.RequestException as exc:
                error = request_failed_error(ctx, call, exc)
                cause = exc
            else:
                if response.status_code < 400:
                    return response, retrier.retries
                try:
                    content = response.content
                except requests.exceptions.RequestException:
                    content = b""
                response.close()
                answer_headers = response.headers
                error = answer_error(call, response.status_code, answer_headers, content, ctx)
            delay = retrier.wait_or_raise(error, answer_headers, cause)
            if delay > 0:
                time.sleep(delay)
            headers.update(call.retry_headers)

    def send(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpResult:
        started = time.perf_counter()
        response, retries = self._attempts(call, ctx, policy, on_retry)
        try:
            content = response.content  # the body is read here, not in _post: its failures are not retried
        except requests.exceptions.RequestException as exc:
            response.close()
            raise read_error(ctx, call, exc, _read_timed_out(exc)) from exc
        except BaseException:  # a half-read connection must not go back to the pool
            response.close()
            raise
        if _wire.isEnabledFor(logging.DEBUG):
            debug.log_answer(call.url, response.status_code, content, debug.secrets_of(call.headers))
        body = success_body(response.status_code, response.headers, content, ctx)
        return HttpResult(response.status_code, response.headers, body, time.perf_counter() - started, retries)

    def get_json(self, url: str, headers: Optional[Mapping[str, str]] = None, ctx: Optional[Context] = None, timeout: Any = None) -> Any:
        """A plain GET answering JSON (Hub metadata such as ``tokenizer_config.json``), without retries."""
        call = HttpCall("GET", url, None, dict(headers or {}), timeout=timeout)
        return self.send(call, ctx or Context(), RetryPolicy(attempts=0)).body

    def open_stream(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpStream:
        """Retried only until the answer starts: once bytes flow, a failure is a StreamError."""
        started = time.perf_counter()
        response, retries = self._attempts(call, ctx, policy, on_retry)
        return HttpStream(response, ctx, retries, started)
