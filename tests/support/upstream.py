"""A fake Hugging Face upstream (TGI / TEI wire format) with semantics, for the proxy, CLI and compat tests
and ``benchmarks/bench_proxy.py``: ``hf_routes`` answers each route as TGI/TEI would, as a responder of the
shared loopback server (``tests/support/loopback.py``), which records the requests.

Chat answers echo the last user message (``echo: <text>``), as TGI's Messages API shapes it; streams
come as TGI sends them (``data:{...}`` without a space, then ``data: [DONE]``). A message starting with
``!status NNN`` answers that status with Hugging Face's error body; ``!leak`` answers 400 quoting the
Authorization header; ``!midstream`` breaks a stream with TGI's in-stream error event.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from support import tgi
from support.loopback import Answer, LoopbackServer, Recorded

ERRORS = {
    401: {"error": "Invalid username or password."},
    402: {"error": "You have exceeded your monthly included credits for Inference Providers."},
    404: {"error": "Model nope/nope does not exist"},
    422: {"error": "Input validation error: `inputs` must have less than 4096 tokens.", "error_type": "validation"},
    429: {"error": "Rate limit reached. You reached free usage limit (reset hourly)."},
    500: {"error": "Internal server error", "error_type": "generation"},
    503: {"error": "Model tgi is currently loading", "estimated_time": 20.0},
}


def _vector(text: str) -> List[float]:
    return [float(len(text)), float(sum(c in "aeiou" for c in text)), 1.0]


def hf_routes(request: Recorded) -> Answer:
    """The answer TGI / TEI would give to ``request`` (a responder for ``LoopbackServer``)."""
    body = request.body if isinstance(request.body, dict) else {}
    path = request.path.rstrip("/")
    if request.method == "GET":
        return _json(200, {"model_id": "loopback/echo", "max_total_tokens": 4096}) if path == "/info" else _json(404, {"error": "not found"})
    if path.endswith("/chat/completions"):
        return _chat(request, body)
    if path.endswith("/v1/completions"):
        return _completion(request, body)
    if path.endswith(("/generate", "/generate_stream")):
        return _generate(request, body, stream=path.endswith("_stream"))
    if path.endswith(("/embed", "/pipeline/feature-extraction")):
        inputs = body.get("inputs")
        return _json(200, [_vector(t) for t in (inputs if isinstance(inputs, list) else [inputs])])
    if path.endswith("/v1/embeddings"):
        inputs = body.get("input")
        inputs = inputs if isinstance(inputs, list) else [inputs]
        return _json(200, {"object": "list", "model": "loopback", "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
                           "data": [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)]})
    if path.endswith("/rerank"):
        query = set(body.get("query", "").split())
        scores = [(i, len(query & set(t.split())) / (1 + len(t.split()))) for i, t in enumerate(body.get("texts") or ())]
        return _json(200, [{"index": i, "score": s} for i, s in sorted(scores, key=lambda p: -p[1])])
    if path.endswith("/predict"):  # TEI: one list of labels per input
        inputs = body.get("inputs")
        labels = [{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}]
        return _json(200, [labels for _ in inputs] if isinstance(inputs, list) else [labels])
    return _json(404, {"error": f"no route {request.path}"})


def _chat(request: Recorded, body: Dict[str, Any]) -> Answer:
    text = _last_user_text(body)
    error = _error(request, text)
    if error:
        return error
    answer = f"echo: {text}"
    if body.get("max_tokens") == 1:
        answer = answer.split()[0]
    usage = {"prompt_tokens": len(text.split()), "completion_tokens": len(answer.split()), "total_tokens": len(text.split()) + len(answer.split())}
    base = {"id": "", "created": 1732000000, "model": "tgi", "system_fingerprint": "3.3.6-native"}
    if not body.get("stream"):
        return _json(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "logprobs": None, "finish_reason": "stop"}]})
    events: List[Any] = []
    words = answer.split(" ")
    for position, word in enumerate(words):
        piece = word if position == 0 else " " + word
        events.append({**base, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": piece}, "logprobs": None, "finish_reason": None}]})
    if text.startswith("!midstream"):
        events.append({"error": "Request failed during generation: Server error: CUDA out of memory", "error_type": "generation"})
        return _sse(events, done=False)
    events.append({**base, "object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": "stop"}]})
    events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return _sse(events, done=True)


def _completion(request: Recorded, body: Dict[str, Any]) -> Answer:
    prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else (body.get("prompt") or [""])[0]
    error = _error(request, prompt)
    if error:
        return error
    answer = f" continued: {prompt}"
    base = {"id": "", "created": 1732000000, "model": "tgi", "system_fingerprint": "3.3.6-native", "object": "text_completion"}
    if not body.get("stream"):
        return _json(200, {**base, "choices": [{"index": 0, "text": answer, "logprobs": None, "finish_reason": "length"}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
    events = [{**base, "choices": [{"index": 0, "text": w, "logprobs": None, "finish_reason": ""}]} for w in answer.split(" ")]
    events.append({**base, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "length"}]})
    return _sse(events, done=True)


def _generate(request: Recorded, body: Dict[str, Any], stream: bool) -> Answer:
    """TGI's native routes: an object from /generate, token events from /generate_stream."""
    prompt = body.get("inputs") or ""
    error = _error(request, prompt)
    if error:
        return error
    answer = f" continued: {prompt}"
    tokens = tgi.words_as_tokens(answer)
    if not stream:
        return _json(200, tgi.generate_answer(answer, tokens=tokens))
    return Answer(200, {"Content-Type": "text/event-stream"}, tgi.sse(tgi.stream_events(tokens, answer)))


def _error(request: Recorded, text: str) -> Optional[Answer]:
    if text.startswith("!leak"):  # an upstream that echoes the credentials it got (some do, in 401 bodies)
        return _json(400, {"error": f"Bad request with {request.headers.get('authorization')}"})
    if text.startswith("!status "):
        status = int(text.split()[1])
        return _json(status, ERRORS.get(status, {"error": "error"}), {"X-Request-Id": "loopback-req"})
    return None


def _json(status: int, payload: Any, headers: Optional[Dict[str, str]] = None) -> Answer:
    return Answer(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode())


def _sse(events: List[Any], done: bool) -> Answer:
    data = "".join(f"data:{json.dumps(e)}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")
    return Answer(200, {"Content-Type": "text/event-stream"}, data.encode())


def _last_user_text(body: Dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or ()):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
    return ""


def Upstream() -> LoopbackServer:
    """``with Upstream() as up: up.url``: the fake Hugging Face upstream on a free port of 127.0.0.1."""
    return LoopbackServer(responder=hf_routes)


def main() -> None:  # pragma: no cover - used by benchmarks/bench_proxy.py in a subprocess
    import collections
    import threading

    server = Upstream().start()
    server.requests = collections.deque(maxlen=100)  # type: ignore[assignment]  # a long benchmark must not grow memory
    print(server.port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
