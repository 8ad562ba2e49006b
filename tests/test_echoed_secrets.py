"""Issue 16 #1: a server that quotes the call's secrets back (in a 2xx HTML page, a 200 ``{"error"}``,
an SSE error event, an error answer) never gets them into an exception's str, repr or body, nor into
a DEBUG line. One table of answers x one table of secrets x both transports; a new case is one line.

Each case uses a fresh secret: redaction remembers every secret a call carried, so a key reused from
an earlier test would be hidden even if this call's registration were broken.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from loopback import Answer
from sync_async import MODES, ask

from llm_interface import errors

SSE = {"Content-Type": "text/event-stream"}

# name -> (answer quoting SECRET, streamed?, expected error class)
ANSWERS = {
    "html 200": (lambda s: Answer(body=f"<html><body>token {s} refused</body></html>".encode(),
                                  headers={"Content-Type": "text/html"}), False, errors.InvalidResponseError),
    "not-json 200": (lambda s: Answer(body=f"key={s}; nope".encode()), False, errors.InvalidResponseError),
    "200 error object": (lambda s: Answer(body=json.dumps({"error": f"Bad token: Bearer {s}"}).encode(),
                                          headers={"Content-Type": "application/json"}), False, errors.APIError),
    "200 error nested": (lambda s: Answer(body=json.dumps({"error": {"message": f"key {s} is not valid"}}).encode(),
                                          headers={"Content-Type": "application/json"}), False, errors.APIError),
    "401 echo": (lambda s: Answer(401, {"Content-Type": "application/json", "X-Error-Message": f"bad {s}"},
                                  json.dumps({"error": f"invalid {s}"}).encode()), False, errors.AuthenticationError),
    "sse error event": (lambda s: Answer(headers=SSE, chunks=[
        b'data: ' + json.dumps({"error": f"token {s} rejected", "error_type": "validation"}).encode() + b"\n\n"]),
        True, errors.LLMInterfaceError),
    "sse not json": (lambda s: Answer(headers=SSE, chunks=[f"data: {{oops {s}\n\n".encode()]), True, errors.StreamError),
}

# name -> options carrying SECRET
SECRETS = {
    "plain key": lambda s: {"api_key": s},
    "key with newline": lambda s: {"api_key": s + "\n"},
    "x-api-key header": lambda s: {"headers": {"X-Api-Key": s}},
    "custom token header": lambda s: {"headers": {"X-Upstream-Token": s}},
}


def fresh_secret() -> str:
    return f"fake-{uuid.uuid4().hex}"  # no known key shape: only the exact-value scrub can hide it


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("carrier", list(SECRETS))
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_an_echoed_secret_never_reaches_the_error(loopback, caplog, mode, carrier, answer):
    caplog.set_level(logging.DEBUG, logger="llm_interface")
    secret = fresh_secret()
    make, streamed, expected = ANSWERS[answer]
    loopback.script(make(secret))
    with pytest.raises(expected) as caught:
        ask(mode, {"api_base": loopback.url, **SECRETS[carrier](secret)}, stream=streamed)
    error = caught.value
    shown = [str(error), repr(error), str(error.server_message), json.dumps(error.body, default=str), caplog.text]
    for text in shown:
        assert secret not in text
    assert any("[redacted]" in text for text in shown[:4])


@pytest.mark.parametrize("mode", MODES)
def test_debug_sse_lines_hide_a_key_of_any_shape(loopback, caplog, mode):
    """The DEBUG line of each SSE chunk hid only hf_-shaped keys; a plain TGI token leaked."""
    caplog.set_level(logging.DEBUG, logger="llm_interface")
    secret = fresh_secret()
    chunk = {"choices": [{"index": 0, "delta": {"content": f"echo {secret}"}, "finish_reason": "stop"}]}
    loopback.script(Answer(headers=SSE, chunks=[b"data: " + json.dumps(chunk).encode() + b"\n\n", b"data: [DONE]\n\n"]))
    ask(mode, {"api_base": loopback.url, "api_key": secret}, stream=True)
    assert "<- sse" in caplog.text and secret not in caplog.text


def test_an_error_built_anywhere_is_scrubbed_once_the_secret_is_registered():
    """The one place: any LLMInterfaceError constructor, whoever calls it (a provider's parser too)."""
    from llm_interface.wire import Context

    secret = fresh_secret()
    Context("openai-compatible", "m", secret)
    error = errors.InvalidResponseError(f"bad {secret}", server_message=f"said {secret}", body={"k": [f"x{secret}"]})
    assert secret not in str(error) + repr(error) + str(error.server_message) + json.dumps(error.body)


@pytest.mark.parametrize("mode", MODES)
def test_a_short_key_echoed_in_an_error_answer_is_scrubbed(loopback, mode):
    """Keys under 8 characters are not remembered (they could be common words), but an error answer
    is still scrubbed of the exact values its own call sent, as before."""
    short = "fake42"
    loopback.script(Answer(401, {"Content-Type": "application/json", "X-Error-Message": f"bad {short}"},
                           json.dumps({"error": f"invalid {short}"}).encode()))
    with pytest.raises(errors.AuthenticationError) as caught:
        ask(mode, {"api_base": loopback.url, "api_key": short})
    assert short not in str(caught.value) + repr(caught.value) + json.dumps(caught.value.body)
