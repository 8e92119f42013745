"""A key appears on no surface, not even in part: cut messages, whitespace keys,
secrets outside api_key, masking by exact names, exception attributes and chains."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub._secrets import MASK, redact
from modelhub.cli import main
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer, json_reply, raw_reply, sse_reply

KEY = "sk-canary-secret-0123456789"
PART = KEY[:9]  # what a key cut short would leave


def leaks(*surfaces: Any) -> list[str]:
    """The surfaces that hold the key or a cut-off part of it."""
    return [repr(s)[:80] for s in surfaces if PART in (s if isinstance(s, str) else repr(s))]


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def model(server: OpenAIServer, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "c", "model_type": "openai_chat", "model_name": "m",
              "api_key": KEY, "base_url": server.base_url, "max_retries": 0, **extra})
    return reg.get("c")


def test_redact_masks_a_key_cut_short() -> None:
    assert redact(f"...provided: {KEY[:12]}'", [KEY]) == f"...provided: {MASK}'"
    assert redact(f"{KEY} and {KEY[:15]}", [KEY]) == f"{MASK} and {MASK}"
    assert redact("sk-cana", [KEY]) == "sk-cana"  # too short a part to tell


@pytest.mark.parametrize("reply", [
    json_reply({"error": {"message": "x" * 2990 + KEY}}, 400),
    raw_reply(400, ("y" * 495 + KEY).encode(), {"content-type": "text/plain"}),
    raw_reply(200, ("<html>" + "z" * 190 + KEY).encode(), {"content-type": "text/html"}),
])
def test_a_body_quoting_the_key_leaks_no_part_of_it(openai_server: OpenAIServer,
                                                    reply: Any) -> None:
    openai_server.enqueue(reply)
    with pytest.raises(errors.ModelCallError) as info:
        model(openai_server)("hi")
    error = info.value
    for link in chain(error):
        assert not leaks(str(link), getattr(link, "body", None),
                         getattr(link, "response", None), link.args)


def test_a_non_json_stream_line_quoting_the_key_leaks_nothing(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(["data: " + "q" * 190 + KEY + "\n\n"]))
    with pytest.raises(errors.ResponseParseError) as info:
        list(model(openai_server)("hi", stream=True))
    for link in chain(info.value):
        assert not leaks(str(link), getattr(link, "response", None))


@pytest.mark.parametrize("key", [KEY + "\n", " " + KEY, KEY + "\t", f"{KEY}\r\n"])
def test_a_key_with_whitespace_is_a_config_error_at_load(key: str) -> None:
    with pytest.raises(errors.ConfigError) as info:
        Registry().init({"config_name": "c", "model_type": "openai_chat", "api_key": key})
    assert info.value.field == "api_key" and "whitespace" in str(info.value)
    assert not leaks(str(info.value))
    with pytest.raises(errors.ConfigError, match=r"client_args\.api_key"):
        Registry().init({"config_name": "c", "model_type": "openai_chat",
                         "client_args": {"api_key": key}})


def test_a_key_file_read_into_a_variable_is_caught_too(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_KEY", KEY + "\n")
    f = tmp_path / "m.yaml"
    f.write_text("- config_name: c\n  model_type: openai_chat\n  api_key: ${CANARY_KEY}\n")
    with pytest.raises(errors.ConfigError, match=r"m\.yaml:3.*api_key.*whitespace"):
        Registry().init(f)


SECRET_PLACES = {
    "headers": {"Authorization": f"Bearer {KEY}", "api-key": KEY, "X-Api-Key": KEY,
                "x-goog-api-key": KEY, "X-Trace": "t1"},
    "default_query": {"key": KEY, "api_key": KEY, "region": "eu"},
    "base_url": f"http://user:{KEY}@127.0.0.1:9/v1",
}


def test_secrets_outside_api_key_are_masked_on_every_surface(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {"config_name": "c", "model_type": "openai_chat", **SECRET_PLACES}
    reg = Registry()
    reg.init(config)
    entry, wrapper = reg.entry("c"), reg.get("c")
    surfaces = [repr(entry.config), str(entry.config), entry.config.model_dump(),
                entry.config.model_dump_json(), repr(wrapper), str(vars(wrapper)),
                reg.export("c")]
    assert not leaks(*surfaces)
    [exported] = reg.export("c")
    assert exported["headers"]["X-Trace"] == "t1" and exported["default_query"]["region"] == "eu"
    assert exported["base_url"] == f"http://user:{MASK}@127.0.0.1:9/v1"
    # ...and each secret still goes on the wire
    assert wrapper.endpoint._headers["api-key"] == KEY  # type: ignore[attr-defined]
    assert wrapper.endpoint._query["key"] == KEY  # type: ignore[attr-defined]
    assert KEY in wrapper.endpoint.base_url
    f = tmp_path / "m.yaml"
    f.write_text(json.dumps([config]))
    for command in (["--config", str(f), "show", "c"], ["--config", str(f), "list"],
                    ["--config", str(f), "list", "--json"]):
        assert main(command) == 0
        out = capsys.readouterr()
        assert not leaks(out.out, out.err)


def test_fields_are_masked_by_exact_name_never_by_substring(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("- config_name: c\n  model_type: openai_chat\n  generate_args:\n"
                 "    max_tokens: 100\n    max_completion_tokens: 50\n    tokenizer: t5\n"
                 f"    token_limit: 7\n    api_key: {KEY}\n")
    assert main(["--config", str(f), "show", "c"]) == 0
    out = capsys.readouterr().out
    for shown in ("max_tokens: 100", "max_completion_tokens: 50", "tokenizer: t5",
                  "token_limit: 7", f"api_key: '{MASK}'"):
        assert shown in out
    assert not leaks(out)


def test_logs_hold_no_secret_the_http_librarys_own_included(
        openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    m = model(openai_server, default_query={"api_key": KEY},
              headers={"x-api-key": KEY})
    with caplog.at_level(logging.DEBUG):
        m("hi")
    assert "HTTP Request: POST" in caplog.text  # httpx's INFO line, with the query
    assert not leaks(caplog.text)


def test_an_illegal_header_is_not_retried_and_its_error_holds_no_key(
        openai_server: OpenAIServer) -> None:
    # A value httpx refuses at send time (it is checked at load for headers we know of;
    # this one is built by a plugin at call time).
    m = model(openai_server, max_retries=3)
    m.endpoint._headers["X-Bad"] = f"{KEY}\x00"  # type: ignore[attr-defined]
    with pytest.raises(errors.InvalidRequestError) as info:
        m("hi")
    assert openai_server.requests == []  # never sent, never retried
    for link in chain(info.value):
        assert not leaks(str(link))
    assert info.value.config_name == "c"


class _SDKAnswer:
    """An SDK's response object (not a decoded JSON value) that echoes the key."""

    def __init__(self) -> None:
        self.headers = {"authorization": f"Bearer {KEY}"}

    def __repr__(self) -> str:
        return f"_SDKAnswer(headers={self.headers!r})"


def test_an_sdk_object_that_echoes_the_key_is_redacted_before_it_is_kept() -> None:
    from pydantic import BaseModel

    from modelhub.http.errors import ErrorContext, parse_answer

    class Completion(BaseModel):
        id: str
        echoed: list[str]

    context = ErrorContext("sdk", config_name="c", secrets=(KEY,))

    def parse(body: Any) -> Any:
        return body.choices[0]  # neither object has choices: an unexpected shape

    for answer in (_SDKAnswer(), Completion(id="x", echoed=[KEY]), {"raw": _SDKAnswer()}):
        with pytest.raises(errors.ResponseParseError) as caught:
            parse_answer(parse, answer, context)
        error = caught.value
        assert leaks(str(error), error.response, *chain(error)) == []
        assert MASK in repr(error.response)

    def reject(body: Any) -> Any:
        raise errors.ResponseParseError("no text in the answer")

    with pytest.raises(errors.ResponseParseError) as caught:
        parse_answer(reject, Completion(id="x", echoed=[KEY]), context)
    assert caught.value.response == {"id": "x", "echoed": [MASK]}


def test_secrets_given_in_client_args_are_not_kept_there_in_the_clear() -> None:
    reg = Registry()
    reg.init({"config_name": "c", "model_type": "openai_chat", "base_url": "http://127.0.0.1:9/v1",
              "client_args": {"default_headers": {"Authorization": f"Bearer {KEY}"},
                              "default_query": {"key": KEY}, "api_key": KEY}})
    config = reg.entry("c").config
    assert not leaks(repr(config), str(config), config.model_dump(), config.model_dump_json(),
                     reg.export("c"))
    endpoint = reg.get("c").endpoint  # type: ignore[attr-defined]
    assert endpoint._headers["Authorization"] == f"Bearer {KEY}"  # still sent
    assert endpoint._query["key"] == KEY


def test_a_key_echoed_in_an_answer_that_fails_its_format_leaks_nothing(
        openai_server: OpenAIServer) -> None:
    from pydantic import BaseModel

    from tests.openai_server import chat_completion

    class Answer(BaseModel):
        city: str

    m = model(openai_server)
    for answer in ("x" * 195 + KEY, '{"city": 5, "note": "' + KEY + '"}'):
        openai_server.enqueue(json_reply(chat_completion(answer)))
        with pytest.raises(errors.ResponseParseError) as info:
            m("hi", response_format=Answer)
        for link in chain(info.value):
            assert not leaks(str(link), getattr(link, "response", None),
                             getattr(link, "doc", None), link.args)
        assert info.value.config_name == "c"


def test_bad_tool_arguments_in_a_stream_chain_no_exception_holding_them(
        openai_server: OpenAIServer) -> None:
    from tests.openai_server import chat_chunks

    calls = [{"id": "c1", "name": "f", "arguments": '{"k": "' + KEY + '"'}]  # cut short
    openai_server.enqueue(sse_reply(chat_chunks([], tool_calls=calls)))
    with pytest.raises(errors.ResponseParseError) as info:
        list(model(openai_server)("hi", stream=True, tools=[{"name": "f"}]))
    for link in chain(info.value):
        assert not leaks(str(link), getattr(link, "doc", None), link.args)
