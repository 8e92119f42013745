"""OpenTelemetry spans for calls, following the GenAI semantic conventions, when
opentelemetry is installed (nothing is imported, and nothing done, otherwise).

One span per call of one config, of kind CLIENT, named "{operation} {model}" (`chat
gpt-4o-mini`, `embeddings text-embedding-3-small`), carrying `gen_ai.operation.name`,
`gen_ai.provider.name`, `gen_ai.request.model` and the request's generation settings
(`gen_ai.request.temperature`, `...max_tokens`, `...top_p`, `...top_k`,
`...stop_sequences`, `...seed`, `...frequency_penalty`, `...presence_penalty`,
`...stream`), and once it is over `gen_ai.response.model`,
`gen_ai.response.finish_reasons`, `gen_ai.usage.input_tokens` and `...output_tokens`,
or `error.type` with the span's status set to ERROR; `server.address` and
`server.port` where the config has a base URL. modelhub's own attributes
(`modelhub.config_name`, `modelhub.requested`, `modelhub.fallback_from`,
`modelhub.attempts`, `modelhub.cost_usd`) say which config answered. No message
content is recorded. The span is the current one while the request is sent, so an
instrumented HTTP library's spans nest under it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelhub.calls.hooks import CallEvent

__all__ = ["OPERATIONS", "current", "end_span", "installed", "start_span", "tracing"]

# The GenAI operation name of each kind of wrapper.
OPERATIONS = {"chat": "chat", "embedding": "embeddings", "image": "generate_content"}
_REQUEST_PARAMS = {
    "temperature": "gen_ai.request.temperature", "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k", "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens", "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "n": "gen_ai.request.choice.count",
}
_installed: list[bool] = []
_tracers: list[Any] = []  # the global provider's tracer, once made
_global_set: list[bool] = []  # [True] once a global tracer provider is set
_trace_module: list[Any] = []  # opentelemetry.trace, once imported


def installed() -> bool:
    """Whether the opentelemetry API can be imported (looked up once)."""
    if not _installed:
        import importlib.util

        try:
            found = importlib.util.find_spec("opentelemetry.trace") is not None
        except (ImportError, ValueError):
            found = False
        _installed.append(found)
    return _installed[0]


def tracing(tracer_provider: Any = None) -> bool:
    """Whether calls are traced: opentelemetry is installed and a tracer provider is
    set (the registry's own, or a global one; before one is, spans would record
    nothing, and none is made)."""
    if tracer_provider is not None or _global_set:
        return True
    if not _trace_module:
        if not installed():
            return False
        from opentelemetry import trace as module

        _trace_module.append(module)
    trace = _trace_module[0]
    # The global provider is set once, for good; until it is, asking for it reads the
    # environment each time, so the module's own slot is looked at first.
    if getattr(trace, "_TRACER_PROVIDER", True) is None:
        return False
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    _global_set.append(True)
    return True


def _server(base_url: str | None) -> dict[str, Any]:
    if not base_url:
        return {}
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return {}
    return {"server.address": parts.hostname or "", "server.port": port}


def start_span(event: CallEvent, provider: str, base_url: str | None,
               tracer_provider: Any = None) -> Any:
    """A started span for a call, or None without opentelemetry."""
    if not installed():
        return None
    from opentelemetry import trace

    from modelhub import __version__

    if tracer_provider is not None:
        tracer = trace.get_tracer("modelhub", __version__, tracer_provider=tracer_provider)
    elif _tracers:
        tracer = _tracers[0]
    else:  # a proxy while no global provider is set: it follows one set later
        tracer = trace.get_tracer("modelhub", __version__)
        _tracers.append(tracer)
    operation = OPERATIONS.get(event.kind, event.kind)
    span = tracer.start_span(f"{operation} {event.model}", kind=trace.SpanKind.CLIENT)
    if not span.is_recording():
        return span
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation, "gen_ai.provider.name": provider,
        "gen_ai.request.model": event.model, "modelhub.config_name": event.config_name,
        "modelhub.requested": event.requested, **_server(base_url)}
    if event.kind == "chat":
        attributes["gen_ai.request.stream"] = event.stream
    if event.fallback_from:
        attributes["modelhub.fallback_from"] = event.fallback_from
    for key, name in _REQUEST_PARAMS.items():
        value = event.params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes.setdefault(name, value)
    stop = event.params.get("stop")
    if isinstance(stop, str):
        attributes["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        attributes["gen_ai.request.stop_sequences"] = stop
    span.set_attributes(attributes)
    return span


@contextlib.contextmanager
def current(span: Any) -> Iterator[None]:
    """Make `span` the current span inside the block (nothing if it is None)."""
    if span is None:
        yield
        return
    from opentelemetry import trace

    with trace.use_span(span, end_on_exit=False, record_exception=False,
                        set_status_on_exception=False):
        yield


def end_span(span: Any, event: CallEvent) -> None:
    """Record how the call ended and end its span."""
    if span is None:
        return
    if span.is_recording():
        from opentelemetry.trace import Status, StatusCode

        attributes: dict[str, Any] = {"modelhub.attempts": event.attempts}
        response = event.response
        model = getattr(response, "model", None)
        if model:
            attributes["gen_ai.response.model"] = model
        finish = getattr(response, "finish_reason", None)
        if finish:
            attributes["gen_ai.response.finish_reasons"] = [str(finish)]
        usage = getattr(response, "usage", None)
        if usage is not None:
            attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
            attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if event.cost is not None:
            attributes["modelhub.cost_usd"] = event.cost
        if event.error is not None:
            attributes["error.type"] = type(event.error).__qualname__
            span.set_status(Status(StatusCode.ERROR, _safe(str(event.error))))
        elif event.status == "closed":
            attributes["modelhub.status"] = "closed"
        span.set_attributes(attributes)
    span.end()


def _safe(text: str) -> str:
    """An error's text as a span may carry it (modelhub's errors are redacted already)."""
    return text[:500]
