"""zhipuai_chat on the real zai-sdk against the loopback Zhipu zhipuai_server: what goes on
the wire, what comes back, and every error as a `modelhub.errors` class."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.providers.zhipuai.chat import ZhipuAIChatWrapper
from modelhub.registry import Registry
from modelhub.wrappers.stream import ModelStream
from tests import zhipuai_server as zs
from tests.loopback import json_reply
from tests.zhipuai_server import (
    ZhipuAIServer,
    chat_chunks,
    completion,
    error_reply,
    sse_reply,
    stream_error_event,
)

# The Zhipu server fixtures (they live with the server).
zhipuai_server_session = zs.zhipuai_server_session
zhipuai_server = zs.zhipuai_server

KEY = "4f1a2b3c4d5e6f708192a3b4c5d6e7f8.AbCdEfGhIjKlMnOp"
CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]


def model(zhipuai_server: ZhipuAIServer, **extra: Any) -> ZhipuAIChatWrapper:
    reg = Registry()
    reg.init({"config_name": "glm", "model_type": "zhipuai_chat", "model_name": "glm-4",
              "api_key": KEY, "base_url": zhipuai_server.base_url, "max_retries": 0, **extra})
    wrapper = reg.get("glm")
    assert isinstance(wrapper, ZhipuAIChatWrapper)
    return wrapper


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


# -- requests and answers -------------------------------------------------------------------
def test_text_call_goes_to_chat_completions_with_the_key(zhipuai_server: ZhipuAIServer) -> None:
    resp = model(zhipuai_server, generate_args={"temperature": 0.5, "seed": 1})("Hi there",
                                                                          top_p=0.7)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert resp.model == "glm-4" and resp.config_name == "glm"
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (
        31, 217, 248)
    assert resp.usage.details["prompt_tokens_details"] == {"cached_tokens": 0}
    assert resp.raw.request_id  # the SDK's own Completion
    req = zhipuai_server.last
    assert req.path == "/api/paas/v4/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    # (the SDK itself always sends response_format and thinking, null when not given)
    assert {k: v for k, v in req.json.items() if v is not None} == {
        "model": "glm-4", "temperature": 0.5, "seed": 1, "top_p": 0.7,
        "messages": [{"role": "user", "content": "Hi there"}]}


def test_unknown_parameters_travel_in_the_body(zhipuai_server: ZhipuAIServer) -> None:
    model(zhipuai_server)("x", thinking={"type": "enabled"}, do_sample=False, some_new_flag=3)
    body = zhipuai_server.last.json
    assert body["thinking"] == {"type": "enabled"} and body["do_sample"] is False
    assert body["some_new_flag"] == 3


def test_a_misspelled_parameter_is_caught_before_sending(zhipuai_server: ZhipuAIServer) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="tool_stream"):
        model(zhipuai_server)("x", tool_steam=True)
    assert not zhipuai_server.requests


def test_reasoning_content_and_think_blocks_go_to_reasoning(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion("4", reasoning_content="2+2 is 4")),
                   json_reply(completion("<think>count</think>4", model="glm-z1-air")))
    m = model(zhipuai_server)
    first, second = m("2+2?", thinking={"type": "enabled"}), m("2+2?")
    assert (first.text, first.reasoning) == ("4", "2+2 is 4")
    assert (second.text, second.reasoning) == ("4", "count")


def test_parallel_tool_calls_and_the_round_trip(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion(None, tool_calls=CALLS)))
    m = model(zhipuai_server)
    resp = m("weather?", tools=[get_weather], tool_choice="auto")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert resp.text is None and resp.finish_reason == "tool_calls"
    body = zhipuai_server.last.json
    assert body["tool_choice"] == "auto"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    history = [{"role": "user", "content": "weather?"}, resp.as_message(),
               {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    m(history, tools=[get_weather])
    sent = zhipuai_server.last.json["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather",
                                                    "arguments": '{"city": "Paris"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


def test_tool_choice_none_sends_no_tools_and_forcing_a_tool_is_refused(
        zhipuai_server: ZhipuAIServer) -> None:
    m = model(zhipuai_server)
    m("x", tools=[get_weather], tool_choice="none")
    assert "tools" not in zhipuai_server.last.json and "tool_choice" not in zhipuai_server.last.json
    zhipuai_server.reset()
    for choice in ("required", "get_weather"):
        with pytest.raises(errors.UnsupportedFeatureError, match="only be 'auto'"):
            m("x", tools=[get_weather], tool_choice=choice)
    assert not zhipuai_server.requests


def test_one_stop_word_is_sent_and_the_others_are_trimmed(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion("Thought: go\nObservation: rain")))
    resp = model(zhipuai_server)("x", stop=["END", "\nObservation:"])
    assert zhipuai_server.last.json["stop"] == ["END"]
    assert resp.text == "Thought: go"
    model(zhipuai_server)("x", stop="END")
    assert zhipuai_server.last.json["stop"] == ["END"]


class City(BaseModel):
    name: str
    population: int


def test_response_format_is_json_mode_with_the_schema_in_the_system_prompt(
        zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion('{"name": "Tokyo", "population": 37}')),
                   json_reply(completion('```json\n{"a": 1}\n```')))
    m = model(zhipuai_server)
    resp = m([{"role": "system", "content": "Be terse."},
              {"role": "user", "content": "largest city?"}], response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    body = zhipuai_server.last.json
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be terse.\n\n")
    assert json.loads(system["content"].split("Schema:\n", 1)[1])["title"] == "City"
    assert m("x", response_format={"type": "json_object"}).parsed == {"a": 1}
    assert zhipuai_server.last.json["messages"] == [{"role": "user", "content": "x"}]


def test_images_are_sent_and_the_callers_message_is_not_rewritten(
        zhipuai_server: ZhipuAIServer) -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
             {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]
    messages = [{"role": "user", "content": parts}]
    model(zhipuai_server, model_name="glm-4v-plus")(messages)
    sent = zhipuai_server.last.json["messages"][0]["content"]
    # The SDK sends base64 without its data: prefix, as Zhipu takes it ...
    assert sent[1] == {"type": "image_url", "image_url": {"url": "iVBORw0KGgo="}}
    assert sent[2] == parts[2]
    # ... on a copy: what the caller passed is as it was.
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_video_url_becomes_a_video_url_part_and_frames_are_refused(
        zhipuai_server: ZhipuAIServer) -> None:
    m = model(zhipuai_server, model_name="glm-4v-plus")
    m([{"role": "user", "content": [{"type": "video", "video": ["https://x/a.mp4"]},
                                    {"type": "text", "text": "what happens?"}]}])
    assert zhipuai_server.last.json["messages"][0]["content"][0] == {
        "type": "video_url", "video_url": {"url": "https://x/a.mp4"}}
    with pytest.raises(errors.UnsupportedFeatureError, match="one web URL"):
        m([{"role": "user", "content": [{"type": "video", "video": ["a.jpg", "b.jpg"]}]}])


def test_audio_parts_pass_through(zhipuai_server: ZhipuAIServer) -> None:
    part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    model(zhipuai_server, model_name="glm-4-voice")([{"role": "user", "content": [part]}])
    assert zhipuai_server.last.json["messages"][0]["content"] == [part]


# -- streams --------------------------------------------------------------------------------
def test_stream_yields_text_and_reads_usage_once(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["你", "好", "！"], reasoning_pieces=["hmm"])))
    stream = model(zhipuai_server)("hi", stream=True)
    assert isinstance(stream, ModelStream)
    assert list(stream) == ["你", "好", "！"]
    assert stream.text == "你好！" and stream.reasoning == "hmm"
    assert stream.finish_reason == "stop" and stream.model == "glm-4"
    assert (stream.usage.output_tokens, stream.usage.total_tokens) == (3, 34)
    assert zhipuai_server.last.json["stream"] is True


def test_a_config_that_streams_by_default(zhipuai_server: ZhipuAIServer) -> None:
    stream = model(zhipuai_server, stream=True)("a b")
    assert isinstance(stream, ModelStream) and "".join(stream) == "echo: a b"


@pytest.mark.parametrize("tool_stream", [False, True])
def test_streamed_parallel_tool_calls(zhipuai_server: ZhipuAIServer, tool_stream: bool) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["Checking."], tool_calls=CALLS,
                                         tool_stream=tool_stream)))
    stream = model(zhipuai_server)("x", stream=True, tools=[get_weather], tool_stream=tool_stream)
    assert "".join(stream) == "Checking."
    assert [(c.id, c.name, c.arguments) for c in stream.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert stream.finish_reason == "tool_calls"
    assert zhipuai_server.last.json.get("tool_stream", False) is tool_stream


def test_a_stream_trims_at_the_stop_words_it_could_not_send(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["Answer: 4", "\nObs", "ervation: x"])))
    stream = model(zhipuai_server)("x", stream=True, stop=["END", "\nObservation:"])
    assert "".join(stream) == "Answer: 4"


async def test_async_call_and_async_stream(zhipuai_server: ZhipuAIServer) -> None:
    m = model(zhipuai_server)
    resp = await m.acall("async hi")
    assert resp.text == "echo: async hi"
    zhipuai_server.enqueue(sse_reply(chat_chunks(["a", "b"], tool_calls=CALLS[:1])))
    stream = await m.acall("x", stream=True, tools=[get_weather])
    assert [d async for d in stream] == ["a", "b"]
    assert stream.tool_calls[0].arguments == {"city": "Paris"} and stream.usage is not None


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "cls", "status"), [
    ("bad_request", errors.BadRequestError, 400),
    ("sensitive", errors.BadRequestError, 400),
    ("unauthorized", errors.AuthenticationError, 401),
    ("arrears", errors.RateLimitError, 429),
    ("internal", errors.ServerError, 500)])
def test_error_answers_raise_modelhub_errors(zhipuai_server: ZhipuAIServer, kind: str,
                                             cls: type[errors.ModelAPIError],
                                             status: int) -> None:
    zhipuai_server.enqueue(error_reply(kind))
    with pytest.raises(cls) as info:
        model(zhipuai_server)("x")
    error = info.value
    assert error.status_code == status and error.code == server_code(kind)
    assert error.provider == "zhipuai" and error.config_name == "glm"
    assert error.url == f"{zhipuai_server.url}/api/paas/v4/chat/completions"
    assert error.__context__ is None and error.__cause__ is None


def server_code(kind: str) -> str:
    from tests.zhipuai_server import ERRORS

    return ERRORS[kind][1]


def test_errors_when_a_stream_is_opened(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(error_reply("unauthorized"))
    with pytest.raises(errors.AuthenticationError):
        model(zhipuai_server)("x", stream=True)


def test_429_with_retry_after_is_retried_after_the_wait(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(error_reply("concurrency", retry_after="0.3"))
    started = time.monotonic()
    resp = model(zhipuai_server, max_retries=1)("again")
    assert resp.text == "echo: again" and len(zhipuai_server.requests) == 2
    assert time.monotonic() - started >= 0.3
    zhipuai_server.reset()
    zhipuai_server.enqueue(error_reply("concurrency", retry_after="7"))
    with pytest.raises(errors.RateLimitError) as info:
        model(zhipuai_server)("x")
    assert info.value.retry_after == 7.0 and len(zhipuai_server.requests) == 1  # SDK retries off


def test_a_500_is_retried_by_our_policy_only(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(error_reply("internal"), error_reply("internal"))
    m = model(zhipuai_server, max_retries=2)
    m._retry.base_delay = 0.01
    resp = m("x")
    assert resp.text == "echo: x" and len(zhipuai_server.requests) == 3


def test_an_error_inside_a_200_stream(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(sse_reply([*chat_chunks(["some ", "text"])[:2], stream_error_event()]))
    stream = model(zhipuai_server)("x", stream=True)
    with pytest.raises(errors.BadRequestError) as info:
        for _ in stream:
            pass
    assert info.value.code == "1301" and info.value.partial_text == "some text"
    assert info.value.__context__ is None
    zhipuai_server.enqueue(sse_reply([stream_error_event("concurrency")]))
    with pytest.raises(errors.RateLimitError):
        list(model(zhipuai_server)("x", stream=True))


def test_an_error_body_in_a_200_answer(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(stream_error_event("concurrency")))
    with pytest.raises(errors.RateLimitError) as info:
        model(zhipuai_server)("x")
    assert info.value.code == "1302" and info.value.status_code == 429


def test_a_stream_that_ends_early_is_a_connection_error(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["cut ", "off"])[:2], done=False))
    with pytest.raises(errors.ModelConnectionError) as info:
        list(model(zhipuai_server)("x", stream=True))
    assert info.value.partial_text == "cut off"


def test_an_answer_that_is_not_json(zhipuai_server: ZhipuAIServer) -> None:
    from tests.loopback import raw_reply

    zhipuai_server.enqueue(raw_reply(502, b"<html><title>Bad Gateway</title></html>",
                             {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError, match="Bad Gateway"):
        model(zhipuai_server)("x")
    zhipuai_server.enqueue(sse_reply(["data: {not json\n\n"]))
    with pytest.raises(errors.ResponseParseError):
        list(model(zhipuai_server)("x", stream=True))


def test_bad_tool_arguments_are_a_parse_error(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion(None, tool_calls=[
        {"id": "c", "name": "f", "arguments": "{not json"}])))
    with pytest.raises(errors.ResponseParseError, match="tool call 'f'"):
        model(zhipuai_server)("x")


def test_an_unreachable_server_and_a_timeout(zhipuai_server: ZhipuAIServer) -> None:
    from tests.loopback import delay_reply

    reg = Registry()
    reg.init({"config_name": "down", "model_type": "zhipuai_chat", "api_key": KEY,
              "base_url": "http://127.0.0.1:9/api/paas/v4", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError):
        reg.get("down")("x")
    zhipuai_server.enqueue(delay_reply(1.0, json_reply(completion())))
    with pytest.raises(errors.ModelTimeoutError):
        model(zhipuai_server, timeout=0.2)("x")


def test_unsupported_asks_fail_before_sending(zhipuai_server: ZhipuAIServer) -> None:
    with pytest.raises(errors.UnsupportedFeatureError):
        model(zhipuai_server)([{"role": "user", "content": [{"type": "video", "video": ["/tmp/a.mp4"]}]}])
    assert not zhipuai_server.requests
