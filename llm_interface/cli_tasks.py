"""The ``llm-interface`` commands of the text tasks (summarization ... table-question-answering) and of the
Responses API (``respond``). ``cli.py`` registers them with its own ``command`` helper and hands in its
client, options and JSON printer (``Tools``), so that this module imports nothing of it.

Plain output: the main value (summary, translation, answer) on one line, or one line per entity / candidate /
score, tab-separated; ``--json`` prints the result's ``to_dict()``.
"""

import json
import sys
from typing import Any, Callable, NamedTuple

TASK_EXAMPLES = {
    "summarization": 'llm-interface summarization huggingface "$(cat article.txt)" --model facebook/bart-large-cnn',
    "translation": 'llm-interface translation huggingface "My name is Wolfgang" --model google-t5/t5-base',
    "token-classification": 'llm-interface token-classification huggingface "My name is Sarah Jessica Parker" '
                            "-o aggregation_strategy=simple",
    "question-answering": "llm-interface question-answering huggingface \"What's my name?\" \"My name is Clara.\"",
    "fill-mask": 'llm-interface fill-mask huggingface "Paris is the [MASK] of France." --model google-bert/bert-base-uncased',
    "sentence-similarity": 'llm-interface sentence-similarity huggingface "A fox." "A dog." "A car."',
    "table-question-answering": "llm-interface table-question-answering huggingface table.json \"How many stars?\"",
    "respond": 'llm-interface respond huggingface "Tell me a story" --model openai/gpt-oss-120b:groq --stream',
}


class Tools(NamedTuple):
    """What the commands borrow from cli.py."""

    client: Callable[[Any], Any]
    options: Callable[..., Any]
    print_json: Callable[[Any], None]


def add_task_commands(command: Callable[..., Any], calls: Any, tools: Tools) -> None:
    def text_command(name: str, help_text: str, method: str, show: Callable[[Any], Any]) -> None:
        parser = command(name, help_text, [calls])
        parser.add_argument("text", help="the text; '-' reads standard input")
        parser.set_defaults(run=lambda args: _run(args, tools, method, (_stdin_or(args.text),), show))

    text_command("summarization", "print a summary of a text", "summarization", lambda r: print(r.summary))
    text_command("translation", "print a text translated (-o src_lang=... -o tgt_lang=... for multilingual models)",
                 "translation", lambda r: print(r.translation))
    text_command("token-classification", "print the entities of a text: label, score, word, start, end",
                 "token_classification",
                 lambda r: [print(f"{e.entity}\t{e.score:.4f}\t{e.word}\t{e.start}\t{e.end}") for e in r.entities])
    text_command("fill-mask", "print candidates for the mask token: score, token, sequence", "fill_mask",
                 lambda r: [print(f"{p.score:.4f}\t{p.token_str.strip()}\t{p.sequence}") for p in r.predictions])

    qa = command("question-answering", "print the answer to a question found in a context", [calls])
    qa.add_argument("question")
    qa.add_argument("context", help="the context; '-' reads standard input")
    qa.set_defaults(run=lambda args: _run(args, tools, "question_answering", (args.question, _stdin_or(args.context)),
                                          lambda r: print(r.answer)))

    similarity = command("sentence-similarity", "print one similarity score per other sentence, in order", [calls])
    similarity.add_argument("sentence")
    similarity.add_argument("others", nargs="+", help="the sentences to compare with")
    similarity.set_defaults(run=lambda args: _run(args, tools, "sentence_similarity", (args.sentence, args.others),
                                                  lambda r: [print(f"{s:.4f}\t{o}") for s, o in zip(r.scores, args.others)]))

    table = command("table-question-answering", "print the answer to a question about a table", [calls])
    table.add_argument("table", help="a JSON file (or '-') holding {column: [cells]}")
    table.add_argument("query")
    table.set_defaults(run=lambda args: _run(args, tools, "table_question_answering", (_table(args.table), args.query),
                                             lambda r: print(r.answer)))

    respond = command("respond", "send one input to the Responses API and print the output text", [calls])
    respond.add_argument("input", help="the input; '-' reads standard input")
    respond.add_argument("--instructions", help="the system instructions")
    respond.add_argument("--stream", action="store_true", help="print the text as it arrives")
    respond.set_defaults(run=lambda args: _respond(args, tools))


def _stdin_or(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def _table(path: str) -> Any:
    from .errors import InvalidRequestError

    try:
        if path == "-":
            return json.loads(sys.stdin.read())
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"The table must be a JSON file of {{column: [cells]}}; {path!r}: {exc}") from None


def _run(args: Any, tools: Tools, method: str, inputs: tuple, show: Callable[[Any], Any]) -> int:
    with tools.client(args) as client:
        result = getattr(client, method)(args.provider, *inputs, tools.options(args))
    tools.print_json(result.to_dict()) if args.json else show(result)
    return 0


def _respond(args: Any, tools: Tools) -> int:
    options = tools.options(args, instructions=args.instructions)
    text = _stdin_or(args.input)
    with tools.client(args) as client:
        if not args.stream:
            result = client.respond(args.provider, text, options)
            tools.print_json(result.to_dict()) if args.json else print(result.results)
            return 0
        with client.stream_respond(args.provider, text, options) as stream:
            for chunk in stream:
                if args.json:
                    tools.print_json({"text": chunk.text, "reasoning": chunk.reasoning, "finish_reason": chunk.finish_reason})
                elif chunk.text:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
            if args.json:
                tools.print_json(stream.response.to_dict())
            else:
                print()
    return 0
