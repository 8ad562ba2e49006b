"""The ``llm-interface`` command: send, chat, embed, classify, rerank, aliases, cache, models, serve, doctor, logs,
and the text-task commands and ``respond`` that ``cli_tasks.py`` adds.

Exit codes: 0 ok; 1 the provider or the network failed (a typed error, printed as one line on stderr);
2 bad usage (argparse's own errors, and ``ConfigurationError``s: a bad option, an unknown provider or
model, a missing key, a missing extra; nothing was sent). ``--debug`` adds the traceback.
Output is plain text for pipes; ``--json`` prints JSON for scripts. Keys are never printed.

Everything but argparse is imported inside the commands, so ``--help`` stays instant.
"""

import argparse
import os
import sys

from .cli_tasks import TASK_EXAMPLES, Tools, add_task_commands

EXAMPLES = {
    "send": 'llm-interface send huggingface "Explain the importance of low latency LLMs." --max-tokens 200\n'
            '  echo "Summarise this" | llm-interface send huggingface - --model small --stream',
    "chat": "llm-interface chat huggingface --model small --system 'Answer briefly.'\n"
            "  llm-interface chat huggingface --load chat.json        # go on from a /save",
    "embed": 'llm-interface embed huggingface "first text" "second text" --model small --json',
    "classify": 'llm-interface classify huggingface "I love this!" --model distilbert/distilbert-base-uncased-finetuned-sst-2-english',
    "rerank": 'llm-interface rerank huggingface "what is a fox?" "A fox is an animal." "Paris is in France." --model BAAI/bge-reranker-base',
    "aliases": "llm-interface aliases list huggingface\n  llm-interface aliases set huggingface small microsoft/Phi-3-mini-4k-instruct",
    "cache": "llm-interface cache stats --backend files --path .llm_cache\n  llm-interface cache clear --backend files --path .llm_cache",
    "serve": "llm-interface serve --config config.yaml --port 4000",
    "doctor": "llm-interface doctor\n  llm-interface doctor --api-base http://127.0.0.1:8080 --json",
    "logs": "llm-interface logs list -n 5\n  llm-interface logs show 12\n  llm-interface logs search \"fox\"\n"
            "  llm-interface logs export --json > calls.jsonl",
    "models": "llm-interface models --provider together\n  llm-interface models deepseek-ai/DeepSeek-R1 --json\n"
              "  llm-interface models --task embeddings",
    **TASK_EXAMPLES,
}


def _example(name):
    return "example:\n  " + EXAMPLES[name]


def _parser():
    # --debug works before or after the command; SUPPRESS keeps a subcommand from resetting it to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="print the traceback of an error")
    calls = argparse.ArgumentParser(add_help=False)
    calls.add_argument("provider", help="provider name, e.g. huggingface or openai-compatible")
    calls.add_argument("--model", help="an alias (default, small, large, agent) or a model id")
    calls.add_argument("--api-base", help="an endpoint or TGI/TEI server URL (else HUGGINGFACE_API_BASE, else the router)")
    calls.add_argument("--timeout", type=float, help="seconds to wait for the server")
    calls.add_argument("--retries", type=int, help="retries after the first attempt (default 2)")
    calls.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                       help="any other option; VALUE is read as JSON when it parses, e.g. -o top_p=0.9 -o provider=together")
    calls.add_argument("--json", action="store_true", help="print JSON instead of plain text")

    parser = argparse.ArgumentParser(
        prog="llm-interface",
        description="Talk to language models from the shell, or run an OpenAI-compatible proxy.",
        epilog='example:\n  llm-interface send huggingface "Hello" \n  llm-interface COMMAND --help',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, parents=()):
        return commands.add_parser(name, help=help_text, description=help_text, epilog=_example(name),
                                   formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common, *parents])

    send = command("send", "send one message and print the answer", [calls])
    send.add_argument("prompt", help="the message; '-' reads standard input")
    send.add_argument("--system", help="a system message to put first")
    send.add_argument("--max-tokens", type=int)
    send.add_argument("--temperature", type=float)
    send.add_argument("--stop", action="append", help="a stop sequence (repeatable)")
    send.add_argument("--stream", action="store_true", help="print tokens as they arrive")
    send.set_defaults(run=_send)

    chat = command("chat", "talk with a model in the terminal: streamed answers, /model, /system, /save, /clear")
    chat.add_argument("provider", nargs="?", default="huggingface", help="provider name (default huggingface)")
    chat.add_argument("--model", help="an alias (default, small, large, agent) or a model id")
    chat.add_argument("--api-base", help="an endpoint or TGI server URL (else HUGGINGFACE_API_BASE, else the router)")
    chat.add_argument("--system", help="a system message to put first")
    chat.add_argument("--load", metavar="PATH", help="go on from a conversation saved with /save")
    chat.add_argument("--fallback", action="append", default=[], metavar="TARGET",
                      help="a model id, endpoint URL or local model to try when the call fails (repeatable; docs/failover.md)")
    chat.add_argument("--timeout", type=float, help="seconds to wait for the server")
    chat.add_argument("--retries", type=int, help="retries after the first attempt (default 2)")
    chat.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                      help="any other option, e.g. -o max_tokens=200 -o temperature=0.2")
    chat.set_defaults(run=_chat)

    embed = command("embed", "print embedding vectors, one line per text", [calls])
    embed.add_argument("texts", nargs="+", help="texts to embed; '-' reads one text per line from standard input")
    embed.set_defaults(run=_embed)

    classify = command("classify", "print the best label and its score, one line per text", [calls])
    classify.add_argument("texts", nargs="+", help="texts to classify; '-' reads one text per line from standard input")
    classify.set_defaults(run=_classify)

    rerank = command("rerank", "print documents by relevance to a query: index, score, text", [calls])
    rerank.add_argument("query")
    rerank.add_argument("documents", nargs="+", help="documents; '-' reads one per line from standard input")
    rerank.set_defaults(run=_rerank)

    add_task_commands(command, calls, Tools(_client, _options, _print_json))  # cli_tasks.py

    aliases = command("aliases", "list model aliases, or set one in the project's alias file")
    alias_actions = aliases.add_subparsers(dest="action", required=True, metavar="ACTION")
    alias_list = alias_actions.add_parser("list", help="list aliases", parents=[common], epilog=_example("aliases"),
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    alias_list.add_argument("provider", nargs="?")
    alias_list.add_argument("--json", action="store_true")
    alias_list.set_defaults(run=_aliases_list)
    alias_set = alias_actions.add_parser(
        "set", help="set an alias in ./aliases.json (or $LLM_INTERFACE_ALIASES)", parents=[common],
        epilog=_example("aliases"), formatter_class=argparse.RawDescriptionHelpFormatter)
    alias_set.add_argument("provider")
    alias_set.add_argument("alias")
    alias_set.add_argument("model")
    alias_set.add_argument("--embeddings", action="store_true", help="an embeddings alias (default: chat)")
    alias_set.add_argument("--file", help="the alias file to write (default: $LLM_INTERFACE_ALIASES, else ./aliases.json)")
    alias_set.set_defaults(run=_aliases_set)

    cache = command("cache", "show statistics of a persistent cache, or clear it")
    cache.add_argument("action", choices=["stats", "clear"])
    cache.add_argument("--backend", required=True, help="files, sqlite or redis (the memory cache lives in one process)")
    cache.add_argument("--path", help="the cache's directory or file")
    cache.add_argument("--url", help="redis://... for the redis backend")
    cache.add_argument("--json", action="store_true")
    cache.set_defaults(run=_cache)

    models = command("models", "list the Inference Providers catalogue: providers, prices, context, tools")
    models.add_argument("model", nargs="?", help="one model id: all its providers")
    models.add_argument("--task", help="chat (the router's catalogue, default), embeddings, completion, classify")
    models.add_argument("--provider", help="only models this Inference Provider serves, e.g. together")
    models.add_argument("--json", action="store_true")
    models.set_defaults(run=_models)

    serve = command("serve", "run the OpenAI-compatible proxy (needs the [server] extra)")
    serve.add_argument("--config", required=True, help="a config.yaml in LiteLLM's format (see docs/proxy.md)")
    serve.add_argument("--host", help="address to bind (default from the config, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default from the config, else 4000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (share a cache and limits through Redis)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(run=_serve)

    doctor = command("doctor", "check the key, account, endpoint, cache, Redis and aliases; say what to fix "
                               "(exit 1 when a check fails)")
    doctor.add_argument("--api-base", help="the endpoint or TGI/TEI server to check (else HUGGINGFACE_API_BASE)")
    doctor.add_argument("--cache", help="a persistent cache to check: files, sqlite or redis")
    doctor.add_argument("--cache-path", help="its directory or file (redis: its URL)")
    doctor.add_argument("--redis-url", help="a Redis to check (else $REDIS_URL)")
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each server (default 5)")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(run=_doctor)

    logs = command("logs", "read the log of calls (client.configure_log, or $LLM_INTERFACE_LOG for the CLI)")
    logs.add_argument("action", nargs="?", default="list", choices=["list", "show", "search", "export", "path"])
    logs.add_argument("value", nargs="?", help="show: the call's id; search: the text")
    logs.add_argument("--path", help="the log file (default $LLM_INTERFACE_LOG, else ~/.local/share/llm_interface/calls.db)")
    logs.add_argument("-n", "--limit", type=int, default=20, help="list/search: how many calls, newest first (default 20)")
    logs.add_argument("--json", action="store_true", help="JSON (export: one call per line, always)")
    logs.set_defaults(run=_logs)
    return parser


# -- commands -------------------------------------------------------------------------------------


def _client(args):
    from .client import Client
    from .servers.waking import waking_reporter

    interface = {"retry_attempts": args.retries} if getattr(args, "retries", None) is not None else None
    client = Client(interface_options=interface)
    client.on("retry", waking_reporter(lambda line: print(line, file=sys.stderr)))  # scaled-to-zero endpoints
    from .call_log_db import LOG_ENV

    if os.environ.get(LOG_ENV):  # opt-in, as in the library: the CLI's calls go to the log too
        client.configure_log()
    return client


def _options(args, **params):
    import json

    from .errors import InvalidRequestError

    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidRequestError(f"--option takes KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    given = {"model": args.model, "api_base": args.api_base, "timeout": args.timeout, **params}
    options.update({k: v for k, v in given.items() if v is not None})
    return options


def _read_lines(items):
    """'-' among the arguments stands for the lines of standard input."""
    texts: list = []
    for item in items:
        if item == "-":
            texts.extend(line for line in sys.stdin.read().splitlines() if line.strip())
        else:
            texts.append(item)
    return texts


def _print_json(value):
    import json

    print(json.dumps(value, ensure_ascii=False))


def _send(args):
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    message = [{"role": "system", "content": args.system}, {"role": "user", "content": prompt}] if args.system else prompt
    options = _options(args, max_tokens=args.max_tokens, temperature=args.temperature, stop=args.stop)
    with _client(args) as client:
        if not args.stream:
            response = client.send_message(args.provider, message, options)
            _print_json(response.to_dict()) if args.json else print(response.results)
            return 0
        with client.stream_message(args.provider, message, options) as stream:
            for chunk in stream:
                if args.json:
                    _print_json({"text": chunk.text, "index": chunk.index, "finish_reason": chunk.finish_reason})
                elif chunk.text:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
            if args.json:
                _print_json(stream.response.to_dict())
            else:
                print()
    return 0


def _chat(args):
    from .chat_repl import run
    from .session import Session

    options = _options(args)
    model = options.pop("model", None)
    client = _client(args)
    with client:
        if args.load:
            session = Session.load(args.load, client=client)
            session.options.update(options)
            session.model = model or session.model
            session.system = args.system or session.system
            if args.fallback:
                session.interface_options = {**(session.interface_options or {}), "fallbacks": args.fallback}
        else:
            fallbacks = {"fallbacks": args.fallback} if args.fallback else None
            session = Session(args.provider, model, args.system, options, fallbacks, client=client)
        return run(session)


def _embed(args):
    texts = _read_lines(args.texts)
    with _client(args) as client:
        answer = client.embeddings(args.provider, texts, _options(args))
    if args.json:
        usage = answer.usage.as_dict() if answer.usage else None
        _print_json({"model": answer.model, "embeddings": answer.embeddings, "usage": usage})
    else:
        for vector in answer.embeddings:
            _print_json(vector)
    return 0


def _classify(args):
    texts = _read_lines(args.texts)
    with _client(args) as client:
        answer = client.classify(args.provider, texts, _options(args))
    if args.json:
        _print_json([[{"label": lab.label, "score": lab.score} for lab in c.labels] for c in answer.classifications])
    else:
        for classification in answer.classifications:
            print(f"{classification.label}\t{classification.score:.4f}")
    return 0


def _rerank(args):
    documents = _read_lines(args.documents)
    with _client(args) as client:
        answer = client.rerank(args.provider, args.query, documents, _options(args))
    results = sorted(answer.results, key=lambda r: r.score, reverse=True)
    if args.json:
        _print_json([{"index": r.index, "score": r.score, "text": documents[r.index]} for r in results])
    else:
        for r in results:
            print(f"{r.index}\t{r.score:.4f}\t{documents[r.index]}")
    return 0


def _aliases_list(args):
    from .client import Client

    table = Client().get_all_model_names()
    if args.provider:
        from .providers import provider_class

        name = provider_class(args.provider).name
        table = {name: table[name]}
    if args.json:
        _print_json(table)
        return 0
    for provider, kinds in table.items():
        for kind, aliases in kinds.items():
            for alias, model in sorted(aliases.items()):
                print(f"{provider}\t{kind}\t{alias}\t{model}")
    return 0


def _aliases_set(args):
    from .aliases import write_alias
    from .providers import provider_class

    provider = provider_class(args.provider).name
    kind = "embeddings" if args.embeddings else "chat"
    path = write_alias(provider, args.alias, args.model, kind=kind, path=args.file)
    print(f"{provider}\t{kind}\t{args.alias}\t{args.model}\t(written to {path})")
    return 0


def _cache(args):
    from .cache import make_cache
    from .errors import ConfigurationError

    if args.backend == "memory":
        raise ConfigurationError("The memory cache lives inside one process; name a persistent one: --backend files|sqlite|redis.")
    extra = {"url": args.url} if args.url else {}
    cache = make_cache(args.backend, path=args.path, **extra)  # a bad path or URL: ConfigurationError, exit 2
    try:
        # Asked directly (no Client is needed): the command must report what happened, and an
        # unavailable store is a failure, not "cleared" (Client.flush_cache raises for the same reason).
        if args.action == "clear":
            cache.clear()
            stats: dict = {"cleared": True}
        else:
            stats = {"entries": len(cache)}  # type: ignore[arg-type]  # every persistent backend has __len__
    except cache.failures as exc:
        what = "nothing was cleared" if args.action == "clear" else "no statistics"
        line = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"llm-interface: error: the {args.backend} cache is unavailable ({line}); {what}. "
              "Check that the store is running and reachable (--url, --path).", file=sys.stderr)
        return 1
    finally:
        cache.close()
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key}\t{value}")
    return 0


def _models(args):
    from .catalogue import catalogue_rows
    from .client import Client

    with Client() as client:
        if args.model:
            found = [client.get_model_info("huggingface", args.model)]
        else:
            found = client.list_models("huggingface", args.task, args.provider)
    if args.json:
        _print_json([model.to_dict() for model in found])
    else:
        for line in catalogue_rows(found, args.provider):
            print(line)
    return 0


def _serve(args):
    from .server import ProxyConfig, serve

    config = ProxyConfig.load(args.config)
    serve(config, host=args.host, port=args.port, log_level=args.log_level, workers=args.workers, config_path=args.config)
    return 0


def _doctor(args):
    from .doctor import run_cli

    return run_cli(args)


def _logs(args):
    from .call_log_cli import run_cli

    return run_cli(args)


# -- entry point ----------------------------------------------------------------------------------


def main(argv=None):
    args = _parser().parse_args(argv)
    from .errors import ConfigurationError, LLMInterfaceError

    try:
        return args.run(args)
    except LLMInterfaceError as error:
        if args.debug:
            import traceback

            traceback.print_exc()
        line = " ".join(str(error).split())  # one line, whatever the server said
        print(f"llm-interface: error: {type(error).__name__}: {line}", file=sys.stderr)
        return 2 if isinstance(error, ConfigurationError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `llm-interface ... | head`: the reader left; stay quiet, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
