"""The one skip helper: an optional extra or server that is missing skips the test with the install step,
or fails it when CI=true (CI must run everything). ``tests/optional.py`` re-exports it."""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any, Optional

import pytest


def missing(reason: str) -> None:
    """Skip the test (or, called while a module is imported, the whole module) with ``reason``;
    under CI=true, fail with it instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: optional parts must be installed)")
    pytest.skip(reason, allow_module_level=True)


def require(module_name: str, extra: Optional[str] = None, *, install: Optional[str] = None) -> Any:
    """The imported module, or a skip (a failure under CI=true) naming what to install: the package's
    ``extra``, or the ``install`` step itself (``'torch "llm-interface-hf[local]"'``)."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        step = install if install is not None else f'"llm-interface-hf[{extra}]"'
        missing(f"{module_name} is not installed: pip install {step}")


def require_all(*module_names: str, install: str) -> None:
    """``require`` for several modules at once; the skip names every one that is missing."""
    absent = [name for name in module_names if importlib.util.find_spec(name) is None]
    if absent:
        missing(f"{', '.join(absent)} not installed: pip install {install}")
