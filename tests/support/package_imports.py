"""What the import-graph tests (test_layering.py, test_house_rules.py) share: the package's modules by dotted
name, and the absolute module a ``from ... import`` names."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "llm_interface"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(path: Path, name: str) -> str:
    """The package a relative import in ``path`` (module ``name``) counts from."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def from_base(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from <node.module> import ...`` (``from . import x``: the package itself)."""
    base = node.module or ""
    if node.level:
        anchor = package.split(".")
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([base] if base else []))
    return base
