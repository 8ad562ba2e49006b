"""The call log's SQLite file: its one table, size-capped writes with rotation, and the reads of ``llm-interface logs``.

One row per call in ``calls``. When a write leaves the file over ``max_bytes``, the file is rotated:
``calls.db`` becomes ``calls.db.1`` (``.1`` becomes ``.2``, and so on up to ``backups``; the oldest is
deleted) and a fresh ``calls.db`` goes on, its ids following the last one, so an id names one call in every
file. Reads look at the current file and its rotated ones, newest first. Only the writer thread of
``call_log.py`` writes; any process may read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from .errors import ConfigurationError

LOG_ENV = "LLM_INTERFACE_LOG"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # per file; with one rotated file kept, at most about 100 MB on disk
DEFAULT_BACKUPS = 1

COLUMNS = (
    "id", "time", "provider", "task", "model", "served_by", "options", "messages", "answer", "usage", "cost",
    "latency_ms", "cached", "retries", "status", "error_type", "error", "request_id",
)
JSON_COLUMNS = ("options", "messages", "usage")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused, across rotations too
    time TEXT NOT NULL,            -- UTC, ISO 8601
    provider TEXT, task TEXT, model TEXT,
    served_by TEXT,                -- the provider that answered, when known
    options TEXT,                  -- JSON: the call's parameters and settings, secrets removed
    messages TEXT,                 -- JSON: the messages, the prompt or the inputs
    answer TEXT, usage TEXT, cost REAL, latency_ms REAL, cached INTEGER, retries INTEGER,
    status INTEGER, error_type TEXT, error TEXT, request_id TEXT
)
"""


_INSERTED = COLUMNS[1:]
_INSERT = f"INSERT INTO calls ({', '.join(_INSERTED)}) VALUES ({', '.join('?' for _ in _INSERTED)})"


def default_path() -> Path:
    """``$LLM_INTERFACE_LOG``, else ``$XDG_DATA_HOME/llm_interface/calls.db`` (``~/.local/share/...``)."""
    explicit = os.environ.get(LOG_ENV)
    if explicit and explicit.strip():
        return Path(explicit.strip()).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data) / "llm_interface" / "calls.db"


def rotated(path: Path, backups: int) -> List[Path]:
    """The rotated files that exist, newest first."""
    return [p for p in (Path(f"{path}.{n}") for n in range(1, backups + 1)) if p.exists()]


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(os.fspath(path), check_same_thread=False)
        connection.execute(_SCHEMA)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigurationError(f"The call log {path} cannot be opened ({exc}); pass a writable path to configure_log.") from exc
    return connection


class Store:
    """The writing side: append rows, rotate past ``max_bytes``. One thread uses it."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS) -> None:
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 4096:
            raise ConfigurationError(f"max_bytes must be an int of at least 4096, got {max_bytes!r}.")
        if not isinstance(backups, int) or isinstance(backups, bool) or backups < 0:
            raise ConfigurationError(f"backups must be an int >= 0, got {backups!r}.")
        self.path, self.max_bytes, self.backups = Path(path), max_bytes, backups
        self._db = _connect(self.path)
        self.rotations = 0

    def append(self, rows: Sequence[Dict[str, Any]]) -> None:
        """Write ``rows`` in chunks of about an eighth of the cap, rotating as soon as the file is over it: a
        file passes ``max_bytes`` by at most about one chunk (and one row larger than that)."""
        chunk: List[tuple] = []
        size = 0
        for row in rows:
            values = tuple(row.get(name) for name in _INSERTED)
            chunk.append(values)
            size += sum(len(v) for v in values if isinstance(v, str))
            if size >= self.max_bytes // 8:
                self._insert(chunk)
                chunk, size = [], 0
        if chunk:
            self._insert(chunk)

    def _insert(self, chunk: List[tuple]) -> None:
        with self._db:
            self._db.executemany(_INSERT, chunk)
        if os.path.getsize(self.path) > self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        last = self._db.execute("SELECT MAX(id) FROM calls").fetchone()[0] or 0
        self._db.close()
        if self.backups == 0:
            self.path.unlink()
        else:
            for n in range(self.backups, 0, -1):
                older = Path(f"{self.path}.{n - 1}") if n > 1 else self.path
                if older.exists():
                    os.replace(older, f"{self.path}.{n}")
        self._db = _connect(self.path)
        with self._db:  # the next id follows the last one: a placeholder row sets the sequence, then goes
            self._db.execute("INSERT INTO calls (id, time) VALUES (?, '')", (last,))
            self._db.execute("DELETE FROM calls WHERE id = ?", (last,))
        self.rotations += 1

    def close(self) -> None:
        self._db.close()


# -- reading ---------------------------------------------------------------------------------------


def _files(path: Path, backups: int) -> List[Path]:
    files = ([path] if path.exists() else []) + rotated(path, backups)
    if not files:
        raise ConfigurationError(f"No call log at {path}; turn it on with client.configure_log({str(path)!r}) "
                                 f"or {LOG_ENV}={path}.")
    return files


def _rows(path: Path, backups: int, where: str = "", args: Iterable[Any] = (), newest_first: bool = True,
          limit: Optional[int] = None) -> Iterator[Dict[str, Any]]:
    order = "DESC" if newest_first else "ASC"
    files = _files(path, backups)
    yielded = 0
    for file in files if newest_first else list(reversed(files)):
        try:
            connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _not_a_log(file, exc) from None
        try:
            try:
                cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM calls {where} ORDER BY id {order}",
                                            tuple(args))
            except sqlite3.Error as exc:  # not SQLite, another database, a folder: say so, no traceback
                raise _not_a_log(file, exc) from None
            for values in cursor:
                if limit is not None and yielded >= limit:
                    return
                yielded += 1
                yield _decoded(dict(zip(COLUMNS, values)))
        finally:
            connection.close()


def _not_a_log(file: Path, exc: Exception) -> ConfigurationError:
    return ConfigurationError(f"{file} is not a call log ({type(exc).__name__}: {exc}); point --path or {LOG_ENV} "
                              "at the file configure_log writes.")


def _decoded(row: Dict[str, Any]) -> Dict[str, Any]:
    for name in JSON_COLUMNS:
        if row[name] is not None:
            row[name] = json.loads(row[name])
    row["cached"] = bool(row["cached"])
    return row


def recent(path: Path, limit: int = 20, backups: int = DEFAULT_BACKUPS) -> List[Dict[str, Any]]:
    return list(_rows(path, backups, limit=limit))


def one(path: Path, call_id: int, backups: int = DEFAULT_BACKUPS) -> Optional[Dict[str, Any]]:
    return next(_rows(path, backups, "WHERE id = ?", (call_id,)), None)


def search(path: Path, text: str, limit: int = 20, backups: int = DEFAULT_BACKUPS) -> List[Dict[str, Any]]:
    """Calls whose messages, answer, model or error contain ``text`` (case-insensitive), newest first."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where = ("WHERE messages LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\' "
             "OR error LIKE ? ESCAPE '\\'")
    return list(_rows(path, backups, where, (pattern,) * 4, limit=limit))


def every(path: Path, backups: int = DEFAULT_BACKUPS) -> Iterator[Dict[str, Any]]:
    """Every call, oldest first (``llm-interface logs export``)."""
    return _rows(path, backups, newest_first=False)


__all__ = ["COLUMNS", "DEFAULT_BACKUPS", "DEFAULT_MAX_BYTES", "LOG_ENV", "Store", "default_path", "every", "one",
           "recent", "search"]
