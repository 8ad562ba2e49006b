"""Normalising messages and options: every accepted shape, and a typed error for every bad one."""

from __future__ import annotations

import pytest

from llm_interface import NOT_GIVEN, errors
from llm_interface.request import InterfaceOptions, Request, normalize_message, split_options

USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize("message,expected", [
    ("hi", ((USER,), None, {})),
    ([USER], ((USER,), None, {})),
    ((USER,), ((USER,), None, {})),
    ({"messages": [USER]}, ((USER,), None, {})),
    ({"model": "small", "messages": [USER], "max_tokens": 5}, ((USER,), None, {"model": "small", "max_tokens": 5})),
    ({"prompt": "Once upon"}, (None, "Once upon", {})),
    ([{"role": "system", "content": "be brief"}, USER], (({"role": "system", "content": "be brief"}, USER), None, {})),
    ([{"role": "user", "content": [{"type": "text", "text": "hi"}]}], (({"role": "user", "content": [{"type": "text", "text": "hi"}]},), None, {})),
    ([USER, {"role": "assistant", "content": None, "tool_calls": [{"id": "0"}]}, {"role": "tool", "content": "42"}],
     ((USER, {"role": "assistant", "content": None, "tool_calls": [{"id": "0"}]}, {"role": "tool", "content": "42"}), None, {})),
])
def test_accepted_messages(message, expected):
    assert normalize_message(message) == expected


def test_the_callers_list_is_not_shared():
    messages = [dict(USER)]
    normalised, _, _ = normalize_message(messages)
    messages[0]["content"] = "changed"
    assert normalised[0]["content"] == "hi"


BAD_MESSAGES = {
    "empty string": "",
    "blank string": "  \n",
    "None": None,
    "int": 5,
    "bytes": b"hi",
    "empty list": [],
    "list of strings": ["hi"],
    "no role": [{"content": "hi"}],
    "unknown role": [{"role": "bot", "content": "hi"}],
    "no content": [{"role": "user"}],
    "content is a number": [{"role": "user", "content": 5}],
    "every content empty": [{"role": "user", "content": ""}],
    "dict without messages": {"model": "small"},
    "messages not a list": {"messages": "hi"},
    "empty prompt": {"prompt": ""},
    "prompt not a string": {"prompt": ["a"]},
}


@pytest.mark.parametrize("message", BAD_MESSAGES.values(), ids=list(BAD_MESSAGES))
def test_bad_messages(message):
    with pytest.raises(errors.InvalidRequestError) as caught:
        normalize_message(message)
    assert isinstance(caught.value, ValueError)


def test_split_options_routes_settings_and_params():
    settings, params = split_options({"model": "small", "api_base": "http://h", "maxTokens": 5, "temperature": 0.2,
                                      "provider": "together", "seed": NOT_GIVEN, "tools": []})
    assert settings == {"model": "small", "api_base": "http://h", "provider": "together"}
    assert params == {"max_tokens": 5, "temperature": 0.2, "tools": []}


BAD_OPTIONS = {
    "not a dict": [("max_tokens", 1)],
    "non-string name": {1: 2},
    "temperature a string": {"temperature": "hot"},
    "temperature too high": {"temperature": 5},
    "temperature a bool": {"temperature": True},
    "top_p above 1": {"top_p": 1.5},
    "max_tokens zero": {"max_tokens": 0},
    "max_tokens float": {"max_tokens": 2.5},
    "stop a number": {"stop": 5},
    "stop list of numbers": {"stop": [1]},
    "model a number": {"model": 5},
    "model empty": {"model": ""},
    "api_key a number": {"api_key": 5},
    "api_base not a URL": {"api_base": "localhost:8080"},
    "headers a string": {"headers": "X-A: 1"},
    "header value a number": {"headers": {"X-A": 1}},
}


@pytest.mark.parametrize("options", BAD_OPTIONS.values(), ids=list(BAD_OPTIONS))
def test_bad_options(options):
    with pytest.raises(errors.InvalidRequestError):
        split_options(options)


def test_interface_options():
    assert InterfaceOptions.from_mapping(None) == InterfaceOptions()
    options = InterfaceOptions.from_mapping({"retryAttempts": 5, "cacheTimeoutSeconds": 60, "attempt_json_repair": True})
    assert (options.retry_attempts, options.cache_timeout_seconds, options.attempt_json_repair) == (5, 60, True)
    assert InterfaceOptions().cache_timeout_seconds is NOT_GIVEN


@pytest.mark.parametrize("bad", [
    [1], {"nope": 1}, {"retry_attempts": -1}, {"retry_attempts": 1.5}, {"retry_attempts": True},
    {"retry_multiplier": "1"}, {"max_retry_wait": -1}, {"cache_timeout_seconds": "soon"}, {"cache_timeout_seconds": -1},
])
def test_bad_interface_options(bad):
    with pytest.raises(errors.InvalidRequestError) as caught:
        InterfaceOptions.from_mapping(bad)
    if isinstance(bad, dict) and "nope" in bad:
        assert "retry_attempts" in str(caught.value)  # lists the known names


def test_not_given_is_a_falsy_singleton_distinct_from_none():
    assert not NOT_GIVEN and NOT_GIVEN is not None and repr(NOT_GIVEN) == "NOT_GIVEN"
    assert type(NOT_GIVEN)() is NOT_GIVEN


def test_request_repr_and_describe_hide_the_key():
    request = Request("huggingface", "chat", "m", (USER,), api_key="hf_secret_value", headers={"Authorization": "Bearer hf_secret_value"})
    assert "hf_secret_value" not in repr(request)
    assert "hf_secret_value" not in request.describe()
    assert "hi" in request.describe()
