"""The package's import graph has no circle, counting imports inside functions and under TYPE_CHECKING
(a circle held together by a lazy import is still a circle: each side must know the other)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

from support.package_imports import PACKAGE, from_base, module_name, package_of


def imports_of(path: Path, modules: Set[str]) -> Set[str]:
    """Every module of ours that ``path`` imports anywhere (top level, in a function, under TYPE_CHECKING)."""
    name = module_name(path)
    package = package_of(path, name)
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = from_base(node, package)
            # ``from . import x`` imports the module x when there is one
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> Dict[str, Set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    # A package's __init__ is imported with any of its modules; its own imports are edges like any other.
    return {module_name(path): imports_of(path, modules) for path in paths}


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle as [a, b, ..., a], or None."""
    colour: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt) is None:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if colour.get(node) is None:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_and_type_checking_imports():
    graph = import_graph()
    assert "llm_interface.async_client" in graph["llm_interface.batch"]  # under TYPE_CHECKING
    assert "llm_interface.ratelimit" in graph["llm_interface.base_client"]  # inside a function


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_clients_do_not_import_the_batch_layer():
    graph = import_graph()
    for module in ("client", "async_client", "stream", "async_stream", "base_client"):
        assert "llm_interface.batch" not in graph[f"llm_interface.{module}"], module
