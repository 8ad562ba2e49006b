"""Request bodies of the OpenAI routes, for validation and the ``/docs`` page.

Extra fields are allowed and forwarded as generation params (``tools``, ``response_format``, ``seed``...),
so a field OpenAI adds tomorrow passes through without a release.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)  # NaN is not JSON: refused, never forwarded


class ChatCompletionRequest(_Open):
    model: str = Field(description="A model_name from the proxy's config (GET /v1/models).")
    messages: List[Dict[str, Any]]
    stream: bool = False
    stream_options: Optional[Dict[str, Any]] = None
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    n: Optional[int] = None
    stop: Optional[Union[str, List[str]]] = None
    seed: Optional[int] = None


class CompletionRequest(_Open):
    model: str
    prompt: Union[str, List[str]]
    stream: bool = False
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    stop: Optional[Union[str, List[str]]] = None
    seed: Optional[int] = None


class EmbeddingRequest(_Open):
    model: str
    input: Union[str, List[Any]]
    encoding_format: Optional[str] = "float"


class ResponsesRequest(_Open):
    """OpenAI's Responses API: ``instructions``, ``tools``, ``reasoning``, ``max_output_tokens``... pass through."""

    model: str
    input: Union[str, List[Dict[str, Any]]]
    stream: bool = False


class RerankRequest(_Open):
    model: str
    query: str
    documents: List[Union[str, Dict[str, Any]]]
    top_n: Optional[int] = None
    return_documents: bool = True
