"""Raw text generation on Hugging Face: TGI ``/generate`` and ``/generate_stream`` on endpoints, and the
``hf-inference`` text-generation task (``POST {router}/hf-inference/models/{id}``), with OpenAI text-completion
style logprobs and echo. Also the JSON-mode translation shared by chat and generation.

Follows (checked 2026-11-21): TGI's OpenAPI spec 3.3.6 (``GenerateRequest``, ``GenerateParameters``,
``GrammarType``, ``StreamResponse``) in ``tests/fixtures/hf-reference/tgi-openapi.json``, its integration
snapshots, and the ``huggingface_hub`` recordings. Facts that shape the code:
- ``details`` really defaults to false: it is sent when logprobs or ``n`` are asked;
- prompt logprobs (``decoder_input_details``) come back in ``details.prefill``, the first one null; TGI 3
  answers ``prefill: []`` unless it runs with ``--enable-prefill-logprobs``;
- ``/generate`` answers an object, the serverless route and ``POST /`` a list; the serverless route echoes the
  prompt unless ``return_full_text`` is false;
- stop sequences stay in ``generated_text``; OpenAI's contract strips them (we do);
- ``temperature`` must be > 0 (0 means greedy: ``do_sample: false``), ``top_p`` in (0, 1).

Parameter mapping (OpenAI name -> TGI ``parameters``):
  max_tokens -> max_new_tokens; temperature 0 -> do_sample false (no temperature sent), > 0 -> temperature +
  do_sample; top_p (1.0 means "off": not sent); top_k, seed, stop, repetition_penalty (HF scale, 1.0 = none),
  frequency_penalty (OpenAI scale, -2..2, as TGI takes it) pass through; n > 1 -> best_of = n + do_sample +
  details, the other sequences become ``choices``; logprobs -> details (+ top_n_tokens = logprobs when it is an
  int > 0, or top_logprobs); echo -> the prompt prepended, and with logprobs decoder_input_details;
  response_format -> grammar; presence_penalty has no TGI equivalent: 0 is dropped, anything else is an error
  (it is not repetition_penalty: there 1.0, not 0, means no penalty). Other names pass through unchanged
  (typical_p, truncate, watermark, adapter_id, top_n_tokens, return_full_text...).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import errors
from ..request import Request
from ..types import Choice, Logprobs, Response, StreamChunk, Usage
from .base import stop_list
from .lenient import as_dict, as_float, as_int, as_list, as_str, invalid
from .openai_compatible import ChatStreamState, cut_at_stop, finish_reason_of, raise_in_body_error

# OpenAI chat/completion parameters that have no meaning on a raw-generation route.
_DROPPED = frozenset({"user", "stream_options", "logit_bias", "parallel_tool_calls"})
_MAPPED = frozenset(
    {"max_tokens", "temperature", "top_p", "n", "stop", "logprobs", "top_logprobs", "echo", "presence_penalty",
     "response_format", "tools", "tool_choice"}
)


# -- JSON mode ------------------------------------------------------------------------------------

def json_mode(response_format: Any) -> Tuple[Optional[str], Any]:
    """(kind, value) of a ``response_format``: kind "json" with a schema (or None), "regex" with a pattern,
    "text"/None for none. Accepts OpenAI's ``json_object`` and ``json_schema``, TGI's ``json``/``regex``, and a
    bare JSON schema."""
    if response_format is None:
        return None, None
    if not isinstance(response_format, Mapping):
        raise errors.InvalidRequestError(
            "response_format must be a dict such as {'type': 'json_object'} or a JSON schema, "
            f"got {type(response_format).__name__}."
        )
    kind = response_format.get("type")
    if kind == "text":
        return None, None
    if kind == "json_object":
        return "json", response_format.get("schema")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or response_format.get("value") or {}
        return "json", spec.get("schema", spec) if isinstance(spec, Mapping) else spec
    if kind == "json":
        return "json", response_format.get("value")
    if kind == "regex":
        return "regex", response_format.get("value")
    return "json", dict(response_format)  # a bare JSON schema ({"type": "object", "properties": ...})


def tgi_grammar(response_format: Any) -> Optional[Dict[str, Any]]:
    """TGI's ``grammar`` / Messages-API ``response_format``: ``{"type": "json", "value": schema}``, understood
    by every TGI version that has grammars (``json_schema`` only by >= 3.x)."""
    kind, value = json_mode(response_format)
    if kind is None:
        return None
    if kind == "regex":
        return {"type": "regex", "value": value}
    return {"type": "json", "value": value if value is not None else {"type": "object"}}


def openai_response_format(response_format: Any) -> Optional[Dict[str, Any]]:
    """OpenAI's shape for the router and OpenAI-compatible servers; a bare schema becomes ``json_schema``."""
    if isinstance(response_format, Mapping) and response_format.get("type") in ("json_object", "json_schema", "text"):
        return dict(response_format)
    kind, value = json_mode(response_format)
    if kind is None:
        return None
    if kind == "regex":
        raise errors.InvalidRequestError("A regex response_format is a TGI feature; use it with an endpoint (api_base).")
    if value is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": value}}


# -- the request ----------------------------------------------------------------------------------

def wants_logprobs(params: Mapping[str, Any]) -> bool:
    value = params.get("logprobs")
    return value is not None and value is not False


def generate_parameters(request: Request) -> Dict[str, Any]:
    """TGI ``parameters`` from the OpenAI-style params (see the module docstring's table)."""
    params = request.params
    out: Dict[str, Any] = {k: v for k, v in params.items() if k not in _MAPPED and k not in _DROPPED}
    if params.get("tools") or params.get("tool_choice"):
        raise errors.InvalidRequestError(
            "Tools need a chat (Messages API) route; drop 'raw'/'prompt_template' or the tools option.",
            provider=request.provider, model=request.model,
        )
    if params.get("max_tokens") is not None:
        out["max_new_tokens"] = params["max_tokens"]
    temperature = params.get("temperature")
    greedy = temperature == 0
    if temperature is not None:
        if greedy:
            out["do_sample"] = False
        else:
            out["temperature"] = temperature
            out["do_sample"] = True
    top_p = params.get("top_p")
    if top_p is not None and 0 < top_p < 1:
        out["top_p"] = top_p
    n = params.get("n")
    if n is not None and n > 1:
        if greedy:
            raise errors.InvalidRequestError(
                "n > 1 needs sampling (TGI best_of), but temperature=0 asks for greedy decoding; raise temperature.",
                provider=request.provider, model=request.model,
            )
        if request.stream:
            raise errors.InvalidRequestError(
                "n > 1 cannot be streamed from /generate (TGI best_of); call without streaming.",
                provider=request.provider, model=request.model,
            )
        out.update(best_of=n, do_sample=True, details=True)
    stops = stop_list(params)
    if stops:
        out["stop"] = stops
    presence = params.get("presence_penalty")
    if presence:
        raise errors.InvalidRequestError(
            "presence_penalty has no equivalent on text-generation routes, and it is not repetition_penalty "
            "(there 1.0 means no penalty); use frequency_penalty (-2..2) or repetition_penalty (> 0, 1.0 = none).",
            provider=request.provider, model=request.model,
        )
    if wants_logprobs(params):
        out["details"] = True
        top = params.get("top_logprobs", params.get("logprobs"))
        if isinstance(top, int) and not isinstance(top, bool) and top > 0:
            out["top_n_tokens"] = top
        if params.get("echo"):
            out["decoder_input_details"] = True
            if request.stream:
                raise errors.InvalidRequestError(
                    "echo with logprobs needs the prompt's logprobs, which TGI streams do not carry; call without streaming.",
                    provider=request.provider, model=request.model,
                )
    grammar = tgi_grammar(params.get("response_format"))
    if grammar is not None:
        out["grammar"] = grammar
    out.setdefault("return_full_text", False)  # OpenAI semantics: the answer only; echo is done by us
    return out


def generate_body(request: Request, *, stream_flag: bool) -> Dict[str, Any]:
    """``{"inputs", "parameters"}``; the serverless route takes ``"stream": true`` in the body instead of a URL."""
    body: Dict[str, Any] = {"inputs": request.prompt, "parameters": generate_parameters(request)}
    if stream_flag and request.stream:
        body["stream"] = True
    return body


# -- the answer -----------------------------------------------------------------------------------

def _top(position: Any) -> Dict[str, float]:
    return {
        as_str(t.get("text")) or "": value
        for t in as_list(position) if isinstance(t, Mapping)
        for value in (as_float(t.get("logprob")),) if value is not None
    }


def build_logprobs(
    tokens: Sequence[Any],
    top_tokens: Optional[Sequence[Any]] = None,
    prefill: Optional[Sequence[Any]] = None,
) -> Logprobs:
    """OpenAI text-completion logprobs: prompt tokens first when echoed (their first logprob is null).
    Tokens that are not objects count as empty tokens without a logprob (the server's words, read leniently)."""
    texts: List[str] = []
    values: List[Optional[float]] = []
    tops: List[Dict[str, float]] = []
    for token in prefill or ():
        token = as_dict(token)
        texts.append(as_str(token.get("text")) or "")
        values.append(as_float(token.get("logprob")))
        tops.append({})
    top_tokens = top_tokens if isinstance(top_tokens, list) else None
    for position, token in enumerate(tokens):
        token = as_dict(token)
        texts.append(as_str(token.get("text")) or "")
        values.append(as_float(token.get("logprob")))
        tops.append(_top(top_tokens[position]) if top_tokens and position < len(top_tokens) else {})
    offsets, offset = [], 0
    for text in texts:
        offsets.append(offset)
        offset += len(text)
    return Logprobs(tuple(texts), tuple(values), tuple(tops) if any(tops) else None, tuple(offsets))


def _sequence(
    text: str, details: Mapping[str, Any], request: Request, provider: str, index: int, request_id: Optional[str]
) -> Choice:
    params = request.params
    text, stopped = cut_at_stop(text, stop_list(params))
    finish = "stop" if stopped else finish_reason_of(details.get("finish_reason"))
    logprobs = None
    echo = bool(params.get("echo"))
    if wants_logprobs(params):
        prefill = None
        if echo:
            prefill = as_list(details.get("prefill"))
            if not prefill:
                raise errors.InvalidResponseError(
                    "echo with logprobs asked for the prompt's logprobs, but the server returned none "
                    "(details.prefill is empty): TGI 3 returns them only when started with "
                    "--enable-prefill-logprobs. Restart it with that flag, or drop echo.",
                    provider=provider, model=request.model, request_id=request_id, body=dict(details),
                )
        logprobs = build_logprobs(as_list(details.get("tokens")), details.get("top_tokens"), prefill)
    if echo:
        text = (request.prompt or "") + text
    return Choice(index=index, text=text, finish_reason=finish, logprobs=logprobs)


def _header_int(headers: Optional[Mapping[str, str]], name: str) -> Optional[int]:
    value = headers.get(name) if headers else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_generate(
    body: Any, request: Request, provider: str, request_id: Optional[str], headers: Optional[Mapping[str, str]] = None
) -> Response:
    """A ``/generate`` object or a serverless ``[{"generated_text", "details"?}]`` list -> Response."""
    raise_in_body_error(body, request, provider, request_id)
    answer = body[0] if isinstance(body, list) and body else body
    if not isinstance(answer, dict) or not isinstance(answer.get("generated_text"), str):
        raise invalid(
            "it has no 'generated_text' string", body, provider=provider, model=request.model, request_id=request_id,
            hint="Is this a text-generation model or a TGI endpoint?",
        )
    details = as_dict(answer.get("details"))
    choices = [_sequence(answer["generated_text"], details, request, provider, 0, request_id)]
    for extra in as_list(details.get("best_of_sequences")):
        if isinstance(extra, dict):
            text = as_str(extra.get("generated_text")) or ""
            choices.append(_sequence(text, extra, request, provider, len(choices), request_id))
    prompt_tokens = _header_int(headers, "x-prompt-tokens")
    completion_tokens = _header_int(headers, "x-generated-tokens")
    if completion_tokens is None:
        completion_tokens = as_int(details.get("generated_tokens"))
    usage = None
    if prompt_tokens is not None or completion_tokens is not None:
        usage = Usage.from_dict({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
    first = choices[0]
    return Response(
        results=first.text,
        model=request.model,
        provider=provider,
        finish_reason=first.finish_reason,
        usage=usage,
        logprobs=first.logprobs,
        choices=tuple(choices) if len(choices) > 1 else (),
        request_id=request_id,
    )


class GenerateStreamState(ChatStreamState):
    """TGI ``/generate_stream`` events (``{"token", "top_tokens", "generated_text", "details"}``), fed through
    the chat stream's aggregation so that stop sequences are held back and cut the same way."""

    __slots__ = ("_tokens", "_top_tokens", "_echoed", "_generated")

    def __init__(self, request: Request, provider: str) -> None:
        super().__init__(request, provider)
        self._tokens: List[Dict[str, Any]] = []
        self._top_tokens: List[Any] = []
        self._echoed = not request.params.get("echo")
        self._generated: Optional[int] = None

    def on_object(self, event: Optional[str], obj: Dict[str, Any]) -> List[StreamChunk]:
        if "error" in obj:
            raise_in_body_error(obj, self.request, self.provider, None)
        token = as_dict(obj.get("token"))
        details = obj.get("details") or None
        text = "" if token.get("special") is True else as_str(token.get("text")) or ""
        if token:
            self._tokens.append(token)
            self._top_tokens.append(obj.get("top_tokens"))
        finish = None
        if details is not None or obj.get("generated_text") is not None:
            details = as_dict(details)
            finish = as_str(details.get("finish_reason")) or "stop"
            self._generated = as_int(details.get("generated_tokens"))
            self._done = True
        choice: Dict[str, Any] = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
        logprob = as_float(token.get("logprob"))
        if logprob is not None:
            choice["logprobs"] = {"content": [{"token": as_str(token.get("text")) or "", "logprob": logprob}]}
        chunks = super().on_object(event, {"choices": [choice]})
        if self._echoed:
            return chunks
        # echo: the prompt goes first, outside the stop-sequence hold-back (a stop string inside the
        # prompt must not cut the answer, as it does not in parse_generate).
        self._echoed = True
        prompt = self.request.prompt or ""
        self.texts.setdefault(0, []).insert(0, prompt)
        return [StreamChunk(prompt, 0), *chunks] if prompt else chunks

    def finish(self, request_id: Optional[str]) -> Response:
        response = super().finish(request_id)
        changes: Dict[str, Any] = {}
        if 0 in self._stopped:  # cut at a stop sequence, as parse_generate reports it
            changes["finish_reason"] = "stop"
        if wants_logprobs(self.request.params):
            tops = self._top_tokens if any(self._top_tokens) else None
            changes["logprobs"] = build_logprobs(self._tokens, tops)
        if self._generated is not None:
            changes["usage"] = Usage(completion_tokens=self._generated)
        return response.evolve(**changes) if changes else response
