"""SSE decoder conformance: a table of wire texts, then every way the network can split them."""

from __future__ import annotations

import pytest

from llm_interface.sse import SSEDecoder

# (wire bytes, expected (event, data) list)
CASES = {
    "data with a space": (b"data: {\"a\":1}\n\n", [(None, b'{"a":1}')]),
    "data without a space (TGI)": (b"data:{\"a\":1}\n\n", [(None, b'{"a":1}')]),
    "only one leading space is removed": (b"data:  x\n\n", [(None, b" x")]),
    "multi-line data joined by LF": (b"data: a\ndata: b\ndata:c\n\n", [(None, b"a\nb\nc")]),
    "keep-alive comments skipped": (b": ping\n\n:\n\ndata: x\n\n: ping\n\n", [(None, b"x")]),
    "CRLF line endings": (b"data: a\r\n\r\ndata: b\r\n\r\n", [(None, b"a"), (None, b"b")]),
    "CR line endings": (b"data: a\r\rdata: b\r\r", [(None, b"a"), (None, b"b")]),
    "mixed line endings": (b"data: a\r\n\ndata: b\n\r\n", [(None, b"a"), (None, b"b")]),
    "event name": (b"event: error\ndata: {}\n\n", [("error", b"{}")]),
    "event name reset after dispatch": (b"event: error\ndata: 1\n\ndata: 2\n\n", [("error", b"1"), (None, b"2")]),
    "id and retry ignored": (b"id: 7\nretry: 100\ndata: x\n\n", [(None, b"x")]),
    "blank lines without data dispatch nothing": (b"\n\n\n", []),
    "[DONE] passed through": (b"data: x\n\ndata: [DONE]\n\n", [(None, b"x"), (None, b"[DONE]")]),
    "no [DONE] at the end": (b"data: 1\n\ndata: 2\n\n", [(None, b"1"), (None, b"2")]),
    "last event without its blank line": (b"data: 1\n\ndata: 2", [(None, b"1"), (None, b"2")]),
    "last event ended by one newline": (b"data: 1\n", [(None, b"1")]),
    "usage chunk with empty choices": (
        b'data: {"choices":[],"usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n',
        [(None, b'{"choices":[],"usage":{"total_tokens":3}}'), (None, b"[DONE]")],
    ),
    "utf-8 kept as bytes": ("data: {\"t\":\"caf\u00e9 \u2603\"}\n\n".encode(), [(None, "{\"t\":\"caf\u00e9 \u2603\"}".encode())]),
    "empty data line": (b"data:\n\n", [(None, b"")]),
}


def decode(parts):
    decoder = SSEDecoder()
    events = []
    for part in parts:
        events.extend(decoder.feed(part))
    events.extend(decoder.close())
    return events


@pytest.mark.parametrize("wire,expected", CASES.values(), ids=list(CASES))
def test_whole(wire, expected):
    assert decode([wire]) == expected


@pytest.mark.parametrize("wire,expected", CASES.values(), ids=list(CASES))
def test_split_at_every_byte(wire, expected):
    for at in range(1, len(wire)):
        assert decode([wire[:at], wire[at:]]) == expected, f"split at {at}: {wire[:at]!r} | {wire[at:]!r}"


@pytest.mark.parametrize("wire,expected", CASES.values(), ids=list(CASES))
def test_one_byte_at_a_time(wire, expected):
    assert decode([wire[i : i + 1] for i in range(len(wire))]) == expected


def test_cr_and_lf_split_across_chunks_is_one_line_ending():
    # "\r" ends one chunk, "\n" starts the next: one line ending, so no spurious blank line
    # dispatching "a" early and then "b" on its own.
    assert decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [(None, b"a\nb")]


def test_empty_chunks_do_not_lose_a_pending_cr():
    assert decode([b"data: a\r", b"", b"\ndata: b\r\n\r\n"]) == [(None, b"a\nb")]


def test_events_come_out_as_soon_as_complete():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n") == []
    assert decoder.feed(b"\ndata: 2") == [(None, b"1")]
    assert decoder.close() == [(None, b"2")]
