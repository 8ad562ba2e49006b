"""Turning what callers pass (a string, a message dict, a list of messages, option dicts) into a Request.

This module is pure: no I/O, no state. It is shared by the sync and async clients, so that a message is
normalised and validated in exactly one place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping  # not typing.Mapping: its isinstance is several times slower
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .errors import InvalidRequestError


class _NotGiven:
    """'Not given', distinct from None: ``cache=None`` disables, not given means 'use the default'."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = _NotGiven()

TASKS = ("chat", "completion", "embeddings", "classify", "rerank")

# Options that steer where and how the call goes, rather than what the model generates.
TRANSPORT_OPTIONS = frozenset(
    {
        "model",
        "api_base",
        "api_key",
        "timeout",
        "headers",
        "provider",  # Hugging Face: which Inference Provider serves the model ("hf-inference", "together", ...)
        "scale_up_timeout",  # Hugging Face endpoints scaled to zero: X-Scale-Up-Timeout seconds
        "server",  # self-hosted: which server is behind api_base (servers/detect.py), when not detected
        "bill_to",  # Hugging Face: X-HF-Bill-To organisation
        "preflight",  # Hugging Face router: check the catalogue for a fitting provider before sending
        "prompt_template",
        "raw",  # Hugging Face: send chat messages to the raw-generation route, rendered with a prompt template
        "openai_format",  # Hugging Face endpoints: use /v1/completions, /v1/embeddings instead of TGI/TEI routes
        "cross_encoder",  # Hugging Face rerank: True pairs (query, document) on a cross-encoder (rerank_pipeline.py)
        "batch_size",  # embeddings/classify: inputs per call (TEI's max_client_batch_size, 32 by default)
        "local",  # Hugging Face local mode (providers/huggingface.local_engine): True, False, or decided by the model
        "model_path",  # local mode: a .gguf file or model folder
        "device",
        "torch_dtype",
        "device_map",
        "quantization",
        "model_kwargs",
        "pipeline_kwargs",
        "n_ctx",
        "n_threads",
        "n_gpu_layers",
        "stream",
    }
)

# The JS library's camelCase names, accepted in option dicts so a ported JSON config works unchanged.
CAMEL_CASE = {
    "maxTokens": "max_tokens",
    "topP": "top_p",
    "topK": "top_k",
    "frequencyPenalty": "frequency_penalty",
    "presencePenalty": "presence_penalty",
    "responseFormat": "response_format",
    "apiBase": "api_base",
    "apiKey": "api_key",
    "retryAttempts": "retry_attempts",
    "retryMultiplier": "retry_multiplier",
    "cacheTimeoutSeconds": "cache_timeout_seconds",
    "includeOriginalResponse": "include_original_response",
    "attemptJsonRepair": "attempt_json_repair",
    "maxRetryWait": "max_retry_wait",
}


@dataclass(frozen=True)
class InterfaceOptions:
    """How llm_interface behaves around the call (the JS library's ``interfaceOptions``, snake_case)."""

    retry_attempts: int = 2  # retries after the first attempt
    retry_multiplier: float = 0.5  # seconds: the base of exponential backoff
    max_retry_wait: float = 60.0  # seconds: total budget for waiting between attempts
    cache_timeout_seconds: Any = NOT_GIVEN  # None or 0: do not cache this call
    include_original_response: bool = False
    attempt_json_repair: bool = False
    cache: Any = NOT_GIVEN  # False: skip the cache for this call
    refresh: bool = False  # True: ignore a cached answer and store the new one
    deadline: Optional[float] = None  # seconds for the whole call (attempts, retry waits, body); None: no limit

    @classmethod
    def from_mapping(cls, data: Optional[Mapping[str, Any]]) -> "InterfaceOptions":
        if data is None:
            return _DEFAULT_INTERFACE_OPTIONS
        if isinstance(data, InterfaceOptions):
            return data
        if not isinstance(data, Mapping):
            raise InvalidRequestError(
                f"interface_options must be a dict, not {type(data).__name__}, "
                "e.g. {'retry_attempts': 3, 'cache_timeout_seconds': 3600}"
            )
        values = {}
        for key, value in data.items():
            name = CAMEL_CASE.get(key, key)
            if name not in _INTERFACE_FIELDS:
                raise InvalidRequestError(
                    f"Unknown interface option {key!r}; known: {', '.join(sorted(_INTERFACE_FIELDS))}"
                )
            values[name] = value
        options = cls(**values)
        options.validate()
        return options

    def validate(self) -> None:
        if not isinstance(self.retry_attempts, int) or isinstance(self.retry_attempts, bool) or self.retry_attempts < 0:
            raise InvalidRequestError(f"retry_attempts must be an int >= 0, got {self.retry_attempts!r}")
        ttl = self.cache_timeout_seconds
        if ttl is not NOT_GIVEN and ttl is not None and not _seconds_ok(ttl):
            raise InvalidRequestError(f"cache_timeout_seconds must be a finite number of seconds >= 0 or None, got {ttl!r}")
        for name in ("retry_multiplier", "max_retry_wait"):
            value = getattr(self, name)
            if not _seconds_ok(value):
                raise InvalidRequestError(f"{name} must be a number of seconds >= 0, got {value!r}")
        deadline = self.deadline
        if deadline is not None and not (_seconds_ok(deadline) and 0 < deadline <= MAX_DEADLINE):
            raise InvalidRequestError(
                f"deadline must be seconds > 0 and at most {MAX_DEADLINE:g} (or None for no limit), got {deadline!r}"
            )


MAX_DEADLINE = 1e6  # the transport's own bound on a timeout (about 11 days)


def _seconds_ok(value: Any) -> bool:
    """A finite number >= 0 (inf would overflow a Redis expiry after the answer arrived; NaN compares false)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


_DEFAULT_INTERFACE_OPTIONS = InterfaceOptions()
_INTERFACE_FIELDS = frozenset(InterfaceOptions.__dataclass_fields__)
# Public name for the interface options' snake_case names (retry, cache, refresh...), e.g. for the proxy to refuse.
INTERFACE_OPTIONS = _INTERFACE_FIELDS


@dataclass(frozen=True)
class Request:
    """One call, fully resolved: which provider, task, model and inputs, and how to reach the server.

    ``api_key`` and ``headers`` are kept out of the repr so that logging a request never leaks a key.
    """

    provider: str
    task: str
    model: Optional[str] = None
    messages: Optional[Tuple[Dict[str, Any], ...]] = None
    prompt: Optional[str] = None
    inputs: Any = None
    params: Dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    api_base: Optional[str] = None
    api_key: Optional[str] = field(default=None, repr=False)
    timeout: Any = None
    headers: Dict[str, str] = field(default_factory=dict, repr=False)
    settings: Dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """A short, key-free description for errors and logs."""
        what = self.prompt if self.prompt is not None else (self.messages[-1].get("content") if self.messages else self.inputs)
        text = str(what)
        if len(text) > 60:
            text = text[:57] + "..."
        return f"{self.provider} {self.task} model={self.model} input={text!r}"


def split_options(options: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Split a user's options into (transport settings, generation params), camelCase accepted."""
    if options is None:
        return {}, {}
    if not isinstance(options, Mapping):
        raise InvalidRequestError(
            f"options must be a dict, not {type(options).__name__}, e.g. {{'max_tokens': 200, 'temperature': 0.7}}"
        )
    settings: Dict[str, Any] = {}
    params: Dict[str, Any] = {}
    for key, value in options.items():
        if not isinstance(key, str):
            raise InvalidRequestError(f"option names must be strings, got {key!r}")
        name = CAMEL_CASE.get(key, key)
        if value is NOT_GIVEN:
            continue
        (settings if name in TRANSPORT_OPTIONS else params)[name] = value
    _check_params(params)
    _check_settings(settings)
    check_json(params, "options")
    return settings, params


def take_interface_options(params: Dict[str, Any]) -> Dict[str, Any]:
    """Interface options found among a call's options (a JSON config ported from JS, a message object
    carrying ``retryAttempts``), taken out of ``params`` so that they steer the call and never reach the server."""
    if not params or _INTERFACE_FIELDS.isdisjoint(params):
        return {}
    return {name: params.pop(name) for name in list(params) if name in _INTERFACE_FIELDS}


def _check_settings(settings: Mapping[str, Any]) -> None:
    """Transport settings are checked here, before any I/O: a wrong type would otherwise surface as an
    AttributeError in alias resolution, a ValueError in header building, or a key sent as 'Bearer 5'."""
    for name in ("model", "api_key", "api_base"):
        value = settings.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    base = settings.get("api_base")
    if base is not None and not base.strip().lower().startswith(("http://", "https://")):
        raise InvalidRequestError(f"api_base must be an http:// or https:// URL, got {base!r}")
    headers = settings.get("headers")
    if headers is not None and (
        not isinstance(headers, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise InvalidRequestError(f"headers must be a dict of strings, e.g. {{'X-HF-Bill-To': 'my-org'}}, got {headers!r}")


def finite_number(value: Any) -> bool:
    """An int or float that JSON can carry: NaN and infinities are not (json.dumps writes the non-JSON token NaN)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_json(value: Any, where: str) -> None:
    """Raise InvalidRequestError, naming the place, if ``value`` is not plain JSON that UTF-8 can carry:
    a NaN or infinity, a set, an object, or a lone surrogate in a string would otherwise fail later as a
    raw ValueError, TypeError or UnicodeEncodeError (or go out as invalid JSON)."""
    problem = _json_problem(value)
    if problem is not None:
        path, what = problem
        raise InvalidRequestError(f"{where}{''.join(reversed(path))} {what}")


_PLAIN = frozenset({int, bool, type(None)})  # always JSON; checked by type identity first: this runs on every call


def _json_problem(value: Any) -> Optional[Tuple[List[str], str]]:
    """None when ``value`` is plain JSON; else (the path to the bad value, innermost first; what is wrong)."""
    kind = type(value)
    if kind is str:
        return None if value.isascii() else _text_problem(value)
    if kind in _PLAIN:
        return None
    if kind is float:
        return None if math.isfinite(value) else ([], f"is {value!r}; JSON has no NaN or infinity, give a finite number")
    if kind is dict or kind is list or kind is tuple:
        items = value.items() if kind is dict else enumerate(value)
        for key, item in items:
            if type(item) is str and item.isascii() and (type(key) is not str or key.isascii()):
                continue  # the common case (roles, contents, names), without a call
            problem = None
            if kind is dict:
                if isinstance(key, str):
                    problem = None if key.isascii() else _text_problem(key)
                elif not isinstance(key, int) or isinstance(key, bool):  # JSON writes int keys as strings
                    return [f"[{key!r}]"], "has a key JSON cannot carry; use strings as keys"
            problem = problem or _json_problem(item)
            if problem is not None:
                problem[0].append(f"[{key!r}]")
                return problem
        return None
    if isinstance(value, float):
        return _json_problem(float(value))
    if isinstance(value, str):
        return None if value.isascii() else _text_problem(value)
    if isinstance(value, int):  # an IntEnum, say: JSON writes its number
        return None
    if isinstance(value, (Mapping, list, tuple)):
        return _json_problem(dict(value) if isinstance(value, Mapping) else list(value))
    hint = "use a list" if isinstance(value, (set, frozenset)) else "use JSON values (dict, list, str, number, bool, None)"
    return [], f"is a {kind.__name__}, which JSON cannot carry; {hint}"


def _text_problem(text: str) -> Optional[Tuple[List[str], str]]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return [], f"holds a lone surrogate ({text[exc.start]!r} at {exc.start}); decode the text properly or drop it"
    return None


_RANGES = {"temperature": (0, 2), "top_p": (0, 1), "frequency_penalty": (-2, 2), "presence_penalty": (-2, 2)}
_POSITIVE_INTS = frozenset({"max_tokens", "n", "top_k"})
_CHECKED_PARAMS = frozenset({*_RANGES, *_POSITIVE_INTS, "seed", "stop"})


def _check_params(params: Mapping[str, Any]) -> None:
    # Over the params given (a call gives one to three), not over every checked name: it runs on every call.
    for name, value in params.items():
        if value is None or name not in _CHECKED_PARAMS:
            continue
        if name in _RANGES:
            low, high = _RANGES[name]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise InvalidRequestError(f"{name} must be a finite number between {low} and {high}, got {value!r}")
            if value < low or value > high:
                raise InvalidRequestError(f"{name} must be between {low} and {high}, got {value!r}")
        elif name in _POSITIVE_INTS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidRequestError(f"{name} must be a positive int, got {value!r}")
        elif name == "seed":
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidRequestError(f"seed must be an int, e.g. {{'seed': 42}}, got {value!r}")
        elif not isinstance(value, str):  # stop
            if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
                raise InvalidRequestError(f"stop must be a string or a list of strings, got {value!r}")


_ROLES = frozenset({"system", "user", "assistant", "tool", "developer", "function"})


def normalize_message(message: Any) -> Tuple[Optional[Tuple[Dict[str, Any], ...]], Optional[str], Dict[str, Any]]:
    """(messages, prompt, options carried inside the message) from any of the accepted shapes.

    Accepted: a string; a list of ``{"role", "content"}`` dicts; a dict with ``messages`` (and
    optionally ``model`` and other options, the JS library's message object); a dict with ``prompt``
    for raw text generation.
    """
    if isinstance(message, str):
        if not message.strip():
            raise InvalidRequestError("The message is empty; pass some text, e.g. send_message('huggingface', 'Hello').")
        check_json(message, "message")
        return ({"role": "user", "content": message},), None, {}
    if isinstance(message, Mapping):
        carried = {k: v for k, v in message.items() if k not in ("messages", "prompt")}
        if "prompt" in message and "messages" not in message:
            prompt = message["prompt"]
            if not isinstance(prompt, str) or not prompt:
                raise InvalidRequestError("'prompt' must be a non-empty string.")
            check_json(prompt, "prompt")
            return None, prompt, carried
        if "messages" not in message:
            raise InvalidRequestError(
                "A message dict needs 'messages' (a list of {'role', 'content'} dicts) or 'prompt' (a string); "
                f"got keys {sorted(message)}."
            )
        return _check_messages(message["messages"]), None, carried
    if isinstance(message, (list, tuple)):
        return _check_messages(message), None, {}
    raise InvalidRequestError(
        f"message must be a string, a list of {{'role', 'content'}} dicts, or a dict with 'messages'; "
        f"got {type(message).__name__}."
    )


def content_text(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _check_messages(messages: Any) -> Tuple[Dict[str, Any], ...]:
    if not isinstance(messages, (list, tuple)) or not messages:
        raise InvalidRequestError("'messages' must be a non-empty list of {'role', 'content'} dicts.")
    checked = []
    for position, item in enumerate(messages):
        if not isinstance(item, Mapping):
            raise InvalidRequestError(f"messages[{position}] must be a dict with 'role' and 'content', got {item!r}")
        role = item.get("role")
        if role not in _ROLES:
            raise InvalidRequestError(
                f"messages[{position}] has role {role!r}; use one of {', '.join(sorted(_ROLES))}."
            )
        content = item.get("content")
        if content is None and not item.get("tool_calls"):
            raise InvalidRequestError(f"messages[{position}] has no 'content'.")
        if content is not None and not isinstance(content, (str, list)):
            raise InvalidRequestError(
                f"messages[{position}]['content'] must be a string or a list of content parts, got {type(content).__name__}."
            )
        checked.append(dict(item))
    if not any(_has_content(item) for item in checked):
        # e.g. [{"role": "user", "content": ""}]: servers answer that with a confusing 422 or garbage.
        raise InvalidRequestError("Every message is empty; give at least one message some text.")
    check_json(checked, "messages")
    return tuple(checked)


def _has_content(item: Mapping[str, Any]) -> bool:
    content = item.get("content")
    if isinstance(content, str):
        return bool(content.strip())
    return bool(content) or bool(item.get("tool_calls"))
