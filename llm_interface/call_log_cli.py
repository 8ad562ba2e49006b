"""``llm-interface logs [list|show ID|search TEXT|export|path]``: read the call log (call_log_db.py).

``list`` and ``search`` print one call a line, newest first: id, time, provider, model, outcome (ok, cached,
or the error type), latency, the start of the answer or error. ``show`` prints one call field by field;
``--json`` prints JSON instead; ``export`` prints every call, oldest first, one JSON object a line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

from . import call_log_db
from .errors import InvalidRequestError, NotFoundError


def run_cli(args: Any) -> int:
    path = Path(args.path).expanduser() if args.path else call_log_db.default_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "export":
        for row in call_log_db.every(path):
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if args.action == "show":
        found = call_log_db.one(path, _call_id(args.value))
        if found is None:
            raise NotFoundError(f"No call {args.value} in {path}; `llm-interface logs list` shows the ids.")
        if args.json:
            print(json.dumps(found, ensure_ascii=False))
        else:
            for name, value in found.items():
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
                print(f"{name}: {'' if shown is None else shown}")
        return 0
    if args.action == "search":
        if not args.value:
            raise InvalidRequestError("logs search needs the text to look for, e.g. llm-interface logs search fox")
        rows = call_log_db.search(path, args.value, limit=args.limit)
    else:
        if args.value:
            raise InvalidRequestError(f"logs list takes no argument (got {args.value!r}); use -n to say how many.")
        rows = call_log_db.recent(path, limit=args.limit)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False) if args.json else _line(row))
    return 0


def _call_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(f"logs show takes a call's id (a number), got {value!r}.") from None


def _line(row: Dict[str, Any]) -> str:
    outcome = row["error_type"] or ("cached" if row["cached"] else "ok")
    latency = "" if row["latency_ms"] is None else f"{row['latency_ms']:.0f}ms"
    text = " ".join(str(row["error"] or row["answer"] or "").split())
    if len(text) > 60:
        text = text[:57] + "..."
    return "\t".join(str(v) for v in (row["id"], row["time"], row["provider"], row["model"] or "", outcome, latency, text))


__all__ = ["run_cli"]
