"""A loopback stand-in for the Hub and the Inference Providers router, for the provider-resolution, catalogue,
preflight and cost tests: ``LLM_INTERFACE_HF_HUB`` and ``LLM_INTERFACE_HF_ROUTER`` both point at it.

    hub = FakeHub(mappings={"BAAI/bge-m3": [...]}, answers={"/together/v1/embeddings": {...}})
    with LoopbackServer(responder=hub) as server: ...

``GET /api/models/{id}?expand[]=inferenceProviderMapping`` answers ``{"id", "inferenceProviderMapping"}`` from
``mappings`` (404 for an unknown model, as the Hub); ``GET /v1/models`` and ``/v1/models/{id}`` answer the
catalogue; ``GET /api/models?...`` answers ``listing``; any other path answers from ``answers`` (a body, or a callable of the recorded request), else 404.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from support.loopback import Answer, Recorded

JSON = {"Content-Type": "application/json"}


def json_answer(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> Answer:
    return Answer(status, {**JSON, **(headers or {})}, json.dumps(body).encode())


class FakeHub:
    def __init__(self, mappings: Optional[Dict[str, Any]] = None, answers: Optional[Dict[str, Any]] = None,
                 catalogue: Optional[List[Dict[str, Any]]] = None) -> None:
        self.mappings = mappings or {}
        self.answers = answers or {}
        self.catalogue = catalogue or []
        self.listing: List[Dict[str, Any]] = []  # GET /api/models?...: the Hub's model list
        self.seen: List[Recorded] = []

    def hub_requests(self) -> List[Recorded]:
        return [r for r in self.seen if r.path.startswith("/api/models/")]

    def routed(self) -> List[Recorded]:
        return [r for r in self.seen if not r.path.startswith(("/api/models/", "/v1/models"))]

    def __call__(self, request: Recorded) -> Any:
        self.seen.append(request)
        path = request.path
        if path.startswith("/api/models?"):
            return json_answer(self.listing)
        if path.startswith("/api/models/"):
            model = path[len("/api/models/"):].split("?")[0]
            if model not in self.mappings:
                return json_answer({"error": f"Repository Not Found for url: {path}"}, 404)
            if isinstance(self.mappings[model], Answer):  # an error answer of the Hub's
                return self.mappings[model]
            return json_answer({"_id": "67c35b9bb236f0d365bf29d3", "id": model,
                                "inferenceProviderMapping": self.mappings[model]})
        if path == "/v1/models":
            return json_answer({"object": "list", "data": self.catalogue})
        if path.startswith("/v1/models/"):
            wanted = path[len("/v1/models/"):]
            for entry in self.catalogue:
                if entry.get("id") == wanted:
                    return json_answer(entry)
            return json_answer({"error": "Model not found"}, 404)
        answer = self.answers.get(path)
        if answer is None:
            return json_answer({"error": f"no route {path}"}, 404)
        if callable(answer):
            answer = answer(request)
        return answer if isinstance(answer, Answer) else json_answer(answer)
