"""Stand-ins on 127.0.0.1 for the servers that cannot run here (TGI, TEI, vLLM, SGLang, llama.cpp's C++
server), answering each one's own routes with bodies shaped by its spec: TGI and TEI from their OpenAPI
files in tests/fixtures/hf-reference (test_servers.py checks every body against the spec's required
fields), vLLM from vllm/entrypoints/openai/protocol.py, llama.cpp from tools/server/README.md.

    with FakeServer(TGI) as server:
        LLMInterface.server_info("huggingface", {"api_base": server.url})
        server.requests  # [(method, path, body)], in order

A route absent from the table answers 404, as on the real server.
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


VLLM: Routes = {
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
}

LLAMACPP: Routes = {
    ("GET", "/props"): (200, {
        "default_generation_settings": {"n_ctx": 4096, "params": {"temperature": 0.8}},
        "total_slots": 1, "model_path": "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "chat_template": "{{ messages }}", "build_info": "b6000-abcdef0",
    }, JSON),
    ("GET", "/health"): (200, {"status": "ok"}, JSON),
    ("POST", "/tokenize"): lambda body: (200, {"tokens": [1, 2, 3][: max(1, len(body["content"].split()))]}, JSON),
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
                data = b"" if payload is None else json.dumps(payload).encode()
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
