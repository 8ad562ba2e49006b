"""The batch layer, over a client: ``send_messages(client, ...)`` and ``send_messages_async(aclient, ...)``.

What the facade (``LLMInterface.send_messages``) calls. The clients' own ``send_messages`` methods and
these functions run the same thing: ``fanout.py``, which holds the worker pools, the batch-wide pause
after a 429 and the progress bar. Nothing below this module imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Mapping, Optional

from .fanout import Pacer, run_in_tasks, run_in_threads

if TYPE_CHECKING:  # pragma: no cover - a type only: the facade need not load asyncio to batch
    from .async_client import AsyncClient
    from .client import Client

__all__ = ["Pacer", "send_messages", "send_messages_async"]


def send_messages(
    client: "Client",
    provider: str,
    messages: Iterable[Any],
    options: Optional[Mapping[str, Any]] = None,
    interface_options: Optional[Mapping[str, Any]] = None,
    *,
    concurrency: int = 8,
    progress: bool = True,
    raise_on_error: bool = False,
    deadline: Optional[float] = None,
) -> List[Any]:
    """Send every message with up to ``concurrency`` threads over ``client``; answers in input order."""
    return run_in_threads(
        client, provider, messages, options, interface_options,
        concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
    )


async def send_messages_async(
    aclient: "AsyncClient",
    provider: str,
    messages: Iterable[Any],
    options: Optional[Mapping[str, Any]] = None,
    interface_options: Optional[Mapping[str, Any]] = None,
    *,
    concurrency: int = 8,
    progress: bool = True,
    raise_on_error: bool = False,
    deadline: Optional[float] = None,
) -> List[Any]:
    """Send every message with up to ``concurrency`` requests in flight over ``aclient``; answers in input order."""
    return await run_in_tasks(
        aclient, provider, messages, options, interface_options,
        concurrency=concurrency, progress=progress, raise_on_error=raise_on_error, deadline=deadline,
    )
