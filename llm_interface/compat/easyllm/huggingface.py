"""EasyLLM's ``huggingface`` client: ``ChatCompletion``, ``Completion`` and ``Embedding`` over llm_interface.

Module variables, read when each call is made:
    api_key         a Hugging Face token; None: llm_interface's order (set_api_key, HUGGINGFACE_API_KEY, HF_TOKEN,
                    HUGGINGFACE_TOKEN, ..., the token file of ``hf auth login``)
    api_base        an endpoint (TGI, Inference Endpoint, http://localhost:8080); None: HUGGINGFACE_API_BASE, else
                    Hugging Face's router. EasyLLM's retired default ``https://api-inference.huggingface.co/models``
                    means the same as None.
    prompt_builder  None: chat goes to the Messages API (the server applies the model's chat template);
                    a builder from ``prompt_utils`` or a name in ``PROMPT_MAPPING`` ("llama2"), or any function
                    messages -> str: the prompt is built with it and sent to raw text generation.
    client          the llm_interface Client to use; None: ``LLMInterface.client`` (its cache, hooks, keys).

Answers are EasyLLM's (OpenAI's) shapes as ``OpenAIObject``s: ``response["choices"][0]["message"]["content"]``.
Only the parameters you pass are sent; the server's defaults apply to the rest (EasyLLM sent its own, e.g.
``max_tokens=1024``, ``top_k=10``).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Union

from ... import errors
from ...openai_shapes import chat_completion_json, embeddings_json, text_completion_json
from ..common import OpenAIStream, client_of, with_response
from .prompt_utils import PROMPT_MAPPING, as_messages

PROVIDER = "huggingface"
RETIRED_BASE = "https://api-inference.huggingface.co"

api_key: Optional[str] = None
api_base: Optional[str] = None
prompt_builder: Union[None, str, Callable[[Any], str]] = None
client: Any = None


def _builder() -> Optional[Callable[[Any], str]]:
    builder = prompt_builder
    if builder is None or callable(builder):
        return builder
    if isinstance(builder, str) and builder in PROMPT_MAPPING:
        return PROMPT_MAPPING[builder]
    raise errors.InvalidRequestError(
        f"huggingface.prompt_builder must be a function or one of {', '.join(sorted(PROMPT_MAPPING))}; got {builder!r}."
    )


def _options(model: Optional[str], params: Dict[str, Any]) -> Dict[str, Any]:
    options = {name: value for name, value in params.items() if value is not None}
    if model:
        options["model"] = model
    base = api_base
    if base and not base.startswith(RETIRED_BASE):
        options["api_base"] = base
    if api_key:
        options["api_key"] = api_key
    return options


def _debug(debug: bool) -> None:
    if debug:
        from ...debug import enable

        enable()  # wire bodies in the log, keys redacted


class ChatCompletion:
    @staticmethod
    def create(
        messages: Any,
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        top_k: Optional[int] = None,
        n: Optional[int] = None,
        max_tokens: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        stream: bool = False,
        frequency_penalty: Optional[float] = None,
        debug: bool = False,
        **params: Any,
    ) -> Any:
        """A chat completion (``chat.completion``; with ``stream=True`` an iterator of ``chat.completion.chunk``)."""
        _debug(debug)
        target = client_of(client)
        chat = as_messages(messages)
        options = _options(model, dict(params, temperature=temperature, top_p=top_p, top_k=top_k, n=n,
                                       max_tokens=max_tokens, stop=stop, frequency_penalty=frequency_penalty))
        builder = _builder()
        if builder is None:  # the Messages API: the server applies the model's own chat template
            if stream:
                return OpenAIStream(target.stream_message(PROVIDER, chat, options), "chat", model)
            response = target.send_message(PROVIDER, chat, options)
            return with_response(chat_completion_json(response, model), response)
        prompt = builder(chat)
        if getattr(builder, "stop", None) and "stop" not in options:
            options["stop"] = list(builder.stop)  # type: ignore[attr-defined]
        if stream:
            return OpenAIStream(target.stream_complete(PROVIDER, prompt, options), "chat", model)
        response = target.complete(PROVIDER, prompt, options)
        return with_response(chat_completion_json(response, model), response)


class Completion:
    @staticmethod
    def create(
        prompt: Any,
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        top_k: Optional[int] = None,
        n: Optional[int] = None,
        max_tokens: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        stream: bool = False,
        frequency_penalty: Optional[float] = None,
        debug: bool = False,
        echo: bool = False,
        logprobs: Optional[int] = None,
        **params: Any,
    ) -> Any:
        """A text completion (``text_completion``); the prompt goes through ``prompt_builder`` when one is set."""
        _debug(debug)
        target = client_of(client)
        builder = _builder()
        text = builder(prompt) if builder is not None else prompt
        if not isinstance(text, str):
            raise errors.InvalidRequestError("prompt must be a string (or, with a prompt_builder, messages).")
        options = _options(model, dict(params, temperature=temperature, top_p=top_p, top_k=top_k, n=n,
                                       max_tokens=max_tokens, stop=stop, frequency_penalty=frequency_penalty,
                                       echo=echo or None, logprobs=logprobs))
        if stream:
            return OpenAIStream(target.stream_complete(PROVIDER, text, options), "completion", model)
        response = target.complete(PROVIDER, text, options)
        return with_response(text_completion_json([response], model), response)


class Embedding:
    @staticmethod
    def create(
        input: Any = None,  # noqa: A002 - EasyLLM's name
        model: Optional[str] = None,
        debug: bool = False,
        text: Any = None,
        **params: Any,
    ) -> Any:
        """Embeddings (a ``list`` of ``embedding`` objects); ``text=`` is accepted for ``input=`` (EasyLLM's page uses it)."""
        _debug(debug)
        if input is None:
            input = text  # noqa: A001
        if input is None:
            raise errors.InvalidRequestError("Embedding.create needs input= (a string or a list of strings).")
        answer = client_of(client).embeddings(PROVIDER, input, _options(model, params))
        return with_response(embeddings_json(answer, model), answer)
