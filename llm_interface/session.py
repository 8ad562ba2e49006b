"""Session: a conversation that remembers its turns.

    chat = Session("huggingface", model="small", system="Answer in one sentence.", max_messages=20)
    chat.send("Who wrote Dune?")
    chat.send("When was it published?")        # the first turn goes along
    chat.save("chat.json"); chat = Session.load("chat.json")

History is bounded by ``max_messages`` and/or ``token_budget``. The budget counts exactly when it can:
with ``tokenizer`` (a local folder or Hub id: the chat template applied), or from a self-hosted server
that renders the template itself (``api_base`` on TGI or vLLM: servers/tools.count_tokens); else it is
approximate (about 4 characters a token, plus each message's template overhead). Oldest turns go first, a whole turn at a time (a user message and the answers and tool
results after it); the system message always stays, and so does the newest user message.

A failed ``send`` leaves the history as it was. A ``stream`` adds its turn only once the answer is
complete. Nothing secret is saved: an ``api_key`` or ``headers`` option is left out of the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Union

from . import errors
from .request import content_text, normalize_message
from .servers import tools as server_tools
from .types import Response, StreamChunk

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4  # role and separators: what chat templates add around each message
_NOT_SAVED = frozenset({"api_key", "apiKey", "headers"})
FORMAT = 1
SERVER_PROVIDERS = ("huggingface", "openai-compatible")  # api_base may be TGI, vLLM... with a tokenizer route


def approx_tokens(message: Mapping[str, Any]) -> int:
    """About how many tokens a message costs (content, plus tool calls, plus the template's overhead)."""
    size = len(content_text(message.get("content")))
    if message.get("tool_calls"):
        size += len(json.dumps(message["tool_calls"]))
    return TOKENS_PER_MESSAGE + (size + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


class Session:
    """A conversation with one provider and model. ``send``/``stream`` add turns; ``history`` shows them."""

    def __init__(
        self,
        provider: str,
        model: Optional[str] = None,
        system: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
        interface_options: Optional[Mapping[str, Any]] = None,
        *,
        client: Any = None,
        max_messages: Optional[int] = None,
        token_budget: Optional[int] = None,
        tokenizer: Optional[str] = None,
        **params: Any,
    ) -> None:
        for name, bound in (("max_messages", max_messages), ("token_budget", token_budget)):
            if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool) or bound < 1):
                raise errors.InvalidRequestError(f"{name} must be an int >= 1 or None, got {bound!r}")
        if system is not None and not isinstance(system, str):
            raise errors.InvalidRequestError(f"system must be a string, got {type(system).__name__}")
        self.provider = provider
        self.model = model
        self.system = system
        self.options: Dict[str, Any] = {**(options or {}), **params}
        self.interface_options = dict(interface_options) if interface_options else None
        self.max_messages = max_messages
        self.token_budget = token_budget
        self.tokenizer = tokenizer
        # None: not asked yet; False: the server gave no exact count, so the estimate is used from then on
        self._exact: Optional[bool] = None
        self._client = client
        self._async_client: Any = None
        self._turns: List[Dict[str, Any]] = []
        self.last_response: Optional[Response] = None
        self.cost: Optional[float] = None  # USD of the answers with a known cost (cost.py); None: none known

    def __repr__(self) -> str:
        return f"Session({self.provider!r}, model={self.model!r}, messages={len(self._turns)})"

    @property
    def client(self) -> Any:
        if self._client is None:
            from .interface import LLMInterface

            return LLMInterface.client
        return self._client

    # -- history --------------------------------------------------------------------------------

    @property
    def history(self) -> List[Dict[str, Any]]:
        """The messages sent with the next turn: the system message, then the kept turns (copies)."""
        return self._with_system(self._turns)

    def reset(self) -> None:
        """Forget every turn; the system message stays."""
        self._turns = []
        self.last_response = None

    def _with_system(self, turns: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + [dict(m) for m in turns]

    def _trimmed(self, turns: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """``turns`` without its oldest turns, until within the bounds (the newest user turn stays)."""
        turns = list(turns)
        system_cost = approx_tokens({"content": self.system}) if self.system else 0

        def over() -> bool:
            count = len(turns) + (1 if self.system else 0)
            if self.max_messages is not None and count > self.max_messages:
                return True
            if self.token_budget is not None:
                exact = self._exact_count(turns)
                if exact is not None:
                    return exact > self.token_budget
                return system_cost + sum(approx_tokens(m) for m in turns) > self.token_budget
            return False

        while over():
            # The next turn starts at the next user message after the first; none left: stop.
            starts = [i for i, m in enumerate(turns) if i > 0 and m.get("role") == "user"]
            if not starts:
                break
            turns = turns[starts[0]:]
        return turns

    def counts_exactly(self) -> bool:
        """Whether the token budget may be counted by a tokenizer (local, or the server's) rather than estimated."""
        if self.token_budget is None or self._exact is False:
            return False
        # a server is asked only where self-hosted servers are spoken to: not a hosted API that has no tokenizer route
        return self.tokenizer is not None or (bool(self.options.get("api_base")) and self.provider in SERVER_PROVIDERS)

    def _exact_count(self, turns: List[Dict[str, Any]]) -> Optional[int]:
        """The conversation's exact token count, or None when no tokenizer gives one (then: the estimate)."""
        if not self.counts_exactly():
            return None
        options = {**self.options, "model": self.model} if self.model is not None else dict(self.options)
        if self.tokenizer is not None:
            options = {"tokenizer": self.tokenizer}
        try:
            count = server_tools.count_tokens(self.client, self.provider, self._with_system(turns), options,
                                              self.interface_options)
        except (errors.APIError, errors.InvalidResponseError, errors.UnsupportedTaskError, errors.MissingAPIKeyError):
            count = None  # the server has no usable tokenizer route: estimate from now on
        if count is None or not count.exact:
            self._exact = False
            return None
        self._exact = True
        return count.count

    def _next(self, message: Any) -> List[Dict[str, Any]]:
        """The kept turns plus the new user message(s), trimmed."""
        if isinstance(message, Mapping) and "role" in message:
            message = [message]
        messages, prompt, _ = normalize_message(message)
        if prompt is not None:
            raise errors.InvalidRequestError("A Session is a chat: send text or messages, not {'prompt': ...}.")
        return self._trimmed(self._turns + [dict(m) for m in messages or ()])

    def _call(self, turns: List[Dict[str, Any]]) -> Dict[str, Any]:
        message: Dict[str, Any] = {"messages": self._with_system(turns)}
        if self.model is not None:
            message["model"] = self.model
        return message

    def _options(self, options: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        return {**self.options, **(options or {})}

    def _keep(self, turns: List[Dict[str, Any]], response: Response) -> None:
        answer: Dict[str, Any] = {"role": "assistant", "content": response.results}
        if response.tool_calls:
            answer["tool_calls"] = [dict(call) for call in response.tool_calls]
        self._turns = self._trimmed(turns + [answer])
        self.last_response = response
        if response.cost is not None and not response.cached:
            self.cost = (self.cost or 0.0) + response.cost

    def add(self, message: Mapping[str, Any]) -> None:
        """Add a message without sending (a tool result, or an assistant turn from elsewhere)."""
        self._turns = self._trimmed(self._turns + [dict(m) for m in normalize_message([message])[0] or ()])

    # -- talking --------------------------------------------------------------------------------

    def send(self, message: Any, options: Optional[Mapping[str, Any]] = None) -> Response:
        """Send a user message (text, or message dicts) with the history; keep both on success."""
        turns = self._next(message)
        response = self.client.send_message(
            self.provider, self._call(turns), self._options(options), self.interface_options
        )
        self._keep(turns, response)
        return response

    def stream(self, message: Any, options: Optional[Mapping[str, Any]] = None) -> Iterator[StreamChunk]:
        """Stream the answer; the turn is kept once the stream completes (not if abandoned)."""
        turns = self._next(message)
        stream = self.client.stream_message(self.provider, self._call(turns), self._options(options), self.interface_options)

        def chunks() -> Iterator[StreamChunk]:
            with stream:
                yield from stream
            self._keep(turns, stream.response)

        return chunks()

    def _async(self) -> Any:
        if self._async_client is None or self._async_client.client is not self.client:
            from .async_client import AsyncClient

            self._async_client = AsyncClient(client=self.client)
        return self._async_client

    async def _next_async(self, message: Any) -> List[Dict[str, Any]]:
        if not self.counts_exactly():
            return self._next(message)
        import asyncio  # here: importing the package stays light (test_public_api)

        return await asyncio.to_thread(self._next, message)  # counting may ask the server: off the event loop

    async def _keep_async(self, turns: List[Dict[str, Any]], response: Response) -> None:
        if not self.counts_exactly():
            return self._keep(turns, response)
        import asyncio

        await asyncio.to_thread(self._keep, turns, response)

    async def send_async(self, message: Any, options: Optional[Mapping[str, Any]] = None) -> Response:
        """The async ``send`` (over an ``AsyncClient`` sharing this session's client)."""
        turns = await self._next_async(message)
        response = await self._async().send_message_async(
            self.provider, self._call(turns), self._options(options), self.interface_options
        )
        await self._keep_async(turns, response)
        return response

    async def stream_async(self, message: Any, options: Optional[Mapping[str, Any]] = None) -> AsyncIterator[StreamChunk]:
        """The async ``stream``: ``async for chunk in session.stream_async("...")``."""
        turns = await self._next_async(message)
        stream = self._async().stream_message_async(
            self.provider, self._call(turns), self._options(options), self.interface_options
        )
        async with stream:
            async for chunk in stream:
                yield chunk
        await self._keep_async(turns, stream.response)

    # -- saving ---------------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        return {
            "format": FORMAT,
            "provider": self.provider,
            "model": self.model,
            "system": self.system,
            "options": {k: v for k, v in self.options.items() if k not in _NOT_SAVED},
            "interface_options": self.interface_options,
            "max_messages": self.max_messages,
            "token_budget": self.token_budget,
            "tokenizer": self.tokenizer,
            "messages": [dict(m) for m in self._turns],
        }

    def save(self, path: Union[str, Path]) -> None:
        """Write the session as JSON (keys and headers are never written)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        Path(path).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, client: Any = None) -> "Session":
        if not isinstance(data, Mapping) or data.get("format") != FORMAT or "provider" not in data:
            raise errors.InvalidRequestError(
                f"Not a saved Session (expected a JSON object with format {FORMAT} and a provider)."
            )
        session = cls(
            data["provider"], data.get("model"), data.get("system"), data.get("options") or None,
            data.get("interface_options"), client=client,
            max_messages=data.get("max_messages"), token_budget=data.get("token_budget"),
            tokenizer=data.get("tokenizer"),
        )
        session._turns = [dict(m) for m in normalize_message(data["messages"])[0] or ()] if data.get("messages") else []
        return session

    @classmethod
    def load(cls, path: Union[str, Path], *, client: Any = None) -> "Session":
        """A session saved with ``save``, ready to go on (with ``client``, or the default one)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise errors.InvalidRequestError(f"{path} is not valid JSON: {exc}") from exc
        return cls.from_dict(data, client=client)
