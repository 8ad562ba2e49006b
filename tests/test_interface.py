"""LLMInterface: the static facade forwards to one lazily built default Client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.loopback import Answer

from llm_interface import Client, LLMInterface, errors

COMPLETION = {"choices": [{"index": 0, "message": {"content": "Hi!"}, "finish_reason": "stop"}]}


def test_not_instantiable():
    with pytest.raises(TypeError):
        LLMInterface()


def test_default_client_is_built_lazily():
    code = "import llm_interface; print(llm_interface.LLMInterface._client)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "None"


def test_send_and_stream_through_the_facade(loopback):
    loopback.script(Answer(body=json.dumps(COMPLETION).encode()),
                   Answer(headers={"Content-Type": "text/event-stream"},
                          chunks=[b'data: {"choices":[{"index":0,"delta":{"content":"Yo"},"finish_reason":"stop"}]}\n\n']))
    LLMInterface.set_api_key({"huggingface": "hf_facade"})
    assert LLMInterface.send_message("huggingface", "hi", {"api_base": loopback.url}).results == "Hi!"
    with LLMInterface.stream_message("huggingface", "hi", {"api_base": loopback.url}) as stream:
        assert "".join(c.text for c in stream) == "Yo"
    assert [s.headers["authorization"] for s in loopback.requests] == ["Bearer hf_facade"] * 2


def test_reset_swaps_the_client():
    mine = Client({"huggingface": "hf_mine"})
    LLMInterface.reset(mine)
    assert LLMInterface.client is mine
    LLMInterface.reset()
    assert LLMInterface.client is not mine


def test_facade_errors_are_typed():
    with pytest.raises(errors.MissingAPIKeyError):
        LLMInterface.send_message("huggingface", "hi")
    with pytest.raises(errors.UnknownProviderError):
        LLMInterface.send_message("nope", "hi")
