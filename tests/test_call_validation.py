"""Issue 16 #7 and #8: a call that cannot succeed (a broken api_base, a header that cannot go on the
wire, a key with a line break or non-latin-1 characters, a timeout no socket takes) fails before the
first attempt with a typed ConfigurationError that names the fix, is never retried, and never prints
the key. Both transports. A new case is one line."""

from __future__ import annotations

import math
import socket

import pytest
from loopback import Answer
from sync_async import MODES, ask

from llm_interface import errors, http_errors
from llm_interface.wire import Context, HttpCall

KEY = "fake-validation-key-0001"

# name -> (options, words the message must contain); "{url}" is the loopback's URL
BAD_CALLS = {
    "api_base with spaces": ({"api_base": "http://exa mple.com"}, "spaces"),
    "api_base http:// only": ({"api_base": "http://"}, "no host"),
    "api_base [::1": ({"api_base": "http://[::1"}, "cannot be parsed"),
    "api_base bad port": ({"api_base": "http://127.0.0.1:99999"}, "cannot be parsed"),
    "api_base ftp": ({"api_base": "ftp://127.0.0.1/"}, "http://"),
    "header with CRLF": ({"api_base": "{url}", "headers": {"X-Trace": "a\r\nInjected: 1"}}, "line break"),
    "header non-latin-1": ({"api_base": "{url}", "headers": {"X-Note": "tick \u2713"}}, "non-latin-1"),
    "header bad name": ({"api_base": "{url}", "headers": {"X Bad": "1"}}, "header name"),
    "key non-latin-1": ({"api_base": "{url}", "api_key": "fake-k\u00e9y-\u2713-test"}, "check the API key"),
    "key with a newline inside": ({"api_base": "{url}", "api_key": "fake-key-test\nsecond-line"}, "check the API key"),
    "timeout inf": ({"api_base": "{url}", "timeout": math.inf}, "timeout"),
    "timeout 1e300": ({"api_base": "{url}", "timeout": 1e300}, "timeout"),
    "timeout nan": ({"api_base": "{url}", "timeout": math.nan}, "timeout"),
    "timeout pair with inf": ({"api_base": "{url}", "timeout": (1, math.inf)}, "timeout"),
}


def fill(options, url):
    return {k: (v.replace("{url}", url) if isinstance(v, str) else v) for k, v in options.items()}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_a_call_that_cannot_succeed_fails_at_once_typed_and_unretried(loopback, mode, case):
    options, words = BAD_CALLS[case]
    with pytest.raises(errors.ConfigurationError) as caught:
        ask(mode, fill(options, loopback.url), retries=2)
    message = str(caught.value)
    assert words in message, message
    assert caught.value.retries == 0 and loopback.count == 0
    for secret in (options.get("api_key"), *(options.get("headers") or {}).values()):
        if secret and ("key" in case):
            assert secret not in message and secret.strip() not in message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padded", [KEY + "\n", KEY + "\r\n", "  " + KEY + " \t"])
def test_a_key_read_from_a_file_is_stripped(loopback, mode, padded):
    """``api_key=open("token").read()`` ends in a newline: it is sent without it."""
    loopback.script(Answer(body=b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}'))
    assert ask(mode, {"api_base": loopback.url, "api_key": padded}).results == "ok"
    assert loopback.requests[0].headers["authorization"] == f"Bearer {KEY}"


def _dns_failure() -> BaseException:
    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as inner:
        try:
            raise OSError("connection failed") from inner
        except OSError as outer:
            return outer


@pytest.mark.parametrize(
    "cause, words",
    [
        (_dns_failure(), "the host name 'api.example.invalid' could not be resolved (DNS lookup failed)"),
        (ConnectionRefusedError(111, "Connection refused"), "api.example.invalid:443 refused the connection"),
        (ConnectionResetError(104, "Connection reset by peer"), "reset"),
    ],
    ids=["dns", "refused", "reset"],
)
def test_a_connection_failure_names_the_host_and_the_cause(cause, words):
    """A DNS failure said "check api_base" even when no api_base was set: say which host, and why."""
    call = HttpCall("POST", "https://api.example.invalid/v1/chat/completions?token=x")
    error = http_errors.connection_error(Context("huggingface", "m"), call, cause)
    assert words in str(error) and "token=x" not in str(error)


def test_a_refused_connection_names_host_and_port_on_the_wire():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(errors.ConnectionError) as caught:
        ask("sync", {"api_base": f"http://127.0.0.1:{port}"})
    assert f"127.0.0.1:{port} refused the connection" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", [name for name in BAD_CALLS if "key" in name or "header" in name])
def test_the_whole_chain_of_a_refused_setting_carries_no_secret(loopback, mode, case):
    """The chained exception used to show ``Bearer <key>`` (issue 16 #8): what a traceback prints, every
    cause and context included, carries neither the key nor the header's value."""
    import traceback

    options, _ = BAD_CALLS[case]
    with pytest.raises(errors.ConfigurationError) as caught:
        ask(mode, fill(options, loopback.url), retries=2)
    printed = "".join(traceback.format_exception(type(caught.value), caught.value, caught.value.__traceback__))
    for secret in (options.get("api_key"), *(options.get("headers") or {}).values()):
        if secret and "key" in case:
            assert secret not in printed and secret.strip() not in printed
            assert "Bearer " + secret.split("\n")[0] not in printed


def test_the_body_encoder_refuses_non_finite_numbers_as_a_last_line():
    """Whatever got past validation (a nested provider field, a caller's own HttpCall), NaN and infinities
    never go out as the non-JSON tokens ``NaN`` / ``Infinity``: encoding refuses them, typed."""
    from llm_interface.wire import encoded

    for value in (math.nan, math.inf, -math.inf, {"deep": [1, math.nan]}):
        with pytest.raises(errors.InvalidRequestError, match="NaN"):
            encoded(HttpCall("POST", "http://127.0.0.1/", {"x": value}))
    assert encoded(HttpCall("POST", "http://127.0.0.1/", {"x": 1.5}))[0] == b'{"x": 1.5}'
