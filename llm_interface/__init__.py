"""llm_interface: one small facade to talk to language models, Hugging Face first.

    from llm_interface import LLMInterface
    LLMInterface.set_api_key({"huggingface": "hf_..."})
    print(LLMInterface.send_message("huggingface", "Explain the importance of low latency LLMs.").results)
"""

from .async_client import AsyncClient, AsyncStream
from .client import Client, Stream
from .errors import (
    APIError,
    AuthenticationError,
    CacheMissError,
    ConfigurationError,
    ConnectionError,
    InvalidRequestError,
    InvalidResponseError,
    LLMInterfaceError,
    MissingAPIKeyError,
    MissingDependencyError,
    ModelLoadingError,
    ModelNotFoundError,
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
from .session import Session
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
    "CacheMissError",
    "Choice",
    "Classification",
    "ClassificationResponse",
    "Client",
    "ConfigurationError",
    "ConnectionError",
    "EmbeddingResponse",
    "InvalidRequestError",
    "InvalidResponseError",
    "LLMInterface",
    "LLMInterfaceError",
    "Label",
    "Logprobs",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "ModelLoadingError",
    "ModelNotFoundError",
    "NOT_GIVEN",
    "NotFoundError",
    "PaymentRequiredError",
    "PromptTemplate",
    "RateLimitError",
    "RerankResponse",
    "RerankResult",
    "ResourceExhaustedError",
    "Response",
    "ServerError",
    "Session",
    "Stream",
    "StreamChunk",
    "StreamError",
    "TimeoutError",
    "UnknownModelError",
    "UnknownProviderError",
    "UnsupportedTaskError",
    "Usage",
    "ValidationError",
    "__version__",
]
