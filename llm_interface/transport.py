"""The sync transport: HTTP with requests, and nothing else. I/O only.

Providers describe a call as an ``HttpCall``; ``send`` checks it (``preflight``), makes its attempts
under a ``RetryPolicy`` (the decisions are ``retry.Retrier``'s; this file only sleeps) and hands back
an ``HttpResult`` (``open_stream``: an ``HttpStream`` of SSE events). requests' and urllib3's
exceptions are translated once (``http_errors.SendFailures`` while sending, ``_mapped_read`` while
reading) into the typed errors ``http_errors`` builds.
The async transport (``async_transport.py``) is this file with aiohttp.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.request import getproxies_environment

import requests
import urllib3
from requests.adapters import HTTPAdapter

from . import debug, errors, http_errors, preflight, redact, redirects
from .retry import Retrier, RetryPolicy
from .sse import SSEDecoder
from .wire import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DRAIN_BYTES,
    DRAIN_SECONDS,
    POOL_SIZE,
    Context,
    HttpCall,
    HttpResult,
    RetryHook,
    request_id_of,
    timeouts,
)

__all__ = ["HttpStream", "Transport"]

wire_log = debug.wire_logger


# What ``http_errors.SendFailures`` maps while sending: requests' timeouts, connection failures, the rest.
_SEND_KINDS: http_errors.SendKinds = (
    requests.exceptions.Timeout, requests.exceptions.ConnectionError, requests.exceptions.RequestException,
)


class _mapped_read:
    """Reading a 2xx body: urllib3's exceptions become typed errors (a gzip lie is the server's
    fault, an InvalidResponseError; a stall is a timeout; a break is a ConnectionError)."""

    __slots__ = ("ctx", "call", "response")

    def __init__(self, ctx: Context, call: HttpCall, response: requests.Response) -> None:
        self.ctx, self.call, self.response = ctx, call, response

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, _tb: Any) -> None:
        if exc is None or isinstance(exc, errors.LLMInterfaceError):
            return
        ctx, call, response = self.ctx, self.call, self.response
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise http_errors.bad_encoding_error(ctx, call, response.status_code, response.headers) from exc
        if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
            raise http_errors.read_error(ctx, call, exc, timed_out=True) from exc
        if isinstance(exc, (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError)):
            raise http_errors.read_error(ctx, call, exc, timed_out=False) from exc


def _arrivals(raw: Any) -> Iterator[bytes]:
    """The body's bytes as they arrive.

    ``raw.stream(n)`` is fine for chunked answers (one read per HTTP chunk), but on a close-delimited
    or Content-Length answer it blocks until ``n`` bytes have arrived, so tokens would stall in 8 KB
    bursts (and a deadline could not be checked). ``read1`` returns whatever is there (urllib3 >= 2.3).
    """
    if getattr(raw, "chunked", False) or not hasattr(raw, "read1"):
        yield from raw.stream(8192, decode_content=True)
        return
    while True:
        data = raw.read1(65536, decode_content=True)
        if not data:
            return
        yield data


def _declared_length(headers: Mapping[str, str]) -> Optional[int]:
    try:
        return int(headers.get("Content-Length", ""))
    except ValueError:
        return None


class HttpStream:
    """An open SSE answer. Iterate for ``(event, data)``; close (or use ``with``) to free the connection.
    One event larger than ``max_event_bytes``, or the deadline passing, ends it with a typed error."""

    def __init__(
        self, response: requests.Response, ctx: Context, retries: int, started: float,
        call: Optional[HttpCall] = None, max_event_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retrier: Optional[Retrier] = None,
    ) -> None:
        self._response = response
        self._ctx = ctx
        self._call = call or HttpCall("GET", response.url or "")
        self._max = max_event_bytes
        self._retrier = retrier
        self.retries = retries
        self.started = started
        self.headers = response.headers
        self.request_id = request_id_of(response.headers)
        self.closed = False

    def __iter__(self) -> Iterator[Tuple[Optional[str], bytes]]:
        decoder = SSEDecoder()
        logged = wire_log.isEnabledFor(logging.DEBUG)
        secrets = redact.secrets_of(self._call.headers) if logged else []
        retrier = self._retrier
        try:
            for chunk in _arrivals(self._response.raw):
                if logged:
                    debug.log_event(chunk, secrets)
                events = decoder.feed(chunk)
                if decoder.pending > self._max or any(len(data) > self._max for _, data in events):
                    raise http_errors.too_large_error(
                        self._ctx, self._call, self._max, self._response.status_code, self.headers, "stream event"
                    )
                yield from events
                if retrier is not None and retrier.left() == 0.0:
                    raise http_errors.deadline_error(self._ctx, self._call, retrier.policy.deadline, self.request_id)
        except urllib3.exceptions.DecodeError as exc:
            raise http_errors.bad_encoding_error(self._ctx, self._call, self._response.status_code, self.headers) from exc
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._broken(exc) from exc
        finally:
            self.close()
        yield from decoder.close()

    def _broken(self, exc: BaseException) -> errors.StreamError:
        reason = "read timed out" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc) else type(exc).__name__
        return http_errors.broken_stream_error(self._ctx, self.request_id, reason)

    def close(self) -> None:
        """Free the connection: pooled when the body was read to its end, else closed (never pooled half-read)."""
        if not self.closed:
            self.closed = True
            self._response.close()

    def release(self) -> None:
        """The answer is complete: read the few bytes left of the body so that urllib3 puts the connection
        back in the pool (each stream would otherwise open a new TCP, in production TLS, connection). A body
        that ends only when the server closes, has more than ``DRAIN_BYTES`` left, is slower than
        ``DRAIN_SECONDS`` or breaks is closed instead."""
        raw = self._response.raw
        connection = getattr(raw, "connection", None)  # None: the whole body was read, already pooled
        sock = getattr(connection, "sock", None)
        if not self.closed and sock is not None and (raw.chunked or raw.length_remaining is not None):
            sock.settimeout(DRAIN_SECONDS)  # each request sets its own timeouts again
            size = 0
            try:
                for data in _arrivals(raw):
                    size += len(data)
                    if size > DRAIN_BYTES:
                        break
            except (OSError, urllib3.exceptions.HTTPError, requests.exceptions.RequestException):
                pass  # a timeout or a reset: the connection is closed below, not pooled
        self.close()

    def __enter__(self) -> "HttpStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


class _Adapter(HTTPAdapter):
    """requests asks ``os.path.isdir`` of a CA bundle path (``verify``) on every call, https or not: the
    answer is looked up once per path here (a file stays a file; a missing one is left to requests' error)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ca_dirs: Dict[str, bool] = {}  # a CA bundle path -> whether it is a directory

    def _is_dir(self, verify: Any) -> Optional[bool]:
        """None: not a path we know (True/False, or a missing path: requests' own checks and error)."""
        if not isinstance(verify, str):
            return None
        is_dir = self._ca_dirs.get(verify)
        if is_dir is None and os.path.exists(verify):
            is_dir = self._ca_dirs[verify] = os.path.isdir(verify)
        return is_dir

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        is_dir = self._is_dir(verify)
        if is_dir is None:
            return super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, True, cert)
        if is_dir:
            pool_kwargs["ca_cert_dir"] = verify
        else:
            pool_kwargs["ca_certs"] = verify
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        is_dir = self._is_dir(verify)
        if is_dir is None or not url.lower().startswith("https"):
            return super().cert_verify(conn, url, verify, cert)
        if cert:  # a client certificate: requests' own checks of its files (it sets the CA too: set ours after)
            super().cert_verify(conn, url, True, cert)
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs, conn.ca_cert_dir = (None, verify) if is_dir else (verify, None)


class _Session(requests.Session):
    """requests drops Authorization on a redirect to another host; this drops every secret header."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if redirects.crosses_origin(response.request.url or "", prepared_request.url or ""):
            for name in [n for n in prepared_request.headers if redact.is_secret_header(n)]:
                del prepared_request.headers[name]


class Transport:
    """A requests.Session with pooled connections; thread-safe for concurrent calls.
    ``max_response_bytes`` caps one answer's body (and one SSE event): past it, InvalidResponseError."""

    def __init__(self, session: Optional[requests.Session] = None, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if not isinstance(max_response_bytes, int) or isinstance(max_response_bytes, bool) or max_response_bytes < 1:
            raise errors.InvalidRequestError(f"max_response_bytes must be an int >= 1, got {max_response_bytes!r}")
        self._session = session
        self.max_response_bytes = max_response_bytes

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = _Session()
            session.max_redirects = redirects.MAX_REDIRECTS
            adapter = _Adapter(pool_connections=16, pool_maxsize=POOL_SIZE, max_retries=0)
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

    def _read(self, response: requests.Response, ctx: Context, call: HttpCall, retrier: Retrier, strict: bool) -> bytes:
        """The whole body, at most ``max_response_bytes`` (past it: an error when ``strict``, else cut),
        checking the deadline between arrivals."""
        limit = self.max_response_bytes
        declared = _declared_length(response.headers)
        if strict and declared is not None and declared > limit:
            response.close()
            raise http_errors.too_large_error(ctx, call, limit, response.status_code, response.headers)
        parts: List[bytes] = []
        size = 0
        try:
            with _mapped_read(ctx, call, response):
                for data in _arrivals(response.raw):
                    parts.append(data)
                    size += len(data)
                    if size > limit:
                        if strict:
                            raise http_errors.too_large_error(ctx, call, limit, response.status_code, response.headers)
                        break
                    if retrier.left() == 0.0:
                        raise http_errors.deadline_error(ctx, call, retrier.policy.deadline, request_id_of(response.headers))
        except BaseException:  # a half-read connection must not go back to the pool
            response.close()
            raise
        if size > limit:
            response.close()
        return b"".join(parts)[:limit]

    def _attempts(
        self, call: HttpCall, ctx: Context, retrier: Retrier
    ) -> requests.Response:
        """The first 2xx requests.Response; the typed error is raised once retries are spent."""
        data, headers, retry_headers = preflight.ready(call)
        connect, read = timeouts(call.timeout)
        while True:
            answer_headers: Optional[Mapping[str, str]] = None
            left = retrier.left()
            if left == 0.0:
                raise http_errors.deadline_error(ctx, call, retrier.policy.deadline)
            clamped = left is not None and left < read
            limits = (connect, read) if left is None else (min(connect, left), min(read, left))
            if wire_log.isEnabledFor(logging.DEBUG):
                debug.log_call(call.method, call.url, headers, data)
            try:
                with http_errors.SendFailures(_SEND_KINDS, ctx, call, clamped, retrier.policy.deadline):
                    response = self.session.request(
                        call.method, call.url, data=data, headers=headers, timeout=limits,
                        stream=True, allow_redirects=True,  # the body is read by the caller, like the async transport
                    )
                if response.status_code < 400:
                    return response
                try:
                    content = self._read(response, ctx, call, retrier, strict=False)
                except errors.LLMInterfaceError:
                    content = b""
                response.close()
                answer_headers = response.headers
                if wire_log.isEnabledFor(logging.DEBUG):
                    debug.log_answer(call.url, response.status_code, content, redact.secrets_of(headers))
                raise http_errors.error_for_answer(response.status_code, answer_headers, content, ctx, redact.secrets_of(headers))
            except errors.LLMInterfaceError as error:
                delay = retrier.wait_or_raise(error, answer_headers)
            if delay > 0:
                time.sleep(delay)
            headers.update(retry_headers)

    def _answered(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook]
    ) -> Tuple[requests.Response, bytes, float, int]:
        """The 2xx answer, its whole body, when the call started and its retries: what send and send_text share."""
        started = time.perf_counter()
        retrier = Retrier(policy, ctx, on_retry)
        response = self._attempts(call, ctx, retrier)
        content = self._read(response, ctx, call, retrier, strict=True)  # read failures are not retried
        if wire_log.isEnabledFor(logging.DEBUG):
            debug.log_answer(call.url, response.status_code, content, redact.secrets_of(call.headers))
        return response, content, started, retrier.retries

    def send(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpResult:
        response, content, started, retries = self._answered(call, ctx, policy, on_retry)
        body = http_errors.success_body(response.status_code, response.headers, content, ctx)
        return HttpResult(response.status_code, response.headers, body, time.perf_counter() - started, retries)

    def send_text(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpResult:
        """``send`` for a route that answers plain text (Prometheus ``/metrics``): ``body`` is the text."""
        response, content, started, retries = self._answered(call, ctx, policy, on_retry)
        text = content.decode("utf-8", "replace")  # Prometheus text is UTF-8 by its spec
        return HttpResult(response.status_code, response.headers, text, time.perf_counter() - started, retries)

    def get_json(self, url: str, headers: Optional[Mapping[str, str]] = None, ctx: Optional[Context] = None, timeout: Any = None) -> Any:
        """A plain GET answering JSON (Hub metadata such as ``tokenizer_config.json``), without retries."""
        call = HttpCall("GET", url, None, dict(headers or {}), timeout=timeout)
        return self.send(call, ctx or Context(), RetryPolicy(attempts=0)).body

    def open_stream(
        self, call: HttpCall, ctx: Context, policy: RetryPolicy, on_retry: Optional[RetryHook] = None
    ) -> HttpStream:
        """Retried only until the answer starts: once bytes flow, a failure is a StreamError."""
        started = time.perf_counter()
        retrier = Retrier(policy, ctx, on_retry)
        response = self._attempts(call, ctx, retrier)
        return HttpStream(response, ctx, retrier.retries, started, call, self.max_response_bytes,
                          retrier if policy.deadline is not None else None)


