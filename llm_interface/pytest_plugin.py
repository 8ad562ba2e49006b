"""pytest plugin: record real LLM answers once, replay them offline in every later run.

    def test_summary(llm_cache):
        r = LLMInterface.send_message("huggingface", "Summarise: ...")
        assert "..." in r.results

``pytest --llm-cache=record`` calls the real APIs and writes one JSON file per answer into the fixtures
folder (``--llm-cache-dir``, the ini option ``llm_cache_dir``, default ``tests/llm_cache`` under the
rootdir); commit it. Plain ``pytest`` then replays: no network, no API key needed, and a call with no
recorded answer fails with CacheMissError naming the request. ``--llm-cache=auto`` records only the
missing answers; ``--llm-cache=off`` ignores the fixtures and calls the network. Without the option the
mode comes from $LLM_INTERFACE_CACHE_MODE, else "replay".

The fixture configures the default client (``LLMInterface``) for the test and restores it afterwards;
``llm_cache.apply(client)`` does the same for a ``Client`` of your own. Entries are scoped by the fixed
name "fixtures" rather than by the API key, so answers recorded with your key replay with any key or none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest  # type: ignore[import-not-found, unused-ignore]  # mypy may run where pytest is not installed

from .cache import MODE_ENV_VAR, MODES
from .cache.files import FileCache

FIXTURE_SCOPE = "fixtures"
DEFAULT_DIR = "tests/llm_cache"


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("llm_interface", "llm_interface recorded answers")
    group.addoption(
        "--llm-cache",
        choices=MODES,
        default=None,
        help="record: call the APIs and write fixtures; replay (default): fixtures only, a miss fails; "
        "auto: replay, record what is missing; off: ignore fixtures.",
    )
    group.addoption("--llm-cache-dir", default=None, help=f"folder of recorded answers (default {DEFAULT_DIR})")
    parser.addini("llm_cache_dir", f"folder of recorded answers, relative to the rootdir (default {DEFAULT_DIR})", default=DEFAULT_DIR)


def pytest_report_header(config: Any) -> str:
    mode, path = _settings(config)
    return f"llm_interface: llm_cache mode {mode}, fixtures in {path}"


def _settings(config: Any) -> Tuple[str, Path]:
    mode = config.getoption("llm_cache") or (os.environ.get(MODE_ENV_VAR) or "").strip().lower() or "replay"
    if mode not in MODES:
        raise pytest.UsageError(f"{MODE_ENV_VAR} must be one of {', '.join(MODES)}; got {mode!r}")
    folder = Path(config.getoption("llm_cache_dir") or config.getini("llm_cache_dir") or DEFAULT_DIR)
    if not folder.is_absolute():
        folder = Path(config.rootpath) / folder
    return mode, folder


class LLMCache:
    """What the ``llm_cache`` fixture gives a test: the mode, the folder, and ``apply`` for your own Client."""

    def __init__(self, mode: str, path: Path) -> None:
        self.mode = mode
        self.path = path
        self.store = FileCache(path, expire=False)
        self._saved: List[Tuple[Any, Any, Any, Any]] = []

    def apply(self, client: Any) -> Any:
        """Point ``client`` at the fixtures for this test (undone when the test ends). Returns the client."""
        self._saved.append((client, client.cache, client.cache_mode, client.cache_scope))
        client.cache, client.cache_mode, client.cache_scope = self.store, self.mode, FIXTURE_SCOPE
        return client

    def restore(self) -> None:
        while self._saved:
            client, cache, mode, scope = self._saved.pop()
            client.cache, client.cache_mode, client.cache_scope = cache, mode, scope

    def __repr__(self) -> str:
        return f"LLMCache(mode={self.mode!r}, path={str(self.path)!r})"


@pytest.fixture
def llm_cache(request: Any) -> Iterator[LLMCache]:
    """Recorded LLM answers for this test: the default client records or replays them (see the module doc)."""
    from .interface import LLMInterface

    mode, path = _settings(request.config)
    fixture = LLMCache(mode, path)
    fixture.apply(LLMInterface.client)
    try:
        yield fixture
    finally:
        fixture.restore()
