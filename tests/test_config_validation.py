"""Configuration mistakes are ConfigurationErrors at configure time, naming the argument and the fix.

One class of bug, one table per entry point: ``configure_cache``, ``configure_rate_limit``, the alias file.
A new case is one line: (arguments, the words the error must hold). The cache rule these hold, for every
backend (docs/cache.md): what is wrong at configure time fails there; a store that fails later degrades.
"""

from __future__ import annotations

import json
import math

import pytest
from optional import require

from llm_interface import Client, errors
from llm_interface.aliases import AliasTable

NAN, INF = math.nan, math.inf


def here(tmp_path, name):
    """``name`` with {tmp} replaced by the test's folder; a few cases need a file or folder made first."""
    (tmp_path / "a-file").write_text("")
    (tmp_path / "db-is-a-folder" / "cache.db").mkdir(parents=True, exist_ok=True)
    (tmp_path / "not-a-db").mkdir(exist_ok=True)
    (tmp_path / "not-a-db" / "cache.db").write_text("garbage, not SQLite")
    return name.replace("{tmp}", str(tmp_path)) if isinstance(name, str) else name


# (backend, keyword arguments, the words in the error)
CACHE_CASES = [
    ("memory", {"maxsize": -1}, "maxsize must be an int >= 1, got -1"),
    ("memory", {"maxsize": 0}, "maxsize must be an int >= 1"),
    ("memory", {"maxsize": "10"}, "maxsize must be an int >= 1"),
    ("memory", {"ttl": NAN}, "ttl must be a finite number of seconds"),
    ("memory", {"ttl": INF}, "ttl must be a finite number of seconds"),
    ("memory", {"ttl": -5}, "ttl must be a finite number of seconds"),
    ("files", {"path": 123}, "path must be a folder path"),
    ("files", {"path": "{tmp}/a-file"}, "is a file; give a folder"),
    ("files", {"path": "{tmp}/a-file/sub"}, "is under the file"),
    ("files", {"ttl": NAN, "path": "{tmp}/ok"}, "ttl must be a finite number"),
    ("sqlite", {"path": 123}, "path must be a folder path"),
    ("sqlite", {"path": "{tmp}/a-file"}, "is a file; give a folder"),
    ("sqlite", {"path": "{tmp}/a-file/sub"}, "is under the file"),
    ("sqlite", {"path": "{tmp}/db-is-a-folder"}, "Cannot open the sqlite cache"),
    ("sqlite", {"path": "{tmp}/not-a-db"}, "remove a cache.db that is not"),
    ("sqlite", {"path": "{tmp}/ok", "timeout": NAN}, "timeout must be a finite number of seconds > 0"),
    ("sqlite", {"path": "{tmp}/ok", "size_limit": -1}, "size_limit must be an int >= 1"),
    ("redis", {"url": "x"}, "url 'x' is not a Redis URL"),
    ("redis", {"url": 123}, "url must be a Redis URL string"),
    ("redis", {"path": "http://127.0.0.1:6379"}, "path 'http://127.0.0.1:6379' is not a Redis URL"),
    ("redis", {"url": "redis://127.0.0.1:port/0"}, "is not a Redis URL"),
    ("redis", {"url": "redis://:s3cret-test@127.0.0.1:notaport/0"}, "redis://:***@127.0.0.1"),
    ("redis", {"url": "redis://127.0.0.1:6379/0", "ttl": INF}, "ttl must be a finite number"),
    ("redis", {"url": "redis://127.0.0.1:6379/0", "timeout": 0}, "timeout must be a finite number of seconds > 0"),
    ("redis", {"url": "redis://127.0.0.1:6379/0", "prefix": 5}, "prefix must be a string"),
]


@pytest.mark.parametrize("backend,kwargs,words", CACHE_CASES, ids=[f"{c[0]}-{c[2][:30]}" for c in CACHE_CASES])
def test_configure_cache_refuses(tmp_path, backend, kwargs, words):
    require({"sqlite": "diskcache", "redis": "redis"}.get(backend, "cachetools"), backend)
    kwargs = {name: here(tmp_path, value) for name, value in kwargs.items()}
    with Client() as client:
        with pytest.raises(errors.ConfigurationError) as caught:
            client.configure_cache(backend, **kwargs)
        assert client.cache is None  # nothing half-configured is left behind
    assert words in str(caught.value)
    assert "s3cret-test" not in str(caught.value)  # a Redis password is never echoed


# (keyword arguments of configure_rate_limit("huggingface", ...), the words in the error)
RATE_LIMIT_CASES = [
    ({"requests_per_minute": NAN}, "requests_per_minute must be a finite number > 0"),
    ({"requests_per_minute": INF}, "requests_per_minute must be a finite number > 0"),
    ({"tokens_per_minute": NAN}, "tokens_per_minute must be a finite number > 0"),
    ({"requests_per_minute": 0}, "requests_per_minute must be a finite number > 0"),
    ({"requests_per_minute": True}, "requests_per_minute must be a finite number > 0"),
    ({"requests_per_minute": 10, "max_wait": NAN}, "max_wait must be a finite number of seconds"),
    ({"requests_per_minute": 10, "max_wait": INF}, "max_wait must be a finite number of seconds"),
    ({"requests_per_minute": 10, "max_wait": "1"}, "max_wait must be a finite number of seconds"),
    ({"requests_per_minute": 10, "redis_url": "x"}, "redis_url 'x' is not a Redis URL"),
    ({"requests_per_minute": 10, "redis_url": 6379}, "redis_url must be a Redis URL string"),
]


@pytest.mark.parametrize("kwargs,words", RATE_LIMIT_CASES, ids=[c[1][:40] for c in RATE_LIMIT_CASES])
def test_configure_rate_limit_refuses(kwargs, words):
    if "redis_url" in kwargs:
        require("redis", "redis")
    with Client() as client:
        with pytest.raises(errors.ConfigurationError) as caught:
            client.configure_rate_limit("huggingface", **kwargs)
        assert client.rate_limiter is None or client.rate_limiter.limit_for("huggingface") is None
    assert words in str(caught.value)


# (the project's aliases.json, the words in the error)
ALIAS_FILE_CASES = [
    ({"huggingface": {"chat": {"small": 5}}}, "huggingface.chat.small must name a model id"),
    ({"huggingface": {"chat": {"small": ""}}}, "must name a model id"),
    ({"huggingface": {"embeddings": {"default": ["a/b"]}}}, "huggingface.embeddings.default"),
    ({"huggingface": {"chat": {"small": None}}}, "got None"),
]


@pytest.mark.parametrize("table,words", ALIAS_FILE_CASES, ids=[c[1][:40] for c in ALIAS_FILE_CASES])
def test_an_alias_file_mapping_to_no_model_id_is_refused(tmp_path, monkeypatch, table, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aliases.json").write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(errors.ConfigurationError) as caught:
        AliasTable().get("huggingface", "small")
    assert words in str(caught.value) and "aliases.json" in str(caught.value)


def _read_only_folder(tmp_path):
    """A folder this process cannot write: chmod for a normal user; root ignores modes, so a folder of
    /proc (it exists and refuses new files, even to root)."""
    import os
    import sys

    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return str(folder)
    if sys.platform.startswith("linux") and os.path.isdir("/proc/self"):
        return "/proc/self"
    pytest.skip("no folder this process cannot write")


def test_a_sqlite_cache_in_a_read_only_folder_fails_configuration_typed(tmp_path):
    """Issue 16 #6: this raised a raw sqlite3.OperationalError (and would crash the proxy at start-up)."""
    require("diskcache", "sqlite")
    folder = _read_only_folder(tmp_path)
    with Client() as client:
        with pytest.raises(errors.ConfigurationError, match="Cannot open the sqlite cache") as caught:
            client.configure_cache("sqlite", path=folder)
        assert client.cache is None
    assert "fix its permissions" in str(caught.value)
