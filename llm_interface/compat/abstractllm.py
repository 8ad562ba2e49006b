"""AbstractLLM's Hugging Face provider over llm_interface. Change ``abstractllm`` (and ``abstractllm.session``,
``abstractllm.errors``) to ``llm_interface.compat.abstractllm``:

    from llm_interface.compat.abstractllm import create_llm, Session
    llm = create_llm("huggingface", model="microsoft/phi-2", use_inference_api=True)
    print(llm.generate("Write a short poem about the ocean."))

Where a call goes: the Inference API (Hugging Face's router; ``inference_api_url`` for an endpoint) unless
``use_inference_api=False`` or a local-only option is given (``device``, ``device_map``, ``quantization``,
``model_kwargs``, ``pipeline_kwargs``, ``torch_dtype``, ``model_path``, ``model_type``, a ``.gguf`` or a local
folder as the model): then llm_interface's local mode (``local=True``; transformers, or llama.cpp for a
``.gguf``; see docs/local-models.md). AbstractLLM itself defaults to local models. ``options_for`` is the
mapping, option by option.

``generate`` returns the text (a ``str``; llm_interface's Response is on ``.response``). Errors are
llm_interface's typed errors under AbstractLLM's names (aliases, so either name catches them).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, Iterator, Mapping, Optional

from .. import errors
from ..providers import provider_class
from ..session import Session as _Session
from ..types import Response
from .abstractllm_names import MessageRole, ModelCapability, ModelParameter
from .common import client_of

PROVIDER = "huggingface"
# The model create_llm("huggingface") uses when none is given: the chat "default" alias (aliases.json).
# AbstractLLM's own (a local GGUF, or microsoft/DialoGPT-medium) is not served by the Inference API.
DEFAULT_MODEL = "default"

# AbstractLLM's error names, as aliases of ours.
AbstractLLMError = errors.LLMInterfaceError
ProviderAPIError = errors.APIError
ModelNotFoundError = errors.NotFoundError  # a 404 from the server; a local model that cannot be found
ResourceExhaustedError = errors.ResourceExhaustedError
InvalidArgumentError = errors.InvalidRequestError
AuthenticationError = errors.AuthenticationError
RateLimitError = errors.RateLimitError
UnsupportedFeatureError = errors.UnsupportedTaskError


class UnsupportedProviderError(errors.UnknownProviderError, ValueError):
    """``create_llm`` with a provider this adapter does not cover: AbstractLLM raises ValueError there."""

# Options that only mean something for a model loaded in this process.
LOCAL_OPTIONS = ("device", "device_map", "quantization", "model_kwargs", "pipeline_kwargs", "torch_dtype",
                 "n_ctx", "n_threads", "n_gpu_layers")
# Generation settings a config may hold as defaults for every generate().
GENERATION = ("temperature", "max_tokens", "top_p", "top_k", "repetition_penalty", "stop", "seed",
              "frequency_penalty", "presence_penalty")


class GeneratedText(str):
    """A generated answer: the text itself, with llm_interface's ``Response`` on ``.response``."""

    response: Response

    @classmethod
    def of(cls, response: Response) -> "GeneratedText":
        text = cls(response.results)
        text.response = response
        return text

    @property
    def content(self) -> str:  # newer AbstractLLM versions answer an object with .content
        return str(self)


class ConfigManager:
    """``llm.config_manager.get_param("use_inference_api")``: the configuration as resolved."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = dict(params)

    def get_param(self, name: str, default: Any = None) -> Any:
        return self._params.get(name, default)

    def get_config(self) -> Dict[str, Any]:
        return {k: v for k, v in self._params.items() if k != "api_key"}  # never hand the key back


# AbstractLLM configs put loading settings in model_kwargs that llm_interface has first-class options for:
# lifted out, so that they are validated and key the loaded-model registry like the options themselves.
LIFTED_MODEL_KWARGS = {"torch_dtype": "torch_dtype", "dtype": "torch_dtype", "device_map": "device_map"}
# AbstractLLM's pipeline_kwargs go to transformers' text-generation pipeline; these are the pipeline's own
# (llm_interface's engine hands pipeline_kwargs to model.generate, which refuses them), renamed to the
# engine's spelling.
PIPELINE_ARGUMENTS = {"return_full_text": "return_full_text", "clean_up_tokenization_spaces": "clean_up_tokenization_spaces",
                      "truncate": "truncation", "truncation": "truncation"}
MODEL_TYPES = ("pipeline", "transformers", "gguf")


def options_for(config: Mapping[str, Any]) -> Dict[str, Any]:
    """llm_interface options for an AbstractLLM configuration (pure: no I/O, no key lookup).

    - ``use_inference_api=True`` -> remote (``api_key``; ``inference_api_url`` as ``api_base``); local-only
      options beside it are refused.
    - ``use_inference_api=False``, a local-only option, ``model_path``, ``model_type`` or a model that is a
      ``.gguf`` / a path -> ``local=True``; ``device``, ``device_map``, ``quantization``, ``torch_dtype``,
      ``n_ctx``, ``n_threads``, ``n_gpu_layers`` keep their names; a ``.gguf`` model becomes ``model_path``.
    - ``model_kwargs``: ``torch_dtype``/``dtype`` and ``device_map`` inside it become those options (a
      different value given both ways is refused); the rest stays ``model_kwargs`` (``from_pretrained`` /
      ``llama_cpp.Llama`` arguments).
    - ``pipeline_kwargs``: the text-generation pipeline's own ``truncate`` (as ``truncation``),
      ``return_full_text`` and ``clean_up_tokenization_spaces`` are understood by the transformers engine; the
      rest are ``model.generate`` arguments, as in the pipeline.
    - ``model_type``: ``"gguf"`` needs a ``.gguf`` file, ``"pipeline"`` refuses one (the engine follows the file).
    - ``temperature``, ``max_tokens``, ``top_p``, ... are defaults for every ``generate``.
    """
    config = dict(config)
    model = config.get("model")
    model_path = config.get("model_path")
    if isinstance(model, str) and model.endswith(".gguf") and not model_path:
        model_path, model = model, None
    model_type = config.get("model_type")
    _check_model_type(model_type, model_path or model)
    use_api = config.get("use_inference_api")
    local_given = [name for name in LOCAL_OPTIONS if config.get(name) is not None]
    looks_local = bool(model_path) or model_type is not None or (isinstance(model, str) and _is_local_path(model))
    local = use_api is False or (use_api is None and (bool(local_given) or looks_local))
    if use_api and (local_given or model_path or model_type):
        raise errors.InvalidRequestError(
            f"use_inference_api=True runs the model remotely; {', '.join(local_given or ['model_path/model_type'])} "
            "only apply to local models. Drop them, or pass use_inference_api=False."
        )
    options: Dict[str, Any] = {}
    if model:
        options["model"] = model
    if local:
        options["local"] = True
        if model_path:
            options["model_path"] = model_path
        for name in local_given:
            options[name] = config[name]
        if config.get("model_kwargs") is not None:
            _lift_model_kwargs(options)
        if config.get("pipeline_kwargs") is not None:
            options["pipeline_kwargs"] = {PIPELINE_ARGUMENTS.get(k, k): v for k, v in config["pipeline_kwargs"].items()}
    else:
        if config.get("api_key"):
            options["api_key"] = config["api_key"]
        if config.get("inference_api_url") or config.get("base_url"):
            options["api_base"] = config.get("inference_api_url") or config["base_url"]
    for name in GENERATION:
        if config.get(name) is not None:
            options[name] = config[name]
    return options


def _check_model_type(model_type: Any, model: Any) -> None:
    if model_type is None:
        return
    if model_type not in MODEL_TYPES:
        raise errors.InvalidRequestError(f"model_type must be one of {', '.join(MODEL_TYPES)}, got {model_type!r}.")
    is_gguf = isinstance(model, str) and model.lower().endswith(".gguf")
    if model_type == "gguf" and not is_gguf:
        raise errors.InvalidRequestError(
            f"model_type='gguf' needs the path of a .gguf file as model_path (got {model!r}); download the file "
            "first (huggingface-cli download <repo> <file>.gguf) and pass its path."
        )
    if model_type != "gguf" and is_gguf:
        raise errors.InvalidRequestError(f"{model!r} is a GGUF file: pass model_type='gguf' or leave model_type out.")


def _lift_model_kwargs(options: Dict[str, Any]) -> None:
    kwargs = dict(options["model_kwargs"])
    for key, option in LIFTED_MODEL_KWARGS.items():
        if key not in kwargs:
            continue
        value = kwargs.pop(key)
        if options.get(option, value) != value:
            raise errors.InvalidRequestError(
                f"{option}={options[option]!r} and model_kwargs[{key!r}]={value!r} disagree; give it once."
            )
        options[option] = value
    if kwargs:
        options["model_kwargs"] = kwargs
    else:
        del options["model_kwargs"]


def _is_local_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~")) or os.path.isdir(os.path.expanduser(model))


def create_llm(provider: str, **config: Any) -> "HuggingFaceLLM":
    """``create_llm("huggingface", model=..., ...)``: an LLM object over llm_interface's Client.

    ``client=`` picks the llm_interface Client (default ``LLMInterface.client``: its cache, hooks and keys).
    """
    try:
        name = provider_class(provider).name
    except errors.UnknownProviderError:
        name = None
    if name != PROVIDER:
        raise UnsupportedProviderError(
            f"This adapter covers AbstractLLM's 'huggingface' provider, not {provider!r}.", provider=provider
        )
    return HuggingFaceLLM(config, client=config.pop("client", None))


def create_session(provider: str, **config: Any) -> "Session":
    """``create_session("huggingface", model=..., system_prompt=...)``: a Session over ``create_llm``."""
    return Session(system_prompt=config.get("system_prompt"), provider=create_llm(provider, **config))


class HuggingFaceLLM:
    """What ``create_llm`` returns: ``generate``, ``generate_async``, ``get_capabilities``, ``config_manager``."""

    def __init__(self, config: Mapping[str, Any], client: Any = None) -> None:
        self._client = client
        self._async: Any = None
        self._config: Dict[str, Any] = {}
        self.update_config(config, replace=True)

    def update_config(self, config: Mapping[str, Any], *, replace: bool = False) -> None:
        """AbstractLLM's ``update_config({ModelParameter.TEMPERATURE: 0.5})``: later calls use the new values."""
        merged = dict(config) if replace else {**self._config, **config}
        self.options = options_for(merged)  # checked first: a bad update leaves the LLM as it was
        self._config = merged
        self.local = bool(self.options.get("local"))
        self.system_prompt: Optional[str] = merged.get("system_prompt")
        self.config_manager = ConfigManager({**merged, "use_inference_api": not self.local})

    def set_config(self, **config: Any) -> None:
        self.update_config(config)

    def get_config(self) -> Dict[str, Any]:
        """A copy of the configuration, without the API key (it never leaves the object)."""
        return {key: value for key, value in self._config.items() if key != "api_key"}

    @property
    def config(self) -> Dict[str, Any]:
        return self.get_config()

    def __repr__(self) -> str:
        return f"HuggingFaceLLM(model={self.options.get('model') or self.options.get('model_path')!r}, local={self.local})"

    @property
    def client(self) -> Any:
        return client_of(self._client)

    def call_options(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        """The configured options, overridden by one call's generation params (AbstractLLM's names mapped)."""
        params = dict(params)
        if "num_return_sequences" in params:
            params["n"] = params.pop("num_return_sequences")
        if "max_new_tokens" in params:
            params.setdefault("max_tokens", params.pop("max_new_tokens"))
        if params.pop("do_sample", None) is False:
            params.setdefault("temperature", 0)  # greedy decoding, llm_interface's spelling of it
        return {**self.options, **params}

    def _messages(self, prompt: str, system_prompt: Optional[str]) -> list:
        system = system_prompt if system_prompt is not None else self.system_prompt
        head = [{"role": "system", "content": system}] if system else []
        return head + [{"role": "user", "content": prompt}]

    def generate(self, prompt: str, system_prompt: Optional[str] = None, stream: bool = False, **params: Any) -> Any:
        """The answer's text; with ``stream=True`` an iterator of text pieces."""
        messages = self._messages(prompt, system_prompt)
        options = self.call_options(params)
        if stream:
            return _texts(self.client.stream_message(PROVIDER, messages, options))
        return GeneratedText.of(self.client.send_message(PROVIDER, messages, options))

    async def generate_async(self, prompt: str, system_prompt: Optional[str] = None, **params: Any) -> GeneratedText:
        """``generate``, awaited (over an ``AsyncClient`` sharing this LLM's Client)."""
        response = await self._async_client().send_message_async(
            PROVIDER, self._messages(prompt, system_prompt), self.call_options(params)
        )
        return GeneratedText.of(response)

    def _async_client(self) -> Any:
        # One AsyncClient per event loop: its connections belong to the loop that opened them.
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop or self._async[1].client is not self.client:
            from ..async_client import AsyncClient

            self._async = (loop, AsyncClient(client=self.client))
        return self._async[1]

    def get_capabilities(self) -> Dict[ModelCapability, Any]:
        return {
            ModelCapability.STREAMING: True,
            ModelCapability.MAX_TOKENS: self.options.get("max_tokens"),
            ModelCapability.SYSTEM_PROMPT: True,
            ModelCapability.ASYNC: True,
            ModelCapability.FUNCTION_CALLING: True,  # remote: the Messages API; local: <tool_call> parsing
            ModelCapability.TOOL_USE: True,
            ModelCapability.VISION: False,
            ModelCapability.JSON_MODE: True,
        }


AbstractLLMInterface = HuggingFaceLLM  # what AbstractLLM's create_llm is annotated to return


def _texts(stream: Any) -> Iterator[str]:
    with stream:
        for chunk in stream:
            if chunk.text:
                yield chunk.text


class Session(_Session):
    """``Session(provider=llm)``: llm_interface's Session over the LLM's Client, model and options."""

    def __init__(self, system_prompt: Optional[str] = None, provider: Optional[HuggingFaceLLM] = None, **kwargs: Any) -> None:
        if not isinstance(provider, HuggingFaceLLM):
            raise errors.InvalidRequestError("Session needs provider=create_llm('huggingface', ...).")
        self.llm = provider
        super().__init__(PROVIDER, system=system_prompt or provider.system_prompt, options=provider.options,
                         client=provider._client, **kwargs)

    def generate(self, prompt: str, **params: Any) -> GeneratedText:
        """Send ``prompt`` with the conversation so far; the answer's text (the turn is kept)."""
        return GeneratedText.of(self.send(prompt, self.llm.call_options(params)))

    async def generate_async(self, prompt: str, **params: Any) -> GeneratedText:
        return GeneratedText.of(await self.send_async(prompt, self.llm.call_options(params)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, client: Any = None,
                  provider: Optional[HuggingFaceLLM] = None) -> "Session":
        """A saved session again: over ``provider`` when given, else over a new
        ``create_llm("huggingface", model=<the saved model>)``."""
        return cls._over(_Session.from_dict(data, client=client), provider)

    @classmethod
    def load(cls, path: Any, *, client: Any = None, provider: Optional[HuggingFaceLLM] = None) -> "Session":
        """AbstractLLM's ``Session.load(path)``: the session ``save`` wrote, ready to go on."""
        return cls._over(_Session.load(path, client=client), provider)

    @classmethod
    def _over(cls, saved: _Session, provider: Optional[HuggingFaceLLM]) -> "Session":
        model = saved.model or saved.options.get("model") or saved.options.get("model_path")
        llm = provider if provider is not None else create_llm(PROVIDER, model=model)
        session = cls(system_prompt=saved.system, provider=llm, max_messages=saved.max_messages,
                      token_budget=saved.token_budget)
        session.options = {**session.options, **saved.options}  # the saved call options hold, as saved
        session._turns = saved._turns
        return session


__all__ = [
    "DEFAULT_MODEL", "AbstractLLMError", "AbstractLLMInterface", "AuthenticationError", "HuggingFaceLLM",
    "InvalidArgumentError", "MessageRole", "ModelCapability", "ModelNotFoundError", "ModelParameter",
    "ProviderAPIError", "RateLimitError", "ResourceExhaustedError", "Session", "UnsupportedFeatureError",
    "UnsupportedProviderError", "create_llm", "create_session",
]
