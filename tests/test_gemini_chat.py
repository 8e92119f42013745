"""gemini_chat against the loopback Gemini server, through the real google-genai SDK:
what goes on the wire, what comes back."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.gemini_server import (  # noqa: F401 - the fixtures
    SIGNATURE,
    GeminiServer,
    call_part,
    error_body,
    error_reply,
    gemini_server_fixture,
    gemini_server_session_fixture,
    generate_response,
    max_tokens_without_text,
    prompt_blocked,
    rate_limit_reply,
    safety_blocked,
    sse_reply,
    stream_chunks,
    thought_part,
    usage,
)
from tests.loopback import delay_reply, json_reply, raw_reply
from tests.test_openai_chat import get_weather

KEY = "AIzaSyTest-0123456789abcdefghij"
CALLS = [{"name": "get_weather", "args": {"city": "Paris"}},
         {"name": "get_time", "args": {"tz": "CET"}}]
PATH = "/v1beta/models/gemini-2.5-flash"



def model(gemini_server: GeminiServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "gem", "model_type": "gemini_chat",
              "model_name": "gemini-2.5-flash", "api_key": KEY, "base_url": gemini_server.url,
              "max_retries": 0, **extra})
    wrapper = reg.get("gem")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def get_time(tz: str) -> str:
    """The time in a time zone."""
    return "noon"


# -- requests and answers ---------------------------------------------------------------------
def test_text_call_moves_the_system_prompt_out_and_reads_the_answer(gemini_server: GeminiServer) -> None:
    resp = model(gemini_server, generate_args={"temperature": 0.5, "top_k": 40})(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
        temperature=0.1, max_tokens=64)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "STOP"
    assert resp.model == "gemini-2.5-flash" and resp.reasoning is None
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (8, 5, 13)  # type: ignore[union-attr]
    assert type(resp.raw).__name__ == "GenerateContentResponse"
    req = gemini_server.last
    assert req.path == f"{PATH}:generateContent"
    assert req.headers["x-goog-api-key"] == KEY and "authorization" not in req.headers
    assert "key" not in req.query
    assert req.json == {
        "contents": [{"parts": [{"text": "Hi there"}], "role": "user"}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.1, "topK": 40, "maxOutputTokens": 64}}


def test_conversation_roles_and_a_late_system_message(gemini_server: GeminiServer) -> None:
    model(gemini_server)([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                   {"role": "system", "content": "c"}, {"role": "user", "content": "d"}])
    assert gemini_server.last.json["contents"] == [
        {"parts": [{"text": "a"}], "role": "user"}, {"parts": [{"text": "b"}], "role": "model"},
        {"parts": [{"text": "c"}], "role": "user"}, {"parts": [{"text": "d"}], "role": "user"}]
    assert "systemInstruction" not in gemini_server.last.json


def test_generation_config_and_system_instruction_arguments(gemini_server: GeminiServer) -> None:
    model(gemini_server)([{"role": "system", "content": "S2"}, {"role": "user", "content": "x"}],
                  generation_config={"candidate_count": 1, "temperature": 0.3},
                  system_instruction="S1", stop=["END"], seed=7,
                  safety_settings=[{"category": "HARM_CATEGORY_HARASSMENT",
                                    "threshold": "BLOCK_NONE"}])
    body = gemini_server.last.json
    assert body["systemInstruction"] == {"parts": [{"text": "S1"}, {"text": "S2"}]}
    assert body["generationConfig"] == {"candidateCount": 1, "temperature": 0.3, "seed": 7,
                                        "stopSequences": ["END"]}
    assert body["safetySettings"] == [{"category": "HARM_CATEGORY_HARASSMENT",
                                       "threshold": "BLOCK_NONE"}]


def test_images_audio_and_video_become_parts(gemini_server: GeminiServer, tmp_path: Path) -> None:
    png = tmp_path / "cat.png"
    png.write_bytes(b"\x89PNG-bytes")
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"jpeg-bytes").decode()
    model(gemini_server)([{"role": "user", "content": [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": "https://img.test/dog.webp"}},
        {"type": "image_url", "image_url": {"url": str(png)}},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"RIFF").decode(),
                                                "format": "wav"}},
        {"type": "video", "video": ["gs://bucket/clip.mp4"]}]}])
    parts = gemini_server.last.json["contents"][0]["parts"]
    # (the SDK writes the fields inside inlineData and fileData in snake case, which
    # the API takes as well)
    assert parts == [
        {"text": "What are these?"},
        {"inlineData": {"mime_type": "image/jpeg", "data": base64.b64encode(b"jpeg-bytes").decode()}},
        {"fileData": {"file_uri": "https://img.test/dog.webp", "mime_type": "image/webp"}},
        {"inlineData": {"mime_type": "image/png", "data": base64.b64encode(b"\x89PNG-bytes").decode()}},
        {"inlineData": {"mime_type": "audio/wav", "data": base64.b64encode(b"RIFF").decode()}},
        {"fileData": {"file_uri": "gs://bucket/clip.mp4", "mime_type": "video/mp4"}}]


def test_what_cannot_be_sent_is_an_error_before_any_request(gemini_server: GeminiServer) -> None:
    m = model(gemini_server)
    with pytest.raises(ValueError, match="file_id"):
        m([{"role": "user", "content": [{"type": "file_id", "file_id": "f"}]}])
    with pytest.raises(ValueError, match="neither a URL nor an existing file"):
        m([{"role": "user", "content": [{"type": "image_url",
                                          "image_url": {"url": "/no/such/file.png"}}]}])
    with pytest.raises(errors.InvalidArgumentError, match="temprature"):
        m("x", temprature=0.2)
    with pytest.raises(errors.InvalidArgumentError, match="not accepted by google-genai"):
        m("x", repetition_penalty=1.1)
    assert gemini_server.requests == []


def test_tools_parallel_calls_thoughts_and_signatures(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(generate_response(parts=[
        thought_part("Two lookups."),
        call_part("get_weather", {"city": "Paris"}, id="fc-1", signature=SIGNATURE),
        call_part("get_time", {"tz": "CET"}, id="fc-2")], usage_metadata=usage(8, 6, 40))))
    resp = model(gemini_server)("weather and time?", tools=[get_weather, get_time],
                         tool_choice="required")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("fc-1", "get_weather", {"city": "Paris"}), ("fc-2", "get_time", {"tz": "CET"})]
    assert resp.tool_calls[0].extra == {"google": {"thought_signature": SIGNATURE}}
    assert resp.tool_calls[1].extra == {}
    assert resp.text is None and resp.reasoning == "Two lookups."
    assert (resp.usage.output_tokens, resp.usage.details) == (46, {"thoughts_token_count": 40})  # type: ignore[union-attr]
    body = gemini_server.last.json
    declarations = body["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declarations] == ["get_weather", "get_time"]
    assert declarations[0]["description"] == "Weather for a city."
    assert declarations[0]["parameters_json_schema"]["required"] == ["city"]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


def test_named_tool_choice_allows_one_function(gemini_server: GeminiServer) -> None:
    model(gemini_server)("x", tools=[get_weather, get_time], tool_choice="get_time")
    assert gemini_server.last.json["toolConfig"] == {"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["get_time"]}}


def test_multi_turn_tool_conversation_round_trips_signatures(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(generate_response(parts=[
        call_part("get_weather", {"city": "Paris"}, signature=SIGNATURE),
        call_part("get_time", {"tz": "CET"})])))
    m = model(gemini_server)
    first = m("weather and time?", tools=[get_weather, get_time])
    ids = [c.id for c in first.tool_calls]
    assert ids == ["call_0", "call_1"]  # Gemini gave none
    history = [{"role": "user", "content": "weather and time?"}, first.as_message(),
               {"role": "tool", "tool_call_id": ids[0], "content": "sunny"},
               {"role": "tool", "tool_call_id": ids[1], "content": "noon"}]
    second = m(history, tools=[get_weather, get_time])
    assert second.text == "echo: "  # the default reply echoes the last user text parts
    contents = gemini_server.last.json["contents"]
    assert contents[1] == {"role": "model", "parts": [
        {"functionCall": {"id": "call_0", "name": "get_weather", "args": {"city": "Paris"}},
         "thoughtSignature": SIGNATURE},
        {"functionCall": {"id": "call_1", "name": "get_time", "args": {"tz": "CET"}}}]}
    assert contents[2] == {"role": "user", "parts": [
        {"functionResponse": {"id": "call_0", "name": "get_weather",
                              "response": {"output": "sunny"}}},
        {"functionResponse": {"id": "call_1", "name": "get_time",
                              "response": {"output": "noon"}}}]}


def test_calls_gemini_did_not_make_get_the_documented_placeholder_signature(
        gemini_server: GeminiServer) -> None:
    """A history from another model (no signatures): the first call of each model turn
    carries `skip_thought_signature_validator`, as Google documents for such history."""
    history = [{"role": "user", "content": "weather and time?"},
               {"role": "assistant", "content": "Checking.", "tool_calls": [
                   {"id": "a", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
                   {"id": "b", "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"}}]},
               {"role": "tool", "tool_call_id": "a", "content": "rain"},
               {"role": "tool", "tool_call_id": "b", "content": "noon"}]
    model(gemini_server)(history, tools=[get_weather, get_time])
    parts = gemini_server.last.json["contents"][1]["parts"]
    assert parts[0] == {"text": "Checking."}
    assert parts[1]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in parts[2]


def test_a_tool_result_without_a_known_name_is_refused(gemini_server: GeminiServer) -> None:
    with pytest.raises(ValueError, match="names no function"):
        model(gemini_server)([{"role": "user", "content": "x"},
                       {"role": "tool", "tool_call_id": "nope", "content": "1"}])


class City(BaseModel):
    name: str
    population: int


def test_response_format_is_json_mode_with_the_schema(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(generate_response('{"name": "Tokyo", "population": 37}')))
    resp = model(gemini_server)("largest city?", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    config = gemini_server.last.json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["required"] == ["name", "population"]
    gemini_server.enqueue(json_reply(generate_response('{"a": 1}')))
    assert model(gemini_server)("x", response_format={"type": "json_object"}).parsed == {"a": 1}
    assert gemini_server.last.json["generationConfig"] == {"responseMimeType": "application/json"}


def test_thoughts_go_to_reasoning_never_text(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(generate_response(parts=[
        thought_part("Add them."), {"text": "Four."}], usage_metadata=usage(5, 2, 30))))
    resp = model(gemini_server)("2+2?", thinking_config={"include_thoughts": True})
    assert resp.text == "Four." and resp.reasoning == "Add them."
    assert gemini_server.last.json["generationConfig"]["thinkingConfig"] == {"include_thoughts": True}


def test_blocked_and_truncated_answers(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(safety_blocked()), json_reply(max_tokens_without_text()),
                   json_reply(prompt_blocked()))
    m = model(gemini_server)
    safety = m("x")
    assert safety.finish_reason == "SAFETY" and not safety.text and not safety.tool_calls
    cut = m("x")
    assert cut.finish_reason == "MAX_TOKENS" and not cut.text
    assert (cut.usage.input_tokens, cut.usage.output_tokens, cut.usage.total_tokens) == (8, 99, 107)  # type: ignore[union-attr]
    blocked = m("x")
    assert blocked.finish_reason == "PROHIBITED_CONTENT" and not blocked.text


# -- streams ------------------------------------------------------------------------------------
def test_stream_text_reasoning_tool_calls_and_usage_taken_once(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply(stream_chunks(["Check", "ing."], thoughts=["Plan."], calls=CALLS),
                             split_bytes=11))
    stream = model(gemini_server)("x", stream=True, tools=[get_weather, get_time])
    assert list(stream) == ["Check", "ing."]
    assert stream.text == "Checking." and stream.reasoning == "Plan."
    assert [(c.name, c.arguments) for c in stream.tool_calls] == [
        ("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]
    assert stream.tool_calls[0].extra == {"google": {"thought_signature": SIGNATURE}}
    # cumulative counts, the last report taken (the first chunk's prompt count was 5)
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (8, 14)  # type: ignore[union-attr]
    assert stream.finish_reason == "STOP" and len(stream.raw) == 5
    assert gemini_server.last.path == f"{PATH}:streamGenerateContent"
    assert gemini_server.last.query == {"alt": "sse"}


def test_config_stream_true_streams_by_default(gemini_server: GeminiServer) -> None:
    assert "".join(model(gemini_server, stream=True)("a b")) == "echo: a b"


async def test_async_call_and_async_stream(gemini_server: GeminiServer) -> None:
    m = model(gemini_server)
    resp = await m.acall("hi", stop=["zz"])
    assert resp.text == "echo: hi" and gemini_server.last.json["generationConfig"] == {
        "stopSequences": ["zz"]}
    gemini_server.enqueue(sse_reply(stream_chunks(["a", "b"], thoughts=["t"])))
    stream = await m.acall("x", stream=True)
    assert [d async for d in stream] == ["a", "b"]
    assert stream.reasoning == "t" and stream.usage.output_tokens == 8  # type: ignore[union-attr]


async def test_async_stream_response_format_parses_at_the_end(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply(stream_chunks(['{"name": "Oslo",', ' "population": 1}'])))
    stream = await model(gemini_server).acall("x", stream=True, response_format=City)
    await stream.aconsume()
    assert stream.parsed == City(name="Oslo", population=1)


def test_error_inside_a_200_stream_raises_the_mapped_error(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply([stream_chunks(["par"])[0], error_body(
        429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED")]))
    stream = model(gemini_server, max_retries=2)("x", stream=True)
    with pytest.raises(errors.RateLimitError) as info:
        list(stream)
    assert info.value.status_code == 429 and info.value.partial_text == "par"
    assert info.value.code == "RESOURCE_EXHAUSTED" and len(gemini_server.requests) == 1


async def test_error_inside_an_async_stream(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply([stream_chunks(["par"])[0],
                              error_body(500, "Internal error.", "INTERNAL")]))
    stream = await model(gemini_server).acall("x", stream=True)
    with pytest.raises(errors.ServerError) as info:
        async for _ in stream:
            pass
    assert info.value.partial_text == "par" and info.value.provider == "gemini"


def test_a_stream_that_ends_without_a_finish_reason_is_an_error(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply(stream_chunks(["a", "b"])[:-1]))
    stream = model(gemini_server)("x", stream=True)
    with pytest.raises(errors.ModelConnectionError) as info:
        list(stream)
    assert info.value.partial_text == "ab"


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "grpc", "cls"), [
    (400, "INVALID_ARGUMENT", errors.BadRequestError),
    (401, "UNAUTHENTICATED", errors.AuthenticationError),
    (403, "PERMISSION_DENIED", errors.PermissionDeniedError),
    (404, "NOT_FOUND", errors.NotFoundError)])
def test_http_errors_map_and_are_not_retried(gemini_server: GeminiServer, status: int, grpc: str,
                                             cls: type) -> None:
    gemini_server.enqueue(error_reply(status, f"failed {status}", grpc))
    with pytest.raises(cls) as info:
        model(gemini_server, max_retries=3)("x")
    err = info.value
    assert (err.status_code, err.code, err.message) == (status, grpc, f"failed {status}")
    assert err.body == error_body(status, f"failed {status}", grpc)
    assert err.config_name == "gem" and err.url == gemini_server.url
    assert err.__cause__ is None and err.__context__ is None
    assert len(gemini_server.requests) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_429_retry_info_is_honoured_then_success(gemini_server: GeminiServer, stream: bool) -> None:
    gemini_server.enqueue(rate_limit_reply("0.05s"), error_reply(500, "Internal error.", "INTERNAL"))
    m = model(gemini_server, max_retries=2)
    out = m("a b", stream=stream)
    assert (out.text if not stream else "".join(out)) == "echo: a b"  # type: ignore[union-attr, arg-type]
    assert len(gemini_server.requests) == 3


def test_the_retry_waits_as_long_as_gemini_asks(gemini_server: GeminiServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from modelhub import retry

    waits: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", waits.append)
    gemini_server.enqueue(rate_limit_reply("1.5s"), rate_limit_reply("9s", retry_after="2"))
    assert model(gemini_server, max_retries=2)("a").text == "echo: a"
    assert waits == [1.5, 2.0]  # RetryInfo's delay, then the header's (which wins)


def test_429_retry_after_header_and_retry_info(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(rate_limit_reply("7s", retry_after="4"))
    with pytest.raises(errors.RateLimitError) as info:
        model(gemini_server)("x")
    assert info.value.retry_after == 4  # the header wins over the body
    gemini_server.enqueue(rate_limit_reply("12.5s"))
    with pytest.raises(errors.RateLimitError) as info:
        model(gemini_server)("x")
    assert info.value.retry_after == 12.5 and info.value.code == "RESOURCE_EXHAUSTED"
    gemini_server.enqueue(rate_limit_reply(None))
    with pytest.raises(errors.RateLimitError) as info:
        model(gemini_server)("x")
    assert info.value.retry_after is None


def test_a_long_retry_delay_is_not_waited_for(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(rate_limit_reply("3600s"))
    with pytest.raises(errors.RateLimitError):
        model(gemini_server, max_retries=3)("x")
    assert len(gemini_server.requests) == 1


def test_500_is_retried_and_then_raised(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(*[error_reply(503, "The model is overloaded.", "UNAVAILABLE")] * 2)
    with pytest.raises(errors.ServerError) as info:
        model(gemini_server, max_retries=1)("x")
    assert info.value.status_code == 503 and len(gemini_server.requests) == 2


def test_an_html_error_page_and_a_non_json_answer(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(raw_reply(502, b"<html><title>502 Bad Gateway</title></html>",
                             {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError) as info:
        model(gemini_server)("x")
    assert "502 Bad Gateway" in str(info.value)
    gemini_server.enqueue(raw_reply(200, b"not json", {"content-type": "application/json"}))
    with pytest.raises(errors.ResponseParseError):
        model(gemini_server)("x")


def test_timeout_and_refused_connection(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(delay_reply(1.5, json_reply(generate_response())))
    with pytest.raises(errors.ModelTimeoutError):
        model(gemini_server, timeout=0.3)("x")
    reg = Registry()
    reg.init({"config_name": "dead", "model_type": "gemini_chat", "api_key": KEY,
              "base_url": "http://127.0.0.1:9", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError) as info:
        reg.get("dead")("x")
    assert info.value.url == "http://127.0.0.1:9"


def test_the_key_never_shows_in_log_records(gemini_server: GeminiServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    m = model(gemini_server, max_retries=1)
    gemini_server.enqueue(error_reply(503, f"overloaded for {KEY}", "UNAVAILABLE"))
    assert m("hi").text == "echo: hi"
    list(m("a b", stream=True))
    assert caplog.records  # the retry and the HTTP library's lines were logged
    assert KEY not in caplog.text and KEY[:12] not in caplog.text


def test_the_key_never_shows_in_errors(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(error_reply(400, f"API key not valid: {KEY}. Please pass a valid API key.",
                               "INVALID_ARGUMENT", [{
                                   "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "API_KEY_INVALID", "metadata": {"key": KEY}}]))
    with pytest.raises(errors.BadRequestError) as info:
        model(gemini_server)("x")
    err = info.value
    shown = " ".join([str(err), repr(err), json.dumps(err.body), repr(err.args),
                      repr(vars(err))])
    assert KEY not in shown and KEY[:12] not in shown
    assert "API key not valid" in err.message


@pytest.mark.filterwarnings("ignore::UserWarning")  # the SDK warns of the odd enum value
def test_an_answer_the_sdk_cannot_read_is_a_parse_error(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply({"usageMetadata": {"promptTokenCount": "many"}}))
    with pytest.raises(errors.ResponseParseError) as info:
        model(gemini_server)("x")
    assert info.value.config_name == "gem" and info.value.__context__ is None
    # one the SDK trips over itself while reading (an AttributeError inside it)
    gemini_server.enqueue(json_reply({"candidates": [{"finishReason": []}]}))
    with pytest.raises(errors.ResponseParseError):
        model(gemini_server)("x")


async def test_async_errors_before_the_first_chunk_are_retried(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(error_reply(503, "The model is overloaded.", "UNAVAILABLE"))
    stream = await model(gemini_server, max_retries=1).acall("a b", stream=True)
    assert [d async for d in stream] == ["echo: ", "a ", "b"]
    assert len(gemini_server.requests) == 2
    gemini_server.enqueue(error_reply(404, "models/x is not found", "NOT_FOUND"))
    with pytest.raises(errors.NotFoundError):
        await model(gemini_server).acall("x")


def test_a_stream_left_early_can_be_closed(gemini_server: GeminiServer) -> None:
    stream = model(gemini_server)("one two three four", stream=True)
    assert next(iter(stream)) == "echo: "
    stream.close()
    assert model(gemini_server)("again").text == "echo: again"


def test_the_json_array_form_reads_like_the_event_stream() -> None:
    """No path of ours asks for the JSON-array form (the SDK always sends `alt=sse`);
    should one arrive, the shared JSONArrayDecoder frames it and the same reader
    makes the same response of it."""
    from google.genai import types

    from modelhub.http.errors import ErrorContext
    from modelhub.http.framing import JSONArrayDecoder
    from modelhub.providers.gemini.wire import ChunkReader
    from tests.gemini_server import array_reply

    chunks = stream_chunks(["Hel", "lo"], thoughts=["Hm."], calls=CALLS)
    body = b"".join(array_reply(chunks, split_bytes=5).sse or [])
    decoder = JSONArrayDecoder()
    frames = [f for i in range(0, len(body), 3) for f in decoder.feed(body[i:i + 3])]
    frames += decoder.close()
    readers = [ChunkReader(ErrorContext("gemini")) for _ in range(2)]
    for frame in frames:
        readers[0].feed(types.GenerateContentResponse.model_validate(json.loads(frame.data)))
    for chunk in chunks:
        readers[1].feed(types.GenerateContentResponse.model_validate(chunk))
    got, expected = (r.response() for r in readers)
    assert (got.text, got.reasoning, got.finish_reason, got.usage) == (
        expected.text, expected.reasoning, expected.finish_reason, expected.usage)
    assert got.text == "Hello" and [c.name for c in got.tool_calls] == ["get_weather",
                                                                         "get_time"]
