"""Every recorded Hugging Face chat exchange, replayed through the client, with its result asserted."""

from __future__ import annotations

import json
import re

import pytest
import responses
from recordings import body_bytes, exchanges_for

ROUTER = "https://router.huggingface.co"
PROVIDER_ROUTE = re.compile(r"^https://router\.huggingface\.co/([a-z-]+)/(?:v1|v3/openai|inference/v1)/chat/completions$")
HF_INFERENCE_ROUTE = re.compile(r"^https://router\.huggingface\.co/hf-inference/models/(.+)/v1/chat/completions$")


def _how_to_call(case):
    """(options, the URL our client must call) for a recorded request."""
    url = case["request"]["url"]
    body = case["request"]["body"] or {}
    match = HF_INFERENCE_ROUTE.match(url)
    if match:
        return {"provider": "hf-inference", "model": match.group(1)}, url
    match = PROVIDER_ROUTE.match(url)
    if match and match.group(1) != "hf-inference":
        # The provider's own route needs the provider's model id; we go through the router's
        # model:provider suffix instead, which takes the Hub id.
        return {"provider": match.group(1), "model": "meta-llama/Meta-Llama-3-8B-Instruct"}, ROUTER + "/v1/chat/completions"
    # A direct endpoint (a TGI server, a provider's own API): endpoint mode by api_base.
    base = url[: -len("/v1/chat/completions")] if url.endswith("/v1/chat/completions") else url
    return {"api_base": base, "model": body.get("model") if body.get("model") not in (None, "tgi") else None}, base + "/v1/chat/completions"


def _expected_text(case):
    response = case["response"]
    if case["stream"]:
        return "".join(
            (event.get("choices") or [{}])[0].get("delta", {}).get("content") or ""
            for event in response["events"]
            if isinstance(event, dict) and event.get("choices")
        )
    message = response["body"]["choices"][0]["message"]
    return message.get("content") or ""


def _messages(case):
    body = case["request"]["body"]
    if body and body.get("messages"):
        return body["messages"]
    return [{"role": "user", "content": "What is deep learning?"}]


# The recordings' finish reasons, in OpenAI's words (TGI 1.x said eos_token).
RECORDED_FINISH = {"stop": "stop", "eos_token": "stop", "length": "length"}


def _recorded_finish(case):
    if not case["stream"]:
        return case["response"]["body"]["choices"][0]["finish_reason"]
    reasons = [e["choices"][0].get("finish_reason") for e in case["response"]["events"]
               if isinstance(e, dict) and e.get("choices")]
    return [r for r in reasons if r][-1]


def _recorded_usage(case):
    if not case["stream"]:
        return case["response"]["body"].get("usage")
    usages = [e["usage"] for e in case["response"]["events"] if isinstance(e, dict) and e.get("usage")]
    return usages[-1] if usages else None


CHAT_OK = [c for c in exchanges_for("chat-completion", status=200)]


@pytest.mark.parametrize("case", CHAT_OK, ids=[c["name"] for c in CHAT_OK])
@responses.activate
def test_recorded_chat_exchange_replays(case, client):
    options, url = _how_to_call(case)
    recorded = case["response"]
    responses.add(  # no stream=: responses streams the body when the request itself asks for a stream
        responses.POST,
        url,
        body=body_bytes(recorded),
        status=recorded["status"],
        headers={k: v for k, v in recorded["headers"].items() if k.lower() not in ("content-type", "content-length", "content-encoding", "transfer-encoding")},
        content_type=recorded["headers"].get("content-type", "application/json"),
    )
    options = {k: v for k, v in options.items() if v is not None}
    if case["stream"]:
        with client.stream_message("huggingface", _messages(case), options) as stream:
            text = "".join(chunk.text for chunk in stream)
        result = stream.response
        assert text == result.results
    else:
        result = client.send_message("huggingface", _messages(case), options)
    assert result.results == _expected_text(case)
    sent = json.loads(responses.calls[0].request.body)
    assert sent["messages"] == _messages(case)
    assert sent.get("stream", False) is case["stream"]
    assert responses.calls[0].request.headers["Authorization"].startswith("Bearer hf_test")
    assert result.finish_reason == RECORDED_FINISH[_recorded_finish(case)]
    if not case["stream"]:
        calls = recorded["body"]["choices"][0]["message"].get("tool_calls") or []
        assert [c["function"]["name"] for c in result.tool_calls] == [c["function"]["name"] for c in calls]
    usage = _recorded_usage(case)
    if usage:
        assert result.usage.prompt_tokens == usage["prompt_tokens"]
        assert result.usage.completion_tokens == usage["completion_tokens"]
