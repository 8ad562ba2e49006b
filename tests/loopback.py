"""Kept so that ``from loopback import ...`` (tests, benchmarks, branches in flight) keeps working: the server
lives in ``tests/support/loopback.py``."""

from support.loopback import *  # noqa: F401,F403
from support.loopback import __all__  # noqa: F401
