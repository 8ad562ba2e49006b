"""The proxy's config: LiteLLM's format, ``os.environ/NAME``, model prefixes, our own settings; and the error
mapping. Pure: no server, no network."""

from __future__ import annotations

import pytest
from support.skips import require

from llm_interface import errors
from llm_interface.server.config import ProxyConfig, split_model
from llm_interface.server.errors import openai_error


def entry(model, name="m", **params):
    return {"model_name": name, "litellm_params": {"model": model, **params}}


def test_litellm_config_with_environment_secrets(monkeypatch):
    monkeypatch.setenv("HF_TOKEN_FOR_PROXY", "hf_secret_value_123")
    monkeypatch.setenv("PROXY_KEY", "sk-master")
    config = ProxyConfig.from_mapping({
        "model_list": [entry("huggingface/meta-llama/Llama-3.1-8B-Instruct", "llama", api_key="os.environ/HF_TOKEN_FOR_PROXY",
                             api_base="http://127.0.0.1:8080", rpm=10, timeout=30)],
        "general_settings": {"master_key": "os.environ/PROXY_KEY"},
        "router_settings": {"model_group_alias": {"gpt-4o": "llama"}},
    })
    route = config.route("gpt-4o")
    assert (route.provider, route.model) == ("huggingface", "meta-llama/Llama-3.1-8B-Instruct")
    assert route.options == {"api_key": "hf_secret_value_123", "api_base": "http://127.0.0.1:8080", "timeout": 30}
    assert config.master_key == "sk-master"
    assert config.model_names() == ["gpt-4o", "llama"]
    assert "hf_secret_value_123" not in repr(config) and "sk-master" not in repr(config)
    assert set(config.secrets()) == {"hf_secret_value_123", "sk-master"}
    assert config.route("nope") is None and config.route(None) is None


def test_call_options_put_the_route_over_the_client():
    route = ProxyConfig.from_mapping({"model_list": [entry("huggingface/a/b", api_base="http://up")]}).route("m")
    assert route.call_options({"temperature": 0.1, "model": "x"}) == {"temperature": 0.1, "api_base": "http://up", "model": "a/b"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("huggingface/meta-llama/Llama-3.1-8B-Instruct", ("huggingface", "meta-llama/Llama-3.1-8B-Instruct", None)),
        ("huggingface/together/deepseek-ai/DeepSeek-R1", ("huggingface", "deepseek-ai/DeepSeek-R1", "together")),
        ("huggingface/https://xyz.endpoints.huggingface.cloud", ("huggingface", "https://xyz.endpoints.huggingface.cloud", None)),
        # the classify prefix names a task, not an Inference Provider (as in compat/litellm.py)
        ("huggingface/text-classification/org/clf", ("huggingface", "text-classification/org/clf", None)),
        ("huggingface/http://localhost:8080", ("huggingface", "http://localhost:8080", None)),
        ("openai/my-vllm-model", ("openai-compatible", "my-vllm-model", None)),
    ],
)
def test_model_prefixes(value, expected):
    assert split_model(value, "here") == expected


def test_inference_provider_from_the_model_path():
    route = ProxyConfig.from_mapping({"model_list": [entry("huggingface/together/deepseek-ai/DeepSeek-R1")]}).route("m")
    assert route.options == {"provider": "together"}


@pytest.mark.parametrize(
    "data, words",
    [
        ({}, "no models"),
        ({"model_list": [entry("anthropic/claude")]}, "must start with"),
        ({"model_list": [{"model_name": "m"}]}, "litellm_params.model"),
        ({"model_list": [entry("huggingface/a/b"), entry("huggingface/c/d")]}, "twice"),
        ({"model_list": [entry("huggingface/a/b", api_key="os.environ/SURELY_UNSET_VAR")]}, "SURELY_UNSET_VAR"),
        ({"model_list": [entry("huggingface/a/b")], "router_settings": {"model_group_alias": {"x": "y"}}}, "unknown 'y'"),
        ({"model_list": [entry("huggingface/a/b")], "llm_interface_settings": {"colour": "red"}}, "colour"),
        ({"model_list": [entry("huggingface/a/b")], "llm_interface_settings": {"max_request_bytes": 0}}, "max_request_bytes"),
    ],
)
def test_bad_configs_say_what_to_fix(data, words):
    with pytest.raises(errors.ConfigurationError, match=words):
        ProxyConfig.from_mapping(data)


def test_load_yaml_file(tmp_path):
    require("yaml", "server")  # skips, or fails under CI=true
    path = tmp_path / "config.yaml"
    path.write_text("model_list:\n  - model_name: small\n    litellm_params:\n      model: huggingface/microsoft/Phi-3-mini-4k-instruct\n"
                    "llm_interface_settings:\n  port: 8001\n  interface_options: {retry_attempts: 1}\n")
    config = ProxyConfig.load(path)
    assert (config.port, config.host, config.interface_options) == (8001, "127.0.0.1", {"retry_attempts": 1})
    with pytest.raises(errors.ConfigurationError, match="not valid YAML"):
        (tmp_path / "bad.yaml").write_text("model_list: [")
        ProxyConfig.load(tmp_path / "bad.yaml")
    with pytest.raises(errors.ConfigurationError, match="Cannot read"):
        ProxyConfig.load(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "error, status, type_",
    [
        (errors.error_for_status(401, {"error": "bad"}), 502, "upstream_authentication_error"),
        (errors.error_for_status(413, {"error": "big"}), 413, "invalid_request_error"),
        (errors.error_for_status(429, {"error": "slow"}, retry_after=2.5), 429, "rate_limit_error"),
        (errors.error_for_status(500, {"error": "boom"}), 502, "upstream_error"),
        (errors.InvalidRequestError("temperature must be between 0 and 2"), 400, "invalid_request_error"),
        (errors.MissingAPIKeyError("no key"), 500, "server_error"),
        (errors.TimeoutError("slow"), 504, "timeout"),
        (errors.ConnectionError("refused"), 502, "upstream_connection_error"),
        (errors.StreamError("cut"), 502, "upstream_stream_error"),
    ],
)
def test_error_mapping(error, status, type_):
    got_status, body, headers = openai_error(error, [])
    assert (got_status, body["error"]["type"]) == (status, type_)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    if isinstance(error, errors.RateLimitError):
        assert headers == {"Retry-After": "3"}


def test_error_messages_are_scrubbed():
    _, body, _ = openai_error(errors.error_for_status(400, {"error": "you sent Bearer hf_abc123"}), ["hf_abc123"])
    assert "hf_abc123" not in body["error"]["message"] and "[redacted]" in body["error"]["message"]
