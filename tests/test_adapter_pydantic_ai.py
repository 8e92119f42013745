"""modelhub.adapters.pydantic_ai against the real pydantic-ai: an Agent runs on it
with tools, structured output (tool and native) and streaming, on the scripted model
and on openai_chat against the loopback server."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pydantic_ai")

from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.messages import ImageUrl

from modelhub.adapters.pydantic_ai import Model
from modelhub.testing import reply, scripted, tool_call
from tests.adapter_support import missing_framework_message, openai_config
from tests.openai_server import OpenAIServer, chat_chunks, chat_completion, json_reply, sse_reply


class City(BaseModel):
    name: str
    population: int


def test_text_answer_instructions_and_usage() -> None:
    llm = scripted("pa-text", reply("Bonjour!", usage=(11, 3)), register=False)
    model = Model(llm)
    assert (model.model_name, model.system, model.config_name) == ("pa-text", "modelhub", "pa-text")
    agent = Agent(model, instructions="Answer in French.")
    result = agent.run_sync("Hello", model_settings={"temperature": 0.2, "stop_sequences": ["##"]})
    assert result.output == "Bonjour!"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (11, 3)
    call = llm.last_call
    assert call.messages[0] == {"role": "system", "content": "Answer in French."}
    assert call.messages[-1] == {"role": "user", "content": "Hello"}
    assert call.params == {"temperature": 0.2} and call.stop == ["##"]
    assert call.tools is None


def test_agent_runs_tools_to_the_end() -> None:
    llm = scripted("pa-tools", [tool_call("add", a=2, b=40, id="t1")], "The answer is 42.",
                   register=False)
    agent = Agent(Model(llm))

    @agent.tool_plain
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    result = agent.run_sync("What is 2 + 40?")
    assert result.output == "The answer is 42."
    assert llm.calls[0].tool_names == ["add"] and llm.calls[0].tool_choice == "auto"
    second = llm.calls[1].messages
    assert second[-2]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a":2,"b":40}'}
    assert second[-1] == {"role": "tool", "tool_call_id": "t1", "content": "42"}


def test_structured_output_through_the_output_tool() -> None:
    llm = scripted("pa-out", tool_call("final_result", name="Tokyo", population=37), register=False)
    result = Agent(Model(llm), output_type=City).run_sync("Largest city?")
    assert result.output == City(name="Tokyo", population=37)
    assert llm.last_call.tool_names == ["final_result"]
    assert llm.last_call.tool_choice == "required"  # no text answer allowed


def test_native_structured_output_through_response_format() -> None:
    llm = scripted("pa-native", reply(json_value={"name": "Oslo", "population": 1}), register=False)
    result = Agent(Model(llm), output_type=NativeOutput(City)).run_sync("A city?")
    assert result.output == City(name="Oslo", population=1)
    spec = llm.last_call.response_format
    assert spec is not None and spec.kind == "json_schema" and "population" in json.dumps(spec.schema)


async def test_streamed_text_and_streamed_tool_calls() -> None:
    llm = scripted("pa-stream", reply(chunks=[], tool_calls=[tool_call("add", a=1, b=1)]),
                   reply(chunks=["Two ", "it ", "is."], usage=(5, 3)), register=False)
    agent = Agent(Model(llm))

    @agent.tool_plain
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    async with agent.run_stream("1+1?") as run:
        pieces = [piece async for piece in run.stream_text(delta=True)]
    assert "".join(pieces) == "Two it is."
    assert all(call.stream and call.is_async for call in llm.calls)
    assert llm.calls[1].messages[-1]["content"] == "2"


def test_images_go_as_content_parts() -> None:
    llm = scripted("pa-image", "a cat", register=False)
    Agent(Model(llm)).run_sync(["What is this?", ImageUrl(url="https://x.test/cat.png")])
    assert llm.last_call.messages[-1]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}]


def test_a_model_without_tools_says_so_in_its_profile() -> None:
    llm = scripted("pa-notools", "x", capabilities=["streaming"], register=False)
    profile = Model(llm).profile
    assert profile.get("supports_tools") is False and profile.get("supports_json_schema_output") is False


def test_on_openai_chat_over_the_wire(openai_server: OpenAIServer) -> None:
    name = openai_config(openai_server, "pa-openai")
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[
            {"id": "w1", "name": "final_result", "arguments": '{"name": "Lima", "population": 10}'}])))
    result = Agent(Model(name), output_type=City).run_sync("A city in Peru?")
    assert result.output == City(name="Lima", population=10)
    body = openai_server.last.json
    assert body["tools"][0]["function"]["name"] == "final_result"
    assert body["tool_choice"] == "required"
    openai_server.enqueue(sse_reply(chat_chunks(["Hola ", "amigo"])))
    with Agent(Model(name)).run_stream_sync("hi") as run:
        assert run.get_output() == "Hola amigo"
    assert openai_server.last.json["stream"] is True


def test_missing_pydantic_ai_names_the_extra() -> None:
    out = missing_framework_message("modelhub.adapters.pydantic_ai", "pydantic_ai")
    assert out.startswith("MissingDependencyError") and "modelhub[pydantic_ai]" in out
