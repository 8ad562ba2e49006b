"""Work the per-call path must not repeat (behaviour, never timing): no file-system look-up per call for a
CA bundle named in the environment, with the TLS settings requests itself would choose."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import requests
from requests.adapters import HTTPAdapter
from support.loopback import Reply

from llm_interface import Client
from llm_interface.transport import Transport


def test_a_ca_bundle_from_the_environment_costs_no_stat_per_call(monkeypatch, loopback, tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    loopback.script(*[Reply()] * 6)
    with Client(interface_options={"retry_attempts": 0}) as client:
        assert client.transport.session.verify == str(bundle)  # still honoured
        client.send_message("openai-compatible", "hi", {"api_base": loopback.url})  # warm
        stats = []
        real = os.stat
        monkeypatch.setattr(os, "stat", lambda *a, **k: stats.append(a[0]) or real(*a, **k))
        for _ in range(5):
            assert client.send_message("openai-compatible", "hi", {"api_base": loopback.url}).results
        seen_in_calls = [str(path) for path in stats]
        assert os.path.isfile(str(bundle)) and str(bundle) in [str(path) for path in stats]  # the spy does see a look-up
    assert str(bundle) not in seen_in_calls


def _adapter():
    return Transport().session.get_adapter("https://example.test/")


@pytest.mark.parametrize("kind", ["file", "directory"])
@pytest.mark.parametrize("url", ["https://example.test/v1/chat/completions", "http://example.test/v1/chat/completions"])
def test_the_remembered_ca_bundle_gives_the_tls_settings_requests_would(tmp_path, kind, url):
    path = tmp_path / "ca"
    path.mkdir() if kind == "directory" else path.write_text("x")
    ours, theirs = _adapter(), HTTPAdapter()
    prepared = requests.Request("POST", url).prepare()
    for _ in range(2):  # the first call looks the path up, the second remembers it
        assert ours.build_connection_pool_key_attributes(prepared, str(path)) == \
            theirs.build_connection_pool_key_attributes(prepared, str(path))
        ours_conn, their_conn = SimpleNamespace(), SimpleNamespace()
        ours.cert_verify(ours_conn, url, str(path), None)
        theirs.cert_verify(their_conn, url, str(path), None)
        assert {k: v for k, v in vars(ours_conn).items() if v is not None} == \
            {k: v for k, v in vars(their_conn).items() if v is not None}


def test_a_missing_ca_bundle_is_still_requests_error(tmp_path):
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(OSError, match="invalid path"):
        _adapter().cert_verify(SimpleNamespace(), "https://example.test/", missing, None)
