"""Building modelhub errors: status classes, Retry-After, error-body hooks, redaction,
and the JSON endpoint's error paths against a loopback server."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from modelhub import errors
from modelhub.http.client import JSONEndpoint
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    error_fields,
    parse_answer,
    public_url,
    retry_after_seconds,
    status_for_error_code,
    summarize_text,
)
from tests.openai_server import OpenAIServer, json_reply, raw_reply, sse_reply

KEY = "sk-canary-0123456789abcdef"
CONTEXT = ErrorContext(provider="acme", config_name="cfg", url="http://h:1/v1", secrets=(KEY,))


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "3"}, 3.0),
    ({"Retry-After": "1.5"}, 1.5),  # any case
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the ms form wins
    ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),  # an unreadable ms form is skipped
    ({"retry-after": "-4"}, 0.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past
    ({"retry-after": "soon"}, None),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "inf"}, None),
    ({}, None),
    (None, None),
])
def test_retry_after_forms(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds


def test_retry_after_as_a_future_http_date() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    seconds = retry_after_seconds({"retry-after": format_datetime(when, usegmt=True)})
    assert seconds is not None and 25 <= seconds <= 31


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (422, errors.BadRequestError), (429, errors.RateLimitError), (500, errors.ServerError),
    (503, errors.ServerError), (418, errors.ModelAPIError), (None, errors.ModelAPIError),
])
def test_status_picks_the_class_and_the_context_names_the_call(status: int | None,
                                                               cls: type) -> None:
    error = api_error(status, "nope", context=CONTEXT, code="c",
                      headers={"retry-after": "2"})
    assert type(error) is cls and error.status_code == status and error.code == "c"
    assert (error.config_name, error.provider, error.url) == ("cfg", "acme", "http://h:1/v1")
    assert str(error).startswith("acme config 'cfg' (http://h:1/v1): ")
    if cls is errors.RateLimitError:
        assert error.retry_after == 2.0  # type: ignore[attr-defined]


def test_secrets_are_redacted_before_anything_is_cut() -> None:
    # A long message ending in the key: cutting first would leave a prefix of the key.
    body = {"error": {"message": "x" * 2990 + KEY, "detail": [KEY], KEY: 1}}
    error = api_error(400, body["error"]["message"], context=CONTEXT, body=body)
    for surface in (str(error), repr(error.body), error.message):
        assert KEY not in surface and KEY[:8] not in surface
    text_error = api_error(502, None, context=CONTEXT, body="y" * 290 + KEY)
    assert KEY[:8] not in str(text_error)


def test_a_body_that_is_an_html_page_is_summarised_by_its_title() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000
    error = api_error(502, None, context=CONTEXT, body=page)
    assert "502 Bad Gateway" in str(error) and len(str(error)) < 200
    assert summarize_text("<p>Upstream <b>down</b></p>") == "an HTML page: Upstream down"
    assert summarize_text("first line\nsecond") == "first line"


@pytest.mark.parametrize(("body", "fields"), [
    ({"error": {"message": "m", "code": "c"}}, ("m", "c")),
    ({"error": {"message": "m", "type": "t"}}, ("m", "t")),
    ({"error": "plain", "code": 7}, ("plain", "7")),
    ({"message": "top", "code": "x"}, ("top", "x")),
    ({"detail": "fastapi style"}, ("fastapi style", None)),
    ({"error": {"message": ["a", "b"]}}, ("['a', 'b']", None)),
    ("just text", (None, None)),
    (None, (None, None)),
])
def test_the_default_error_body_hook(body: object, fields: tuple[str | None, str | None]) -> None:
    assert error_fields(body) == fields


@pytest.mark.parametrize(("codes", "status"), [
    ((429,), 429), (("503",), 503), (("rate_limit_exceeded",), 429), ((None, "server_error"), 500),
    ((True, "nope"), None), ((200,), None), (("Overloaded_Error",), 503),
])
def test_status_for_error_code(codes: tuple[object, ...], status: int | None) -> None:
    assert status_for_error_code(*codes) == status


def test_public_url_drops_user_info_and_query() -> None:
    assert public_url("https://u:pw@api.x.com:8443/v1/chat?key=s#f") == \
        "https://api.x.com:8443/v1/chat"
    assert public_url("http://[::1]:8080/v1") == "http://[::1]:8080/v1"
    assert public_url("http://host:notaport/") == "<unparseable URL>"


def test_parse_answer_turns_any_shape_error_into_a_parse_error() -> None:
    def parse(body: object) -> str:
        return body["choices"][0]["text"]  # type: ignore[index]

    for body in ({"choices": "abc"}, {"choices": []}, [KEY], None):
        with pytest.raises(errors.ResponseParseError) as info:
            parse_answer(parse, body, CONTEXT)
        assert info.value.config_name == "cfg" and KEY not in str(info.value)
        assert info.value.__cause__ is None and KEY not in repr(info.value.response)


# -- the endpoint against a server ---------------------------------------------------------
def endpoint(server: OpenAIServer, **kwargs: object) -> JSONEndpoint:
    options: dict = {"base_url": server.base_url, "provider": "acme", "config_name": "cfg",
                     "secrets": [KEY], "headers": {"Authorization": f"Bearer {KEY}"}}
    return JSONEndpoint(**{**options, **kwargs})


def hook(body: object) -> tuple[str | None, str | None]:
    """A provider whose errors look like {"Code": ..., "Message": ...}."""
    assert isinstance(body, dict)
    return body.get("Message"), body.get("Code")


def test_the_endpoint_uses_the_providers_error_body_hook(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply({"Code": "Throttling", "Message": "slow down"}, 429,
                                     {"retry-after": "1"}))
    with pytest.raises(errors.RateLimitError) as info:
        endpoint(openai_server, error_fields=hook).post("/x", {})
    assert info.value.message == "slow down" and info.value.code == "Throttling"
    assert info.value.retry_after == 1.0 and info.value.url == openai_server.base_url + "/x"


def test_a_hook_that_fails_falls_back_to_the_body_text(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(500, b"oops", {"content-type": "text/plain"}))
    with pytest.raises(errors.ServerError, match="oops"):
        endpoint(openai_server, error_fields=hook).post("/x", {})


def test_a_non_json_success_is_a_parse_error_holding_no_key(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(200, f"<html>{'z' * 300}{KEY}</html>".encode(),
                                    {"content-type": "text/html"}))
    with pytest.raises(errors.ResponseParseError) as info:
        endpoint(openai_server).post("/x", {})
    assert KEY[:8] not in str(info.value) and KEY not in str(info.value.response)
    # the decoder's exception, whose .doc is the whole body, is not chained
    assert info.value.__cause__ is None and info.value.__context__ is None


class _Handler:
    def __init__(self) -> None:
        self.finished = False
        self.seen: list[str] = []

    def feed(self, frame: object) -> str | None:
        data = frame.data  # type: ignore[attr-defined]
        if data == "[DONE]":
            self.finished = True
            return None
        value = json.loads(data)
        self.seen.append(value["t"])
        return str(value["t"])

    def end(self) -> str | None:
        return "!"


@pytest.mark.parametrize("framing", ["sse", "ndjson", "json_array"])
def test_streams_of_each_framing_sync_and_async(openai_server: OpenAIServer,
                                                framing: str) -> None:
    import asyncio

    events = [{"t": "a"}, {"t": "b"}]
    def reply():  # type: ignore[no-untyped-def]
        if framing == "sse":
            return sse_reply(events)
        if framing == "ndjson":
            body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
            return raw_reply(200, body, {"content-type": "application/x-ndjson"})
        return raw_reply(200, json.dumps(events).encode(), {"content-type": "application/json"})

    openai_server.enqueue(reply())
    ep = endpoint(openai_server)
    assert list(ep.open_stream("/s", {}, _Handler(), framing=framing)) == ["a", "b", "!"]
    assert openai_server.last.headers["accept"] in ("text/event-stream", "application/x-ndjson",
                                                   "application/json")

    async def read() -> list[str]:
        deltas = await ep.aopen_stream("/s", {}, _Handler(), framing=framing)
        return [d async for d in deltas]

    openai_server.enqueue(reply())
    assert asyncio.run(read()) == ["a", "b", "!"]


def test_a_stream_answered_with_html_is_a_parse_error(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(200, b"<html><title>Login</title></html>",
                                    {"content-type": "text/html"}))
    with pytest.raises(errors.ResponseParseError, match=r"text/html.*Login"):
        endpoint(openai_server).open_stream("/s", {}, _Handler())


def test_a_stream_event_of_the_wrong_shape_is_a_parse_error(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply([{"t": "a"}, [KEY]]))
    deltas = endpoint(openai_server).open_stream("/s", {}, _Handler())
    with pytest.raises(errors.ResponseParseError) as info:
        list(deltas)
    assert KEY not in str(info.value) and info.value.config_name == "cfg"


def test_the_whole_call_is_bounded_by_the_timeout(openai_server: OpenAIServer) -> None:
    from tests.openai_server import Reply

    # Headers at once, then one byte every 0.3 s: every read is quick, the call is not.
    openai_server.enqueue(Reply(200, {"content-type": "application/json"},
                                sse=[b" " for _ in range(30)] + [b"{}"], piece_delay=0.3))
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        endpoint(openai_server, timeout=1.0).post("/slow", {})
    assert time.monotonic() - start < 1.8 and info.value.timeout == 1.0
    assert "1 s" in str(info.value)


def test_same_origin() -> None:
    from modelhub.http.errors import same_origin

    assert same_origin("https://api.anthropic.com", "https://api.anthropic.com/v1/messages")
    assert not same_origin("https://api.anthropic.com", "http://api.anthropic.com")
    assert not same_origin("https://api.anthropic.com", "https://api.anthropic.com:8443")
    assert not same_origin("https://api.anthropic.com.evil.test", "https://api.anthropic.com")
    assert not same_origin("http://[::1", "http://127.0.0.1")  # unparseable: never the same
    # a scheme's default port is the same origin written out; another scheme's is not
    assert same_origin("https://API.anthropic.com:443/v1", "https://api.anthropic.com")
    assert same_origin("http://ollama.local", "http://ollama.local:80")
    assert not same_origin("https://ollama.com:80", "https://ollama.com")
    assert not same_origin("https://h:99999", "https://h")  # a port out of range: never


def test_under_domains() -> None:
    from modelhub.http.errors import under_domains

    domains = ("huggingface.co", ".openai.azure.com")
    assert under_domains("https://huggingface.co/api", domains)
    assert under_domains("https://Router.HuggingFace.co:443/v1", domains)
    assert under_domains("https://res.openai.azure.com/openai", domains)
    assert not under_domains("https://openai.azure.com.evil.test", domains)
    assert not under_domains("https://evilhuggingface.co", domains)
    assert not under_domains("http://huggingface.co", domains)  # not over TLS
    assert not under_domains("https://huggingface.co:8443", domains)  # not its port
    assert not under_domains("https://[::1", domains)  # unparseable: never
