"""Kept so that ``from optional import require, missing`` keeps working: the one skip helper lives in
``tests/support/skips.py``."""

from support.skips import missing, require  # noqa: F401
