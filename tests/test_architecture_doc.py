"""docs/architecture.md cannot rot: every module, path and name it points at exists, every module of the
package stands on exactly one of its floors, and no import goes up a floor."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set

import pytest
from test_layering import import_graph, module_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "llm_interface"
DOC = ROOT / "docs" / "architecture.md"
FLOORS = ("faces", "facade", "clients", "steps", "services", "providers", "transport", "leaves")

PATH_REF = re.compile(r"llm_interface/((?:[A-Za-z_]\w*/)*[A-Za-z_]\w*\.py)(?:::([\w.]+))?")
DIR_REF = re.compile(r"llm_interface/((?:[A-Za-z_]\w*/)+)(?![\w.])")
DOTTED_REF = re.compile(r"(?<![\w/.])llm_interface(?:\.[A-Za-z_]\w*)+")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def defined_names(path: Path) -> Set[str]:
    """Qualified names a module defines: its functions, classes, assignments, and the members of its classes."""
    names: Set[str] = set()

    def visit(body: List[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(prefix + node.name)
            elif isinstance(node, ast.ClassDef):
                names.add(prefix + node.name)
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.Assign):
                names.update(prefix + t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(prefix + node.target.id)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body, prefix)
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and not prefix:
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)

    visit(ast.parse(path.read_text(encoding="utf-8")).body, "")
    return names


def floors_of(text: str) -> Dict[str, List[str]]:
    """The floor table: the first ```text block after "## The floors", one line per floor."""
    section = text.split("## The floors", 1)[1]
    block = section.split("```text", 1)[1].split("```", 1)[0]
    floors: Dict[str, List[str]] = {}
    last = None
    for line in block.splitlines():
        match = re.match(r"^(\w+)\s{2,}(.+)$", line)
        if match and match.group(1) in FLOORS:
            last, listed = match.group(1), match.group(2)
        elif last and line.startswith(" ") and line.strip():  # an indented line goes on with the floor above
            listed = line
        else:
            continue
        floors.setdefault(last, []).extend(entry.strip() for entry in listed.split(",") if entry.strip())
    return floors


def modules_of(entry: str, modules: Set[str]) -> Set[str]:
    """The package modules a floor entry stands for: ``cli.py``, ``servers/tools.py``, ``cache/`` (a package)."""
    if entry.endswith("/"):
        package = "llm_interface." + entry.rstrip("/").replace("/", ".")
        return {m for m in modules if m == package or m.startswith(package + ".")}
    path = PACKAGE / entry
    return {module_name(path)} if path.is_file() else set()


def test_every_path_and_name_the_doc_names_exists():
    text = doc_text()
    missing = []
    refs = PATH_REF.findall(text)
    assert len(refs) > 20, "the doc names the modules by their llm_interface/... path"
    for relative, qualified in refs:
        path = PACKAGE / relative
        if not path.is_file():
            missing.append(f"llm_interface/{relative}")
        elif qualified and qualified not in defined_names(path):
            missing.append(f"llm_interface/{relative}::{qualified}")
    for relative in DIR_REF.findall(text):
        if not (PACKAGE / relative).is_dir():
            missing.append(f"llm_interface/{relative}")
    for dotted in DOTTED_REF.findall(text):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest prefix that is a module; the rest a name in it
            base = PACKAGE.parent.joinpath(*parts[:cut])
            path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
            if path.is_file():
                rest = ".".join(parts[cut:])
                if rest and rest not in defined_names(path):
                    missing.append(dotted)
                break
        else:
            missing.append(dotted)
    assert not missing, f"docs/architecture.md names what does not exist (fix the doc or the code): {missing}"


def placement(floors: Dict[str, List[str]], modules: Set[str]) -> Dict[str, List[str]]:
    """Each module's floors: a module an entry names exactly (``servers/tools.py``) stands there, whatever
    floor its package (``servers/``) is on; the others stand where their package is."""
    exact: Dict[str, List[str]] = {}
    by_package: Dict[str, List[str]] = {}
    for floor, entries in floors.items():
        for entry in entries:
            found = modules_of(entry, modules)
            assert found, f"floor {floor!r} names {entry!r}, which is no module or package of llm_interface/"
            for module in found:
                (by_package if entry.endswith("/") else exact).setdefault(module, []).append(floor)
    return {module: exact.get(module) or by_package[module] for module in set(exact) | set(by_package)}


def test_every_module_stands_on_exactly_one_floor():
    floors = floors_of(doc_text())
    assert list(floors) == list(FLOORS), f"the floor table lists {list(floors)}"
    modules = set(import_graph())
    where = placement(floors, modules)
    unplaced = sorted(modules - set(where))
    assert not unplaced, f"place these modules on a floor in docs/architecture.md: {unplaced}"
    twice = {module: placed for module, placed in where.items() if len(placed) > 1}
    assert not twice, f"modules on more than one floor: {twice}"


def test_no_import_goes_up_a_floor():
    graph = import_graph()
    level = {module: FLOORS.index(placed[0]) for module, placed in placement(floors_of(doc_text()), set(graph)).items()}
    upward = [
        f"{source} ({FLOORS[level[source]]}) imports {target} ({FLOORS[level[target]]})"
        for source, targets in graph.items()
        for target in targets
        if source in level and target in level and level[target] < level[source]
    ]
    assert not upward, "an arrow points up; move the module or fix the import:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("page", ["README.md", "CONTRIBUTING.md", "docs/index.md"])
def test_the_doc_is_linked(page):
    assert "architecture.md" in (ROOT / page).read_text(encoding="utf-8"), f"{page} links docs/architecture.md"


def test_the_checks_find_what_is_not_there(tmp_path):
    assert "Retrier.next_wait" in defined_names(PACKAGE / "retry.py")
    assert "Retrier.no_such_method" not in defined_names(PACKAGE / "retry.py")
    assert modules_of("no_such_module.py", set(import_graph())) == set()
    assert modules_of("cache/", set(import_graph())) >= {"llm_interface.cache", "llm_interface.cache.keys"}
