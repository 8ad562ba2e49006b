"""LiteLLM's Hugging Face calls, over llm_interface. Change ``litellm`` to ``llm_interface.compat.litellm``:

    from llm_interface.compat.litellm import completion
    response = completion(model="huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct",
                          messages=[{"content": "Hello, how are you?", "role": "user"}])
    print(response["choices"][0]["message"]["content"], response.choices[0].message.content)

Model strings: ``huggingface/<org>/<model>`` (the router, or ``api_base``'s endpoint),
``huggingface/<provider>/<org>/<model>`` (an Inference Provider such as ``together``),
``huggingface/text-classification/<org>/<model>`` (the last user message classified), or the bare id with
``custom_llm_provider="huggingface"``. Keys, first found: ``api_key=``, the module variable
``huggingface_key``, then llm_interface's own order (``set_api_key``, HUGGINGFACE_API_KEY, HF_TOKEN, ... the
token file). ``api_base`` falls back to HUGGINGFACE_API_BASE. Every setting is read when a call is made.

Answers are OpenAI-shaped objects (dict and attribute access; a field the answer lacks reads ``None``, as in
LiteLLM); llm_interface's own result is on ``._response``. ``acompletion``, ``atext_completion`` and
``aembedding`` are the async twins. Errors are llm_interface's typed errors (``llm_interface.errors``).
tests/peers/test_litellm.py pins LiteLLM's behaviour, naming the LiteLLM source of each fact.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple, Union

from .. import errors
from ..openai_shapes import chat_completion_json, embeddings_json, text_completion_json
from ..providers.huggingface import CLASSIFICATION_PREFIX, split_litellm_model
from .common import OpenAIStream, client_of, with_response

PROVIDER = "huggingface"
PREFIX = PROVIDER + "/"

huggingface_key: Optional[str] = None  # litellm.huggingface_key
client: Any = None  # the llm_interface Client to use; None: LLMInterface.client


def completion(
    model: str,
    messages: List[Dict[str, Any]],
    *,
    api_base: Optional[str] = None,
    api_key: Optional[str] = None,
    stream: bool = False,
    custom_llm_provider: Optional[str] = None,
    timeout: Optional[float] = None,
    num_retries: Optional[int] = None,
    headers: Optional[Dict[str, str]] = None,
    **params: Any,
) -> Any:
    """A chat completion (``litellm.completion``); ``stream=True`` gives an iterator of chunk objects."""
    model_id, options = _options(model, custom_llm_provider, api_base, api_key, timeout, headers, params)
    target = client_of(client)
    if not model_id.startswith(CLASSIFICATION_PREFIX) and target.prompt_templates.registered(model_id) is not None:
        # A template registered with register_prompt_template: LiteLLM renders it and calls raw generation.
        options["raw"] = True
    iopts = _interface_options(num_retries)
    if stream:
        return OpenAIStream(target.stream_message(PROVIDER, messages, options, iopts), "chat", reported_model(model))
    response = target.send_message(PROVIDER, messages, options, iopts)
    return with_response(chat_completion_json(response, model_id), response)


def text_completion(
    model: str,
    prompt: Union[str, List[str]],
    *,
    echo: bool = False,
    logprobs: Optional[int] = None,
    api_base: Optional[str] = None,
    api_key: Optional[str] = None,
    stream: bool = False,
    custom_llm_provider: Optional[str] = None,
    timeout: Optional[float] = None,
    num_retries: Optional[int] = None,
    headers: Optional[Dict[str, str]] = None,
    **params: Any,
) -> Any:
    """A raw text completion (``litellm.text_completion``): ``echo`` and ``logprobs`` as OpenAI's, from TGI details."""
    if echo:
        params["echo"] = True
    # LiteLLM always asks TGI for ``details`` and answers with logprobs; 0 asks for them with no alternatives.
    params["logprobs"] = 0 if logprobs is None else logprobs
    model_id, options = _options(model, custom_llm_provider, api_base, api_key, timeout, headers, params)
    target = client_of(client)
    iopts = _interface_options(num_retries)
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts:
        raise errors.InvalidRequestError("prompt must be a string or a non-empty list of strings.")
    if stream:
        if len(prompts) != 1:
            raise errors.InvalidRequestError("stream=True takes exactly one prompt.")
        return OpenAIStream(target.stream_complete(PROVIDER, prompts[0], options, iopts), "completion",
                            reported_model(model))
    answers = [target.complete(PROVIDER, text, options, iopts) for text in prompts]
    return with_response(text_completion_json(answers, model_id), answers[0] if len(answers) == 1 else answers)


def embedding(
    model: str,
    input: Union[str, List[str]],  # noqa: A002 - LiteLLM's name
    *,
    api_base: Optional[str] = None,
    api_key: Optional[str] = None,
    custom_llm_provider: Optional[str] = None,
    encoding_format: Optional[str] = None,
    timeout: Optional[float] = None,
    num_retries: Optional[int] = None,
    headers: Optional[Dict[str, str]] = None,
    **params: Any,
) -> Any:
    """Embeddings (``litellm.embedding``): ``response["data"][i]["embedding"]``, in input order.

    ``input_type="sentence-similarity"`` (or ``"similarity"``): ``input[0]`` is compared with the rest and each
    ``data[i]["embedding"]`` is a score (LiteLLM's shape); ``"feature-extraction"``/``"embed"`` are vectors."""
    input_type = params.pop("input_type", None)
    model_id, options = _options(model, custom_llm_provider, api_base, api_key, timeout, headers, params)
    target, iopts = client_of(client), _interface_options(num_retries)
    if input_type in (None, "feature-extraction", "embed"):
        answer = target.embeddings(PROVIDER, input, options, iopts)
        return with_response(embeddings_json(answer, model_id, encoding_format), answer)
    if input_type not in ("sentence-similarity", "similarity"):
        raise errors.InvalidRequestError(
            f"input_type={input_type!r} is not an embedding task; use 'feature-extraction' (vectors) or "
            "'sentence-similarity' (input[0] scored against the rest).", provider=PROVIDER, model=model_id,
        )
    sentences = [input] if isinstance(input, str) else list(input)
    if len(sentences) < 2:
        raise errors.InvalidRequestError(
            "sentence-similarity needs two or more sentences: input[0] is compared with each of the others.",
            provider=PROVIDER, model=model_id,
        )
    ranked = target.rerank(PROVIDER, sentences[0], sentences[1:], options, iopts)
    scores = sorted((result.index, result.score) for result in ranked.results)
    data = [{"object": "embedding", "index": index, "embedding": score} for index, score in scores]
    return with_response({"object": "list", "data": data, "model": model_id,
                          "usage": {"prompt_tokens": 0, "total_tokens": 0}}, ranked)


async def acompletion(*args: Any, **kwargs: Any) -> Any:
    """``litellm.acompletion``: ``completion`` off the event loop; ``stream=True`` gives an async iterator."""
    answer = await asyncio.to_thread(completion, *args, **kwargs)
    return _AsyncChunks(answer) if kwargs.get("stream") else answer


async def atext_completion(*args: Any, **kwargs: Any) -> Any:
    """``litellm.atext_completion``: ``text_completion`` off the event loop."""
    answer = await asyncio.to_thread(text_completion, *args, **kwargs)
    return _AsyncChunks(answer) if kwargs.get("stream") else answer


async def aembedding(*args: Any, **kwargs: Any) -> Any:
    """``litellm.aembedding``: ``embedding`` off the event loop."""
    return await asyncio.to_thread(embedding, *args, **kwargs)


class _AsyncChunks:
    """``async for chunk in await acompletion(..., stream=True)``: each chunk read in a worker thread."""

    def __init__(self, stream: OpenAIStream) -> None:
        self._stream = stream
        self._chunks = iter(stream)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        done = object()
        chunk = await asyncio.to_thread(next, self._chunks, done)
        if chunk is done:
            raise StopAsyncIteration
        return chunk

    @property
    def response(self) -> Any:
        return self._stream.response

    async def aclose(self) -> None:
        await asyncio.to_thread(self._stream.close)


def register_prompt_template(
    model: str,
    roles: Optional[Dict[str, Dict[str, str]]] = None,
    initial_prompt_value: str = "",
    final_prompt_value: str = "",
    bos_token: str = "",
    eos_token: str = "",
    stop: Optional[List[str]] = None,
) -> Any:
    """``litellm.register_prompt_template``: chat calls to ``model`` are rendered with it and sent to raw generation."""
    model_id = model[len(PREFIX):] if model.startswith(PREFIX) else model
    return client_of(client).register_prompt_template(
        model_id, roles, initial_prompt_value, final_prompt_value, bos_token, eos_token, stop
    )


def _options(
    model: str,
    custom_llm_provider: Optional[str],
    api_base: Optional[str],
    api_key: Optional[str],
    timeout: Optional[float],
    headers: Optional[Dict[str, str]],
    params: Dict[str, Any],
) -> Tuple[str, Dict[str, Any]]:
    """(the model id as llm_interface names it, the call's options)."""
    model_id, inference_provider = split_model(model, custom_llm_provider)
    options: Dict[str, Any] = dict(params)
    headers = {**(headers or {}), **(options.pop("extra_headers", None) or {})}
    # LiteLLM sends wait_for_model in the retired api-inference's body "options"; the router reads the header.
    if options.pop("wait_for_model", None):
        headers["x-wait-for-model"] = "true"
    use_cache = options.pop("use_cache", None)
    if use_cache is not None:
        headers["x-use-cache"] = "true" if use_cache else "false"
    options["model"] = model_id
    if inference_provider:
        options["provider"] = inference_provider
    if api_base is not None:
        options["api_base"] = api_base
    key = api_key or huggingface_key
    if key:
        options["api_key"] = key
    if timeout is not None:
        options["timeout"] = timeout
    if headers:
        options["headers"] = headers
    return model_id, options


def reported_model(model: str) -> str:
    """The ``model`` LiteLLM's stream chunks carry: the string given, less ``huggingface/`` (its
    ``get_llm_provider`` strips the provider and ``CustomStreamWrapper.chunk_creator`` sets
    ``model_response.model = self.model`` on every chunk), so an Inference Provider stays in front:
    ``huggingface/together/deepseek-ai/DeepSeek-R1`` -> ``together/deepseek-ai/DeepSeek-R1``."""
    return model[len(PREFIX):] if model.startswith(PREFIX) else model


def split_model(model: str, custom_llm_provider: Optional[str] = None) -> Tuple[str, Optional[str]]:
    """``huggingface/[provider/]org/name`` -> (``org/name``, provider or None); the classification prefix stays."""
    if not isinstance(model, str) or not model:
        raise errors.InvalidRequestError("model must be a string such as 'huggingface/meta-llama/Meta-Llama-3.1-8B-Instruct'.")
    if custom_llm_provider is not None and custom_llm_provider != PROVIDER:
        raise errors.UnknownProviderError(
            f"This adapter speaks to Hugging Face only; custom_llm_provider={custom_llm_provider!r}. "
            "Use custom_llm_provider='huggingface', or llm_interface's 'openai-compatible' provider for other servers.",
            provider=custom_llm_provider,
        )
    if model.startswith(PREFIX):
        model = model[len(PREFIX):]
    elif custom_llm_provider is None:
        raise errors.InvalidRequestError(
            f"model {model!r} names no provider: write 'huggingface/{model}' or pass custom_llm_provider='huggingface'."
        )
    return split_litellm_model(model)


def _interface_options(num_retries: Optional[int]) -> Optional[Dict[str, Any]]:
    return {"retry_attempts": num_retries} if num_retries is not None else None
