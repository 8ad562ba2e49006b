"""The peers measured next to llm_interface, each only when it is installed (``importlib.util.find_spec``):
huggingface_hub's ``InferenceClient``, openai's ``OpenAI``, LiteLLM's ``completion``. Each gives the same
calls as bench_core's: one non-streaming answer, one whole stream read (its chunk count), a maker of short
stream readers (for the connection count), and its import and cold-start statements."""

from __future__ import annotations

import importlib.util
from typing import Any, Callable, Dict

from bench_core import KEY, QUESTION, SHORT_WORD

MESSAGES = [{"role": "user", "content": QUESTION}]
LONG = [{"role": "user", "content": "Tell me a long story"}]
SHORT = [{"role": "user", "content": SHORT_WORD.decode()}]


def installed() -> Dict[str, str]:
    """Peer name -> its module, for the peers importable here."""
    modules = {"huggingface_hub": "huggingface_hub", "openai": "openai", "litellm": "litellm"}
    return {name: module for name, module in modules.items() if importlib.util.find_spec(module) is not None}


def _hf_hub(url: str) -> Any:
    from huggingface_hub import InferenceClient

    return InferenceClient(base_url=url, api_key=KEY)


def _openai(url: str) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)


def _count(chunks: Any) -> int:
    return sum(1 for chunk in chunks for choice in chunk.choices if choice.delta.content is not None)


def calls(url: str) -> Dict[str, Callable[[], str]]:
    out: Dict[str, Callable[[], str]] = {}
    peers = installed()
    if "huggingface_hub" in peers:
        hub = _hf_hub(url)
        out["huggingface_hub"] = lambda: hub.chat_completion(MESSAGES, model="tgi", max_tokens=40).choices[0].message.content
    if "openai" in peers:
        oai = _openai(url)
        out["openai"] = lambda: oai.chat.completions.create(
            model="tgi", messages=MESSAGES, max_tokens=40).choices[0].message.content
    if "litellm" in peers:
        import litellm

        out["litellm"] = lambda: litellm.completion(
            model="openai/tgi", messages=MESSAGES, max_tokens=40, api_base=url + "/v1", api_key=KEY,
        ).choices[0].message.content
    return out


def _stream_makers(url: str) -> Dict[str, Callable[[], Callable[[Any], int]]]:
    """Peer -> a maker of ``read(messages) -> content chunk count`` over one client."""
    out: Dict[str, Callable[[], Callable[[Any], int]]] = {}
    peers = installed()
    if "huggingface_hub" in peers:
        def hub() -> Callable[[Any], int]:
            client = _hf_hub(url)
            return lambda messages: _count(client.chat_completion(messages, model="tgi", stream=True))
        out["huggingface_hub"] = hub
    if "openai" in peers:
        def oai() -> Callable[[Any], int]:
            client = _openai(url)
            return lambda messages: _count(client.chat.completions.create(model="tgi", messages=messages, stream=True))
        out["openai"] = oai
    if "litellm" in peers:
        def lite() -> Callable[[Any], int]:
            import litellm

            return lambda messages: _count(litellm.completion(
                model="openai/tgi", messages=messages, stream=True, api_base=url + "/v1", api_key=KEY))
        out["litellm"] = lite
    return out


def streams(url: str) -> Dict[str, Callable[[], int]]:
    """Peer -> one whole long stream read."""
    out = {}
    for name, make in _stream_makers(url).items():
        read = make()
        out[name] = lambda read=read: read(LONG)
    return out


def short_streams(url: str) -> Dict[str, Callable[[], Callable[[], int]]]:
    """Peer -> a maker (one client) of short stream readers, for bench_core.bench_connections."""
    def short(make: Callable[[], Callable[[Any], int]]) -> Callable[[], Callable[[], int]]:
        def reader() -> Callable[[], int]:
            read = make()
            return lambda: read(SHORT)
        return reader

    return {name: short(make) for name, make in _stream_makers(url).items()}


IMPORTS = {"huggingface_hub": "from huggingface_hub import InferenceClient", "openai": "from openai import OpenAI",
           "litellm": "import litellm"}


def imports() -> Dict[str, str]:
    return {name: IMPORTS[name] for name in installed()}


def cold_starts(url: str) -> Dict[str, str]:
    statements = {
        "huggingface_hub": f"from huggingface_hub import InferenceClient\n"
                           f"InferenceClient(base_url={url!r}, api_key={KEY!r}).chat_completion({MESSAGES!r}, model='tgi', max_tokens=40)",
        "openai": f"from openai import OpenAI\n"
                  f"OpenAI(base_url={url + '/v1'!r}, api_key={KEY!r}, max_retries=0).chat.completions.create("
                  f"model='tgi', messages={MESSAGES!r}, max_tokens=40)",
        "litellm": f"import litellm\nlitellm.completion(model='openai/tgi', messages={MESSAGES!r}, max_tokens=40, "
                   f"api_base={url + '/v1'!r}, api_key={KEY!r})",
    }
    return {name: statements[name] for name in installed()}
