"""Stand-ins on 127.0.0.1 for the servers that cannot run here (TGI, TEI, vLLM, SGLang, llama.cpp's C++
server), answering each one's own routes with bodies shaped by its spec: TGI and TEI from their OpenAPI
files in tests/fixtures/hf-reference (test_servers.py checks every body against the spec's required
fields), vLLM from vllm/entrypoints/openai/protocol.py, llama.cpp from tools/server/README.md.

    with FakeServer(TGI) as server:
        LLMInterface.server_info("huggingface", {"api_base": server.url})
        server.requests  # [(method, path, body)], in order

A route absent from the table answers 404, as on the real server. A body is sent as JSON, or as it is when
the answer's Content-Type is text (Prometheus ``/metrics``).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

# (method, path) -> (status, body, headers), or a function of the request body giving that.
Answer = Tuple[int, Any, Dict[str, str]]
Routes = Dict[Tuple[str, str], Union[Answer, Callable[[Any], Answer]]]

JSON = {"Content-Type": "application/json"}
PROMETHEUS = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}

TGI_INFO = {
    "model_id": "bigscience/blomm-560m", "model_sha": "e985a63cdc139290c5f700ff1929f0b5942cced2",
    "model_pipeline_tag": "text-generation", "max_concurrent_requests": 128, "max_best_of": 2,
    "max_stop_sequences": 4, "max_input_tokens": 1024, "max_total_tokens": 2048, "validation_workers": 2,
    "max_client_batch_size": 32, "router": "text-generation-router", "version": "3.3.6", "sha": "null",
    "docker_label": "null",
}
TEI_INFO = {
    "model_id": "BAAI/bge-large-en-v1.5", "model_sha": "null", "model_dtype": "float16",
    "served_model_name": "bge", "model_type": {"embedding": {"pooling": "cls"}},
    "max_concurrent_requests": 512, "max_input_length": 512, "max_batch_tokens": 16384,
    "max_client_batch_size": 32, "auto_truncate": False, "tokenization_workers": 4, "version": "1.8.3",
}


def _tgi_tokens(text: str) -> List[Dict[str, Any]]:
    tokens, at = [], 0
    for position, word in enumerate(text.split(" ")):
        tokens.append({"id": 100 + position, "text": word, "start": at, "stop": at + len(word)})
        at += len(word) + 1
    return tokens


TGI: Routes = {
    ("GET", "/info"): (200, TGI_INFO, JSON),
    ("GET", "/health"): (200, None, {}),
    ("POST", "/tokenize"): lambda body: (200, _tgi_tokens(body["inputs"]), JSON),
    ("GET", "/metrics"): (200, "# HELP tgi_request_count Number of requests\n# TYPE tgi_request_count counter\n"
                             "tgi_request_count 7\ntgi_queue_size 0\ntgi_batch_current_size 1\n", PROMETHEUS),
    ("POST", "/chat_tokenize"): lambda body: (200, {
        "templated_text": "<s>" + " ".join(m["content"] for m in body["messages"]),
        "tokenize_response": _tgi_tokens("<s> " + " ".join(m["content"] for m in body["messages"])),
    }, JSON),
}

TEI: Routes = {
    ("GET", "/info"): (200, TEI_INFO, JSON),
    ("GET", "/health"): (200, None, {}),
    ("POST", "/tokenize"): lambda body: (200, [[
        {**t, "special": False} for t in _tgi_tokens(body["inputs"])
    ]], JSON),
    ("POST", "/decode"): lambda body: (200, ["".join(chr(96 + i) for i in body["ids"])], JSON),
    ("POST", "/embed_sparse"): lambda body: (200, [
        [{"index": 7, "value": 0.5}, {"index": 2001, "value": float(len(text))}] for text in body["inputs"]
    ], JSON),
    ("GET", "/metrics"): (200, '# TYPE te_request_count counter\nte_request_count{method="single"} 5\n'
                             'te_request_count{method="batch"} 2\nte_queue_size 0\n', PROMETHEUS),
    # one vector per token (the words here), 3 dimensions
    ("POST", "/embed_all"): lambda body: (200, [
        [[float(len(word)), 0.5, -1.0] for word in text.split()] for text in body["inputs"]
    ], JSON),
    ("POST", "/similarity"): lambda body: (200, [
        1.0 if s == body["inputs"]["source_sentence"] else 0.25 for s in body["inputs"]["sentences"]
    ], JSON),
}

VLLM_MODELS = {"object": "list", "data": [{
    "id": "Qwen/Qwen2.5-1.5B-Instruct", "object": "model", "created": 1733000000, "owned_by": "vllm",
    "root": "Qwen/Qwen2.5-1.5B-Instruct", "parent": None, "max_model_len": 32768, "permission": [],
}]}


def _vllm_tokenize(body: Any) -> Answer:
    text = body.get("prompt") if "prompt" in body else "<|im_start|> " + " ".join(m["content"] for m in body["messages"])
    ids = [10 + i for i, _ in enumerate(text.split(" "))]
    return 200, {"count": len(ids), "max_model_len": 32768, "tokens": ids, "token_strs": None}, JSON


VLLM_METRICS = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 1.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 0.25
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 1234.0
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 3.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen2.5-1.5B-Instruct"} 4.0
"""


def _vllm_completion(body: Any) -> Answer:
    """CompletionResponse: echo puts the prompt before the text, ``logprobs`` (an int) gives
    CompletionLogProbs {text_offset, token_logprobs, tokens, top_logprobs} over what is returned, and
    ``prompt_logprobs`` (an int) one {token_id: {logprob, rank, decoded_token}} per prompt token (the first None)."""
    structured = body.get("structured_outputs") or (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
    answer = '{"city": "Paris"}' if structured else " Paris"
    text = body["prompt"] + answer if body.get("echo") else answer
    words = text.split(" ")
    tokens = [w if i == 0 else " " + w for i, w in enumerate(words)]
    choice: Dict[str, Any] = {"index": 0, "text": text, "logprobs": None, "finish_reason": "length", "stop_reason": None}
    if isinstance(body.get("logprobs"), int):
        offsets = [sum(len(t) for t in tokens[:i]) for i in range(len(tokens))]
        values = [None if body.get("echo") and i == 0 else -0.5 * (i + 1) for i in range(len(tokens))]
        choice["logprobs"] = {"text_offset": offsets, "token_logprobs": values, "tokens": tokens,
                              "top_logprobs": [None if v is None else {t: v} for t, v in zip(tokens, values)]}
    if isinstance(body.get("prompt_logprobs"), int):
        prompt_words = body["prompt"].split(" ")
        choice["prompt_logprobs"] = [None] + [
            {str(200 + i): {"logprob": -1.0 - i, "rank": 1, "decoded_token": " " + w}} for i, w in enumerate(prompt_words[1:])
        ]
    prompt_tokens = len(body["prompt"].split(" "))
    return 200, {"id": "cmpl-test", "object": "text_completion", "created": 1733000000, "model": body.get("model"),
                 "choices": [choice], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1,
                                                "total_tokens": prompt_tokens + 1}}, JSON


def _vllm_chat(body: Any) -> Answer:
    structured = body.get("structured_outputs") or (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
    content = '{"city": "Paris"}' if structured else "Paris."
    return 200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 1733000000, "model": body.get("model"),
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}}, JSON


VLLM: Routes = {
    ("POST", "/v1/completions"): _vllm_completion,
    ("POST", "/v1/chat/completions"): _vllm_chat,
    ("GET", "/metrics"): (200, VLLM_METRICS, PROMETHEUS),
    # PoolingResponse {data: [PoolingResponseData {index, object: "pooling", data}]}; here one 2-d vector per input
    ("POST", "/pooling"): lambda body: (200, {
        "id": "pool-test", "object": "list", "created": 1733000000, "model": body.get("model"),
        "data": [{"index": i, "object": "pooling", "data": [[float(len(t)), 1.0]]} for i, t in enumerate(body["input"])],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }, JSON),
    ("GET", "/info"): (404, {"detail": "Not Found"}, JSON),
    ("GET", "/props"): (404, {"detail": "Not Found"}, JSON),
    ("GET", "/v1/models"): (200, VLLM_MODELS, JSON),
    ("GET", "/version"): (200, {"version": "0.11.0"}, JSON),
    ("GET", "/health"): (200, None, {}),
    ("POST", "/tokenize"): _vllm_tokenize,
    ("POST", "/detokenize"): lambda body: (200, {"prompt": " ".join(f"t{i}" for i in body["tokens"])}, JSON),
    ("POST", "/v1/rerank"): lambda body: (200, {
        "id": "rerank-test", "model": body.get("model", "BAAI/bge-reranker-base"),
        "usage": {"prompt_tokens": 20, "total_tokens": 20},
        "results": sorted(({"index": i, "document": {"text": d}, "relevance_score": 1.0 / (i + 1)}
                           for i, d in enumerate(body["documents"])), key=lambda r: -r["relevance_score"])[
            : body.get("top_n") or None],
    }, JSON),
    ("POST", "/score"): lambda body: (200, {
        "id": "score-test", "object": "list", "created": 1733000000, "model": "BAAI/bge-reranker-base",
        "data": [{"index": i, "object": "score", "score": 0.5 + i / 10} for i, _ in enumerate(body["text_2"])],
        "usage": {"prompt_tokens": 9, "total_tokens": 9},
    }, JSON),
    ("POST", "/classify"): lambda body: (200, {
        "id": "classify-test", "object": "list", "created": 1733000000, "model": "jason9693/Qwen2.5-1.5B-apeach",
        "data": [{"index": i, "label": "Default", "probs": [0.1, 0.9], "num_classes": 2}
                 for i, _ in enumerate(body["input"] if isinstance(body["input"], list) else [body["input"]])],
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }, JSON),
}

SGLANG: Routes = {
    ("GET", "/get_model_info"): (200, {
        "model_path": "meta-llama/Llama-3.1-8B-Instruct", "tokenizer_path": "meta-llama/Llama-3.1-8B-Instruct",
        "is_generation": True,
    }, JSON),
    ("GET", "/v1/models"): (200, {"object": "list", "data": [{
        "id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "owned_by": "sglang", "root": None,
        "max_model_len": 131072,
    }]}, JSON),
    ("GET", "/health"): (200, None, {}),
    ("GET", "/metrics"): (200, '# TYPE sglang:num_running_reqs gauge\n'
                             'sglang:num_running_reqs{model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0\n', PROMETHEUS),
    ("POST", "/generate"): lambda body: (200, {
        "text": " Paris", "meta_info": {
            "id": "sglang-test-id", "finish_reason": {"type": "length", "length": body["sampling_params"].get("max_new_tokens", 2)},
            "prompt_tokens": len(body["text"].split()), "completion_tokens": 2, "cached_tokens": 0,
            **({"output_token_logprobs": [[-0.25, 3681, " Par"], [-0.75, 285, "is"]],
                "output_top_logprobs": [[[-0.25, 3681, " Par"], [-2.0, 12, " Lyon"]][: body.get("top_logprobs_num", 1)],
                                        [[-0.75, 285, "is"]]]} if body.get("return_logprob") else {}),
        },
    }, JSON),
}

LLAMACPP: Routes = {
    ("GET", "/props"): (200, {
        "default_generation_settings": {"n_ctx": 4096, "params": {"temperature": 0.8}},
        "total_slots": 1, "model_path": "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "chat_template": "{{ messages }}", "build_info": "b6000-abcdef0",
    }, JSON),
    ("GET", "/health"): (200, {"status": "ok"}, JSON),
    ("POST", "/tokenize"): lambda body: (200, {"tokens": [1, 2, 3][: max(1, len(body["content"].split()))]}, JSON),
    ("GET", "/metrics"): (200, "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 42\n"
                             "llamacpp:requests_processing 1\n", PROMETHEUS),
    ("GET", "/slots"): (200, [
        {"id": 0, "id_task": 3, "n_ctx": 4096, "speculative": False, "is_processing": True, "params": {"n_predict": -1}},
        {"id": 1, "id_task": -1, "n_ctx": 4096, "speculative": False, "is_processing": False, "params": {"n_predict": -1}},
    ], JSON),
    # the current answer: completion_probabilities [{id, token, bytes, logprob, top_logprobs}] when n_probs > 0
    ("POST", "/completion"): lambda body: (200, {
        "index": 0, "content": " Paris", "tokens": [], "id_slot": 0, "stop": True, "model": "qwen2.5-0.5b-instruct",
        "tokens_predicted": 2, "tokens_evaluated": len(body["prompt"].split()), "stop_type": "limit",
        "truncated": False, "tokens_cached": 0, "timings": {"prompt_n": 3, "predicted_n": 2},
        **({"completion_probabilities": [
            {"id": 3681, "token": " Par", "bytes": [32, 80, 97, 114], "logprob": -0.25,
             "top_logprobs": [{"id": 3681, "token": " Par", "bytes": [], "logprob": -0.25},
                              {"id": 12, "token": " Lyon", "bytes": [], "logprob": -2.0}][: body["n_probs"]]},
            {"id": 285, "token": "is", "bytes": [105, 115], "logprob": -0.75,
             "top_logprobs": [{"id": 285, "token": "is", "bytes": [], "logprob": -0.75}]},
        ]} if body.get("n_probs") else {}),
    }, JSON),
    ("POST", "/rerank"): lambda body: (200, {
        "model": "bge-reranker", "object": "list", "usage": {"prompt_tokens": 8, "total_tokens": 8},
        "results": [{"index": i, "relevance_score": -1.0 * i} for i, _ in enumerate(body["documents"])],
    }, JSON),
}


class FakeServer:
    def __init__(self, routes: Routes) -> None:
        self.routes = dict(routes)
        self.requests: List[Tuple[str, str, Any]] = []
        self.headers: List[Dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Optional[Any] = json.loads(raw) if raw else None
                server.requests.append((method, self.path, body))
                server.headers.append(dict(self.headers))
                answer = server.routes.get((method, self.path), (404, {"error": "Not Found"}, JSON))
                status, payload, headers = answer(body) if callable(answer) else answer
                if payload is None:
                    data = b""
                elif headers.get("Content-Type", "").startswith("text/"):
                    data = str(payload).encode()
                else:
                    data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def paths(self, method: Optional[str] = None) -> List[str]:
        return [path for m, path, _ in self.requests if method is None or m == method]

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
