"""``llm-interface chat`` under a real pseudo-terminal (python's ``pty``: the line discipline turns Ctrl-C into
SIGINT, as a user's terminal does) against a loopback server answering as TGI does."""

from __future__ import annotations

import io
import json
import os
import re
import select
import signal
import sys
import time
from pathlib import Path

import pytest
from support.loopback import Answer, LoopbackServer, chat_events
from support.upstream import hf_routes

from llm_interface import Client, Session
from llm_interface.chat_repl import ChatRepl

pty = pytest.importorskip("pty")  # POSIX only
ROOT = Path(__file__).resolve().parent.parent
STORY = " ".join(f"word{n}" for n in range(200))


def _responder(request):
    if request.text == "tell a long story":  # slow: a word every 0.2 s, long enough to interrupt
        events = [b"data: " + json.dumps(e).encode("utf-8") + b"\n\n" for e in chat_events(STORY)]
        return Answer(200, {"Content-Type": "text/event-stream"}, chunks=events + [b"data: [DONE]\n\n"], pause=0.2)
    return hf_routes(request)


class Terminal:
    """A child process on a pseudo-terminal: ``send`` types, ``expect`` waits for text on the screen."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its terminal is the pty
            os.execve(sys.executable, [sys.executable, *argv], env)
        self.screen = ""
        self.seen = 0

    def expect(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.screen, self.seen)
            if found:
                self.seen = found.end()
                return found.group(0)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} never appeared; the screen after the last match:\n{self.screen[self.seen:]}")
            readable, _, _ = select.select([self.fd], [], [], min(remaining, 0.2))
            if readable:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:  # the child exited
                    data = b""
                if not data:
                    raise AssertionError(f"the program ended before {pattern!r}; screen:\n{self.screen[self.seen:]}")
                self.screen += data.decode("utf-8", "replace").replace("\r\n", "\n")

    def at_prompt(self) -> None:
        """Let the child reach readline's wait for a key. CPython's readline prints the prompt before it
        blocks in select(); a SIGINT landing in between waits for the next key instead of interrupting,
        which a person's Ctrl-C, seconds later, never meets."""
        time.sleep(0.5)

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def line(self, text: str) -> None:
        self.send(text + "\r")

    def exit_status(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    os.read(self.fd, 4096)  # drain, so the child never blocks writing
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the chat did not exit")

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


@pytest.fixture
def upstream():
    with LoopbackServer(responder=_responder) as server:
        yield server


@pytest.fixture
def chat(upstream, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(PYTHONPATH=str(ROOT), TERM="dumb", HF_TOKEN_PATH=str(tmp_path / "no-token"), PYTHONUNBUFFERED="1")
    terminal = Terminal(["-m", "llm_interface.cli", "chat", "huggingface", "--api-base", upstream.url, "--retries", "0"], env)
    terminal.expect(r"Chatting with huggingface")
    terminal.expect(r">>> ")
    yield terminal
    terminal.close()


def test_a_conversation_streams_keeps_history_and_survives_ctrl_c(chat, upstream, tmp_path):
    chat.line("/system Answer briefly.")
    chat.expect(r"system: Answer briefly\.")
    chat.line("hello there")
    chat.expect(r"echo: hello there\n")
    assert upstream.requests[-1].body["stream"] is True
    assert [m["role"] for m in upstream.requests[-1].body["messages"]] == ["system", "user"]

    chat.line("and again")
    chat.expect(r"echo: and again\n")
    assert [m["content"] for m in upstream.requests[-1].body["messages"]] == [
        "Answer briefly.", "hello there", "echo: hello there", "and again"]

    chat.line("/clear")
    chat.expect(r"conversation cleared")
    chat.line("tell a long story")
    chat.expect(r"word0 word1")
    chat.send("\x03")  # Ctrl-C mid-answer
    chat.expect(r"\[stopped\]")
    chat.expect(r">>> ")
    upstream.client_gone.wait(5)
    assert upstream.dropped, "the interrupted answer's connection was closed"

    chat.line("after the story")
    chat.expect(r"echo: after the story\n")
    # cleared, and the interrupted turn was not kept
    assert [m["content"] for m in upstream.requests[-1].body["messages"]] == ["Answer briefly.", "after the story"]

    saved = tmp_path / "chat.json"
    chat.line(f"/save {saved}")
    chat.expect(r"saved to ")
    assert [m["content"] for m in json.loads(saved.read_text())["messages"]] == ["after the story", "echo: after the story"]

    chat.line("/model org/other-model")
    chat.expect(r"model: org/other-model")
    chat.line("who are you")
    chat.expect(r"echo: who are you\n")
    chat.expect(r">>> ")  # the answer is over: a Ctrl-C now is one at the prompt
    assert upstream.requests[-1].body["model"] == "org/other-model"

    chat.at_prompt()
    chat.send("\x03")  # Ctrl-C at the prompt: a hint, then a second one leaves
    chat.expect(r"Ctrl-C again")
    chat.expect(r">>> ")
    chat.at_prompt()
    chat.send("\x03")
    assert chat.exit_status() == 0


def test_ctrl_d_and_exit_leave_and_help_lists_the_commands(chat):
    chat.line("/help")
    for command in ("/model NAME", "/system TEXT", "/save PATH", "/clear", "/exit"):
        chat.expect(re.escape(command))
    chat.line("/nonsense")
    chat.expect(r"unknown command /nonsense")
    chat.expect(r">>> ")
    chat.at_prompt()  # a Ctrl-D typed before readline waits for a key can be lost in the terminal's mode switch
    chat.send("\x04")  # Ctrl-D on an empty line
    assert chat.exit_status() == 0


# -- the loop without a terminal (fast, for the error paths) ------------------------------------------


def test_a_failed_call_prints_its_typed_error_and_the_conversation_goes_on(upstream):
    lines = iter(["!status 503", "fine now", "/save", "/exit"])
    out, err = io.StringIO(), io.StringIO()
    with Client(interface_options={"retry_attempts": 0}) as client:
        session = Session("huggingface", api_base=upstream.url, client=client)
        assert ChatRepl(session, read=lambda prompt: next(lines), out=out, err=err).run() == 0
    assert "error: ModelLoadingError" in err.getvalue() and "/save needs a path" in err.getvalue()
    assert "echo: fine now" in out.getvalue()
    assert [m["content"] for m in session.history] == ["fine now", "echo: fine now"]
