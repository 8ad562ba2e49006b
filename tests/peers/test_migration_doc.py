"""docs/migration.md names, for every difference kept on purpose, the test that pins it: each named test
exists, so the page cannot point at a test that was renamed or removed. And each peer has such a table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "migration.md").read_text(encoding="utf-8")
PEERS = ("LiteLLM", "EasyLLM", "AbstractLLM", "JS llm-interface")


def _defined_tests():
    found = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(encoding="utf-8"), re.M):
            found.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_pinning_test_the_page_names_exists():
    defined = _defined_tests()
    cited = re.findall(r"`(?:(tests/[\w/]+\.py)::)?(test_\w+)`", PAGE)
    assert len(cited) >= 12
    for path, name in cited:
        assert name in defined, f"docs/migration.md names {name}, which no test defines"
        if path:
            assert path in defined[name], f"docs/migration.md puts {name} in {path}; it is in {sorted(defined[name])}"


def test_each_peer_has_a_table_of_differences_kept_on_purpose():
    tables = re.findall(r"Kept on purpose[^\n]*\n\n\| ([^|]+) \| Here \| Why \| Test \|", PAGE)
    assert {name.strip() for name in tables} == set(PEERS)
