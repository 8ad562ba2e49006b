"""LLMInterface: the static facade, a thin layer over one default Client (as ``requests.get`` is over a Session).

Every method forwards to ``LLMInterface.client``. Build your own ``Client`` for several keys or
configurations in one process.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from . import batch, js_config
from .cache import CacheBackend
from .client import Client
from .prompts import PromptTemplate
from .servers import tools as servers
from .servers.results import (
    Health,
    Metrics,
    PoolingResponse,
    Scores,
    ServerInfo,
    Slot,
    SparseEmbeddingResponse,
    TokenCount,
    Tokens,
)
from .stream import Stream
from .text_tasks import FacadeTextTasks
from .types import ClassificationResponse, EmbeddingResponse, RerankResponse, Response

_lock = threading.Lock()


async def _in_thread(function: Any, *args: Any) -> Any:
    import asyncio  # here, not at the top: importing the facade stays light (test_public_api)

    return await asyncio.to_thread(function, *args)


class _DefaultClient:
    """Creates the shared Client on first use, so that importing the package costs nothing."""

    def __get__(self, _instance: Any, owner: "type[LLMInterface]") -> Client:
        client = owner._client
        if client is None:
            with _lock:
                if owner._client is None:
                    owner._client = Client()
                client = owner._client
        return client


class _Completions:
    """``LLMInterface.chat.completions.create(...)``: JS's OpenAI-style alias of ``send_message``."""

    @staticmethod
    def create(provider: Any, message: Any, options: Optional[Mapping[str, Any]] = None,
               interface_options: Optional[Mapping[str, Any]] = None) -> Response:
        return LLMInterface.send_message(provider, message, options, interface_options)


class _Chat:
    completions = _Completions()


class LLMInterface(FacadeTextTasks):
    """``LLMInterface.send_message("huggingface", "Hello")``: the JS library's API in snake_case.

    ``provider`` may be ``[provider, api_key]`` (JS's inline-key form): the key is used and remembered."""

    _client: Optional[Client] = None
    client = _DefaultClient()
    _async: Any = None  # the AsyncClient over ``client``, for the async twins
    chat = _Chat()

    def __init__(self) -> None:
        raise TypeError("LLMInterface is used through its static methods; build a Client for an instance.")

    @classmethod
    def reset(cls, client: Optional[Client] = None) -> None:
        """Replace the default client (a fresh one if None): forgets keys, aliases set at run time, cache."""
        with _lock:
            if cls._client is not None:
                cls._client.close()
            cls._client = client

    @classmethod
    def set_api_key(cls, provider_or_keys: Union[str, Mapping[str, str]], key: Optional[str] = None) -> None:
        cls.client.set_api_key(provider_or_keys, key)

    @classmethod
    def send_message(
        cls,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        return cls.client.send_message(js_config.inline_key(cls.client, provider), message, options, interface_options)

    @classmethod
    def stream_message(
        cls,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Stream:
        return cls.client.stream_message(js_config.inline_key(cls.client, provider), message, options, interface_options)

    @classmethod
    def get_model_by_alias(cls, provider: str, alias: str = "default") -> str:
        """The model an alias names; the name itself when it is no alias (or the provider is unknown), as in JS."""
        return js_config.model_by_alias(cls.client, provider, alias, "model")

    @classmethod
    def get_embeddings_model_by_alias(cls, provider: str, alias: str = "default") -> str:
        return js_config.model_by_alias(cls.client, provider, alias, "embeddings")

    @classmethod
    def set_model_alias(cls, provider: str, alias: str, model: str) -> None:
        cls.client.set_model_alias(provider, alias, model)

    @classmethod
    def set_embeddings_model_alias(cls, provider: str, alias: str, model: str) -> None:
        cls.client.set_embeddings_model_alias(provider, alias, model)

    @classmethod
    def get_all_model_names(cls) -> List[str]:
        """The providers' names, sorted (JS's ``getAllModelNames``); ``client.get_all_model_names()`` has the aliases."""
        return js_config.all_provider_names()

    @classmethod
    def get_interface_config_value(cls, provider: str, key: str) -> Any:
        """JS's ``getInterfaceConfigValue``: ``url``, ``apiKey``, ``model.default``, ``hasEmbeddings``...; False if none."""
        return js_config.config_value(cls.client, provider, key)

    @classmethod
    def complete(
        cls,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        return cls.client.complete(provider, prompt, options, interface_options)

    @classmethod
    def stream_complete(
        cls,
        provider: str,
        prompt: str,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Stream:
        return cls.client.stream_complete(provider, prompt, options, interface_options)

    @classmethod
    def embeddings(
        cls,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> EmbeddingResponse:
        return cls.client.embeddings(js_config.inline_key(cls.client, provider), text_or_list, options, interface_options)

    @classmethod
    def classify(
        cls,
        provider: str,
        text_or_list: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> ClassificationResponse:
        return cls.client.classify(provider, text_or_list, options, interface_options)

    @classmethod
    def rerank(
        cls,
        provider: str,
        query: str,
        documents: List[str],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> RerankResponse:
        return cls.client.rerank(provider, query, documents, options, interface_options)

    @classmethod
    def register_prompt_template(
        cls,
        model: str,
        roles: Optional[Mapping[str, Mapping[str, str]]] = None,
        initial_prompt_value: str = "",
        final_prompt_value: str = "",
        bos_token: str = "",
        eos_token: str = "",
        stop: Optional[List[str]] = None,
    ) -> PromptTemplate:
        """See ``Client.register_prompt_template``."""
        return cls.client.register_prompt_template(
            model, roles, initial_prompt_value, final_prompt_value, bos_token, eos_token, stop
        )

    @classmethod
    def configure_cache(
        cls,
        backend: str = "memory",
        path: Optional[str] = None,
        ttl: Optional[float] = None,
        mode: Optional[str] = None,
        *,
        scope: Optional[str] = None,
        **kwargs: Any,
    ) -> CacheBackend:
        return cls.client.configure_cache(backend, path, ttl, mode, scope=scope, **kwargs)

    @classmethod
    def flush_cache(cls) -> None:
        cls.client.flush_cache()

    @classmethod
    def configure_log(cls, path: Any = None, **kwargs: Any) -> Any:
        """Log every call of the default client to SQLite (docs/call-log.md)."""
        return cls.client.configure_log(path, **kwargs)

    @classmethod
    def configure_rate_limit(
        cls,
        provider: str,
        requests_per_minute: Optional[float] = None,
        tokens_per_minute: Optional[float] = None,
        redis_url: Optional[str] = None,
        *,
        max_wait: float = 60.0,
    ) -> None:
        cls.client.configure_rate_limit(provider, requests_per_minute, tokens_per_minute, redis_url, max_wait=max_wait)

    # -- async twins and batches (async_client.py, batch.py) ----------------------------------------

    @classmethod
    def async_client(cls) -> Any:
        """The AsyncClient sharing the default client (rebuilt after ``reset``)."""
        current, client = cls._async, cls.client
        if current is None or current.client is not client:
            from .async_client import AsyncClient

            if current is not None and current.transport is not None:
                current.transport.detach()
            current = cls._async = AsyncClient(client=client)
        return current

    @classmethod
    async def send_message_async(
        cls,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        return await cls.async_client().send_message_async(js_config.inline_key(cls.client, provider), message, options, interface_options)

    @classmethod
    def stream_message_async(
        cls,
        provider: str,
        message: Any,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        return cls.async_client().stream_message_async(js_config.inline_key(cls.client, provider), message, options, interface_options)

    @classmethod
    async def complete_async(cls, provider: str, prompt: str, options: Optional[Mapping[str, Any]] = None,
                             interface_options: Optional[Mapping[str, Any]] = None) -> Response:
        return await cls.async_client().complete_async(provider, prompt, options, interface_options)

    @classmethod
    def stream_complete_async(cls, provider: str, prompt: str, options: Optional[Mapping[str, Any]] = None,
                              interface_options: Optional[Mapping[str, Any]] = None) -> Any:
        return cls.async_client().stream_complete_async(provider, prompt, options, interface_options)

    @classmethod
    async def embeddings_async(cls, provider: str, text_or_list: Any, options: Optional[Mapping[str, Any]] = None,
                               interface_options: Optional[Mapping[str, Any]] = None) -> Any:
        return await cls.async_client().embeddings_async(js_config.inline_key(cls.client, provider), text_or_list, options, interface_options)

    @classmethod
    async def classify_async(cls, provider: str, text_or_list: Any, options: Optional[Mapping[str, Any]] = None,
                             interface_options: Optional[Mapping[str, Any]] = None) -> Any:
        return await cls.async_client().classify_async(provider, text_or_list, options, interface_options)

    @classmethod
    async def rerank_async(cls, provider: str, query: str, documents: Iterable[str],
                           options: Optional[Mapping[str, Any]] = None,
                           interface_options: Optional[Mapping[str, Any]] = None) -> Any:
        return await cls.async_client().rerank_async(provider, query, documents, options, interface_options)

    @classmethod
    def send_messages(
        cls,
        provider: str,
        messages: Iterable[Any],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        concurrency: int = 8,
        progress: bool = True,
        raise_on_error: bool = False,
        deadline: Optional[float] = None,
    ) -> List[Any]:
        return batch.send_messages(
            cls.client, provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
        )

    @classmethod
    async def send_messages_async(
        cls,
        provider: str,
        messages: Iterable[Any],
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        concurrency: int = 8,
        progress: bool = True,
        raise_on_error: bool = False,
        deadline: Optional[float] = None,
    ) -> List[Any]:
        return await batch.send_messages_async(
            cls.async_client(), provider, messages, options, interface_options,
            concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
        )

    # -- the Inference Providers catalogue (catalogue.py) ---------------------------------------------

    @classmethod
    def configure_budget(cls, usd: Optional[float] = None) -> Any:
        """Refuse a call that would take spending past ``usd`` dollars (BudgetExceededError); None only tracks."""
        return cls.client.configure_budget(usd)

    @classmethod
    def list_models(
        cls, provider: str = "huggingface", task: Optional[str] = None, inference_provider: Optional[str] = None
    ) -> List[Any]:
        """The router's catalogue: every model with its providers, prices, context length and capabilities."""
        return cls.client.list_models(provider, task, inference_provider)

    @classmethod
    def get_model_info(cls, provider: str, model: str) -> Any:
        """One model's catalogue entry (``CatalogueModel``)."""
        return cls.client.get_model_info(provider, model)

    # -- self-hosted servers (servers/): detection, introspection, TEI extras --------------------------

    @classmethod
    def detect_server(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """The kind of server at ``api_base`` (tgi, tei, vllm, sglang, llamacpp, ...), cached per base URL."""
        return servers.detect_server(cls.client, provider, options, interface_options)

    @classmethod
    def server_info(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> ServerInfo:
        """Model id, max input/total tokens, dtype and version, as the server at ``api_base`` reports them."""
        return servers.server_info(cls.client, provider, options, interface_options)

    @classmethod
    def health(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Health:
        """Whether the server at ``api_base`` is up (``Health.ok``, with ``detail``); never raises for a down server."""
        return servers.health(cls.client, provider, options, interface_options)

    @classmethod
    def tokenize(cls, provider: str, text: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Tokens:
        """``text``'s token ids from the server's own tokenizer (TGI, TEI, vLLM, llama.cpp)."""
        return servers.tokenize(cls.client, provider, text, options, interface_options)

    @classmethod
    def detokenize(cls, provider: str, ids: List[int], options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """The text of token ``ids`` (TEI ``/decode``, vLLM and llama.cpp ``/detokenize``)."""
        return servers.detokenize(cls.client, provider, ids, options, interface_options)

    @classmethod
    def count_tokens(cls, provider: str, messages: Any, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> TokenCount:
        """How many tokens ``messages`` take: exact from the server or a local tokenizer, else an estimate
        (``TokenCount.exact`` and ``source`` say which)."""
        return servers.count_tokens(cls.client, provider, messages, options, interface_options)

    @classmethod
    def embed_sparse(cls, provider: str, texts: Any, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> SparseEmbeddingResponse:
        """TEI ``/embed_sparse`` (SPLADE): one sparse vector per text."""
        return servers.embed_sparse(cls.client, provider, texts, options, interface_options)

    @classmethod
    def similarity(cls, provider: str, source: str, texts: Any, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Scores:
        """One score per text against ``source`` (TEI ``/similarity``, vLLM ``/score``), in the order given."""
        return servers.similarity(cls.client, provider, source, texts, options, interface_options)

    @classmethod
    def metrics(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Metrics:
        """The server's Prometheus ``/metrics``, parsed (``Metrics.value(name)``; the page in ``Metrics.text``)."""
        return servers.metrics(cls.client, provider, options, interface_options)

    @classmethod
    def slots(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[Slot, ...]:
        """llama.cpp ``/slots``: each slot's id, context size and whether it is busy."""
        return servers.slots(cls.client, provider, options, interface_options)

    @classmethod
    def generate(cls, provider: str, prompt: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Response:
        """Raw generation on the server's own route (SGLang ``/generate``, llama.cpp ``/completion``)."""
        return servers.generate(cls.client, provider, prompt, options, interface_options)

    @classmethod
    def pooling(cls, provider: str, texts: Any, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> PoolingResponse:
        """The pooler's raw output per text (TEI ``/embed_all``: one vector per token; vLLM ``/pooling``)."""
        return servers.pooling(cls.client, provider, texts, options, interface_options)

    @classmethod
    async def server_info_async(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> ServerInfo:
        """``server_info`` in a worker thread: these are one-off GETs, not worth a second code path."""
        return await _in_thread(cls.server_info, provider, options, interface_options)

    @classmethod
    async def health_async(cls, provider: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Health:
        return await _in_thread(cls.health, provider, options, interface_options)

    @classmethod
    async def tokenize_async(cls, provider: str, text: str, options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
    ) -> Tokens:
        return await _in_thread(cls.tokenize, provider, text, options, interface_options)

    @classmethod
    async def count_tokens_async(cls, provider: str, messages: Any,
                                 options: Optional[Mapping[str, Any]] = None,
                                 interface_options: Optional[Mapping[str, Any]] = None) -> TokenCount:
        return await _in_thread(cls.count_tokens, provider, messages, options, interface_options)
