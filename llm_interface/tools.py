"""Tools: Python functions a model may call, and the loop that runs them inside a Session.

    def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
        '''The current weather in a city.

        Args:
            city: the city's name, e.g. Paris
        '''
        ...

    chat = Session("huggingface", model="meta-llama/Llama-3.1-8B-Instruct")
    answer = chat.send("What is the weather in Paris?", tools=[get_weather])

The JSON schema comes from the signature: annotations give the types (``str``, ``int``, ``float``, ``bool``,
``list[X]``, ``dict``, ``Optional[X]``, ``Literal[...]``, an ``Enum``), a default makes a parameter optional,
the docstring's first paragraph describes the tool and its ``Args:`` (or ``:param x:``) lines the parameters.

The loop (``run_loop``, ``stream_loop``; ``Session.send/stream(..., tools=...)``): the model's answer is kept;
while it asks for tools, each call is approved (``approve(call) -> bool``, else refused with a message the
model reads), run in a worker thread for at most ``timeout`` seconds (a tool that hangs is reported as timed
out and left behind in its daemon thread: Python cannot stop a thread), and its result, or its exception as
text, goes back as an OpenAI ``{"role": "tool", "tool_call_id", "content"}`` message, until the model answers
without tools or ``max_turns`` model calls are spent. Then the pending calls are answered "not run", so the
history stays one a server accepts, and the last answer (its ``tool_calls`` not empty) is returned.
Nothing a tool does raises out of the loop; only the model call's own errors do.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import json
import re
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    Tuple,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from . import errors

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_TURNS = 8
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what OpenAI-style servers accept as a function name


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for: what ``approve`` sees. ``arguments`` is None when they are not valid JSON."""

    id: str
    name: str
    arguments: Optional[Dict[str, Any]]
    raw_arguments: str


class Tool:
    """A Python function with the JSON schema the model sees (``schema()``, OpenAI's ``tools`` entry)."""

    def __init__(self, function: Callable[..., Any], name: Optional[str] = None, description: Optional[str] = None) -> None:
        if not callable(function):
            raise errors.InvalidRequestError(f"A tool must be a function, got {function!r}.")
        self.function = function
        self.name: str = name or str(getattr(function, "__name__", ""))
        if not _NAME.match(self.name):
            raise errors.InvalidRequestError(
                f"Tool name {self.name!r} must be 1-64 letters, digits, '_' or '-'; pass tool(fn, name='...')."
            )
        summary, arguments = _parse_docstring(inspect.getdoc(_code_of(function)) or "")
        self.description = description if description is not None else summary
        self.parameters = _parameters_schema(function, arguments)

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"

    def schema(self) -> Dict[str, Any]:
        function: Dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


def tool(function: Optional[Callable[..., Any]] = None, *, name: Optional[str] = None,
         description: Optional[str] = None) -> Any:
    """``tool(fn)`` or ``@tool(name="...")``: a ``Tool`` with a name or description other than the function's."""
    if function is None:
        return lambda f: Tool(f, name, description)
    return Tool(function, name, description)


class Toolbox:
    """Tools and the loop's settings. ``approve(call) -> bool`` (None: every call runs); ``timeout``: seconds a
    call may take (None: no limit); ``max_turns``: the most model calls one ``send`` makes."""

    def __init__(
        self,
        tools: Iterable[Union[Callable[..., Any], Tool]],
        *,
        approve: Optional[Callable[[ToolCall], bool]] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_turns: int = DEFAULT_MAX_TURNS,
    ) -> None:
        if isinstance(tools, (Tool, str)) or callable(tools) or not isinstance(tools, Iterable):
            raise errors.InvalidRequestError("tools must be a list of functions (or Tool objects), e.g. tools=[get_weather].")
        self.tools: Dict[str, Tool] = {}
        for item in tools:
            made = item if isinstance(item, Tool) else Tool(item)
            if made.name in self.tools:
                raise errors.InvalidRequestError(f"Two tools are named {made.name!r}; give one another name with tool(fn, name=...).")
            self.tools[made.name] = made
        if not self.tools:
            raise errors.InvalidRequestError("tools is empty; give at least one function.")
        if approve is not None and not callable(approve):
            raise errors.InvalidRequestError("approve must be a function taking a ToolCall and returning True or False.")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
            raise errors.InvalidRequestError(f"timeout must be seconds > 0 or None, got {timeout!r}.")
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
            raise errors.InvalidRequestError(f"max_turns must be an int >= 1, got {max_turns!r}.")
        self.approve, self.timeout, self.max_turns = approve, timeout, max_turns

    def __repr__(self) -> str:
        return f"Toolbox({sorted(self.tools)}, timeout={self.timeout}, max_turns={self.max_turns})"

    def schemas(self) -> List[Dict[str, Any]]:
        return [t.schema() for t in self.tools.values()]

    def answer(self, tool_calls: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """The tool messages answering the model's ``tool_calls``, in order."""
        return [self.run(call) for call in tool_calls]

    def run(self, tool_call: Mapping[str, Any]) -> Dict[str, Any]:
        """Run one OpenAI-shaped tool call; the tool message to feed back (never raises for the tool's sake)."""
        call = _parse_call(tool_call)
        return _tool_message(call, self._outcome(call))

    def _outcome(self, call: ToolCall) -> str:
        found = self.tools.get(call.name)
        if found is None:
            return f"Error: there is no tool named {call.name!r}; the tools are: {', '.join(sorted(self.tools))}."
        if call.arguments is None:
            return f"Error: the arguments are not a JSON object: {call.raw_arguments[:200]!r}."
        if self.approve is not None and not self.approve(call):
            return "Refused: the user did not approve this call; do not retry it, answer without it."
        try:
            inspect.signature(found.function).bind(**call.arguments)
        except TypeError as exc:
            return f"Error: wrong arguments for {call.name}: {exc}. The parameters are {json.dumps(found.parameters)}."
        return _run_with_timeout(found.function, call.arguments, self.timeout, call.name)

    def not_run(self, tool_calls: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """Answers for calls left over at ``max_turns``, so the history stays valid."""
        return [
            _tool_message(call, f"Not run: the tool loop's limit of {self.max_turns} turns was reached.")
            for call in map(_parse_call, tool_calls)
        ]


def toolbox_of(tools: Any) -> Toolbox:
    """A ``Toolbox`` as given, or one over a list of functions with the default settings."""
    return tools if isinstance(tools, Toolbox) else Toolbox(tools)


# -- the loop -------------------------------------------------------------------------------------


def _with_tools(options: Optional[Mapping[str, Any]], toolbox: Toolbox) -> Dict[str, Any]:
    if options is not None and not isinstance(options, Mapping):
        raise errors.InvalidRequestError(f"options must be a dict, not {type(options).__name__}.")
    return {**(options or {}), "tools": toolbox.schemas()}


def run_loop(session: Any, message: Any, tools: Any, options: Optional[Mapping[str, Any]] = None) -> Any:
    """``session.send`` with tools: run the model's calls and feed them back until it answers (module doc)."""
    toolbox = toolbox_of(tools)
    options = _with_tools(options, toolbox)
    response = session.send(message, options)
    for _ in range(toolbox.max_turns - 1):
        if not response.tool_calls:
            return response
        response = session.send(toolbox.answer(response.tool_calls), options)
    if response.tool_calls:
        for result in toolbox.not_run(response.tool_calls):
            session.add(result)
    return response


def stream_loop(session: Any, message: Any, tools: Any, options: Optional[Mapping[str, Any]] = None) -> Iterator[Any]:
    """``session.stream`` with tools: the chunks of every turn, in order; ``session.last_response`` at the end."""
    toolbox = toolbox_of(tools)
    options = _with_tools(options, toolbox)
    for _ in range(toolbox.max_turns):
        yield from session.stream(message, options)
        response = session.last_response
        if not response.tool_calls:
            return
        message = toolbox.answer(response.tool_calls)
    for result in toolbox.not_run(response.tool_calls):
        session.add(result)


async def run_loop_async(session: Any, message: Any, tools: Any, options: Optional[Mapping[str, Any]] = None) -> Any:
    """``run_loop`` over ``session.send_async``; the tools run in a worker thread, off the event loop."""
    toolbox = toolbox_of(tools)
    options = _with_tools(options, toolbox)
    loop = asyncio.get_running_loop()
    response = await session.send_async(message, options)
    for _ in range(toolbox.max_turns - 1):
        if not response.tool_calls:
            return response
        results = await loop.run_in_executor(None, toolbox.answer, response.tool_calls)
        response = await session.send_async(results, options)
    if response.tool_calls:
        for result in toolbox.not_run(response.tool_calls):
            session.add(result)
    return response


async def stream_loop_async(session: Any, message: Any, tools: Any, options: Optional[Mapping[str, Any]] = None) -> AsyncIterator[Any]:
    """``stream_loop`` over ``session.stream_async``."""
    toolbox = toolbox_of(tools)
    options = _with_tools(options, toolbox)
    loop = asyncio.get_running_loop()
    for _ in range(toolbox.max_turns):
        async for chunk in session.stream_async(message, options):
            yield chunk
        response = session.last_response
        if not response.tool_calls:
            return
        message = await loop.run_in_executor(None, toolbox.answer, response.tool_calls)
    for result in toolbox.not_run(response.tool_calls):
        session.add(result)


# -- running one call -----------------------------------------------------------------------------


def _parse_call(tool_call: Mapping[str, Any]) -> ToolCall:
    function = tool_call.get("function") if isinstance(tool_call, Mapping) else None
    function = function if isinstance(function, Mapping) else {}
    raw = function.get("arguments")
    arguments: Optional[Dict[str, Any]]
    if isinstance(raw, Mapping):  # some servers send an object, not a JSON string
        arguments, raw = dict(raw), json.dumps(raw)
    else:
        raw = raw if isinstance(raw, str) else ""
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except ValueError:
            parsed = None
        arguments = parsed if isinstance(parsed, dict) else None
    call_id = tool_call.get("id") if isinstance(tool_call, Mapping) else None
    return ToolCall(str(call_id or ""), str(function.get("name") or ""), arguments, raw)


def _tool_message(call: ToolCall, content: str) -> Dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content or "(no output)"}


def _run_with_timeout(function: Callable[..., Any], arguments: Dict[str, Any], timeout: Optional[float], name: str) -> str:
    """The tool's result as text, or its error; a daemon thread, so a hung tool never holds the loop (or exit)."""
    outcome: Dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            value = function(**arguments)
            if inspect.isawaitable(value):
                value = asyncio.run(_awaited(value))
            outcome["value"] = value
        except BaseException as exc:  # noqa: BLE001 - the model reads the error; the loop goes on
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=target, name=f"llm-interface-tool-{name}", daemon=True).start()
    if not finished.wait(timeout):
        return f"Error: the tool {name} timed out after {timeout:g} seconds."
    if "error" in outcome:
        error = outcome["error"]
        return f"Error: {type(error).__name__}: {error}"
    return _as_text(outcome.get("value"))


async def _awaited(value: Any) -> Any:
    return await value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a circular structure
        return repr(value)


# -- schemas --------------------------------------------------------------------------------------

_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _code_of(function: Callable[..., Any]) -> Any:
    """Where a callable's annotations and docstring live: itself, or an instance's ``__call__``."""
    if isinstance(function, functools.partial):
        return _code_of(function.func)
    if inspect.isroutine(function) or inspect.isclass(function):
        return function
    return type(function).__call__  # a callable object: its method holds the annotations


def _parameters_schema(function: Callable[..., Any], described: Dict[str, str]) -> Dict[str, Any]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidRequestError(f"Cannot read the signature of {function!r}: {exc}") from exc
    try:
        hints = get_type_hints(_code_of(function))
    except (NameError, TypeError):  # an annotation naming something out of reach: each is reported below
        hints = {name: p.annotation for name, p in signature.parameters.items()}
    properties: Dict[str, Any] = {}
    required: List[str] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise errors.InvalidRequestError(f"Tool parameter {name!r} is positional-only; tools are called with keywords.")
        schema = _schema(hints.get(name, Any), f"{getattr(function, '__name__', '?')}({name})")
        if name in described:
            schema["description"] = described[name]
        if parameter.default is parameter.empty:
            required.append(name)
        elif _is_json(parameter.default):
            schema["default"] = parameter.default.value if isinstance(parameter.default, enum.Enum) else parameter.default
        properties[name] = schema
    return {"type": "object", "properties": properties, "required": required}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value.value if isinstance(value, enum.Enum) else value)
        return True
    except (TypeError, ValueError):
        return False


def _schema(annotation: Any, where: str) -> Dict[str, Any]:
    if annotation is Any or annotation is inspect.Parameter.empty:
        return {}
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [member.value for member in annotation]
        return {**_literal_type(values), "enum": values}
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return {**_literal_type(list(args)), "enum": list(args)}
    if origin is Union or (hasattr(types, "UnionType") and isinstance(annotation, types.UnionType)):
        kept = [a for a in args if a is not type(None)]
        inner = _schema(kept[0], where) if len(kept) == 1 else {"anyOf": [_schema(a, where) for a in kept]}
        if len(kept) == len(args):
            return inner
        if isinstance(inner.get("type"), str):
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if annotation in (list, tuple, set, frozenset) or origin in (list, tuple, set, frozenset):
        schema: Dict[str, Any] = {"type": "array"}
        if args and not (origin is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] is Any):
            schema["items"] = _schema(args[0], where)
        return schema
    if annotation is dict or origin is dict or annotation is Mapping or origin is Mapping:
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = _schema(args[1], where)
        return schema
    if isinstance(annotation, str):
        raise errors.InvalidRequestError(
            f"Tool parameter {where} has the type {annotation!r}, which cannot be resolved here; define it at module level."
        )
    raise errors.InvalidRequestError(
        f"Tool parameter {where} has the type {annotation!r}, which has no JSON schema here; use str, int, float, "
        "bool, list[...], dict, Optional[...], Literal[...] or an Enum."
    )


def _literal_type(values: List[Any]) -> Dict[str, Any]:
    kinds = {_SIMPLE.get(type(v)) for v in values}
    return {"type": kinds.pop()} if len(kinds) == 1 and None not in kinds else {}


def _parse_docstring(doc: str) -> Tuple[str, Dict[str, str]]:
    """(the first paragraph, {parameter: its description}) from Google-style ``Args:`` or ``:param x:`` lines."""
    summary = doc.split("\n\n", 1)[0].strip().replace("\n", " ") if doc else ""
    described: Dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        sphinx = re.match(r"^:param\s+(?:\S+\s+)?(\w+):\s*(.*)$", stripped)
        if sphinx:
            described[sphinx.group(1)] = sphinx.group(2)
            continue
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if in_args:
            google = re.match(r"^(\w+)\s*(?:\([^)]*\))?:\s*(.*)$", stripped)
            if google and line.startswith((" ", "\t")):
                described[google.group(1)] = google.group(2)
            elif stripped and not line.startswith((" ", "\t")):
                in_args = False
    if summary.startswith(("Args:", ":param")):
        summary = ""
    return summary, described
