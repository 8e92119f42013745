"""Injected faults, through the base classes, on a family that speaks HTTP itself
(openai_chat, the shared HTTP layer) and one that goes through its SDK (anthropic_chat):
429 with Retry-After, 500, 503, a connection reset (before the answer and mid-body), a
timeout, truncated JSON, malformed SSE, a slow drip. Each ends in the right typed error
after the right number of attempts, or in a success once the fault stops, and never
runs past its timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests import anthropic_server as anthropic
from tests import openai_server as openai
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
)
from tests.gemini_server import (  # noqa: F401 (fixtures)
    GeminiServer,
    gemini_server_fixture,
    gemini_server_session_fixture,
)
from tests.loopback import LoopbackServer, Reply, delay_reply, raw_reply
from tests.ollama_server import (  # noqa: F401 (fixtures)
    OllamaServer,
    server_fixture,
    server_session_fixture,
)
from tests.openai_server import OpenAIServer
from tests.zhipuai_server import (  # noqa: F401 (fixtures)
    ZhipuAIServer,
    zhipuai_server,
    zhipuai_server_session,
)

TIMEOUT = 1.0
ATTEMPTS = 3
RETRY = {"attempts": ATTEMPTS, "backoff_base": 0.01, "backoff_max": 0.05, "jitter": 0}
JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


@dataclass(frozen=True)
class Family:
    name: str
    model_type: str
    error: Callable[[int, str, dict[str, str]], Reply]
    good: Callable[[], dict[str, Any]]

    def config(self, server: LoopbackServer, **extra: Any) -> dict[str, Any]:
        base = server.base_url if isinstance(server, OpenAIServer) else server.url
        return {"config_name": self.name, "model_type": self.model_type,
                "model_name": "claude-sonnet-4-5" if self.name == "anthropic" else "m",
                "api_key": "sk-fault-0123456789abcdef", "base_url": base,
                "timeout": TIMEOUT, "retry": RETRY, **extra}


FAMILIES = {
    "openai": Family("openai", "openai_chat",
                     lambda s, m, h: openai.error_reply(s, m, headers=h),
                     lambda: openai.chat_completion("ok")),
    "anthropic": Family("anthropic", "anthropic_chat",
                        lambda s, m, h: anthropic.error_reply(s, m, headers=h),
                        lambda: anthropic.message([anthropic.text("ok")])),
}


def faults(family: Family) -> dict[str, tuple[Callable[[], Reply], type[Exception]]]:
    """Each transient fault: the reply that makes it, and the error it ends in."""
    import json

    body = json.dumps(family.good()).encode()
    return {
        "429+retry-after": (lambda: family.error(429, "slow down", {"retry-after": "0.2"}),
                            errors.RateLimitError),
        "500": (lambda: family.error(500, "boom", {}), errors.ServerError),
        "503": (lambda: family.error(503, "busy", {}), errors.ServerError),
        "reset": (lambda: Reply(reset=True), errors.ModelConnectionError),
        "reset-mid-body": (lambda: Reply(200, JSON, sse=[body[:25]], reset=True),
                           errors.ModelConnectionError),
        "timeout": (lambda: delay_reply(TIMEOUT * 4, Reply(200, JSON, body)),
                    errors.ModelTimeoutError),
        "slow-drip": (lambda: Reply(200, JSON, sse=[body[i:i + 4] for i in range(0, 80, 4)]
                                    + [body[80:]], piece_delay=0.25),
                      errors.ModelTimeoutError),
    }


def server_for(name: str, request: pytest.FixtureRequest) -> LoopbackServer:
    fixture = "openai_server" if name == "openai" else "anthropic_server"
    server: LoopbackServer = request.getfixturevalue(fixture)
    return server


def bound(attempts: int) -> float:
    """The longest a call of `attempts` attempts may take: each its timeout, the waits
    between them (Retry-After 0.2 at most), and room for a loaded machine."""
    return attempts * (TIMEOUT + 0.25) + 3.0


CASES = [(f, k) for f in FAMILIES for k in faults(FAMILIES[f])]


@pytest.mark.parametrize(("family", "fault"), CASES)
def test_a_transient_fault_is_retried_to_success(family: str, fault: str,
                                                 request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    make, _ = faults(fam)[fault]
    server.enqueue(make(), make())
    reg = Registry()
    reg.init(fam.config(server))
    model = reg.get(fam.name)  # built (its SDK imported) before the clock starts
    start = time.monotonic()
    resp = model("hi")
    assert resp.text is not None and "echo: hi" in resp.text
    assert len(server.requests) == 3  # two faults, then the answer
    assert time.monotonic() - start < bound(3)


@pytest.mark.parametrize(("family", "fault"), CASES)
async def test_a_lasting_fault_ends_in_its_typed_error_in_time(
        family: str, fault: str, request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    make, expected = faults(fam)[fault]
    server.enqueue(*[make() for _ in range(ATTEMPTS)])
    reg = Registry()
    reg.init(fam.config(server))
    model = reg.get(fam.name)
    start = time.monotonic()
    with pytest.raises(expected) as info:
        await model.acall("hi")
    assert time.monotonic() - start < bound(ATTEMPTS)
    assert len(server.requests) == ATTEMPTS
    assert isinstance(info.value, errors.ModelCallError)
    assert info.value.config_name == fam.name


@pytest.mark.parametrize(("family", "fault"), [
    (f, k) for f in FAMILIES for k in ("500", "reset", "timeout", "429+retry-after")])
def test_a_stream_failing_before_its_first_delta_is_retried(
        family: str, fault: str, request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    make, _ = faults(fam)[fault]
    server.enqueue(make())
    reg = Registry()
    reg.init(fam.config(server))
    stream = reg.get(fam.name)("hi there", stream=True)
    assert stream.text == "echo: hi there" and len(server.requests) == 2


@pytest.mark.parametrize("family", list(FAMILIES))
def test_truncated_json_is_a_parse_error_not_retried(family: str,
                                                     request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    server.enqueue(raw_reply(200, b'{"id": "msg_1", "type": "mess', JSON))
    reg = Registry()
    reg.init(fam.config(server))
    with pytest.raises(errors.ResponseParseError) as info:
        reg.get(fam.name)("hi")
    assert len(server.requests) == 1 and info.value.config_name == fam.name


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("data", [b"{not json", b"[1, 2", b'"just a string"', b"null"])
def test_malformed_sse_is_a_parse_error_not_retried(family: str, data: bytes,
                                                    request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    # Anthropic names every event (the SDK skips an event with no name).
    event = b"event: message_start\n" if family == "anthropic" else b""
    server.enqueue(Reply(200, SSE, sse=[event + b"data: " + data + b"\n\n"]))
    reg = Registry()
    reg.init(fam.config(server))
    with pytest.raises((errors.ResponseParseError, errors.ModelAPIError)) as info:
        list(reg.get(fam.name)("hi", stream=True))
    assert len(server.requests) == 1 and info.value.config_name == fam.name


def first_delta_then(family: str, keep_alive: str) -> Reply:
    """A stream that sends its first delta, "Hel", then only keep-alives (`comment`:
    `: ping` lines; `event`: events carrying nothing, the provider's own pings where it
    has them), four a second, for ten seconds."""
    import json

    if family == "openai":
        chunks = openai.chat_chunks(["Hel"])
        first = [f"data: {json.dumps(chunks[1])}\n\n"]
        empty = f"data: {json.dumps(chunks[0])}\n\n"  # a role-only chunk: no text
    else:
        events = anthropic.stream_events([anthropic.text("Hel")])[:2]
        events.append({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": "Hel"}})
        first = anthropic.sse_events(events)
        empty = anthropic.sse_events([{"type": "ping"}])[0]
    keep = ": ping\n\n" if keep_alive == "comment" else empty
    return Reply(200, SSE, sse=[p.encode() for p in [*first, *[keep] * 40]],
                 piece_delay=0.25)


@pytest.mark.parametrize("keep_alive", ["comment", "event"])
@pytest.mark.parametrize("family", ["openai", "anthropic"])
async def test_a_stream_that_drips_after_its_first_delta_times_out_with_its_text(
        family: str, keep_alive: str, request: pytest.FixtureRequest) -> None:
    fam = FAMILIES[family]
    server = server_for(family, request)
    server.enqueue(first_delta_then(family, keep_alive), first_delta_then(family, keep_alive))
    reg = Registry()
    reg.init(fam.config(server))
    model = reg.get(fam.name)
    start = time.monotonic()
    stream = model("hi", stream=True)
    with pytest.raises(errors.ModelTimeoutError) as info:
        list(stream)
    assert info.value.partial_text == "Hel" and stream.partial_text == "Hel"
    assert time.monotonic() - start < bound(1)
    start = time.monotonic()
    astream = await model.acall("hi", stream=True)
    with pytest.raises(errors.ModelTimeoutError) as info:
        async for _ in astream:
            pass
    assert info.value.partial_text == "Hel" and astream.partial_text == "Hel"
    assert time.monotonic() - start < bound(1)
    assert len(server.requests) == 2  # the first delta came: no retry
    assert model("hi").text == "echo: hi"  # the wrapper works on


# -- the slow drip on more SDK families ---------------------------------------------------
def dripping(body: Any, content_type: str = "application/json") -> Reply:
    """`body` as JSON, four bytes every 0.25 s (ten seconds and more in all)."""
    import json

    raw = json.dumps(body).encode()
    return Reply(200, {"content-type": content_type},
                 sse=[raw[i:i + 4] for i in range(0, len(raw), 4)], piece_delay=0.25)


async def assert_timeouts_in_time(model: Any, options: dict[str, Any]) -> None:
    """A sync and an async call held by a dripping server end in ModelTimeoutError, in
    about their timeout each."""
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError):
        model("hi", **options)
    with pytest.raises(errors.ModelTimeoutError):
        await model.acall("hi", **options)
    assert time.monotonic() - start < 2 * bound(1)


def built(config: dict[str, Any], given: str) -> tuple[Any, dict[str, Any]]:
    """The wrapper, its timeout given by the config or by the call."""
    reg = Registry()
    reg.init({**config, "max_retries": 0, "timeout": TIMEOUT if given == "config" else 60})
    return reg.get(config["config_name"]), ({"timeout": TIMEOUT} if given == "call" else {})


@pytest.mark.parametrize("given", ["config", "call"])
async def test_gemini_on_the_httpx2_pools_keeps_to_the_whole_call_timeout(
        gemini_server: GeminiServer, given: str) -> None:
    from tests.gemini_server import generate_response

    drip = dripping(generate_response("ok"), "application/json; charset=UTF-8")
    gemini_server.enqueue(drip, drip)
    model, options = built({"config_name": "gem", "model_type": "gemini_chat",
                            "model_name": "gemini-2.5-flash", "api_key": "AIzaSy-fault-0123456789",
                            "base_url": gemini_server.url}, given)
    await assert_timeouts_in_time(model, options)


@pytest.mark.parametrize("given", ["config", "call"])
async def test_ollama_on_a_client_of_its_own_keeps_to_the_whole_call_timeout(
        ollama_server: OllamaServer, given: str) -> None:
    from tests.ollama_server import chat_answer

    ollama_server.enqueue(dripping(chat_answer("ok")), dripping(chat_answer("ok")))
    model, options = built({"config_name": "llama", "model_type": "ollama_chat",
                            "model_name": "llama3.2", "base_url": ollama_server.url}, given)
    await assert_timeouts_in_time(model, options)


@pytest.mark.parametrize("given", ["config", "call"])
async def test_zhipuai_on_the_httpx_pools_keeps_to_the_whole_call_timeout(
        zhipuai_server: ZhipuAIServer, given: str) -> None:  # noqa: F811 (the fixture)
    from tests.zhipuai_server import completion

    zhipuai_server.enqueue(dripping(completion("ok")), dripping(completion("ok")))
    model, options = built({"config_name": "glm", "model_type": "zhipuai_chat",
                            "model_name": "glm-4", "api_key": "0123456789abcdef.fault0123456789",
                            "base_url": zhipuai_server.base_url}, given)
    await assert_timeouts_in_time(model, options)


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_a_slow_reader_is_not_a_slow_stream(family: str,
                                                  request: pytest.FixtureRequest) -> None:
    # The caller takes longer than the timeout over each delta: the stream, whose events
    # all arrived in time, is read to its end (only the stream's own time counts).
    import asyncio

    fam = FAMILIES[family]
    reg = Registry()
    reg.init(fam.config(server_for(family, request)))
    model = reg.get(fam.name)
    text = []
    for delta in model("hi", stream=True):
        text.append(delta)
        time.sleep(TIMEOUT * 1.2)
    assert "".join(text) == "echo: hi"
    text = []
    async for delta in await model.acall("hi", stream=True):
        text.append(delta)
        await asyncio.sleep(TIMEOUT * 1.2)
    assert "".join(text) == "echo: hi"
