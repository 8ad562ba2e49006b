"""The ``llm-interface`` command."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from .errors import LLMInterfaceError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-interface",
        description="Talk to language models from the shell.",
        epilog='example: llm-interface send huggingface "Explain the importance of low latency LLMs."',
    )
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send one message and print the answer")
    send.add_argument("provider")
    send.add_argument("prompt", help="the message; '-' reads standard input")
    send.add_argument("--model")
    send.add_argument("--stream", action="store_true")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    from .interface import LLMInterface

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    options = {"model": args.model} if args.model else None
    try:
        if args.stream:
            with LLMInterface.stream_message(args.provider, prompt, options) as stream:
                for chunk in stream:
                    print(chunk.text, end="", flush=True)
            print()
        else:
            print(LLMInterface.send_message(args.provider, prompt, options).results)
    except LLMInterfaceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
