"""Parse-and-retry: an answer that does not match the response_format is asked for
again with the error shown to the model, `parse_retries` times (per config, per call;
none by default), then ResponseParseError carries the model's text."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.testing import reply, scripted
from modelhub.wrappers.chat import ChatWrapperBase
from tests.openai_server import OpenAIServer, chat_completion, json_reply


class City(BaseModel):
    name: str
    population: int


GOOD = '{"name": "Tokyo", "population": 14000000}'


def test_a_bad_answer_is_asked_for_again_with_the_error() -> None:
    llm = scripted("parse-llm", '{"name": "Tokyo", "population": "many"}', f"```json\n{GOOD}\n```",
                   register=False)
    response = llm("Largest city in Japan?", response_format=City, parse_retries=2)
    assert response.parsed == City(name="Tokyo", population=14000000)
    assert len(llm.calls) == 2
    again = llm.calls[1].messages
    assert again[:1] == llm.calls[0].messages
    assert again[1] == {"role": "assistant", "content": '{"name": "Tokyo", "population": "many"}'}
    assert again[2]["role"] == "user"
    assert "population: Input should be a valid integer" in again[2]["content"]
    assert '"required": ["name", "population"]' in again[2]["content"]  # the schema, to follow
    assert llm.calls[1].response_format is not None


def test_after_the_last_retry_the_error_carries_the_text() -> None:
    llm = scripted("parse-llm", "not json", "still not", "nope", "unused", register=False)
    with pytest.raises(errors.ResponseParseError, match="does not match 'City'") as caught:
        llm("?", response_format=City, parse_retries=2)
    assert caught.value.text == "nope" and caught.value.attempts == 3
    assert caught.value.config_name == "parse-llm" and llm.remaining == 1


@pytest.mark.parametrize(("config", "call", "calls"), [
    ({}, {}, 1),  # by default an answer that does not parse is an error at once
    ({"parse_retries": 0}, {"parse_retries": 2}, 3),
    ({"parse_retries": 4}, {}, 5),
    ({"parse_retries": 4}, {"parse_retries": 1}, 2),
    ({"generate_args": {"parse_retries": 3}}, {}, 4),
])
def test_the_number_of_retries_per_config_and_per_call(config: dict, call: dict,
                                                       calls: int) -> None:
    registry = Registry()
    registry.init([{"config_name": "r", "model_type": "scripted", "default": "not json",
                    **config}])
    llm = registry.get("r")
    with pytest.raises(errors.ResponseParseError) as caught:
        llm("?", response_format={"type": "json_object"}, **call)  # type: ignore[call-arg]
    assert caught.value.attempts == calls and len(llm.calls) == calls  # type: ignore[attr-defined]


def test_parse_retries_is_checked() -> None:
    llm = scripted("parse-llm", register=False)
    with pytest.raises(TypeError, match="parse_retries"):
        llm("?", response_format=City, parse_retries=-1)
    with pytest.raises(errors.ConfigError, match="parse_retries"):
        Registry().init([{"config_name": "r", "model_type": "scripted", "parse_retries": -1}])


def test_without_a_response_format_nothing_is_retried() -> None:
    llm = scripted("parse-llm", "plain text", register=False)
    assert llm("?").text == "plain text" and len(llm.calls) == 1


def test_async_calls_retry_too() -> None:
    llm = scripted("parse-llm", "{}", GOOD, register=False)
    response = asyncio.run(llm.acall("?", response_format=City, parse_retries=1))
    assert response.parsed.name == "Tokyo" and [c.is_async for c in llm.calls] == [True, True]


def test_a_stream_is_parsed_at_its_end_without_retries() -> None:
    llm = scripted("parse-llm", reply(chunks=["not ", "json"]), register=False)
    stream = llm("?", response_format=City, stream=True, parse_retries=2)
    with pytest.raises(errors.ResponseParseError) as caught:
        list(stream)
    assert caught.value.text == "not json" and len(llm.calls) == 1


def test_retry_over_the_openai_wire(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion('{"name": 1}')),
                          json_reply(chat_completion(GOOD)))
    registry = Registry()
    registry.init([{"config_name": "gpt", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
                    "api_key": "sk-test", "base_url": openai_server.base_url,
                    "parse_retries": 1}])
    model = registry.get("gpt", ChatWrapperBase)
    response = model("Largest city in Japan?", response_format=City)
    assert response.parsed == City(name="Tokyo", population=14000000)
    second = openai_server.requests[-1].json
    assert second["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"] == '{"name": 1}'
    shown = second["messages"][2]["content"]
    assert "name: Input should be a valid string" in shown
    assert "population: Field required" in shown
    assert json.loads(shown.split("schema: ", 1)[1])["title"] == "City"
