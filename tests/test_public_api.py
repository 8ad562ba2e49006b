"""The public surface is ``llm_interface.__all__`` (DESIGN rule 8); changing it is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import llm_interface

EXPECTED = [
    "APIError", "AsyncClient", "AsyncStream", "AuthenticationError", "BudgetExceededError", "CacheMissError", "CacheUnavailableError", "CatalogueModel", "Choice", "Classification",
    "ClassificationResponse", "Client", "ConfigurationError", "ConnectionError", "EmbeddingResponse", "Health",
    "InvalidRequestError", "InvalidResponseError", "LLMInterface", "LLMInterfaceEmbeddings", "LLMInterfaceError",
    "LLMInterfaceSendMessage", "LLMInterfaceStreamMessage", "Label", "Logprobs", "Metrics", "MissingAPIKeyError",
    "MissingDependencyError", "ModelLoadingError", "ModelNotFoundError", "ModelNotSupportedError", "NOT_GIVEN", "NoProviderError", "NotFoundError",
    "PaymentRequiredError", "PoolingResponse", "PromptTemplate", "RateLimitError", "RerankResponse", "RerankResult",
    "ResourceExhaustedError", "Response", "Scores", "ServerError", "ServerInfo", "Session", "Slot",
    "SparseEmbeddingResponse", "SparseVector", "Stream", "StreamChunk", "StreamError", "TimeoutError", "TokenCount",
    "Tokens", "UnknownModelError", "UnknownProviderError", "UnsupportedTaskError", "Usage", "ValidationError",
    "__version__", "llm_interface_embeddings", "llm_interface_send_message", "llm_interface_stream_message",
]


def test_all_is_exactly_the_expected_list():
    assert llm_interface.__all__ == EXPECTED


def test_all_is_sorted_and_every_name_exists():
    assert llm_interface.__all__ == sorted(llm_interface.__all__)
    for name in llm_interface.__all__:
        assert hasattr(llm_interface, name), name


def test_importing_is_light():
    """Nothing optional or heavy at import time (the benchmark measures the time; this holds the list)."""
    def imported_by(statement):
        code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
        return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())

    bare = imported_by("import llm_interface")
    assert "requests" not in bare and "llm_interface.client" not in bare  # the package itself is lazy (PEP 562)
    facade = imported_by("from llm_interface import LLMInterface")
    assert "llm_interface.client" in facade
    for heavy in ("asyncio", "jinja2", "json_repair", "dotenv", "aiohttp", "redis", "torch", "transformers", "fastapi",
                  "numpy", "tqdm", "yaml", "cachetools"):  # cachetools: made lazy (issue 15)
        assert heavy not in facade, heavy
