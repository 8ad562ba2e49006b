"""Optional extras in tests: skip with the install step, or fail under CI=true (the extra must be there)."""

from __future__ import annotations

import importlib
import os

import pytest


def require(module: str, extra: str):
    """Import ``module`` or skip (fail when CI=true) naming ``pip install "llm-interface-hf[extra]"``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        reason = f'{module} is missing: pip install "llm-interface-hf[{extra}]"'
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
