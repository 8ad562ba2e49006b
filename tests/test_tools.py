"""The tool loop (llm_interface/tools.py, Session.send/stream(tools=...)) against a loopback server that replays
TGI's recorded tool-call answers (tgi-snapshots/test_tools_llama) turn by turn, and the schemas built from
Python signatures."""

from __future__ import annotations

import enum
import json
import threading
from typing import Dict, List, Literal, Optional

import pytest
from recordings import snapshot
from support.loopback import Answer, LoopbackServer, Reply

from llm_interface import Client, Session, errors
from llm_interface.tools import Tool, Toolbox, tool

TOOL_CALL = "test_tools_llama/test_flash_llama_grammar_tools_auto_nostream.json"  # get_current_weather(Brooklyn, NY)
TOOL_REPLY = "test_tools_llama/test_flash_llama_tool_reply_response.json"  # the answer after the tool's result
NO_TOOL = "test_tools_llama/test_flash_llama_grammar_tools_insufficient_information_nostream.json"
TOOL_STREAM = "test_tools_llama/test_flash_llama_grammar_tools_choice_stream.json"


def recorded(name: str) -> Answer:
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(snapshot(name)).encode("utf-8"))


def recorded_stream(name: str) -> Answer:
    events = b"".join(b"data:" + json.dumps(event).encode("utf-8") + b"\n\n" for event in snapshot(name))
    return Answer(200, {"Content-Type": "text/event-stream"}, events + b"data: [DONE]\n\n")


def with_call(name: str, arguments: str) -> Answer:
    """The recorded tool-call answer, asking for another function or arguments."""
    body = snapshot(TOOL_CALL)
    body["choices"][0]["message"]["tool_calls"][0]["function"].update(name=name, arguments=arguments)
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8"))


class Weather:
    """A tool that records its calls."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, str]] = []

    def __call__(self, location: str, format: Literal["celsius", "fahrenheit"] = "celsius") -> str:
        """Get the current weather.

        Args:
            location: the city and state, e.g. San Francisco, CA
            format: the temperature unit to use
        """
        self.calls.append({"location": location, "format": format})
        return f"72 degrees {format} in {location}"


@pytest.fixture
def endpoint():
    with LoopbackServer(default=Answer(500, {}, b'{"error": "unscripted"}')) as server:
        yield server


@pytest.fixture
def session(endpoint):
    client = Client(interface_options={"retry_attempts": 0})
    yield Session("huggingface", api_base=endpoint.url, client=client)
    client.close()


def weather_tool(weather: Weather) -> Tool:
    return tool(weather, name="get_current_weather")


# -- the loop -------------------------------------------------------------------------------------


def test_a_tool_call_is_run_and_its_result_fed_back(endpoint, session):
    weather = Weather()
    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY))
    answer = session.send("What is the weather like in Brooklyn?", tools=[weather_tool(weather)])
    assert weather.calls == [{"location": "Brooklyn, NY", "format": "fahrenheit"}]
    assert answer.results == snapshot(TOOL_REPLY)["choices"][0]["message"]["content"] and not answer.tool_calls
    first, second = (r.body for r in endpoint.requests)
    assert first["tools"][0]["function"]["name"] == "get_current_weather"
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "get_current_weather"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "0", "name": "get_current_weather",
                                      "content": "72 degrees fahrenheit in Brooklyn, NY"}
    assert [m["role"] for m in session.history] == ["user", "assistant", "tool", "assistant"]


def test_the_loop_runs_over_several_turns(endpoint, session):
    weather = Weather()
    endpoint.script(recorded(TOOL_CALL), with_call("get_current_weather", '{"location": "Paris"}'), recorded(TOOL_REPLY))
    session.send("Brooklyn, then Paris?", tools=[weather_tool(weather)])
    assert [c["location"] for c in weather.calls] == ["Brooklyn, NY", "Paris"]
    assert weather.calls[1]["format"] == "celsius"  # the default, as the schema says
    assert endpoint.count == 3


def test_an_answer_without_tool_calls_ends_the_loop_at_once(endpoint, session):
    weather = Weather()
    endpoint.script(recorded(NO_TOOL))
    answer = session.send("Who are you?", tools=[weather_tool(weather)])
    assert answer.results.startswith("I'm an artificial intelligence") and weather.calls == [] and endpoint.count == 1


def test_a_refused_call_is_not_run_and_the_model_is_told(endpoint, session):
    weather, asked = Weather(), []
    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY))

    def approve(call):
        asked.append((call.id, call.name, call.arguments))
        return False

    session.send("Weather?", tools=Toolbox([weather_tool(weather)], approve=approve))
    assert weather.calls == []
    assert asked == [("0", "get_current_weather", {"location": "Brooklyn, NY", "format": "fahrenheit"})]
    assert endpoint.requests[1].body["messages"][-1]["content"].startswith("Refused")


def test_a_tool_that_hangs_is_reported_as_timed_out_and_never_blocks(endpoint, session):
    release = threading.Event()

    def get_current_weather(location: str, format: str = "celsius") -> str:
        release.wait(30)
        return "too late"

    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY))
    try:
        answer = session.send("Weather?", tools=Toolbox([get_current_weather], timeout=0.2))
    finally:
        release.set()
    assert "timed out after 0.2 seconds" in endpoint.requests[1].body["messages"][-1]["content"]
    assert answer.results.startswith("I can't access real-time data")


def test_a_tool_exception_is_fed_back_not_raised(endpoint, session):
    def get_current_weather(location: str, format: str = "celsius") -> str:
        raise LookupError(f"no station near {location}")

    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY))
    session.send("Weather?", tools=[get_current_weather])
    assert endpoint.requests[1].body["messages"][-1]["content"] == "Error: LookupError: no station near Brooklyn, NY"


@pytest.mark.parametrize("name, arguments, expected", [
    ("launch_rockets", "{}", "there is no tool named 'launch_rockets'"),
    ("get_current_weather", "{not json", "not a JSON object"),
    ("get_current_weather", '{"city": "Paris"}', "wrong arguments for get_current_weather"),
])
def test_a_bad_call_from_the_model_is_fed_back_as_an_error(endpoint, session, name, arguments, expected):
    weather = Weather()
    endpoint.script(with_call(name, arguments), recorded(TOOL_REPLY))
    session.send("Weather?", tools=[weather_tool(weather)])
    assert expected in endpoint.requests[1].body["messages"][-1]["content"] and weather.calls == []


def test_max_turns_stops_the_loop_and_keeps_the_history_valid(endpoint, session):
    weather = Weather()
    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_CALL), recorded(TOOL_REPLY))
    answer = session.send("Weather?", tools=Toolbox([weather_tool(weather)], max_turns=2))
    assert endpoint.count == 2 and len(weather.calls) == 1
    assert answer.tool_calls  # the model still asked: the caller can tell the loop stopped
    assert session.history[-1]["role"] == "tool" and session.history[-1]["content"].startswith("Not run")


def test_a_failed_model_call_inside_the_loop_raises_its_typed_error(endpoint, session):
    endpoint.script(recorded(TOOL_CALL), Answer(401, {"Content-Type": "application/json"}, b'{"error": "Invalid token"}'))
    with pytest.raises(errors.AuthenticationError):
        session.send("Weather?", tools=[weather_tool(Weather())])


def test_the_loop_streams_the_chunks_of_every_turn(endpoint, session):
    weather = Weather()
    endpoint.script(recorded_stream(TOOL_STREAM), Reply("It is 72 degrees."))
    chunks = list(session.stream("Weather in Brooklyn?", tools=[weather_tool(weather)]))
    assert weather.calls == [{"location": "Brooklyn, NY", "format": "fahrenheit"}]
    assert any(chunk.tool_calls for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == "It is 72 degrees."
    assert endpoint.requests[1].body["messages"][-1]["content"] == "72 degrees fahrenheit in Brooklyn, NY"
    assert [m["role"] for m in session.history] == ["user", "assistant", "tool", "assistant"]


def test_async_tools_are_awaited(endpoint, session):
    async def get_current_weather(location: str, format: str = "celsius") -> dict:
        return {"location": location, "temperature": 22}

    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY))
    session.send("Weather?", tools=[get_current_weather])
    assert json.loads(endpoint.requests[1].body["messages"][-1]["content"]) == {"location": "Brooklyn, NY", "temperature": 22}


# -- schemas --------------------------------------------------------------------------------------


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


def forecast(city: str, days: int, hourly: bool = False, unit: Unit = Unit.C, note: Optional[str] = None,
             tags: List[str] = [], limits: Optional[Dict[str, float]] = None, scale: float = 1.0,  # noqa: B006
             mode: Literal["fast", "exact"] = "fast") -> str:
    """Forecast the weather.

    Longer text that the model does not need.

    Args:
        city: the city's name
        days (int): how many days ahead
    """
    return ""


def test_the_schema_comes_from_the_signature_and_the_docstring():
    assert Tool(forecast).schema() == {"type": "function", "function": {
        "name": "forecast",
        "description": "Forecast the weather.",
        "parameters": {"type": "object", "required": ["city", "days"], "properties": {
            "city": {"type": "string", "description": "the city's name"},
            "days": {"type": "integer", "description": "how many days ahead"},
            "hourly": {"type": "boolean", "default": False},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "note": {"type": ["string", "null"], "default": None},
            "tags": {"type": "array", "items": {"type": "string"}, "default": []},
            "limits": {"type": ["object", "null"], "additionalProperties": {"type": "number"}, "default": None},
            "scale": {"type": "number", "default": 1.0},
            "mode": {"type": "string", "enum": ["fast", "exact"], "default": "fast"},
        }},
    }}


def test_sphinx_params_and_pep604_unions():
    def add(a: int, b: "int | None" = None) -> int:
        """:param a: the first number
        :param b: the second one"""
        return a + (b or 0)

    parameters = Tool(add).parameters
    assert parameters["properties"]["a"] == {"type": "integer", "description": "the first number"}
    assert parameters["properties"]["b"]["type"] == ["integer", "null"] and parameters["required"] == ["a"]


def test_a_type_without_a_schema_is_a_typed_error_naming_the_parameter():
    class Point:
        pass

    def move(to: Point) -> None:
        """Move."""

    with pytest.raises(errors.InvalidRequestError, match=r"move\(to\)"):
        Tool(move)


@pytest.mark.parametrize("make, complaint", [
    (lambda: Toolbox([]), "empty"),
    (lambda: Toolbox(len), "list of functions"),
    (lambda: Toolbox([forecast, forecast]), "Two tools"),
    (lambda: Toolbox([forecast], timeout=0), "timeout"),
    (lambda: Toolbox([forecast], max_turns=0), "max_turns"),
    (lambda: Tool(forecast, name="has space"), "letters, digits"),
])
def test_bad_tool_settings_are_typed_errors(make, complaint):
    with pytest.raises(errors.InvalidRequestError, match=complaint):
        make()


def test_the_async_twins_run_the_loop_too(endpoint, session):
    import asyncio

    weather = Weather()
    endpoint.script(recorded(TOOL_CALL), recorded(TOOL_REPLY), recorded_stream(TOOL_STREAM), Reply("Still 72."))

    async def main():
        answer = await session.send_async("Weather?", tools=[weather_tool(weather)])
        chunks = [chunk async for chunk in session.stream_async("Again?", tools=[weather_tool(weather)])]
        return answer, chunks

    answer, chunks = asyncio.run(main())
    assert answer.results.startswith("I can't access real-time data")
    assert "".join(c.text for c in chunks) == "Still 72." and len(weather.calls) == 2
    assert [m["role"] for m in session.history] == ["user", "assistant", "tool", "assistant"] * 2
