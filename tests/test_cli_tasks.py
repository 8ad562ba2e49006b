"""The CLI's text-task commands and ``respond``, run in process (``cli.main``) against a loopback router."""

from __future__ import annotations

import json

import pytest
from loopback import LoopbackServer, Status
from test_responses_api import ANSWER, STREAM, events

from llm_interface import cli
from llm_interface.providers.hf_routes import ROUTER_ENV


@pytest.fixture
def router(monkeypatch):
    with LoopbackServer() as server:
        monkeypatch.setenv(ROUTER_ENV, server.url)
        monkeypatch.setenv("HF_TOKEN", "hf_test_cli_fake_0123456789")
        yield server


def test_summarization_prints_the_summary(router, capsys):
    router.script(Status(200, [{"summary_text": "Short."}]))
    assert cli.main(["summarization", "huggingface", "A long text.", "-o", "truncation=only_first"]) == 0
    assert capsys.readouterr().out == "Short.\n"
    assert router.requests[0].body == {"inputs": "A long text.", "parameters": {"truncation": "only_first"}}


def test_token_classification_prints_one_line_per_entity(router, capsys):
    router.script(Status(200, [{"entity_group": "PER", "score": 0.99913, "word": "Sarah Jessica Parker", "start": 11, "end": 31}]))
    assert cli.main(["token-classification", "huggingface", "My name is Sarah Jessica Parker", "-o", "aggregation_strategy=simple"]) == 0
    assert capsys.readouterr().out == "PER\t0.9991\tSarah Jessica Parker\t11\t31\n"


def test_question_answering_and_json(router, capsys):
    router.script(Status(200, {"answer": "Clara", "score": 0.93, "start": 11, "end": 16}))
    assert cli.main(["question-answering", "huggingface", "What's my name?", "My name is Clara.", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["answers"] == [{"answer": "Clara", "score": 0.93, "start": 11, "end": 16}]
    assert router.requests[0].body["inputs"] == {"question": "What's my name?", "context": "My name is Clara."}


def test_table_question_answering_reads_the_table_file(router, capsys, tmp_path):
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"Repository": ["Transformers"], "Stars": ["36542"]}))
    router.script(Status(200, {"answer": "36542", "coordinates": [[0, 1]], "cells": ["36542"], "aggregator": "NONE"}))
    assert cli.main(["table-question-answering", "huggingface", str(table), "How many stars?"]) == 0
    assert capsys.readouterr().out == "36542\n"


def test_a_table_that_is_no_json_is_exit_2(router, capsys, tmp_path):
    table = tmp_path / "table.json"
    table.write_text("Repository,Stars")
    assert cli.main(["table-question-answering", "huggingface", str(table), "q"]) == 2
    assert "JSON file" in capsys.readouterr().err and router.count == 0


def test_respond_prints_the_output_text(router, capsys):
    router.script(Status(200, ANSWER))
    assert cli.main(["respond", "huggingface", "Say hello.", "--model", "openai/gpt-oss-120b:groq", "--instructions", "Be brief."]) == 0
    assert capsys.readouterr().out == "Hello, world!\n"
    assert router.requests[0].body["instructions"] == "Be brief."


def test_respond_streams(router, capsys):
    router.script(events(*STREAM))
    assert cli.main(["respond", "huggingface", "Say hello.", "--model", "openai/gpt-oss-120b", "--stream"]) == 0
    assert capsys.readouterr().out == "Hello, world!\n"


@pytest.mark.parametrize("command", ["summarization", "translation", "token-classification", "question-answering",
                                     "fill-mask", "sentence-similarity", "table-question-answering", "respond"])
def test_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"llm-interface {command}" in out
