"""The OpenAI-compatible proxy: a FastAPI app over one shared ``Client``.

Routes: ``POST /v1/chat/completions`` (SSE streams ending in ``[DONE]``), ``POST /v1/completions``,
``POST /v1/responses`` (OpenAI's Responses API, responses_route.py),
``POST /v1/embeddings``, ``POST /rerank`` (and ``/v1/rerank``), ``GET /v1/models``, ``GET /v1/usage`` (each
answer's cost and the running totals, usage.py), ``GET /health``,
OpenAPI docs at ``/docs``; LiteLLM's proxy also serves the OpenAI routes without ``/v1``, and so does
this one. Handlers are ``async`` and call upstream through one ``AsyncClient`` (aiohttp) over the one
Client, sharing its cache, retry policy and rate limiter: no thread pool bounds how many upstream calls
wait at once, so slow upstreams cannot starve fast ones. A streamed answer whose client disconnects
closes its upstream stream at once (``streams.py``).

Security: a configured master key is required as ``Authorization: Bearer`` (compared in constant
time); request bodies over ``max_request_bytes`` get 413 before they are parsed; options that would
redirect the upstream call (``api_base``, ``api_key``, ``headers``...) are refused from clients; the
upstream key lives only in the route's options and is scrubbed from anything sent back.
"""

# No "from __future__ import annotations": FastAPI reads the handlers' annotations as real objects.

import asyncio
import hmac
import json
import logging
import uuid
from typing import Any, AsyncIterator, Dict, List, Optional

from .. import errors
from ..async_client import AsyncClient
from ..client import Client
from ..credentials import find_api_key
from ..openai_shapes import chat_completion_json, embeddings_json, text_completion_json
from ..providers import provider_class
from ..redact import scrub
from ..request import CAMEL_CASE, INTERFACE_OPTIONS, TRANSPORT_OPTIONS
from ..responses_shapes import responses_body
from . import models as api
from .body import parse_body
from .config import ModelRoute, ProxyConfig
from .errors import ProxyError, error_body, internal_error, openai_error
from .responses_route import streamed_responses
from .usage import Prices, UsageLedger, cost_headers, with_cost

logger = logging.getLogger("llm_interface.server")

# OpenAI request fields the proxy reads itself rather than forwarding as generation params.
# Routing (where the call goes, with which key) and interface options (retries, cache) are the operator's,
# set in the proxy's config: a client that could send them could redirect the call or multiply upstream traffic.
_NOT_FROM_CLIENTS = TRANSPORT_OPTIONS | INTERFACE_OPTIONS

_CONSUMED = frozenset({"model", "messages", "prompt", "input", "stream", "stream_options", "user",
                       "encoding_format", "query", "documents", "top_n", "return_documents"})


def build_client(config: ProxyConfig) -> Client:
    """The one Client the server shares: defaults, aliases, cache and rate limits from the config."""
    client = Client(interface_options=config.interface_options or None, max_response_bytes=config.max_response_bytes)
    for provider, kinds in config.aliases.items():
        name = provider_class(provider).name
        for kind, table in (kinds or {}).items():
            for alias, model in (table or {}).items():
                client.aliases.set(name, alias, model, kind)
    if config.cache is not None:
        client.configure_cache(**config.cache)
    for limit in config.rate_limits:
        client.configure_rate_limit(**limit)
    return client


def warn_missing_keys(config: ProxyConfig) -> None:
    """One log line at start-up naming the Hugging Face models with no upstream key anywhere: without
    it the proxy starts fine and every call to them fails (the clients get a 500)."""
    keyless = [route.name for route in config.routes.values()
               if route.provider == "huggingface" and not find_api_key(route.provider, route.options.get("api_key"), {})]
    if keyless:
        logger.warning(
            "No Hugging Face API key for %s: calls to %s will fail with 500 until one is set "
            "(litellm_params.api_key: os.environ/HF_TOKEN in the config, or HF_TOKEN in the proxy's environment).",
            ", ".join(keyless), "it" if len(keyless) == 1 else "them",
        )


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with 413, before anything parses them.

    The body is read here (it is small by construction) and replayed to the app, so a chunked upload
    without Content-Length is bounded too.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        chunks: List[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # a disconnect: let the app see it
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send)

    async def _refuse(self, send: Any) -> None:
        payload = json.dumps(error_body(
            f"The request body is larger than this proxy's limit of {self.limit} bytes.",
            "invalid_request_error", "request_too_large",
        )).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: List[Dict[str, Any]], then: Any = None) -> Any:
    queue = list(messages)

    async def receive() -> Dict[str, Any]:
        if queue:
            return queue.pop(0)
        return await then() if then is not None else {"type": "http.disconnect"}

    return receive


def create_app(config: ProxyConfig, client: Optional[Client] = None) -> Any:
    """The FastAPI app for ``config``; ``client`` defaults to one built from the config."""
    try:
        from fastapi import Depends, FastAPI, Request
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import JSONResponse
        from pydantic import ValidationError as PydanticValidationError
        from starlette.exceptions import HTTPException as StarletteHTTPException

        from .streams import streamed
    except ImportError as exc:
        raise errors.MissingDependencyError('The proxy needs its extra: pip install "llm-interface-hf[server]"') from exc
    from contextlib import asynccontextmanager

    client = client or build_client(config)
    secrets = config.secrets()
    warn_missing_keys(config)

    # Its aiohttp session is made on first use, in the server's loop (the transport binds it to that loop).
    # Without aiohttp it runs calls in threads, and says so in the log itself.
    upstream = AsyncClient(client, max_connections=config.max_upstream_connections)
    ledger, prices = UsageLedger(), Prices(client)  # usage.py: GET /v1/usage, and the catalogue behind costs

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        await upstream.aclose()
        client.close()

    app = FastAPI(title="llm_interface proxy", version="1", lifespan=lifespan,
                  description="OpenAI-compatible proxy over llm_interface (Hugging Face first).")
    app.add_middleware(BodyLimit, limit=config.max_request_bytes)
    app.state.client, app.state.config, app.state.upstream = client, config, upstream
    app.state.usage = ledger

    def answer_error(status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> Any:
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(ProxyError)
    async def _proxy_error(_request: Any, error: ProxyError) -> Any:
        return answer_error(error.status, error_body(scrub(error.message, secrets), error.type, error.code, error.param))

    @app.exception_handler(errors.LLMInterfaceError)
    async def _library_error(_request: Any, error: errors.LLMInterfaceError) -> Any:
        status, body, headers = openai_error(error, secrets)
        logger.warning("%s %s: %s", status, type(error).__name__, body["error"]["message"])
        return answer_error(status, body, headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_body(_request: Any, error: RequestValidationError) -> Any:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in error.errors()
        )
        first = error.errors()[0].get("loc", ())[1:2] if error.errors() else ()
        return answer_error(400, error_body(scrub(f"Invalid request body: {problems}", secrets),
                                            "invalid_request_error", None, str(first[0]) if first else None))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Any, error: StarletteHTTPException) -> Any:
        return answer_error(error.status_code, error_body(str(error.detail), "invalid_request_error"))

    @app.exception_handler(Exception)
    async def _bug(_request: Any, error: Exception) -> Any:
        # Never a traceback or an exception's own words to a client; the log has the details.
        logger.error("unexpected %s while answering", type(error).__name__, exc_info=error)
        status, body = internal_error(error)
        return answer_error(status, body)

    async def read(request: Request, model: Any) -> Any:
        """The body as ``model``: finite numbers only, trailing commas tolerated (``body.py``)."""
        data = parse_body(await request.body())
        try:
            return model.model_validate(data)
        except PydanticValidationError as error:
            raise RequestValidationError([{**e, "loc": ("body", *e.get("loc", ()))} for e in error.errors()]) from None

    async def authorize(request: Request) -> None:
        if config.master_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), config.master_key.encode()):
            raise ProxyError(401, "Incorrect or missing API key for this proxy: send 'Authorization: Bearer <master key>'.",
                             "invalid_request_error", "invalid_api_key")

    def route_for(name: Any) -> ModelRoute:
        route = config.route(name)
        if route is None:
            raise ProxyError(404, f"The model {name!r} does not exist on this proxy; GET /v1/models lists them.",
                             "invalid_request_error", "model_not_found", "model")
        return route

    protected = [Depends(authorize)]

    @app.get("/health", tags=["meta"])
    async def health() -> Dict[str, str]:
        """Liveness: answers without a key and says nothing about the configuration."""
        return {"status": "ok"}

    def post(path: str, model: Any, **extra: Any) -> Any:
        """A POST route at ``/v1<path>`` and, as LiteLLM's proxy serves them, at ``<path>`` (hidden from
        the docs); the body is read by ``read`` and documented from ``model``."""
        schema = {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}

        def register(handler: Any) -> Any:
            app.post("/v1" + path, dependencies=protected, tags=["openai"], openapi_extra=schema, **extra)(handler)
            app.post(path, dependencies=protected, tags=["openai"], include_in_schema=False, **extra)(handler)
            return handler

        return register

    async def list_models() -> Dict[str, Any]:
        return {"object": "list", "data": [_model_card(name) for name in config.model_names()]}

    async def get_model(model_id: str) -> Dict[str, Any]:
        route_for(model_id)
        return _model_card(model_id)

    for prefix in ("/v1", ""):
        shown = prefix == "/v1"
        app.get(prefix + "/models", dependencies=protected, tags=["openai"], include_in_schema=shown)(list_models)
        app.get(prefix + "/models/{model_id:path}", dependencies=protected, tags=["openai"],
                include_in_schema=shown)(get_model)

    async def usage() -> Dict[str, Any]:
        """The running totals since start-up, per model name (usage.py)."""
        return ledger.snapshot()

    for prefix in ("/v1", ""):
        app.get(prefix + "/usage", dependencies=protected, tags=["usage"], include_in_schema=prefix == "/v1")(usage)

    def counted(route: ModelRoute) -> Any:
        """The ledger's callback for one route's finished answers (streams call it at their end)."""
        return lambda response: ledger.record(route.name, response)

    def priced(body: Dict[str, Any], cost: Optional[float]) -> Any:
        """The answer with its cost: ``usage.cost`` in the body and the ``x-llm-interface-cost`` header."""
        if isinstance(body.get("usage"), dict):
            body["usage"] = with_cost(body["usage"], cost)
        return JSONResponse(body, headers=cost_headers(cost))

    @post("/chat/completions", api.ChatCompletionRequest)
    async def chat_completions(request: Request) -> Any:
        body = await read(request, api.ChatCompletionRequest)
        route = route_for(body.model)
        options = route.call_options(_params(body))
        await prices.ensure(route)
        if body.stream:
            stream = upstream.stream_message_async(route.provider, body.messages, options)
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return await streamed(stream, "chat", body.model, include_usage, secrets, counted(route))
        answer = await upstream.send_message_async(route.provider, body.messages, options)
        return priced(chat_completion_json(answer, body.model), ledger.record(route.name, answer))

    @post("/completions", api.CompletionRequest)
    async def completions(request: Request) -> Any:
        body = await read(request, api.CompletionRequest)
        route = route_for(body.model)
        options = route.call_options(_params(body))
        prompts = [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise ProxyError(400, "'prompt' must be a string or a list of strings.", param="prompt")
        if body.stream:
            if len(prompts) != 1:
                raise ProxyError(400, "Streaming takes exactly one prompt.", param="prompt")
            stream = upstream.stream_complete_async(route.provider, prompts[0], options)
            return await streamed(stream, "completion", body.model, False, secrets, counted(route))
        answers = await asyncio.gather(*(upstream.complete_async(route.provider, p, options) for p in prompts))
        costs = [ledger.record(route.name, answer) for answer in answers]
        known = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
        return priced(text_completion_json(list(answers), body.model), known)

    @post("/embeddings", api.EmbeddingRequest)
    async def embeddings(request: Request) -> Any:
        body = await read(request, api.EmbeddingRequest)
        route = route_for(body.model)
        texts = body.input
        if isinstance(texts, list) and not all(isinstance(t, str) for t in texts):
            raise ProxyError(400, "'input' must be a string or a list of strings; token arrays are not supported.",
                             param="input")
        if body.encoding_format not in (None, "float", "base64"):
            raise ProxyError(400, "encoding_format must be 'float' or 'base64'.", param="encoding_format")
        answer = await upstream.embeddings_async(route.provider, texts, route.call_options(_params(body)))
        ledger.record(route.name, answer)
        return embeddings_json(answer, body.model, body.encoding_format)

    @post("/responses", api.ResponsesRequest)
    async def responses(request: Request) -> Any:
        body = await read(request, api.ResponsesRequest)
        route = route_for(body.model)
        options = route.call_options(_params(body))
        await prices.ensure(route)
        if body.stream:
            return await streamed_responses(upstream.stream_respond_async(route.provider, body.input, options), body.model,
                                            secrets, counted(route))
        answer = await upstream.respond_async(route.provider, body.input, options)
        return priced(responses_body(answer, body.model), ledger.record(route.name, answer))

    rerank_schema = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": api.RerankRequest.model_json_schema()}}}}

    @app.post("/rerank", dependencies=protected, tags=["rerank"], openapi_extra=rerank_schema)
    @app.post("/v1/rerank", dependencies=protected, tags=["rerank"], include_in_schema=False)
    async def rerank(request: Request) -> Any:
        body = await read(request, api.RerankRequest)
        route = route_for(body.model)
        documents = [d if isinstance(d, str) else str(d.get("text", "")) for d in body.documents]
        answer = await upstream.rerank_async(route.provider, body.query, documents, route.call_options(_params(body)))
        ledger.record(route.name, answer)
        results = sorted(answer.results, key=lambda r: r.score, reverse=True)
        if body.top_n is not None:
            results = results[: body.top_n]
        return {
            "id": f"rerank-{uuid.uuid4().hex}",
            "model": body.model,
            "results": [
                {"index": r.index, "relevance_score": r.score,
                 **({"document": {"text": documents[r.index]}} if body.return_documents else {})}
                for r in results
            ],
        }

    return app


def _model_card(name: str) -> Dict[str, Any]:
    # Only the public name: the upstream model, base URL and key stay private.
    return {"id": name, "object": "model", "created": 0, "owned_by": "llm-interface"}


def _params(body: Any) -> Dict[str, Any]:
    """The generation params a client sent, minus what the proxy reads itself; routing options refused."""
    extra = dict(body.model_extra or {})
    for name in list(extra):
        if CAMEL_CASE.get(name, name) in _NOT_FROM_CLIENTS:
            raise ProxyError(400, f"The option {name!r} is set in the proxy's config, not by clients.", param=name)
        if extra[name] is None or name in _CONSUMED:
            del extra[name]
    if "max_completion_tokens" in extra:  # newer OpenAI clients; TGI and the library know max_tokens
        extra.setdefault("max_tokens", extra.pop("max_completion_tokens"))
    for name in ("temperature", "top_p", "max_tokens", "n", "stop", "seed"):
        value = getattr(body, name, None)
        if value is not None:
            extra[name] = value
    return extra
