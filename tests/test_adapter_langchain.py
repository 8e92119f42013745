"""modelhub.adapters.langchain against the real langchain-core: invoke, stream (sync
and async), bind_tools, AIMessage.tool_calls, usage_metadata and structured output,
on the scripted model and on openai_chat against the loopback server."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from modelhub import errors
from modelhub.adapters.langchain import ChatModelhub
from modelhub.testing import reply, scripted, tool_call
from tests.adapter_support import missing_framework_message, openai_config
from tests.openai_server import OpenAIServer, chat_chunks, chat_completion, json_reply, sse_reply


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: First.
        b: Second.
    """
    return a * b


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def test_invoke_text_usage_and_metadata() -> None:
    llm = scripted("lc-text", reply("Hello!", usage=(7, 2), reasoning="think"), register=False)
    model = ChatModelhub(model=llm, model_kwargs={"temperature": 0.5})
    message = model.invoke([SystemMessage("be nice"), HumanMessage("hi")], stop=["END"])
    assert isinstance(message, AIMessage) and message.content == "Hello!"
    assert message.usage_metadata == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["config_name"] == "lc-text"
    assert message.additional_kwargs["reasoning_content"] == "think"
    call = llm.last_call
    assert call.messages == [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]
    assert call.stop == ["END"] and call.params == {"temperature": 0.5}


def test_bind_tools_and_tool_calls_round_trip() -> None:
    llm = scripted("lc-tools", [tool_call("multiply", a=6, b=7, id="c1"), tool_call("multiply", a=1, b=2, id="c2")],
                   "42 and 2", register=False)
    model = ChatModelhub(model=llm).bind_tools([multiply], tool_choice="multiply")
    first = model.invoke("6*7 and 1*2?")
    assert [(c["name"], c["args"], c["id"]) for c in first.tool_calls] == [
        ("multiply", {"a": 6, "b": 7}, "c1"), ("multiply", {"a": 1, "b": 2}, "c2")]
    assert llm.last_call.tool_names == ["multiply"]
    assert llm.last_call.tool_choice == {"type": "function", "function": {"name": "multiply"}}
    results = [ToolMessage(str(multiply.invoke(c["args"])), tool_call_id=c["id"]) for c in first.tool_calls]
    second = model.invoke([HumanMessage("6*7 and 1*2?"), first, *results])
    assert second.content == "42 and 2"
    sent = llm.last_call.messages
    assert sent[1]["tool_calls"][0]["function"]["name"] == "multiply"
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": "42"}


def test_tool_choice_spellings() -> None:
    llm = scripted("lc-choice", "a", "b", register=False)
    ChatModelhub(model=llm).bind_tools([multiply], tool_choice="any").invoke("x")
    assert llm.last_call.tool_choice == "required"
    ChatModelhub(model=llm).bind_tools([multiply]).invoke("x")
    assert llm.last_call.tool_choice is None


def test_stream_chunks_then_tool_calls_and_usage() -> None:
    llm = scripted("lc-stream", reply(chunks=["Let ", "me ", "compute."], usage=(3, 4),
                                      tool_calls=[tool_call("multiply", a=2, b=5, id="s1")]),
                   register=False)
    chunks = list(ChatModelhub(model=llm).bind_tools([multiply]).stream("2*5"))
    assert [c.content for c in chunks[:3]] == ["Let ", "me ", "compute."]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == "Let me compute."
    assert merged.tool_calls == [{"name": "multiply", "args": {"a": 2, "b": 5}, "id": "s1", "type": "tool_call"}]
    assert merged.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert llm.last_call.stream


async def test_async_invoke_and_stream() -> None:
    llm = scripted("lc-async", "async hello", reply(chunks=["a", "b"]), register=False)
    model = ChatModelhub(model=llm)
    assert (await model.ainvoke("x")).content == "async hello"
    assert llm.last_call.is_async
    pieces = [c.content async for c in model.astream("y")]
    assert pieces[:2] == ["a", "b"] and llm.last_call.is_async and llm.last_call.stream


def test_structured_output_by_function_calling() -> None:
    llm = scripted("lc-fc", tool_call("Person", name="Ada", age=36), register=False)
    result = ChatModelhub(model=llm).with_structured_output(Person).invoke("Who?")
    assert result == Person(name="Ada", age=36)
    assert llm.last_call.tool_names == ["Person"] and llm.last_call.tool_choice == "required"


def test_structured_output_by_json_schema_and_json_mode() -> None:
    llm = scripted("lc-js", reply(json_value={"name": "Bo", "age": 5}),
                   reply(json_value={"name": "Cy", "age": 9}), "not json", register=False)
    model = ChatModelhub(model=llm)
    assert model.with_structured_output(Person, method="json_schema").invoke("x") == Person(name="Bo", age=5)
    assert llm.last_call.response_format is not None and llm.last_call.response_format.name == "Person"
    assert model.with_structured_output(Person, method="json_mode").invoke("x") == Person(name="Cy", age=9)
    assert llm.last_call.response_format is not None and llm.last_call.response_format.kind == "json_object"
    with pytest.raises(errors.ResponseParseError):
        model.with_structured_output(Person, method="json_schema").invoke("x")


def test_structured_output_include_raw() -> None:
    llm = scripted("lc-raw", reply(json_value={"name": "Di", "age": 1}), register=False)
    out = ChatModelhub(model=llm).with_structured_output(
        Person.model_json_schema(), method="json_schema", include_raw=True).invoke("x")
    assert out["parsed"] == {"name": "Di", "age": 1} and out["parsing_error"] is None
    assert isinstance(out["raw"], AIMessage)


def test_on_openai_chat_over_the_wire(openai_server: OpenAIServer) -> None:
    name = openai_config(openai_server, "lc-openai")
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=[
        {"id": "w1", "name": "multiply", "arguments": '{"a": 3, "b": 3}'}])))
    model = ChatModelhub(model=name)
    message = model.bind_tools([multiply], tool_choice="any").invoke("3*3", stop=["\n\n"])
    assert message.tool_calls[0]["args"] == {"a": 3, "b": 3}
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] == 21
    body = openai_server.last.json
    assert body["tool_choice"] == "required" and body["stop"] == ["\n\n"]
    assert body["tools"][0]["function"]["name"] == "multiply"
    openai_server.enqueue(sse_reply(chat_chunks(["It ", "is ", "9."])))
    text = "".join(str(c.content) for c in model.stream("so?"))
    assert text == "It is 9." and openai_server.last.json["stream"] is True


def test_by_config_name_and_llm_type() -> None:
    scripted("lc-named", "named")
    model = ChatModelhub(model="lc-named")
    assert model.invoke("x").content == "named"
    assert model._llm_type == "modelhub" and model._identifying_params["config_name"] == "lc-named"


def test_missing_langchain_names_the_extra() -> None:
    out = missing_framework_message("modelhub.adapters.langchain", "langchain_core")
    assert out.startswith("MissingDependencyError") and "modelhub[langchain]" in out
