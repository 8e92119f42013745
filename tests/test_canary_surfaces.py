"""One canary key, echoed back by a hostile server in answers, errors and streams,
looked for on every surface a user or operator sees: exceptions and their attributes
(chained ones too), reprs, exported configs, usage, log records (ours and the HTTP
library's), hook events, span attributes, the invocation log database, and the CLI's
output. (An answer that quotes the key is returned as it is: it is the model's data.)"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelhub import errors
from modelhub._secrets import MASK
from modelhub.calls.hooks import CallEvent
from modelhub.cli import main
from modelhub.registry import Registry
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    error_reply,
    json_reply,
    sse_reply,
)

CANARY = "sk-canary-surface-7Qm2xZ9pL4"
FRAGMENTS = [CANARY, CANARY[:10] + CANARY[10:20], CANARY[-12:]]


def leaks(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f in text]


def dump(value: Any, seen: set[int] | None = None, depth: int = 0) -> str:
    """Every string reachable from an object (attributes, items), for searching."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 8:
        return ""
    seen.add(id(value))
    parts = [repr(value) if not isinstance(value, str) else value]
    if isinstance(value, BaseException):
        parts.append(str(value))
    if isinstance(value, dict):
        parts += [dump(k, seen, depth + 1) + dump(v, seen, depth + 1) for k, v in value.items()]
    elif isinstance(value, (list, tuple, set)):
        parts += [dump(v, seen, depth + 1) for v in value]
    else:
        attrs = getattr(value, "__dict__", None) or {}
        slots = [s for c in type(value).__mro__ for s in getattr(c, "__slots__", ())]
        for name in [*attrs, *slots]:
            try:
                parts.append(dump(getattr(value, name), seen, depth + 1))
            except AttributeError:
                continue
    return "\n".join(parts)


def test_the_canary_is_on_no_surface(openai_server: OpenAIServer, tmp_path: Path,
                                     caplog: pytest.LogCaptureFixture,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "calls.db"
    reg = Registry()
    reg.init([{"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
               "api_key": CANARY, "base_url": f"{openai_server.url}/main/v1", "log": str(log),
               "max_retries": 1, "retry": {"backoff_base": 0.01}, "fallbacks": ["spare"],
               "headers": {"X-Api-Key": CANARY}},
              {"config_name": "spare", "model_type": "openai_chat", "model_name": "gpt-4o",
               "api_key": CANARY, "base_url": f"{openai_server.url}/spare/v1",
               "log": str(log), "max_retries": 0}])
    events: list[CallEvent] = []
    reg.add_hooks(before_call=events.append, after_call=events.append,
                  on_error=events.append)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reg.calls.tracer_provider = provider
    surfaces: list[Any] = []
    with caplog.at_level(logging.DEBUG):
        # A hostile server quoting the key in an answer: the answer is returned as it
        # is (it is data), but recorded with the key removed.
        openai_server.enqueue(json_reply(chat_completion(f"your key: {CANARY}")),
                              path="/main/v1/chat/completions")
        answer = reg.get("main")("repeat my key")
        assert CANARY in str(answer.text)
        # Errors quoting it, retried and then handed to the fallback.
        for path in ("/main/v1/chat/completions", "/spare/v1/chat/completions"):
            openai_server.enqueue(*[error_reply(500, f"bad key {CANARY}")] * 2, path=path)
        with pytest.raises(errors.ServerError) as info:
            reg.get("main")("x")
        surfaces += [info.value, info.value.__cause__, info.value.__context__]
        # A stream error event quoting it, after some text.
        openai_server.enqueue(sse_reply([chat_chunks(["k="])[1], {"error": {
            "message": f"key {CANARY} revoked", "type": "server_error"}}], done=False),
            path="/main/v1/chat/completions")
        stream = reg.get("main")("y", stream=True, max_retries=0)
        with pytest.raises(errors.ModelAPIError) as broken:
            list(stream)
        surfaces += [broken.value, repr(stream), stream.partial_text]
        surfaces += [repr(reg.get("main")), repr(reg.entry("main")), reg.export(),
                     repr(reg.usage()), repr(reg.entry("main").config)]
    surfaces += [[(repr(e), e.params, e.error) for e in events],
                 [dict(s.attributes or {}) for s in exporter.get_finished_spans()],
                 [(s.name, s.status.description) for s in exporter.get_finished_spans()]]
    found = {i: leaks(dump(s)) for i, s in enumerate(surfaces)}
    assert {i: f for i, f in found.items() if f} == {}
    assert leaks(caplog.text) == []
    database = "\n".join(sqlite3.connect(log).iterdump())
    assert "repeat my key" in database and "your key" in database
    assert "revoked" in database and leaks(database) == []
    for args in (["logs", "--log", str(log), "--json"], ["usage", "--log", str(log)],
                 ["logs", "--log", str(log), "--search", "bad key"]):
        assert main(args) == 0
    out, err = capsys.readouterr()
    assert "bad key" in out and "your key" in out and leaks(out + err) == []


CALL_KEY = "sk-call-argument-Zq81mT4vXc"
OTHER_KEY = "sk-another-config-Hb72wQ5nRy"


@pytest.mark.parametrize("stream", [False, True])
def test_hooks_spans_and_the_log_see_a_call_s_secrets_masked(
        openai_server: OpenAIServer, tmp_path: Path, stream: bool) -> None:
    """A key handed to a call (`api_key=`, an Authorization header in `extra_headers`,
    a secret header under another name) and the keys of the config and of another live
    config, quoted in the messages, the arguments and a stop string, reach no hook, no
    span and no log row; what else the call said does, as it was said."""
    log = tmp_path / "calls.db"
    reg = Registry()
    reg.init([{"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o",
               "api_key": CANARY, "base_url": openai_server.base_url, "log": str(log),
               "max_retries": 0},
              {"config_name": "other", "model_type": "openai_chat", "model_name": "gpt-4o",
               "api_key": OTHER_KEY, "base_url": openai_server.base_url}])
    reg.get("other")  # built: its key is now one the process holds
    events: list[tuple[str, Any, Any]] = []

    def record(kind: str) -> Any:
        return lambda event: events.append((kind, event.input, dict(event.params)))

    reg.add_hooks(before_call=record("before"), after_call=record("after"),
                  on_error=record("error"))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reg.calls.tracer_provider = provider
    if stream:
        openai_server.enqueue(sse_reply(chat_chunks(["fine"])))
    messages = [{"role": "system", "content": f"the other key is {OTHER_KEY}"},
                {"role": "user", "content": [
                    {"type": "text", "text": f"mine is {CANARY}, and {CALL_KEY} today"}]}]
    answer = reg.get("main")(
        messages, stream=stream, api_key=CALL_KEY, temperature=0.25,
        stop=[f"stop-{CALL_KEY}"], metadata={"note": f"key={CALL_KEY}", "who": "tester"},
        extra_headers={"Authorization": f"Bearer {CALL_KEY}", "X-Team-Token": "tok-123456",
                       "X-Trace": "trace-1"})
    if stream:
        assert "".join(answer) == "fine"
    # The request itself went out as asked (the wrapper's business, not the hooks').
    assert CALL_KEY in openai_server.last.body.decode()
    assert [kind for kind, _, _ in events] == ["before", "after"]
    for _, input, params in events:
        assert leaks(dump(input) + dump(params)) == []
        assert CALL_KEY not in dump(input) + dump(params)
        assert OTHER_KEY not in dump(input)
        assert params["temperature"] == 0.25 and params["api_key"] == MASK
        headers = params["extra_headers"]
        assert headers == {"Authorization": MASK, "X-Team-Token": MASK, "X-Trace": "trace-1"}
        assert params["metadata"] == {"note": f"key={MASK}", "who": "tester"}
        assert params["stop"] == [f"stop-{MASK}"]
        assert input[0]["content"] == f"the other key is {MASK}"
        assert input[1]["content"][0]["text"] == f"mine is {MASK}, and {MASK} today"
    # The caller's own objects are untouched.
    assert messages[1]["content"][0]["text"] == f"mine is {CANARY}, and {CALL_KEY} today"
    spans = exporter.get_finished_spans()
    assert spans and spans[0].attributes is not None
    assert spans[0].attributes["gen_ai.request.stop_sequences"] == (f"stop-{MASK}",)
    database = "\n".join(sqlite3.connect(log).iterdump())
    assert "trace-1" in database and "tester" in database
    for key in (CANARY, CALL_KEY, OTHER_KEY, "tok-123456"):
        assert key not in database


def test_an_error_quoting_a_call_s_key_reaches_hooks_and_the_log_without_it(
        openai_server: OpenAIServer, tmp_path: Path) -> None:
    log = tmp_path / "calls.db"
    reg = Registry()
    reg.init({"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o",
              "api_key": CANARY, "base_url": openai_server.base_url, "log": str(log),
              "max_retries": 0})
    seen: list[Any] = []
    reg.add_hooks(on_error=lambda event: seen.append(event.error))
    openai_server.enqueue(error_reply(400, f"header Bearer {CALL_KEY} is not a key"))
    with pytest.raises(errors.BadRequestError):
        reg.get("main")("x", extra_headers={"Authorization": f"Bearer {CALL_KEY}"})
    [error] = seen
    assert "is not a key" in str(error) and CALL_KEY not in dump(error)
    database = "\n".join(sqlite3.connect(log).iterdump())
    assert "is not a key" in database and CALL_KEY not in database
