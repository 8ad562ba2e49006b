"""The house rules a reviewer would otherwise count by hand (issue 11's "done when"): no module over about
500 lines, and the providers stay pure translators that load no HTTP library and no transport."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

from support.package_imports import PACKAGE, from_base, module_name, package_of

MAX_LINES = 500
# Modules allowed past MAX_LINES, each with the reason it is one module. Empty: keep it so, split instead.
OVER_THE_LIMIT: Dict[str, str] = {}

# What a provider must not load when it is imported: the I/O floor (DESIGN.md, "providers translate and do no
# I/O"). The in-process engines import torch, transformers and llama_cpp inside functions, which is allowed.
TRANSPORT_MODULES = {"llm_interface.transport", "llm_interface.async_transport", "llm_interface.thread_transport"}
HTTP_LIBRARIES = {"requests", "urllib3", "aiohttp", "httpx"}


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def module_level_imports(path: Path, name: str = "") -> Iterator[Tuple[int, str]]:
    """(line, absolute dotted name) of every import that runs when ``path`` (module ``name``) is imported: the
    module's own statements, its top-level ``if``/``try`` blocks and class bodies; not function bodies."""
    name = name or module_name(path)
    package = package_of(path, name)
    pending: List[ast.AST] = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = from_base(node, package)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"  # ``from . import transport`` names the module
        else:
            pending.extend(ast.iter_child_nodes(node))


def is_forbidden(imported: str) -> bool:
    top = imported.split(".")[0]
    return top in HTTP_LIBRARIES or any(imported == m or imported.startswith(m + ".") for m in TRANSPORT_MODULES)


def our_module(imported: str, modules: Set[str]) -> str:
    """The module of ours an import loads (``llm_interface.wire.HttpCall`` -> ``llm_interface.wire``), or ""."""
    while imported and imported not in modules:
        imported = imported.rpartition(".")[0]
    return imported


def test_no_module_is_over_the_limit():
    sizes = {module_name(path) or path.name: lines_of(path) for path in PACKAGE.rglob("*.py")}
    assert len(sizes) > 50, f"no modules found under {PACKAGE}: the check would pass on nothing"
    over = {name: size for name, size in sizes.items() if size > MAX_LINES and name not in OVER_THE_LIMIT}
    assert not over, f"split these modules (at most {MAX_LINES} lines each; docs/architecture.md has the floors): {over}"
    stale = [name for name in OVER_THE_LIMIT if sizes.get(name, 0) <= MAX_LINES]
    assert not stale, f"no longer over the limit, drop them from OVER_THE_LIMIT: {stale}"


def test_the_size_rule_counts_lines(tmp_path):
    module = tmp_path / "big.py"
    module.write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    assert lines_of(module) == MAX_LINES + 1


def test_providers_import_no_transport_and_no_http_library():
    found = []
    providers = sorted((PACKAGE / "providers").rglob("*.py"))
    assert len(providers) > 5, f"no provider modules found under {PACKAGE / 'providers'}: the check would pass on nothing"
    for path in providers:
        for line, imported in module_level_imports(path):
            if is_forbidden(imported):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}")
    assert not found, "providers translate and do no I/O; take the wire types from llm_interface.wire:\n" + "\n".join(found)


def test_nothing_a_provider_loads_loads_a_transport():
    """Through our own modules too: a provider importing a helper that imports transport loads requests all the
    same. (Importing any submodule runs llm_interface/__init__, the facade, which is not counted here.)"""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    edges = {
        name: {our_module(imported, modules) for _, imported in module_level_imports(path)} - {"", "llm_interface"}
        for name, path in paths.items()
    }
    providers = sorted(name for name in modules if name.startswith("llm_interface.providers"))
    assert len(providers) > 5, "no provider modules found: the check would pass on nothing"
    for provider in providers:
        seen: Set[str] = set()
        way: Dict[str, str] = {}
        pending = [provider]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            for _, imported in module_level_imports(paths[current]):
                if is_forbidden(imported):
                    chain = [current]
                    while chain[-1] in way:
                        chain.append(way[chain[-1]])
                    raise AssertionError(f"{provider} loads {imported} at import time: {' -> '.join(reversed(chain))}")
            for nxt in edges[current] - seen:
                way.setdefault(nxt, current)
                pending.append(nxt)


def test_the_import_finder_sees_module_level_imports_and_skips_lazy_ones(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\n"
        "from ..transport import Transport\n"
        "try:\n    import requests\nexcept ImportError:\n    pass\n"
        "class A:\n    from .. import async_transport\n"
        "def lazy():\n    import torch\n",
        encoding="utf-8",
    )
    names = sorted(name for _, name in module_level_imports(sample, "llm_interface.providers.sample"))
    assert names == ["json", "llm_interface.async_transport", "llm_interface.transport.Transport", "requests"]
    assert all(is_forbidden(name) for name in names if name != "json") and not is_forbidden("json")
