"""Hooks per registry (before_call, after_call, on_error) and OpenTelemetry GenAI spans
(the SDK's in-memory exporter)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from modelhub import errors
from modelhub.calls.hooks import CallEvent
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer, error_reply

KEY = "sk-hookcanary-0123456789"


def registry(server: OpenAIServer, **extra: Any) -> Registry:
    reg = Registry()
    reg.init([{"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
               "api_key": KEY, "base_url": f"{server.url}/main/v1", "max_retries": 0,
               **extra},
              {"config_name": "spare", "model_type": "openai_chat", "model_name": "gpt-4o",
               "api_key": KEY, "base_url": f"{server.url}/spare/v1", "max_retries": 0},
              {"config_name": "emb", "model_type": "openai_embedding",
               "model_name": "text-embedding-3-small", "api_key": KEY,
               "base_url": f"{server.url}/main/v1"}])
    return reg


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.events: list[CallEvent] = []

    def hook(self, kind: str) -> Any:
        def record(event: CallEvent) -> None:
            self.seen.append((kind, event.config_name, event.status))
            self.events.append(event)

        return record

    def add(self, reg: Registry) -> Any:
        return reg.add_hooks(before_call=self.hook("before"), after_call=self.hook("after"),
                             on_error=self.hook("error"))


def test_hooks_run_around_each_call(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)
    rec = Recorder()
    rec.add(reg)
    reg.get("main")("hi", temperature=0.1)
    openai_server.enqueue(error_reply(400, "bad"))
    with pytest.raises(errors.BadRequestError):
        reg.get("main")("x")
    assert rec.seen == [("before", "main", "running"), ("after", "main", "ok"),
                        ("before", "main", "running"), ("error", "main", "error")]
    after = rec.events[1]
    assert after.response.text == "echo: hi" and after.params == {"temperature": 0.1}
    assert after.usage.output_tokens == 12 and after.latency is not None
    assert isinstance(rec.events[3].error, errors.BadRequestError)


def test_hooks_belong_to_one_registry_and_can_be_removed(openai_server: OpenAIServer) -> None:
    reg, other = registry(openai_server), registry(openai_server)
    rec = Recorder()
    handle = rec.add(reg)
    other.get("main")("hi")
    assert rec.seen == []
    handle.remove()
    reg.get("main")("hi")
    assert rec.seen == []


def test_a_before_call_hook_that_raises_refuses_the_call(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)

    def refuse(event: CallEvent) -> None:
        raise PermissionError("not today")

    rec = Recorder()
    reg.add_hooks(before_call=refuse, on_error=rec.hook("error"))
    with pytest.raises(PermissionError):
        reg.get("main")("hi")
    assert openai_server.requests == [] and rec.seen == [("error", "main", "error")]


def test_a_failing_after_hook_is_logged_and_the_call_goes_on(
        openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    reg = registry(openai_server)
    reg.add_hooks(after_call=lambda event: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="modelhub"):
        assert reg.get("main")("hi").text == "echo: hi"
    assert "after_call hook failed" in caplog.text


def test_hooks_see_fallbacks_streams_and_embeddings(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server, fallbacks=["spare"])
    rec = Recorder()
    rec.add(reg)
    openai_server.enqueue(error_reply(500, "x"), path="/main/v1/chat/completions")
    reg.get("main")("hi")
    assert rec.seen == [("before", "main", "running"), ("error", "main", "error"),
                        ("before", "spare", "running"), ("after", "spare", "ok")]
    assert (rec.events[3].requested, rec.events[3].fallback_from) == ("main", "main")
    rec.seen.clear()
    stream = reg.get("main")("a b c", stream=True)
    assert rec.seen == [("before", "main", "running")]  # after_call once it ends
    stream.consume()
    assert rec.seen[-1] == ("after", "main", "ok") and rec.events[-1].stream
    rec.seen.clear()
    reg.get("emb")(["a", "b"])
    assert rec.seen == [("before", "emb", "running"), ("after", "emb", "ok")]
    assert rec.events[-1].kind == "embedding" and rec.events[-1].input == ["a", "b"]


def test_hooks_must_be_plain_functions() -> None:
    async def coroutine(event: CallEvent) -> None:
        return None

    reg = Registry()
    with pytest.raises(TypeError, match="plain function"):
        reg.add_hooks(before_call=coroutine)
    with pytest.raises(TypeError, match="needs"):
        reg.add_hooks()
    with pytest.raises(TypeError, match="callable"):
        reg.add_hooks(on_error="print")  # type: ignore[arg-type]


# -- OpenTelemetry ------------------------------------------------------------------------
@pytest.fixture
def spans() -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_a_call_is_a_genai_client_span(openai_server: OpenAIServer, spans: Any) -> None:
    provider, exporter = spans
    reg = registry(openai_server)
    reg.calls.tracer_provider = provider
    reg.get("main")("secret plans", temperature=0.3, max_tokens=50, stop=["END"])
    [span] = exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini" and span.kind == SpanKind.CLIENT
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai_chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.request.temperature"] == 0.3
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (9, 12)
    assert attrs["server.address"] == "127.0.0.1" and attrs["modelhub.config_name"] == "main"
    assert not any("secret plans" in str(v) for v in attrs.values())  # no content
    assert span.status.status_code != StatusCode.ERROR


def test_failed_calls_streams_and_fallbacks_have_spans(openai_server: OpenAIServer,
                                                       spans: Any) -> None:
    provider, exporter = spans
    reg = registry(openai_server, fallbacks=["spare"])
    reg.calls.tracer_provider = provider
    openai_server.enqueue(error_reply(503, "busy"), path="/main/v1/chat/completions")
    reg.get("main")("hi")
    failed, answered = exporter.get_finished_spans()
    assert failed.status.status_code == StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "ServerError"
    assert dict(answered.attributes or {})["modelhub.fallback_from"] == "main"
    assert answered.name == "chat gpt-4o"
    exporter.clear()
    stream = reg.get("main")("a b", stream=True)
    assert exporter.get_finished_spans() == ()  # open while the stream is read
    stream.consume()
    [span] = exporter.get_finished_spans()
    assert dict(span.attributes or {})["gen_ai.request.stream"] is True
    exporter.clear()
    reg.get("emb")(["x"])
    [span] = exporter.get_finished_spans()
    assert span.name == "embeddings text-embedding-3-small"


def test_the_span_is_current_while_the_request_is_sent(openai_server: OpenAIServer,
                                                       spans: Any) -> None:
    from opentelemetry import trace

    provider, exporter = spans
    reg = registry(openai_server)
    reg.calls.tracer_provider = provider
    inside: list[Any] = []
    original = reg.get("main")._complete

    def spy(request: Any) -> Any:
        inside.append(trace.get_current_span().get_span_context().span_id)
        return original(request)

    reg.get("main")._complete = spy
    reg.get("main")("hi")
    [span] = exporter.get_finished_spans()
    assert inside == [span.context.span_id]
