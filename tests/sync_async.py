"""One call, made through the sync or the async (aiohttp) transport: tests of wire behaviour run
both from one table (``@pytest.mark.parametrize("mode", MODES)``). Async skips without aiohttp."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Optional

from optional import require

from llm_interface import AsyncClient, Client

MODES = ["sync", "async"]


def ask(mode: str, options: Mapping[str, Any], *, stream: bool = False, retries: int = 0,
        provider: str = "openai-compatible", iopts: Optional[Mapping[str, Any]] = None) -> Any:
    """The response (or, with ``stream``, the streamed text) of one chat call."""
    interface_options = {"retry_attempts": retries, **(iopts or {})}
    if mode == "sync":
        with Client(interface_options=interface_options) as client:
            if stream:
                return "".join(chunk.text or "" for chunk in client.stream_message(provider, "hi", dict(options)))
            return client.send_message(provider, "hi", dict(options))
    require("aiohttp", "async")

    async def main() -> Any:
        async with AsyncClient(interface_options=interface_options, backend="aiohttp") as client:
            if stream:
                return "".join([chunk.text or "" async for chunk in client.stream_message_async(provider, "hi", dict(options))])
            return await client.send_message_async(provider, "hi", dict(options))

    return asyncio.run(main())
