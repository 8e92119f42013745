"""Faults at the call level: slow servers, streams that stall or end early, answers of
the wrong kind; each a typed error naming the config and where it was going."""

from __future__ import annotations

import time
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer, Reply, chat_chunks, raw_reply, sse_reply


def model(server: OpenAIServer, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "slowpoke", "model_type": "openai_chat", "model_name": "m",
              "base_url": server.base_url, "default_query": {"api_key": "k1"},
              "max_retries": 0, **extra})
    return reg.get("slowpoke")


def test_a_drip_fed_answer_cannot_hold_a_call_past_its_timeout(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(Reply(200, {"content-type": "application/json"},
                                sse=[b" "] * 40 + [b"{}"], piece_delay=0.25))
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        model(openai_server, timeout=1.5)("hi")
    assert time.monotonic() - start < 2.4
    error = info.value
    assert error.timeout == 1.5 and "1.5 s" in str(error) and error.config_name == "slowpoke"
    assert error.url == openai_server.base_url + "/chat/completions"  # no query, no user info


def test_a_stream_that_stalls_times_out(openai_server: OpenAIServer) -> None:
    first = chat_chunks(["Hel"])[1]
    openai_server.enqueue(Reply(200, {"content-type": "text/event-stream"},
                                sse=[f"data: {__import__('json').dumps(first)}\n\n".encode()]
                                + [b": keep-alive\n\n"] * 20, piece_delay=0.2))
    stream = model(openai_server, timeout=1.0)("hi", stream=True)
    with pytest.raises(errors.ModelTimeoutError) as info:
        list(stream)
    assert info.value.partial_text == "Hel" and "no stream delta" in str(info.value)


def test_a_stream_that_ends_early_carries_what_arrived(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["Hel", "lo"])[:3], done=False))
    stream = model(openai_server)("hi", stream=True)
    with pytest.raises(errors.ModelConnectionError, match="ended early") as info:
        list(stream)
    assert info.value.partial_text == "Hello"


def test_a_stream_whose_last_chunk_had_a_finish_reason_may_skip_done(
        openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["Hi"], include_usage=False), done=False))
    assert model(openai_server)("hi", stream=True).text == "Hi"


def test_an_html_page_for_a_stream_is_a_parse_error(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(200, b"<html><head><title>Sign in</title></head></html>",
                                    {"content-type": "text/html; charset=utf-8"}))
    with pytest.raises(errors.ResponseParseError, match=r"text/html.*Sign in"):
        model(openai_server)("hi", stream=True)


def test_an_html_error_page_is_summarised_not_dumped(openai_server: OpenAIServer) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 20000
    openai_server.enqueue(raw_reply(502, page, {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError) as info:
        model(openai_server)("hi")
    assert "502 Bad Gateway" in str(info.value) and len(str(info.value)) < 300


def test_a_refused_connection_names_the_config_and_url() -> None:
    reg = Registry()
    reg.init({"config_name": "down", "model_type": "openai_chat",
              "base_url": "http://127.0.0.1:1/v1", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError) as info:
        reg.get("down")("hi")
    assert info.value.config_name == "down" and info.value.url == \
        "http://127.0.0.1:1/v1/chat/completions"
    assert "config 'down'" in str(info.value)


@pytest.fixture
def header_dribbler() -> Any:
    """A server that sends its status line and headers one byte every 0.1 s (each read
    is quick; the whole answer takes seconds)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Slow: " + b"a" * 60
            + b"\r\nContent-Length: 2\r\n\r\n{}")

    def answer(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            for byte in head:
                conn.send(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass
        finally:
            conn.close()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    server.close()


@pytest.mark.parametrize("stream", [False, True])
async def test_headers_sent_a_byte_at_a_time_cannot_hold_a_call_past_its_timeout(
        header_dribbler: str, stream: bool) -> None:
    reg = Registry()
    reg.init({"config_name": "drip", "model_type": "openai_chat", "base_url": header_dribbler,
              "timeout": 1.0, "max_retries": 0})
    chat = reg.get("drip")
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        chat("hi", stream=stream)
    assert time.monotonic() - start < 1.8 and info.value.timeout == 1.0
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError):
        await chat.acall("hi", stream=stream)
    assert time.monotonic() - start < 1.8


# The answers issue 7 lists, each once as a whole body and once as a stream event.
_BAD_BODIES = [{"choices": ["x"]}, {"choices": "abc"},
               {"choices": [{"message": {"content": "hi", "tool_calls": 5}}]},
               {"choices": [], "usage": {"prompt_tokens": "abc"}}]
_BAD_EVENTS = ["data: 123\n\n", "data: null\n\n", 'data: {"choices": ["x"]}\n\n',
               'data: {"choices": "abc"}\n\n',
               'data: {"choices": [{"delta": {"tool_calls": 5}}]}\n\n',
               'data: {"choices": [], "usage": {"prompt_tokens": "abc"}}\n\n']


@pytest.mark.parametrize("body", _BAD_BODIES)
async def test_a_body_of_an_unexpected_shape_is_a_parse_error(openai_server: OpenAIServer,
                                                              body: Any) -> None:
    from tests.openai_server import json_reply

    chat = model(openai_server)
    openai_server.enqueue(json_reply(body), json_reply(body))
    with pytest.raises(errors.ResponseParseError) as info:
        chat("hi")
    assert info.value.config_name == "slowpoke" and info.value.__context__ is None
    with pytest.raises(errors.ResponseParseError):
        await chat.acall("hi")


@pytest.mark.parametrize("event", _BAD_EVENTS)
async def test_a_stream_event_of_an_unexpected_shape_is_a_parse_error(
        openai_server: OpenAIServer, event: str) -> None:
    chat = model(openai_server)
    openai_server.enqueue(sse_reply([event]), sse_reply([event]))
    with pytest.raises(errors.ResponseParseError) as info:
        list(chat("hi", stream=True))
    assert info.value.config_name == "slowpoke"
    with pytest.raises(errors.ResponseParseError):  # before the first delta: the call fails
        await chat.acall("hi", stream=True)
