"""Review: the new parsers and readers give a result or a typed error for any answer, never a raw exception;
and the call log writes a row for every task's answer shape."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from support.loopback import Answer, LoopbackServer

from llm_interface import Client
from llm_interface.providers.hf_routes import ROUTER_ENV

KEY = "hf_test_fake_review_shapes_0123456789"

# task method -> (its arguments after the provider, an hf-inference answer of that task)
TASK_ANSWERS = {
    "token_classification": (("My name is Sarah",),
                             [{"entity_group": "PER", "score": 0.99, "word": "Sarah", "start": 11, "end": 16}]),
    "fill_mask": (("Paris is the [MASK] of France.",),
                  [{"score": 0.9, "token": 3007, "token_str": "capital", "sequence": "paris is the capital of france."}]),
    "sentence_similarity": (("A fox.", ["A dog.", "A car."]), [0.7, 0.1]),
}


@pytest.mark.parametrize("method", list(TASK_ANSWERS))
def test_the_call_log_writes_a_row_for_every_text_task(method, tmp_path, monkeypatch, caplog):
    args, answer = TASK_ANSWERS[method]
    body = json.dumps(answer).encode()
    with LoopbackServer(responder=lambda r: Answer(200, {"Content-Type": "application/json"}, body)) as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        path = tmp_path / "calls.db"
        with Client({"huggingface": KEY}, interface_options={"retry_attempts": 0}) as client:
            client.configure_log(path)
            with caplog.at_level(logging.WARNING, logger="llm_interface"):
                getattr(client, method)("huggingface", *args)
                client.close()
    assert "could not write" not in caplog.text
    connection = sqlite3.connect(path)
    try:
        (answer_column,) = connection.execute("SELECT answer FROM calls").fetchone()
    finally:
        connection.close()
    assert answer_column is not None and json.loads(answer_column)
