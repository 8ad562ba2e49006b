"""The names AbstractLLM's users import (``from abstractllm import ModelParameter, ModelCapability``), as data.

Facts from lpalbou/AbstractLLM ed05127818905efe8eb764eb8da443d8423007f1 ``abstractllm/enums.py`` (the members and
their string values) and ``abstractllm/__init__.py`` (what is exported). Both enums are ``str`` enums, as
there: ``ModelParameter.TEMPERATURE == "temperature"``, so a config keyed by either spelling reads the same.
"""

from __future__ import annotations

from enum import Enum


class ModelParameter(str, Enum):
    """Configuration keys (``create_llm("huggingface", **{ModelParameter.TEMPERATURE: 0.2})``)."""

    TEMPERATURE = "temperature"
    MAX_TOKENS = "max_tokens"
    SYSTEM_PROMPT = "system_prompt"
    TOP_P = "top_p"
    FREQUENCY_PENALTY = "frequency_penalty"
    PRESENCE_PENALTY = "presence_penalty"
    STOP = "stop"
    MODEL = "model"
    API_KEY = "api_key"
    BASE_URL = "base_url"
    TIMEOUT = "timeout"
    RETRY_COUNT = "retry_count"
    LOGIT_BIAS = "logit_bias"
    SEED = "seed"
    TOP_K = "top_k"
    REPETITION_PENALTY = "repetition_penalty"
    MAX_INPUT_TOKENS = "max_input_tokens"
    MAX_OUTPUT_TOKENS = "max_output_tokens"
    CONTEXT_WINDOW = "context_window"
    TRUNCATION_STRATEGY = "truncation_strategy"
    DEVICE = "device"
    DEVICE_MAP = "device_map"
    LOAD_IN_8BIT = "load_in_8bit"
    LOAD_IN_4BIT = "load_in_4bit"
    CACHE_DIR = "cache_dir"
    ORGANIZATION = "organization"
    USER = "user"
    PROXY = "proxy"
    REQUEST_TIMEOUT = "request_timeout"
    MAX_RETRIES = "max_retries"
    IMAGE = "image"
    IMAGES = "images"
    IMAGE_DETAIL = "image_detail"
    TOOLS = "tools"
    TOOL_CHOICE = "tool_choice"
    CONTENT_FILTER = "content_filter"
    MODERATION = "moderation"
    LOGGING_ENABLED = "logging_enabled"


class ModelCapability(str, Enum):
    """What ``get_capabilities()`` reports (the plain names work as keys too)."""

    STREAMING = "streaming"
    MAX_TOKENS = "max_tokens"
    SYSTEM_PROMPT = "supports_system_prompt"
    ASYNC = "supports_async"
    FUNCTION_CALLING = "supports_function_calling"
    TOOL_USE = "supports_tool_use"
    VISION = "supports_vision"
    FINE_TUNING = "supports_fine_tuning"
    EMBEDDINGS = "supports_embeddings"
    MULTILINGUAL = "supports_multilingual"
    RAG = "supports_rag"
    MULTI_TURN = "supports_multi_turn"
    PARALLEL_INFERENCE = "supports_parallel_inference"
    IMAGE_GENERATION = "supports_image_generation"
    AUDIO_PROCESSING = "supports_audio_processing"
    JSON_MODE = "supports_json_mode"


class MessageRole(str, Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
