"""The peers' tests run with none of the developer's provider keys (OPENAI_API_KEY, GROQ_API_KEY, ...)."""

from __future__ import annotations

import pytest

from llm_interface.credentials import BASE_ENV_VARS, KEY_ENV_VARS


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch):
    for names in (*KEY_ENV_VARS.values(), *BASE_ENV_VARS.values()):
        for name in names:
            monkeypatch.delenv(name, raising=False)
