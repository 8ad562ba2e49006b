"""Every code example in README.md and docs/*.md runs, as a reader copies it, against a fake Hugging Face.

Per page (one test id each), in the page's order, in one namespace, so a block may use what an earlier
block of the page defined (a continuation):

- ```python blocks are executed (top-level ``await`` runs on the page's event loop, as in ``python -m
  asyncio``); a block whose first line is ``# some/path.py`` is also written to that path, so a later
  block can import it; a ``test_*`` function a block defines is called, with the ``llm_cache`` fixture.
  Before running, each block is checked for names that neither it, an earlier block nor Python defines.
- ```bash / ```sh / ```console blocks that hold ``llm-interface`` commands: each such command runs in this
  process (``llm_interface.cli.main``, exit status 0 expected); ``export``/``unset`` set the environment;
  other commands (``pip install``...) are a reader's setup and are not run. A line using the shell (a pipe,
  ``$(...)``, a redirection) or a block with ``if``/``for``/``case`` runs in bash, with ``llm-interface`` on
  its PATH (``set -u``: an undefined variable fails). ``llm-interface serve`` runs until interrupted: its arguments are parsed, it is not started.
- Output goes in ```text fences (and data in ```json / ```yaml): never run. A fence without a language fails.

A block that needs what this test cannot give (a local model, a GPU, a real key, a Redis server, the
proxy running) is marked just before it with ``<!-- doc-test: skip (the reason) -->``; a skip without a
reason fails. A skipped Python block is still checked for undefined names.

The fake Hugging Face is one loopback server (``support.fake_hf``: the router, hf-inference, TGI and TEI
routes, answering recorded shapes). ``$LLM_INTERFACE_HF_ROUTER`` points the router at it, every other
``http(s)://host[:port]`` in an example (``http://127.0.0.1:8080``, an endpoint URL) is rewritten to it,
and any name lookup of a host other than 127.0.0.1 fails the test: the real router is never contacted.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import importlib
import inspect
import io
import logging
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import pytest
from support.fake_hf import hf_world
from support.loopback import LoopbackServer

from llm_interface import cli
from llm_interface.hf_hub import HUB_ENV
from llm_interface.providers.hf_routes import ROUTER_ENV
from llm_interface.pytest_plugin import LLMCache

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*doc-test:\s*(.*?)\s*-->$")
SKIP = re.compile(r"^skip\s*\((.+)\)$")
PYTHON, SHELL, DATA = ("python",), ("bash", "sh", "console", "shell"), ("text", "json", "yaml", "toml", "jinja")
URL = re.compile(r"\bhttps?://[A-Za-z0-9.\-]+(?::\d+)?")
FILE_BLOCK = re.compile(r"^#\s*([\w./-]+\.py)\s*$")
SHELL_SYNTAX = re.compile(r"\||\$\(|`|[<>]|;")
COMPOUND = re.compile(r"^(if|for|while|case|until)\b|^(then|do|done|fi|esac)\b")
CLI_WORD = re.compile(r"(?<![\w-])llm-interface(?![\w-])")  # the command, not llm-interface-hf
FAKE_TOKEN = "hf_test_fake_docs_token"

# The drop-in adapters keep settings in module globals (litellm.huggingface_key, huggingface.prompt_builder).
ADAPTERS = ("llm_interface.compat.litellm", "llm_interface.compat.easyllm.huggingface",
            "llm_interface.compat.easyllm.prompt_utils", "llm_interface.compat.abstractllm")

# What the page tests counted, for the summary line (conftest.pytest_terminal_summary prints it).
REPORT: Dict[str, Dict[str, Any]] = {}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    skip: Optional[str]  # the reason, when marked

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks_of(page: Path) -> List[Block]:
    """The fenced blocks of a page with their skip markers; a malformed fence or marker fails here."""
    lines = page.read_text(encoding="utf-8").split("\n")
    name = page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name
    found: List[Block] = []
    number = 0
    while number < len(lines):
        fence = FENCE.match(lines[number])
        if not fence:
            number += 1
            continue
        lang = fence.group(1)
        end = next((i for i in range(number + 1, len(lines)) if lines[i].startswith("```")), None)
        if end is None:
            pytest.fail(f"{name}:{number + 1}: a fence that is never closed")
        if not lang:
            pytest.fail(f"{name}:{number + 1}: a fence without a language; output goes in ```text")
        found.append(Block(name, number + 1, lang, "\n".join(lines[number + 1:end]), _skip_reason(lines, number, name)))
        number = end + 1
    return found


def _skip_reason(lines: List[str], fence: int, page: str) -> Optional[str]:
    before = fence - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    marker = MARKER.match(lines[before].strip()) if before >= 0 else None
    if not marker:
        return None
    skip = SKIP.match(marker.group(1))
    if not skip or not skip.group(1).strip():
        pytest.fail(f"{page}:{fence + 1}: {lines[before].strip()!r}: say why, as <!-- doc-test: skip (the reason) -->")
    return skip.group(1).strip()


def is_cli_block(block: Block) -> bool:
    return block.lang in SHELL and bool(CLI_WORD.search(block.code))


# -- the fake world ---------------------------------------------------------------------------------


@pytest.fixture
def fake_hf(monkeypatch):
    """The loopback Hugging Face; the router pointed at it; every other host unreachable."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in ("127.0.0.1", "localhost", "::1", None):
            raise OSError(f"the docs test reaches 127.0.0.1 only, not {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    with LoopbackServer(responder=hf_world) as server:
        monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.setenv(HUB_ENV, server.url)  # the Hub too (whoami for docs/doctor.md, chat templates)
        monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
        yield server


def rewrite_urls(code: str, server: LoopbackServer) -> str:
    return URL.sub(lambda m: m.group(0) if m.group(0) == server.url else server.url, code)


# -- Python -----------------------------------------------------------------------------------------


def bound_names(tree: ast.AST) -> Set[str]:
    """Every name a block binds anywhere (scopes flattened: a check for typos and missing imports)."""
    names: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def undefined_names(tree: ast.AST, known: Set[str]) -> List[str]:
    defined = known | bound_names(tree) | set(dir(builtins))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(used - defined)


def run_python(block: Block, code: str, namespace: Dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
    first = code.split("\n", 1)[0]
    target = FILE_BLOCK.match(first)
    if target:  # "# myapp/summary.py": the reader saves it there
        path = Path(target.group(1))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    before = set(namespace)
    compiled = compile(code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)  # noqa: S307 - the docs' own examples
    if inspect.iscoroutine(result):
        loop.run_until_complete(result)
    for name in sorted(set(namespace) - before):
        if name.startswith("test_") and callable(namespace[name]):
            call_test_function(block, namespace[name])


def call_test_function(block: Block, function: Any) -> None:
    """A test the page shows is run as pytest would, with the fixtures the docs describe."""
    fixtures: List[LLMCache] = []
    arguments = {}
    for parameter in inspect.signature(function).parameters:
        if parameter != "llm_cache":
            pytest.fail(f"{block.where}: {function.__name__} asks for the fixture {parameter!r}, unknown to this test")
        from llm_interface import LLMInterface

        cache = LLMCache("record", Path("tests/llm_cache").resolve())
        cache.apply(LLMInterface.client)
        fixtures.append(cache)
        arguments[parameter] = cache
    try:
        function(**arguments)
    finally:
        for cache in fixtures:
            cache.restore()


# -- shell ------------------------------------------------------------------------------------------


def _logical_lines(code: str) -> List[str]:
    joined = re.sub(r"\\\n", " ", code)
    return [line for line in (raw.strip() for raw in joined.split("\n")) if line and not line.startswith("#")]


def _command(line: str) -> str:
    return line[2:] if line.startswith("$ ") else line


def run_shell(block: Block, code: str, shim: Path) -> int:
    """Runs the block's llm-interface commands; returns how many it ran."""
    lines = [_command(line) for line in _logical_lines(code)]
    if any(COMPOUND.match(line) for line in lines):
        run_bash(block, "\n".join(lines), shim)
        return sum(bool(CLI_WORD.search(line)) for line in lines)
    count = 0
    for line in lines:
        if not CLI_WORD.search(line) and not line.startswith(("export ", "unset ")):
            continue  # a reader's setup step (pip install ...), not ours to run
        if line.startswith("export ") and "$" in line:
            export_with_bash(line)
            continue
        if SHELL_SYNTAX.search(line.split(" #", 1)[0]):
            run_bash(block, line, shim)
            count += 1
            continue
        for command in _split_and(shlex.split(line, comments=True)):
            count += run_simple(block, command)
    return count


def export_with_bash(line: str) -> None:
    """``export KEY=sk-$(openssl rand -hex 16)``: the shell computes the values; they are set here."""
    names = re.findall(r"(?:^export|\s)\s*([A-Za-z_][A-Za-z0-9_]*)=", line)
    done = subprocess.run(["bash", "-c", line + "\nenv -0"], capture_output=True, text=True, timeout=30)
    values = dict(item.partition("=")[::2] for item in done.stdout.split("\0") if "=" in item)
    for name in set(names):
        os.environ[name] = values.get(name, "")


def _split_and(words: List[str]) -> List[List[str]]:
    commands: List[List[str]] = [[]]
    for word in words:
        if word == "&&":
            commands.append([])
        else:
            commands[-1].append(word)
    return [c for c in commands if c]


def run_simple(block: Block, words: List[str]) -> int:
    if words[0] == "export":
        for assignment in words[1:]:
            name, _, value = assignment.partition("=")
            os.environ[name] = value
        return 0
    if words[0] == "unset":
        for name in words[1:]:
            os.environ.pop(name, None)
        return 0
    if words[0] != "llm-interface":
        return 0
    if words[1:2] == ["serve"]:  # runs until interrupted: check the arguments only
        cli._parser().parse_args(words[1:])
        return 1
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin(""):
        try:
            status = cli.main(words[1:])
        except SystemExit as exit:  # argparse refusing the command line
            status = exit.code
    if status not in (0, None):
        pytest.fail(f"{block.where}: `{shlex.join(words)}` exited {status}: {err.getvalue().strip()}")
    return 1


@contextlib.contextmanager
def _stdin(text: str):
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.fixture
def shim(tmp_path) -> Path:
    """A folder with an ``llm-interface`` that runs this checkout's CLI with this interpreter."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "llm-interface"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m llm_interface.cli "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def run_bash(block: Block, code: str, shim: Path) -> None:
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", "set -u -o pipefail\n" + code], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "Traceback" in done.stderr:
        pytest.fail(f"{block.where}: bash exited {done.returncode}:\n{code}\n{done.stderr.strip()}")


def saved_globals() -> Dict[str, Any]:
    """What a page may change for the whole process: logging (``logging.basicConfig``) and the module-level
    settings of the drop-in adapters (``litellm.huggingface_key``, ``huggingface.prompt_builder``)."""
    for adapter in ADAPTERS:
        importlib.import_module(adapter)  # imported before the page, so their state can be put back
    loggers = {name: logging.getLogger(name) for name in ("", "llm_interface")}
    return {
        "loggers": {name: (log.level, list(log.handlers)) for name, log in loggers.items()},
        "modules": {name: dict(vars(module)) for name, module in sys.modules.items() if name.startswith("llm_interface.compat")},
    }


def restore_globals(saved: Dict[str, Any]) -> None:
    for name, (level, handlers) in saved["loggers"].items():
        log = logging.getLogger(name)
        log.setLevel(level)
        log.handlers[:] = handlers
    for name, before in saved["modules"].items():
        vars(sys.modules[name]).clear()
        vars(sys.modules[name]).update(before)


# -- the test ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_examples_run(page, fake_hf, shim, monkeypatch):
    monkeypatch.syspath_prepend(os.getcwd())  # a block saved as myapp/summary.py is importable, as from a project
    modules_before = set(sys.modules)
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    known: Set[str] = set()
    counts: Dict[str, Any] = {"ran": 0, "commands": 0, "skipped": []}
    loop = asyncio.new_event_loop()
    environment = dict(os.environ)  # the page's `export`s end with the page
    saved = saved_globals()
    try:
        for block in blocks_of(page):
            if block.lang in DATA or (block.lang in SHELL and not is_cli_block(block)):
                continue
            if block.lang not in PYTHON + SHELL:
                pytest.fail(f"{block.where}: unknown fence language {block.lang!r}")
            code = rewrite_urls(block.code, fake_hf)
            if block.lang in PYTHON:
                tree = compile(code, block.where, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                missing = undefined_names(tree, known | set(namespace))
                if missing:
                    pytest.fail(f"{block.where}: uses {', '.join(missing)}, which no block before it defines or imports")
                known |= bound_names(tree)
            if block.skip:
                counts["skipped"].append(f"{block.where} ({block.skip})")
                continue
            if block.lang in PYTHON:
                run_python(block, code, namespace, loop)
            else:
                counts["commands"] += run_shell(block, code, shim)
            counts["ran"] += 1
    finally:
        loop.close()
        os.environ.clear()
        os.environ.update(environment)
        restore_globals(saved)
        for name in set(sys.modules) - modules_before:
            module = sys.modules[name]
            if str(getattr(module, "__file__", "") or "").startswith(os.getcwd()):
                del sys.modules[name]  # the page's own files (myapp.summary) go with its folder
    REPORT[page.relative_to(ROOT).as_posix()] = counts
    print(f"{page.name}: {counts['ran']} ran ({counts['commands']} llm-interface commands), "
          f"{len(counts['skipped'])} skipped: {counts['skipped']}")


# -- the harness itself -----------------------------------------------------------------------------


def test_the_router_override_sends_router_calls_to_the_fake(fake_hf):
    from llm_interface import LLMInterface

    LLMInterface.send_message("huggingface", "Hi", {"model": "meta-llama/Llama-3.1-8B-Instruct:together"})
    LLMInterface.embeddings("huggingface", "one text", {"model": "BAAI/bge-small-en-v1.5"})
    assert [(r.path, r.headers["authorization"]) for r in fake_hf.requests] == [
        ("/v1/chat/completions", f"Bearer {FAKE_TOKEN}"),
        ("/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction", f"Bearer {FAKE_TOKEN}"),
    ]
    assert fake_hf.requests[0].body["model"] == "meta-llama/Llama-3.1-8B-Instruct:together"


def test_no_host_but_loopback_is_reachable_from_an_example(fake_hf):
    from llm_interface import LLMInterface, errors

    with pytest.raises(errors.ConnectionError):
        LLMInterface.send_message("huggingface", "Hi", {"api_base": "https://xyz.endpoints.huggingface.cloud"},
                                  {"retry_attempts": 0})
    assert rewrite_urls('{"api_base": "https://xyz.endpoints.huggingface.cloud/v1"}', fake_hf) == f'{{"api_base": "{fake_hf.url}/v1"}}'


@pytest.mark.parametrize("text, complaint", [
    ("<!-- doc-test: skip -->\n```python\nx = 1\n```\n", "say why"),
    ("<!-- doc-test: skip () -->\n```python\nx = 1\n```\n", "say why"),
    ("```\nsome output\n```\n", "without a language"),
    ("```python\nx = 1\n", "never closed"),
])
def test_a_malformed_page_fails_with_the_fix(tmp_path, text, complaint):
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=re.escape(complaint)):
        blocks_of(page)


def test_undefined_names_are_found_inside_functions_too():
    tree = ast.parse("import json\ndef test_x(llm_cache):\n    return Client(json.dumps(llm_cache), os.environ)\n")
    assert undefined_names(tree, set()) == ["Client", "os"]
    assert undefined_names(tree, {"Client", "os"}) == []
