"""A push-based Server-Sent Events decoder, shared by the sync and async transports.

Follows the WHATWG event-stream rules that servers in the wild exercise: lines end in LF, CRLF or CR
(also split across network chunks); ``data:`` with or without one leading space; several ``data``
lines joined by ``\\n``; lines starting with ``:`` are keep-alives; a blank line dispatches the event.
It yields ``(event_name, data_bytes)``; JSON is decoded by the caller (``json.loads`` takes bytes).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

Event = Tuple[Optional[str], bytes]

_LF = b"\n"
_CR = b"\r"


class SSEDecoder:
    __slots__ = ("_buffer", "_data", "_event", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: List[bytes] = []
        self._event: Optional[str] = None
        self._pending_cr = False

    def feed(self, chunk: bytes) -> List[Event]:
        """Events completed by this chunk, in order."""
        if not chunk:
            # An empty read (gzip decoders and async readers yield them) must not clear a pending CR:
            # the LF that completes the CRLF is still to come.
            return []
        if self._pending_cr:
            # The previous chunk ended in CR: a LF starting this one belongs to that line ending.
            self._pending_cr = False
            if chunk[:1] == _LF:
                chunk = chunk[1:]
        buffer = self._buffer + chunk if self._buffer else chunk
        if _CR in buffer:
            if buffer[-1:] == _CR:
                self._pending_cr = True
            buffer = buffer.replace(b"\r\n", _LF).replace(_CR, _LF)
        lines = buffer.split(_LF)
        self._buffer = lines.pop()
        events: List[Event] = []
        for line in lines:
            self._line(line, events)
        return events

    @property
    def pending(self) -> int:
        """Bytes of the event being received (not yet dispatched): what a per-event size cap bounds."""
        return len(self._buffer) + sum(len(part) for part in self._data)

    def close(self) -> List[Event]:
        """Events left when the stream ends; a last event without its blank line still counts."""
        events: List[Event] = []
        if self._buffer:
            self._line(self._buffer, events)
            self._buffer = b""
        if self._data:
            self._line(b"", events)
        return events

    def _line(self, line: bytes, events: List[Event]) -> None:
        if not line:
            if self._data:
                data = self._data[0] if len(self._data) == 1 else _LF.join(self._data)
                events.append((self._event, data))
                self._data = []
            self._event = None
            return
        if line[:5] == b"data:":
            value = line[5:]
            if value[:1] == b" ":
                value = value[1:]
            self._data.append(value)
        elif line[:1] == b":":
            return  # keep-alive comment
        elif line[:6] == b"event:":
            self._event = line[6:].strip().decode("utf-8", "replace")
        # "id:" and "retry:" are not used by any LLM API: ignored, as the spec allows.
