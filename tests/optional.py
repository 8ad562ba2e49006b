"""Optional extras and servers: skip with the install step, or fail when CI=true (CI must run everything)."""

from __future__ import annotations

import importlib
import os

import pytest


def missing(reason: str) -> None:
    """Skip the test (or, called while a module is imported, the whole module) with ``reason``;
    under CI=true, fail with it instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: optional parts must be installed)")
    pytest.skip(reason, allow_module_level=True)


def require(module_name: str, extra: str):
    """The imported module, or a skip (a failure under CI=true) naming the extra to install."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        missing(f'{module_name} is not installed: pip install "llm-interface-hf[{extra}]"')
