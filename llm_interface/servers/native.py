"""The servers' own routes beyond introspection: raw generation (SGLang ``/generate``, llama.cpp
``/completion`` with ``n_probs``), pooling (vLLM ``/pooling``, TEI ``/embed_all``), llama.cpp ``/slots``
and Prometheus ``/metrics``. Pure builders of (path, body) and parsers; tools.py sends.

Facts (checked 2026-12-01): SGLang ``POST /generate {text, sampling_params: {max_new_tokens, temperature,
top_p, top_k, stop...}, return_logprob, top_logprobs_num, return_text_in_logprobs}`` -> ``{text, meta_info:
{id, prompt_tokens, completion_tokens, finish_reason: {type}, output_token_logprobs: [[logprob, id, text]],
output_top_logprobs: [[[logprob, id, text]]]}}`` (sglang docs, native_api); llama.cpp ``POST /completion
{prompt, n_predict, n_probs...}`` -> ``{content, tokens_predicted, tokens_evaluated, stop_type,
completion_probabilities: [{id, token, logprob, top_logprobs: [{id, token, logprob}]}]}`` (older builds:
``[{content, probs: [{tok_str, prob}]}]``) and ``GET /slots`` -> ``[{id, n_ctx, is_processing...}]``
(tools/server/README.md); vLLM ``POST /pooling {model, input}`` -> ``{data: [{index, data}]}``
(vllm/entrypoints/openai protocol); TEI ``POST /embed_all {inputs, truncate, truncation_direction,
prompt_name}`` -> ``[[[float]]]`` (tei-openapi.json EmbedAllResponse).
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors, redact
from ..types import Logprobs, Response, Usage
from .results import Metrics, PoolingResponse, Slot
from .routes import unsupported

Route = Tuple[str, Dict[str, Any]]

GENERATE_ROUTES = {"sglang": "/generate", "llamacpp": "/completion"}
POOLING_ROUTES = {"vllm": "/pooling", "tei": "/embed_all"}
SLOTS_ROUTES = {"llamacpp": "/slots"}
# llama.cpp serves it with --metrics, SGLang with --enable-metrics; TEI on its main port as in its spec.
METRICS_ROUTES = {"tgi": "/metrics", "tei": "/metrics", "vllm": "/metrics", "sglang": "/metrics", "llamacpp": "/metrics"}

# OpenAI's names -> each server's own (the rest of the options go as they are).
_SGLANG_NAMES = {"max_tokens": "max_new_tokens"}
_LLAMACPP_NAMES = {"max_tokens": "n_predict", "logprobs": "n_probs"}
_POOLING_OPTIONS = ("truncate", "truncation_direction", "prompt_name")


def _bad(kind: str, body: Any, expected: str) -> errors.InvalidResponseError:
    return errors.InvalidResponseError(f"The {kind} server's answer is not {expected}: {redact.clip(body, 200)}", body=body)


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # JSON allows an int past float's range: no number we can use
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> Optional[int]:
    number = _number(value)
    return int(number) if number is not None else None


# -- raw generation ------------------------------------------------------------------------------

def generate_route(kind: str, prompt: str, params: Mapping[str, Any]) -> Route:
    """SGLang ``/generate`` or llama.cpp ``/completion``; ``logprobs`` (an int: how many alternatives per
    token) asks for token log-probabilities on both."""
    top = params.get("logprobs")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
        raise errors.InvalidRequestError(
            f"logprobs must be an int >= 0 (how many alternatives per token), got {top!r}; leave it out for none."
        )
    if kind == "sglang":
        params = dict(params)
        params.pop("logprobs", None)
        body: Dict[str, Any] = {"text": prompt, "sampling_params": {_SGLANG_NAMES.get(k, k): v for k, v in params.items()}}
        if top:
            body.update(return_logprob=True, top_logprobs_num=int(top), return_text_in_logprobs=True)
        return "/generate", body
    if kind == "llamacpp":
        body = {"prompt": prompt}
        body.update({_LLAMACPP_NAMES.get(k, k): v for k, v in params.items()})
        return "/completion", body
    raise unsupported("native generation", kind, GENERATE_ROUTES)


def _sglang_logprobs(meta: Mapping[str, Any]) -> Optional[Logprobs]:
    entries = meta.get("output_token_logprobs")
    if not isinstance(entries, list) or not entries:
        return None
    tokens, values = [], []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) < 2:
            return None
        values.append(_number(entry[0]))
        tokens.append(str(entry[2]) if len(entry) > 2 and entry[2] is not None else str(entry[1]))
    tops = meta.get("output_top_logprobs")
    top: Optional[Tuple[Dict[str, float], ...]] = None
    if isinstance(tops, list) and len(tops) == len(tokens):
        top = tuple(
            {str(t[2] if len(t) > 2 and t[2] is not None else t[1]): float(t[0])
             for t in alts if isinstance(t, list) and len(t) >= 2 and _number(t[0]) is not None}
            if isinstance(alts, list) else {}
            for alts in tops
        )
    return Logprobs(tuple(tokens), tuple(values), top)


def _list(value: Any) -> list:
    """``value`` when it is a list, else empty: a server's alternatives field of another type is ignored."""
    return value if isinstance(value, list) else []


def _llamacpp_logprobs(items: Any) -> Optional[Logprobs]:
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    tokens, values, tops = [], [], []
    for item in items:
        if "probs" in item:  # older builds: probabilities, the chosen token first
            alts = [a for a in _list(item.get("probs")) if isinstance(a, dict)]
            tokens.append(str(item.get("content", "")))
            pairs = [(str(a.get("tok_str", "")), _number(a.get("prob"))) for a in alts]
            logs = {t: math.log(p) for t, p in pairs if p is not None and p > 0}
            values.append(logs.get(tokens[-1]))
        else:
            tokens.append(str(item.get("token", item.get("text", ""))))
            values.append(_number(item.get("logprob")))
            logs = {str(a.get("token", "")): float(a["logprob"]) for a in _list(item.get("top_logprobs"))
                    if isinstance(a, dict) and _number(a.get("logprob")) is not None}
        tops.append(logs)
    return Logprobs(tuple(tokens), tuple(values), tuple(tops))


def parse_generate(kind: str, body: Any, model: Optional[str], provider: str, request_id: Optional[str]) -> Response:
    if kind == "sglang":
        meta = body.get("meta_info") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise _bad(kind, body, "{text, meta_info}")
        meta = meta if isinstance(meta, dict) else {}
        finish = meta.get("finish_reason")
        reason = finish.get("type") if isinstance(finish, dict) else finish if isinstance(finish, str) else None
        usage = Usage.from_dict({"prompt_tokens": meta.get("prompt_tokens"), "completion_tokens": meta.get("completion_tokens")})
        return Response(body["text"], model, provider, reason, usage, logprobs=_sglang_logprobs(meta),
                        request_id=request_id or (meta.get("id") if isinstance(meta.get("id"), str) else None), original=body)
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise _bad(kind, body, "{content, ...}")
    stop = body.get("stop_type")
    reason = {"limit": "length", "eos": "stop", "word": "stop"}.get(stop) if isinstance(stop, str) else None
    usage = Usage.from_dict({"prompt_tokens": _count(body.get("tokens_evaluated")),
                             "completion_tokens": _count(body.get("tokens_predicted"))})
    served = body.get("model") if isinstance(body.get("model"), str) else model
    return Response(body["content"], served, provider, reason, usage,
                    logprobs=_llamacpp_logprobs(body.get("completion_probabilities")), request_id=request_id, original=body)


# -- pooling -------------------------------------------------------------------------------------

def pooling_route(kind: str, texts: Sequence[str], model: Optional[str], params: Mapping[str, Any]) -> Route:
    if kind == "tei":
        body: Dict[str, Any] = {"inputs": list(texts)}
        body.update({k: params[k] for k in _POOLING_OPTIONS if params.get(k) is not None})
        return "/embed_all", body
    if kind == "vllm":
        body = {"input": list(texts), **{k: v for k, v in params.items() if k not in _POOLING_OPTIONS}}
        if model:
            body["model"] = model
        return "/pooling", body
    raise unsupported("pooling (token-level embeddings)", kind, POOLING_ROUTES)


def _floats(value: Any, depth: int = 0) -> Any:
    """Nested lists of numbers as nested tuples of floats; anything else None."""
    if depth > 4:
        return None
    if isinstance(value, list):
        inner = [_floats(v, depth + 1) for v in value]
        return None if any(i is None for i in inner) else tuple(inner)
    return _number(value)


def parse_pooling(kind: str, body: Any, count: int, model: Optional[str], request_id: Optional[str]) -> PoolingResponse:
    items: Any = body
    if kind == "vllm":
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise _bad(kind, body, "{data: [{index, data}]}")
        items = [d.get("data") for d in sorted(data, key=lambda d: _count(d.get("index")) or 0)]
        model = body.get("model") if isinstance(body.get("model"), str) else model
    parsed = [_floats(item) for item in items] if isinstance(items, list) else None
    if parsed is None or len(parsed) != count or any(p is None or not isinstance(p, tuple) for p in parsed):
        raise _bad(kind, body, f"{count} pooled outputs (lists of numbers)")
    if kind == "tei" and not all(all(isinstance(token, tuple) for token in p) for p in parsed):
        raise _bad(kind, body, f"{count} lists of token vectors [[[float]]]")
    return PoolingResponse(tuple(parsed), model, request_id)


# -- slots and metrics ---------------------------------------------------------------------------

def parse_slots(body: Any) -> Tuple[Slot, ...]:
    if not isinstance(body, list) or not all(isinstance(s, dict) and _count(s.get("id")) is not None for s in body):
        raise _bad("llamacpp", body, "a list of slots [{id, n_ctx, is_processing...}]")
    return tuple(
        Slot(int(s["id"]), _count(s.get("n_ctx")),
             s["is_processing"] if isinstance(s.get("is_processing"), bool) else None, s)
        for s in body
    )


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(kind: str, text: Any) -> Metrics:
    """Prometheus' text format: ``# HELP``/``# TYPE`` lines skipped, one sample a line; a line that is
    not a sample is skipped too (the page is for people as much as for scrapers)."""
    if not isinstance(text, str):
        raise _bad(kind, text, "Prometheus text")
    samples: List[Tuple[str, Mapping[str, str], float]] = []
    values: Dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        match = _SAMPLE.match(line) if line and not line.startswith("#") else None
        if match is None:
            continue
        try:
            value = float(match.group(4))  # also +Inf, -Inf and NaN, as Prometheus writes them
        except ValueError:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(match.group(3) or "")}
        samples.append((match.group(1), labels, value))
        values[line.rsplit(None, 2 if match.group(5) else 1)[0]] = value
    if not samples and text.strip():
        raise _bad(kind, text, "Prometheus text (no sample line)")
    return Metrics(values, kind, text, tuple(samples))
