"""Progress while a Dedicated Inference Endpoint scaled to zero wakes up.

Such an endpoint answers 503 until its replica is up (minutes); the transport retries it (and sends
``X-Scale-Up-Timeout`` when ``scale_up_timeout`` is set, so the endpoint may hold the request instead).
Each retry fires the client's ``retry`` hook; ``waking_reporter`` turns those into lines such as
"endpoint waking, 40 s so far; next try in 10 s". The CLI prints them on stderr.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Tuple

from .. import errors


def is_waking(error: Any) -> bool:
    return isinstance(error, errors.ModelLoadingError) or getattr(error, "status", None) == 503


def waking_message(waited: float, wait: float) -> str:
    return f"endpoint waking, {waited:.0f} s so far; next try in {wait:.0f} s"


def waking_reporter(write: Callable[[str], Any]) -> Callable[..., None]:
    """A ``retry`` hook (``client.on("retry", waking_reporter(print))``) that reports 503 waits."""
    lock = threading.Lock()
    waited: Dict[Tuple[Any, ...], float] = {}

    def hook(request: Any, number: int, wait: float, error: Any) -> None:
        if not is_waking(error):
            return
        key = (getattr(request, "provider", None), getattr(request, "api_base", None), getattr(request, "model", None))
        with lock:
            so_far = 0.0 if number <= 1 else waited.get(key, 0.0)
            waited[key] = so_far + wait
        write(waking_message(so_far, wait))

    return hook
