"""A log of every call, in SQLite, written off the hot path: ``client.configure_log(path)``.

It is built on the client's hooks (events.py): the ``request`` hook notes when a call starts, the
``response`` hook (also a stream's aggregate, once it ends), ``cache_hit`` and ``error`` each put one record on a
bounded queue and return at once. A writer thread takes the records off the queue, turns them into rows
(secrets scrubbed with redact.py) and writes them in batches (call_log_db.py). A call never waits for the
disk: when the queue is full (the disk is stuck), the record is dropped and counted (``dropped``), with a
warning. ``close()`` (also ``Client.close`` and the end of the interpreter) writes what is queued.

Never in a row: the key (hooks never see it), a header's value (only header names are kept), any value
redact knows as a secret or that is shaped like a key.
"""

from __future__ import annotations

import atexit
import contextvars
import datetime
import json
import logging
import queue
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import failover, redact
from .call_log_db import DEFAULT_BACKUPS, DEFAULT_MAX_BYTES, Store, default_path

logger = logging.getLogger("llm_interface")

DEFAULT_QUEUE_SIZE = 10_000  # records waiting for the disk; past that, records are dropped
_BATCH = 256  # records written per transaction
_STOP = object()
_started: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar("llm_interface_call_started", default=None)
_open_logs: "weakref.WeakSet[CallLog]" = weakref.WeakSet()


class CallLog:
    """The log of one client's calls. Build it with ``client.configure_log(path)``."""

    def __init__(
        self,
        client: Any,
        path: Union[str, Path, None] = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        self._store = Store(self.path, max_bytes, backups)  # a bad path fails here, not in the writer
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.written = 0
        self._closed = False
        self._lock = threading.Lock()
        self._client = client
        self._hooks = {"request": self._on_request, "response": self._on_response, "error": self._on_error,
                       "cache_hit": self._on_response}
        for event, hook in self._hooks.items():
            client.on(event, hook)
        self._writer = threading.Thread(target=self._write_loop, name="llm_interface-call-log", daemon=True)
        self._writer.start()
        _open_logs.add(self)

    def __repr__(self) -> str:
        return f"CallLog({str(self.path)!r}, written={self.written}, dropped={self.dropped})"

    # -- the hooks: in the caller's thread, so they only take the time and queue --------------------

    def _on_request(self, request: Any) -> None:
        _started.set(time.perf_counter())

    def _on_response(self, request: Any, response: Any) -> None:
        total = getattr(response, "total_time", None)
        target = failover.current_target()  # read here: the writer thread has another context
        if target and getattr(response, "served_by", "") is None:
            response = replace(response, served_by=target)
        self._put((time.time(), request, response, None, total))

    def _on_error(self, request: Any, error: BaseException) -> None:
        started = _started.get()
        self._put((time.time(), request, None, error, None if started is None else time.perf_counter() - started))

    def _put(self, record: Any) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1
                dropped = self.dropped
            if dropped == 1 or dropped % 1000 == 0:
                logger.warning("The call log %s is behind (the disk is slow or stuck): %d call(s) not logged.",
                               self.path, dropped)

    # -- the writer thread ----------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            records = [item for item in batch if item is not _STOP]
            if records:
                self._write(records)
            if stop:
                self._store.close()
                return

    def _write(self, records: List[Any]) -> None:
        try:
            rows = [row_of(*record) for record in records]
            self._store.append(rows)
            self.written += len(rows)
        except Exception as exc:  # noqa: BLE001 - a broken disk or an odd value costs these rows, never the program
            with self._lock:
                self.dropped += len(records)
            logger.warning("The call log %s could not write %d call(s) (%s: %s).", self.path, len(records),
                           type(exc).__name__, redact.text(exc))

    def close(self, timeout: Optional[float] = 30.0) -> None:
        """Stop logging and write what is queued (waits up to ``timeout`` seconds for the disk)."""
        if self._closed:
            return
        self._closed = True
        for event, hook in self._hooks.items():
            self._client.off(event, hook)
        self._queue.put(_STOP)
        self._writer.join(timeout)
        _open_logs.discard(self)

    def __enter__(self) -> "CallLog":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


@atexit.register
def _flush_at_exit() -> None:
    # The facade's default client is never closed: what its log queued is written on a normal exit.
    for log in list(_open_logs):
        log.close()


# -- one record -> one row (in the writer thread) ------------------------------------------------------


def row_of(at: float, request: Any, response: Any, error: Optional[BaseException], latency: Optional[float]) -> Dict[str, Any]:
    params = dict(getattr(request, "params", None) or {})
    settings = dict(getattr(request, "settings", None) or {})
    options: Dict[str, Any] = {**params, **{k: v for k, v in settings.items() if k != "api_key"}}
    if getattr(request, "api_base", None):
        options["api_base"] = request.api_base
    if getattr(request, "headers", None):
        options["headers"] = sorted(request.headers)  # names only: a value may be a secret redact cannot name
    if getattr(request, "stream", False):
        options["stream"] = True
    row: Dict[str, Any] = {
        "time": datetime.datetime.fromtimestamp(at, datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "provider": getattr(request, "provider", None),
        "task": getattr(request, "task", None),
        "model": getattr(request, "model", None),
        "options": _json(options),
        "messages": _json(_inputs_of(request)),
        "latency_ms": None if latency is None else round(latency * 1000.0, 3),
        "cost": None,  # no provider reports a price per call yet
    }
    if response is not None:
        usage = getattr(response, "usage", None)
        row.update(
            served_by=getattr(response, "served_by", None),
            answer=_scrubbed(_answer_of(response)),
            usage=_json(usage.as_dict()) if usage is not None else None,
            cached=int(bool(getattr(response, "cached", False))),
            retries=getattr(response, "retries", 0),
            request_id=getattr(response, "request_id", None),
        )
    if error is not None:
        row.update(
            error_type=type(error).__name__,
            error=_scrubbed(" ".join(str(error).split())),
            status=getattr(error, "status", None),
            request_id=getattr(error, "request_id", None),
            cached=0,
        )
    return row


def _inputs_of(request: Any) -> Any:
    if getattr(request, "messages", None) is not None:
        return list(request.messages)
    if getattr(request, "prompt", None) is not None:
        return request.prompt
    return getattr(request, "inputs", None)


def _answer_of(response: Any) -> Optional[str]:
    results = getattr(response, "results", None)
    if isinstance(results, str):
        tool_calls = getattr(response, "tool_calls", ())
        return results if results or not tool_calls else json.dumps(list(tool_calls), default=str)
    embeddings = getattr(response, "embeddings", None)
    if embeddings is not None:  # the vectors themselves would swamp the log
        dims = len(embeddings[0]) if embeddings and isinstance(embeddings[0], list) else 0
        return f"{len(embeddings)} vector(s) of {dims} dimensions"
    classifications = getattr(response, "classifications", None)
    if classifications is not None:
        return json.dumps([[{"label": lab.label, "score": lab.score} for lab in c.labels] for c in classifications])
    if results is not None and all(hasattr(r, "index") for r in results):  # rerank
        return json.dumps([{"index": r.index, "score": r.score} for r in results])
    if results is not None:  # a text task's entities, candidates or scores (each result has to_dict)
        return json.dumps(response.to_dict(), ensure_ascii=False, default=str) if hasattr(response, "to_dict") else None
    return None


def _json(value: Any) -> Optional[str]:
    if value is None:
        return None
    return _scrubbed(json.dumps(redact.scrub_value(value), ensure_ascii=False, default=str))


def _scrubbed(text: Optional[str]) -> Optional[str]:
    return None if text is None else redact.scrub(text)


__all__ = ["CallLog", "DEFAULT_QUEUE_SIZE", "row_of"]
