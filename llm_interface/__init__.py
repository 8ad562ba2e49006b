"""llm_interface: one small facade to talk to language models, Hugging Face first.

    from llm_interface import LLMInterface
    LLMInterface.set_api_key({"huggingface": "hf_..."})
    print(LLMInterface.send_message("huggingface", "Explain the importance of low latency LLMs.").results)
"""

from typing import TYPE_CHECKING, Any

# Public name -> the module that defines it. Imported on first use (PEP 562), so that
# ``import llm_interface`` costs next to nothing and asyncio, requests and the rest load only when used.
_LAZY = {
    "APIError": "errors",
    "AsyncClient": "async_client",
    "AsyncStream": "async_client",
    "AuthenticationError": "errors",
    "BudgetExceededError": "errors",
    "CacheMissError": "errors",
    "CacheUnavailableError": "errors",
    "CatalogueModel": "catalogue",
    "Choice": "types",
    "Classification": "types",
    "ClassificationResponse": "types",
    "Client": "client",
    "ConfigurationError": "errors",
    "ConnectionError": "errors",
    "EmbeddingResponse": "types",
    "Health": "servers.results",
    "InvalidRequestError": "errors",
    "InvalidResponseError": "errors",
    "LLMInterface": "interface",
    "LLMInterfaceError": "errors",
    "Label": "types",
    "Logprobs": "types",
    "Metrics": "servers.results",
    "MissingAPIKeyError": "errors",
    "MissingDependencyError": "errors",
    "ModelLoadingError": "errors",
    "ModelNotFoundError": "errors",
    "ModelNotSupportedError": "errors",
    "NOT_GIVEN": "request",
    "NoProviderError": "errors",
    "NotFoundError": "errors",
    "PaymentRequiredError": "errors",
    "PoolingResponse": "servers.results",
    "PromptTemplate": "prompts",
    "RateLimitError": "errors",
    "RerankResponse": "types",
    "ResourceExhaustedError": "errors",
    "RerankResult": "types",
    "Response": "types",
    "Scores": "servers.results",
    "ServerError": "errors",
    "ServerInfo": "servers.results",
    "Session": "session",
    "Slot": "servers.results",
    "SparseEmbeddingResponse": "servers.results",
    "SparseVector": "servers.results",
    "Stream": "stream",
    "StreamChunk": "types",
    "StreamError": "errors",
    "TimeoutError": "errors",
    "TokenCount": "servers.results",
    "Tokens": "servers.results",
    "UnknownModelError": "errors",
    "UnknownProviderError": "errors",
    "UnsupportedTaskError": "errors",
    "Usage": "types",
    "ValidationError": "errors",
    # The JS package's exported functions (compat/javascript.py), by their JS and snake_case names.
    "LLMInterfaceEmbeddings": "compat.javascript",
    "LLMInterfaceSendMessage": "compat.javascript",
    "LLMInterfaceStreamMessage": "compat.javascript",
    "llm_interface_embeddings": "compat.javascript",
    "llm_interface_send_message": "compat.javascript",
    "llm_interface_stream_message": "compat.javascript",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_interface' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # next time, a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .async_client import AsyncClient, AsyncStream
    from .catalogue import CatalogueModel
    from .client import Client
    from .compat.javascript import (
        LLMInterfaceEmbeddings,
        LLMInterfaceSendMessage,
        LLMInterfaceStreamMessage,
        llm_interface_embeddings,
        llm_interface_send_message,
        llm_interface_stream_message,
    )
    from .errors import (
        APIError,
        AuthenticationError,
        BudgetExceededError,
        CacheMissError,
        CacheUnavailableError,
        ConfigurationError,
        ConnectionError,
        InvalidRequestError,
        InvalidResponseError,
        LLMInterfaceError,
        MissingAPIKeyError,
        MissingDependencyError,
        ModelLoadingError,
        ModelNotFoundError,
        ModelNotSupportedError,
        NoProviderError,
        NotFoundError,
        PaymentRequiredError,
        RateLimitError,
        ResourceExhaustedError,
        ServerError,
        StreamError,
        TimeoutError,
        UnknownModelError,
        UnknownProviderError,
        UnsupportedTaskError,
        ValidationError,
    )
    from .interface import LLMInterface
    from .prompts import PromptTemplate
    from .request import NOT_GIVEN
    from .servers.results import (
        Health,
        Metrics,
        PoolingResponse,
        Scores,
        ServerInfo,
        Slot,
        SparseEmbeddingResponse,
        SparseVector,
        TokenCount,
        Tokens,
    )
    from .session import Session
    from .stream import Stream
    from .types import (
        Choice,
        Classification,
        ClassificationResponse,
        EmbeddingResponse,
        Label,
        Logprobs,
        RerankResponse,
        RerankResult,
        Response,
        StreamChunk,
        Usage,
    )

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AsyncClient",
    "AsyncStream",
    "AuthenticationError",
    "BudgetExceededError",
    "CacheMissError",
    "CacheUnavailableError",
    "CatalogueModel",
    "Choice",
    "Classification",
    "ClassificationResponse",
    "Client",
    "ConfigurationError",
    "ConnectionError",
    "EmbeddingResponse",
    "Health",
    "InvalidRequestError",
    "InvalidResponseError",
    "LLMInterface",
    "LLMInterfaceEmbeddings",
    "LLMInterfaceError",
    "LLMInterfaceSendMessage",
    "LLMInterfaceStreamMessage",
    "Label",
    "Logprobs",
    "Metrics",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelLoadingError",
    "ModelNotFoundError",
    "ModelNotSupportedError",
    "NOT_GIVEN",
    "NoProviderError",
    "NotFoundError",
    "PaymentRequiredError",
    "PoolingResponse",
    "PromptTemplate",
    "RateLimitError",
    "RerankResponse",
    "RerankResult",
    "ResourceExhaustedError",
    "Response",
    "Scores",
    "ServerError",
    "ServerInfo",
    "Session",
    "Slot",
    "SparseEmbeddingResponse",
    "SparseVector",
    "Stream",
    "StreamChunk",
    "StreamError",
    "TimeoutError",
    "TokenCount",
    "Tokens",
    "UnknownModelError",
    "UnknownProviderError",
    "UnsupportedTaskError",
    "Usage",
    "ValidationError",
    "__version__",
    "llm_interface_embeddings",
    "llm_interface_send_message",
    "llm_interface_stream_message",
]
