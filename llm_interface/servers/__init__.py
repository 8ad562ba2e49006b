"""Self-hosted servers (TGI, TEI, vLLM, SGLang, llama.cpp, transformers serve): detection, their own routes,
and the typed results of introspection. docs/self-hosted.md has the server x feature x route table."""

from .detect import KINDS, forget, known
from .results import Health, Scores, ServerInfo, SparseEmbeddingResponse, SparseVector, TokenCount, Tokens

__all__ = [
    "KINDS", "forget", "known",
    "Health", "Scores", "ServerInfo", "SparseEmbeddingResponse", "SparseVector", "TokenCount", "Tokens",
]
