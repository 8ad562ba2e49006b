"""``llm-interface chat``: a conversation in the terminal, streamed, its history kept in a ``Session``.

Commands (``/help``): ``/model NAME``, ``/system TEXT``, ``/save PATH``, ``/clear``, ``/help``, ``/exit``.
Line editing and history come from ``readline`` where Python has it. Ctrl-C while an answer streams stops
that answer (the turn is not kept, the connection is closed) and gives the prompt back; at the prompt, a
second Ctrl-C in a row, or Ctrl-D, leaves. A failed call prints its typed error and the conversation goes on.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, TextIO

from . import errors
from .session import Session

PROMPT = ">>> "
HELP = """\
Type a message and press Enter; the answer streams in. Commands:
  /model NAME    talk to another model (an alias or a model id) from now on
  /system TEXT   set the system message (/system alone removes it)
  /save PATH     write the conversation as JSON (llm-interface chat --load PATH goes on from it)
  /clear         forget the conversation (the system message stays)
  /help          this text
  /exit          leave (or Ctrl-D; Ctrl-C stops an answer, twice at the prompt leaves)"""


def enable_line_editing() -> bool:
    """Arrow keys, history and Emacs bindings for ``input()``, where the platform has readline."""
    try:
        import readline  # noqa: F401 - importing it is what turns line editing on
    except ImportError:  # Windows without pyreadline: plain input() still works
        return False
    return True


class ChatRepl:
    """The loop: read a line, run a command or stream an answer. ``read`` and the streams are injectable."""

    def __init__(self, session: Session, *, read: Callable[[str], str] = input,
                 out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> None:
        self.session = session
        self.read = read
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str, stream: Optional[TextIO] = None) -> None:
        target = stream or self.out
        target.write(text + "\n")
        target.flush()

    def run(self) -> int:
        model = self.session.model or "its default model"
        self.say(f"Chatting with {self.session.provider} ({model}). /help for commands, Ctrl-D to leave.")
        interrupted = False
        while True:
            # A Ctrl-C anywhere but in an answer (which stops itself) counts as one at the prompt,
            # even one landing between two reads: a quick double Ctrl-C always leaves cleanly.
            try:
                if not self.step():
                    return 0
                interrupted = False
            except EOFError:
                self.say("")
                return 0
            except KeyboardInterrupt:
                if interrupted:
                    self.say("")
                    return 0
                interrupted = True
                try:
                    self.say("\n(Ctrl-C again, /exit or Ctrl-D to leave)")
                except KeyboardInterrupt:
                    return 0

    def step(self) -> bool:
        """Read one line and act on it; False when it is time to leave."""
        line = self.read(PROMPT).strip()
        if not line:
            return True
        if line.startswith("/"):
            return self.command(line)
        self.answer(line)
        return True

    def command(self, line: str) -> bool:
        """Run a /command; False when it is time to leave."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            self.say(HELP)
        elif name == "/model":
            if argument:
                self.session.model = argument
                self.say(f"model: {argument}")
            else:
                self.say(f"model: {self.session.model or '(the default)'}; /model NAME changes it")
        elif name == "/system":
            self.session.system = argument or None
            self.say(f"system: {argument}" if argument else "system message removed")
        elif name == "/save":
            self._save(argument)
        elif name == "/clear":
            self.session.reset()
            self.say("conversation cleared")
        else:
            self.say(f"unknown command {name}; /help lists them", self.err)
        return True

    def _save(self, path: str) -> None:
        if not path:
            self.say("/save needs a path, e.g. /save chat.json", self.err)
            return
        try:
            self.session.save(path)
        except OSError as exc:
            self.say(f"could not save to {path}: {exc.strerror or exc}", self.err)
            return
        self.say(f"saved to {path}")

    def answer(self, text: str) -> None:
        chunks: Any = None
        try:
            chunks = self.session.stream(text)
            for chunk in chunks:
                if chunk.text:
                    self.out.write(chunk.text)
                    self.out.flush()
            self.say("")
        except KeyboardInterrupt:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # the Session's stream closes its connection; the half turn is not kept
            self.say("\n[stopped]")
        except errors.LLMInterfaceError as error:
            self.say("")
            line = " ".join(str(error).split())
            self.say(f"error: {type(error).__name__}: {line}", self.err)


def run(session: Session) -> int:
    enable_line_editing()
    return ChatRepl(session).run()
