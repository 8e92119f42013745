"""`timeout` on the SDK families beyond the fault matrix's two, against their loopback
servers: a stream may go no longer than its timeout between two deltas (items that
carry nothing, sent faster than that, do not hold it open), and a server dripping
bytes cannot hold a call or a stream past its timeout, given by the config or by the
call itself. Each case ends in ModelTimeoutError within a generous bound, and the same
wrapper answers a normal call right after (no connection is left half-read in a pool
that is reused)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests import dashscope_server as ds
from tests import gemini_server as gem
from tests import hf_server as hf
from tests import ollama_server as oll
from tests import openai_server as oai
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    anthropic_server,
    anthropic_server_session,
)
from tests.gemini_server import (  # noqa: F401 (fixtures)
    gemini_server_fixture,
    gemini_server_session_fixture,
)
from tests.hf_server import HFServer
from tests.loopback import LoopbackServer, Reply
from tests.ollama_server import (  # noqa: F401 (fixtures)
    server_fixture,
    server_session_fixture,
)

TIMEOUT = 1.0
DELAY = 0.25  # between two pieces a dripping server sends


def bound(attempts: int = 1) -> float:
    """The longest `attempts` attempts may take, with room for a loaded machine."""
    return attempts * (TIMEOUT + 0.25) + 3.0


def held(reply: Reply) -> Reply:
    """`reply`, its pieces sent DELAY seconds apart."""
    return dataclasses.replace(reply, piece_delay=DELAY)


def dripped(reply: Reply) -> Reply:
    """`reply`'s body four bytes at a time, DELAY seconds apart (ten seconds and more)."""
    data = b"".join(reply.sse or [reply.body or b""])
    return dataclasses.replace(reply, body=b"", sse=[data[i:i + 4]
                                                      for i in range(0, len(data), 4)],
                               piece_delay=DELAY)


@pytest.fixture(scope="module")
def hf_server_module() -> Iterator[HFServer]:
    with HFServer() as server:
        yield server


@pytest.fixture
def hf_server(hf_server_module: HFServer, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Any) -> HFServer:
    hf_server_module.reset()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    return hf_server_module


@dataclass(frozen=True)
class Family:
    """One family: its fixture server, its config, and its replies."""

    fixture: str
    config: Callable[[Any], dict[str, Any]]
    # The first delta, "Hel", then forty items that carry nothing.
    kept_alive: Callable[[], Reply]
    answer: Callable[[], Reply]  # a whole answer
    stream: Callable[[list[str]], Reply]  # a whole stream of these deltas


def _openai_chunk(content: str | None) -> dict[str, Any]:
    delta = {"role": "assistant"} if content is None else {"content": content}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta,
                                                 "finish_reason": None}]}


def _gemini_chunk(text: str) -> dict[str, Any]:
    return {"candidates": [gem.candidate([{"text": text}], None)],
            "usageMetadata": gem.usage(), "modelVersion": gem.MODEL_VERSION}


def _ollama_chunk(text: str) -> dict[str, Any]:
    return oll.chat_chunks([text])[0]


def _dashscope_event(text: str) -> dict[str, Any]:
    return ds.stream_events([text])[0]


def _hf_chunk(text: str) -> dict[str, Any]:
    return hf.chat_chunks([text], include_usage=False)[0]


FAMILIES = {
    "gemini": Family(
        "gemini_server",
        lambda s: {"model_type": "gemini_chat", "model_name": "gemini-2.5-flash",
                   "api_key": "AIzaSy-deadline-0123456789", "base_url": s.url},
        lambda: held(gem.sse_reply([_gemini_chunk("Hel"), *[_gemini_chunk("")] * 40])),
        lambda: Reply(200, {"content-type": "application/json"},
                      json.dumps(gem.generate_response("ok")).encode()),
        lambda p: gem.sse_reply(gem.stream_chunks(p))),
    "ollama": Family(
        "ollama_server",
        lambda s: {"model_type": "ollama_chat", "model_name": "llama3.2", "base_url": s.url},
        lambda: held(oll.stream_reply([_ollama_chunk("Hel"), *[_ollama_chunk("")] * 40])),
        lambda: Reply(200, {"content-type": "application/json"},
                      json.dumps(oll.chat_answer("ok")).encode()),
        lambda p: oll.stream_reply(oll.chat_chunks(p))),
    "dashscope": Family(
        "dashscope_server",
        lambda s: {"model_type": "dashscope_chat", "model_name": "qwen-plus",
                   "api_key": "sk-dashscope-deadline-0123456789", "base_url": s.base_url},
        lambda: held(ds.sse_reply([_dashscope_event("Hel"), *[_dashscope_event("")] * 40])),
        lambda: Reply(200, {"content-type": "application/json"},
                      json.dumps(ds.generation_answer("ok")).encode()),
        lambda p: ds.sse_reply(ds.stream_events(p))),
    "huggingface": Family(
        "hf_server",
        lambda s: {"model_type": "hf_inference_chat", "model_name": "tgi", "base_url": s.url},
        lambda: held(hf.sse([_hf_chunk("Hel"), *[_hf_chunk("")] * 40])),
        lambda: Reply(200, {"content-type": "application/json"},
                      json.dumps(hf.chat_completion("ok")).encode()),
        lambda p: hf.sse(hf.chat_chunks(p), done=True)),
    "litellm": Family(
        "openai_server",
        lambda s: {"model_type": "litellm_chat", "model_name": "openai/gpt-4o-mini",
                   "api_key": "sk-litellm-deadline-0123456789", "api_base": s.base_url},
        lambda: held(oai_sse([_openai_chunk("Hel"), *[_openai_chunk(None)] * 40])),
        lambda: Reply(200, {"content-type": "application/json"},
                      json.dumps(oai.chat_completion("ok")).encode()),
        lambda p: oai_sse(oai.chat_chunks(p), done=True)),
}


def oai_sse(events: list[Any], done: bool = False) -> Reply:
    from tests.loopback import sse_reply

    return sse_reply(events, done="[DONE]" if done else None)


def built(name: str, request: pytest.FixtureRequest, given: str = "config"
          ) -> tuple[Any, LoopbackServer, dict[str, Any]]:
    """The family's wrapper on its server, its timeout given by the config or by the
    call (the config then says 60 s); and the call's options."""
    fam = FAMILIES[name]
    server: LoopbackServer = request.getfixturevalue(fam.fixture)
    reg = Registry()
    reg.init({"config_name": name, **fam.config(server), "max_retries": 0,
              "timeout": TIMEOUT if given == "config" else 60})
    return reg.get(name), server, ({"timeout": TIMEOUT} if given == "call" else {})


async def warmed(model: Any) -> Any:
    """`model`, once it has answered a call and a stream, sync and async (SDK modules
    a first call imports are then loaded: no import runs on a timed attempt)."""
    echoes(model)
    await aechoes(model)
    return model


# A normal call's own timeout: room for a first call's imports on a loaded machine.
ROOM = {"timeout": 30}


def echoes(model: Any) -> None:
    """The wrapper answers a normal call and a normal stream (sync)."""
    assert "echo" in (model("hi", **ROOM).text or "")
    assert "echo" in "".join(model("hi", stream=True, **ROOM))


async def aechoes(model: Any) -> None:
    """The wrapper answers a normal call and a normal stream (async)."""
    assert "echo" in ((await model.acall("hi", **ROOM)).text or "")
    assert "echo" in "".join([d async for d in await model.acall("hi", stream=True, **ROOM)])


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.usefixtures("dashscope_aio_cleanup")
async def test_items_carrying_nothing_do_not_hold_a_stream_open(
        name: str, request: pytest.FixtureRequest) -> None:
    model, server, _ = built(name, request)
    await warmed(model)
    fam = FAMILIES[name]
    server.enqueue(fam.kept_alive(), fam.kept_alive())
    start = time.monotonic()
    stream = model("hi", stream=True)
    with pytest.raises(errors.ModelTimeoutError) as info:
        list(stream)
    assert time.monotonic() - start < bound()
    assert info.value.partial_text == "Hel" and stream.partial_text == "Hel"
    assert info.value.config_name == name
    start = time.monotonic()
    astream = await model.acall("hi", stream=True)
    with pytest.raises(errors.ModelTimeoutError) as info:
        async for _ in astream:
            pass
    assert time.monotonic() - start < bound()
    assert info.value.partial_text == "Hel" and astream.partial_text == "Hel"
    echoes(model)
    await aechoes(model)


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.usefixtures("dashscope_aio_cleanup")
async def test_a_stream_keeps_going_while_deltas_come_in_time(
        name: str, request: pytest.FixtureRequest) -> None:
    # Deltas DELAY apart, two and a half times as many as fit in the timeout: the bound is the gap
    # between two deltas, not the whole stream.
    model, server, _ = built(name, request)
    await warmed(model)
    fam = FAMILIES[name]
    words = [f"w{i} " for i in range(int(2.5 * TIMEOUT / DELAY))]

    server.enqueue(held(fam.stream(words)), held(fam.stream(words)))
    assert "".join(model("hi", stream=True)) == "".join(words)
    assert "".join([d async for d in await model.acall("hi", stream=True)]) == "".join(words)


DRIPPING = ["dashscope", "huggingface", "litellm"]


@pytest.mark.parametrize("given", ["config", "call"])
@pytest.mark.parametrize("name", DRIPPING)
@pytest.mark.usefixtures("dashscope_aio_cleanup")
async def test_a_dripping_server_cannot_hold_an_attempt_past_its_timeout(
        name: str, given: str, request: pytest.FixtureRequest) -> None:
    model, server, options = built(name, request, given)
    await warmed(model)
    fam = FAMILIES[name]
    server.enqueue(dripped(fam.answer()), dripped(fam.answer()),
                   dripped(fam.stream(["o", "k"])), dripped(fam.stream(["o", "k"])))
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        model("hi", **options)
    assert info.value.config_name == name and info.value.timeout == TIMEOUT
    with pytest.raises(errors.ModelTimeoutError):
        await model.acall("hi", **options)
    with pytest.raises(errors.ModelTimeoutError):
        list(model("hi", stream=True, **options))
    with pytest.raises(errors.ModelTimeoutError):
        async for _ in await model.acall("hi", stream=True, **options):
            pass
    assert time.monotonic() - start < 4 * bound()
    server.reset()  # a reply an attempt cut off before its request did not take
    echoes(model)
    await aechoes(model)


@pytest.mark.parametrize("name", DRIPPING)
@pytest.mark.usefixtures("dashscope_aio_cleanup")
async def test_a_calls_own_longer_timeout_reaches_the_sdk(
        name: str, request: pytest.FixtureRequest) -> None:
    # The config allows 0.5 s; the call 6 s: an answer taking ~1.5 s in all, each
    # piece 0.25 s apart, gets through.
    fam = FAMILIES[name]
    server: LoopbackServer = request.getfixturevalue(fam.fixture)
    reg = Registry()
    reg.init({"config_name": name, **fam.config(server), "max_retries": 0, "timeout": 0.5})
    model = await warmed(reg.get(name))

    def slow() -> Reply:
        return _late(fam.answer())

    server.enqueue(slow(), slow())
    assert model("hi", timeout=6).text == "ok"
    assert (await model.acall("hi", timeout=6)).text == "ok"
    server.enqueue(slow())
    with pytest.raises(errors.ModelTimeoutError):
        model("hi")


@pytest.mark.parametrize("name", DRIPPING)
@pytest.mark.usefixtures("dashscope_aio_cleanup")
async def test_a_calls_own_longer_timeout_reaches_the_sdk_on_streams(
        name: str, request: pytest.FixtureRequest) -> None:
    # As above, for a stream opened sync and async: its first delta comes after 1.5 s.
    fam = FAMILIES[name]
    server: LoopbackServer = request.getfixturevalue(fam.fixture)
    reg = Registry()
    reg.init({"config_name": name, **fam.config(server), "max_retries": 0, "timeout": 0.5})
    model = await warmed(reg.get(name))
    server.enqueue(_late(fam.stream(["o", "k"])), _late(fam.stream(["o", "k"])))
    assert "".join(model("hi", stream=True, timeout=6)) == "ok"
    assert "".join([d async for d in await model.acall("hi", stream=True, timeout=6)]) == "ok"


def _late(reply: Reply) -> Reply:
    """`reply` after a silence of 1.5 s (longer than 0.5 s, within 6 s)."""
    from tests.loopback import delay_reply

    return delay_reply(1.5, reply)


def test_hf_session_keeps_its_behaviour_outside_a_call(hf_server: HFServer) -> None:
    # The deadline is installed on huggingface_hub's process-wide session; a request made
    # with it outside a modelhub call is not cut short by anything of ours.
    from huggingface_hub.utils import get_session

    reg = Registry()
    reg.init({"config_name": "h", "model_type": "hf_inference_chat", "model_name": "tgi",
              "base_url": hf_server.url, "timeout": TIMEOUT, "max_retries": 0})
    assert "echo" in (reg.get("h")("hi", **ROOM).text or "")
    session = get_session()
    assert type(session._transport._pool._network_backend).__module__ == \
        "modelhub.http.deadline"  # installed
    hf_server.enqueue(dripped(FAMILIES["huggingface"].answer()))
    start = time.monotonic()
    response = session.post(hf_server.url + "/v1/chat/completions", json={},
                            timeout=TIMEOUT)  # each read under a second; the whole, more
    assert response.status_code == 200 and response.json()["choices"]
    assert time.monotonic() - start > 2 * TIMEOUT


@pytest.mark.parametrize("given", ["config", "call"])
async def test_litellm_anthropic_route_keeps_to_the_whole_attempt(
        anthropic_server: Any, given: str) -> None:  # noqa: F811 (the fixture)
    # Anthropic goes through LiteLLM's own HTTPHandler, not the OpenAI SDK.
    from tests import anthropic_server as anth

    answer = Reply(200, {"content-type": "application/json"},
                   json.dumps(anth.message([anth.text("ok")])).encode())
    reg = Registry()
    reg.init({"config_name": "ll", "model_type": "litellm_chat", "max_retries": 0,
              "model_name": "anthropic/claude-sonnet-4-5", "api_key": "sk-ant-deadline-0123",
              "api_base": anthropic_server.url,
              "timeout": TIMEOUT if given == "config" else 60})
    model = await warmed(reg.get("ll"))
    anthropic_server.enqueue(dripped(answer), dripped(answer))
    options = {"timeout": TIMEOUT} if given == "call" else {}
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError):
        model("hi", **options)
    with pytest.raises(errors.ModelTimeoutError):
        await model.acall("hi", **options)
    assert time.monotonic() - start < 2 * bound()
    anthropic_server.reset()  # a reply an attempt cut off before its request did not take
    echoes(model)


def test_litellm_shared_clients_are_left_alone(openai_server: Any) -> None:
    # Our sync calls go through the wrapper's own clients: LiteLLM's module-level
    # client, which other users of LiteLLM share, keeps httpx's own behaviour.
    import litellm

    reg = Registry()
    reg.init({"config_name": "ll", "model_type": "litellm_chat", "timeout": TIMEOUT,
              "model_name": "openai/gpt-4o-mini", "api_key": "sk-litellm-0123456789",
              "api_base": openai_server.base_url})
    assert "echo" in (reg.get("ll")("hi", **ROOM).text or "")
    backend = litellm.module_level_client.client._transport._pool._network_backend
    assert type(backend).__module__ != "modelhub.http.deadline"


@pytest.mark.parametrize(("model_name", "env"), [
    ("groq/m", {}),  # LiteLLM's own handler for it (an HTTPHandler), the address named
    ("together_ai/m", {"TOGETHER_AI_API_BASE": "{base}", "TOGETHERAI_API_KEY": "tk-0123456789"}),
    ("nebius/m", {"NEBIUS_API_BASE": "{base}", "NEBIUS_API_KEY": "nk-0123456789"}),
])
def test_litellm_routes_keep_to_the_whole_attempt(
        openai_server: Any, monkeypatch: pytest.MonkeyPatch, model_name: str,
        env: dict[str, str]) -> None:
    # Whichever client LiteLLM reads for a provider (an HTTPHandler for the providers it
    # has a handler of its own for, an openai.OpenAI on its OpenAI-compatible path), the
    # wrapper hands it one keeping to the deadline; with no address in the config, the
    # one LiteLLM finds itself (here in the provider's variables), and its key.
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(base=openai_server.base_url))
    config: dict[str, Any] = {"config_name": "ll", "model_type": "litellm_chat",
                              "max_retries": 0, "model_name": model_name, "timeout": TIMEOUT}
    if not env:
        config.update(api_base=openai_server.base_url, api_key="gk-0123456789")
    reg = Registry()
    reg.init(config)
    model = reg.get("ll")
    echoes(model)
    stream = FAMILIES["litellm"].stream
    openai_server.enqueue(dripped(FAMILIES["litellm"].answer()), dripped(stream(["o", "k"])))
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError):
        model("hi")
    with pytest.raises(errors.ModelTimeoutError):
        list(model("hi", stream=True))
    assert time.monotonic() - start < 2 * bound()
    openai_server.reset()
    echoes(model)
