"""Self-hosted servers (TGI, TEI, vLLM, SGLang, llama.cpp, transformers serve): detection, their own routes,
and the typed results of introspection. docs/self-hosted.md has the server x feature x route table."""

from .detect import KINDS, forget, known
from .results import (
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

__all__ = [
    "KINDS", "forget", "known",
    "Health", "Metrics", "PoolingResponse", "Scores", "ServerInfo", "Slot", "SparseEmbeddingResponse", "SparseVector",
    "TokenCount", "Tokens",
]
