"""Fallbacks: every error class that moves a call on, plain calls and streams (before
their first delta), sync and async; cycles and unknown names refused at init()."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    delay_reply,
    error_reply,
    json_reply,
    sse_reply,
)

FAST = {"retry": {"attempts": 2, "backoff_base": 0.01, "backoff_max": 0.02, "jitter": 0}}


def config(server: OpenAIServer, name: str, **extra: Any) -> dict[str, Any]:
    return {"config_name": name, "model_type": "openai_chat", "model_name": f"model-{name}",
            "api_key": f"sk-{name}-0123456789", "base_url": f"{server.url}/{name}/v1",
            **FAST, **extra}


def registry(server: OpenAIServer, *more: dict[str, Any], **primary: Any) -> Registry:
    reg = Registry()
    reg.init([config(server, "primary", fallbacks=["backup"], **primary),
              config(server, "backup"), *more])
    return reg


def fail_primary(server: OpenAIServer, *replies: Any) -> None:
    server.enqueue(*replies, path="/primary/v1/chat/completions")


def paths(server: OpenAIServer) -> list[str]:
    return [r.path.split("/")[1] for r in server.requests]


CASES = {
    "rate_limit": [error_reply(429, "slow", headers={"retry-after": "0"})] * 2,
    "server_error": [error_reply(500, "boom"), error_reply(503, "busy")],
    "context_length": [error_reply(400, "This model's maximum context length is 8192 "
                                        "tokens", code="context_length_exceeded")],
    "request_timeout_408": [error_reply(408, "late")] * 2,
    "conflict_409": [error_reply(409, "locked")] * 2,
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_class_falls_back(openai_server: OpenAIServer, case: str) -> None:
    reg = registry(openai_server)
    fail_primary(openai_server, *CASES[case])
    resp = reg.get("primary")("hi")
    assert resp.text == "echo: hi" and resp.config_name == "backup"
    assert paths(openai_server)[-1] == "backup"
    assert paths(openai_server).count("primary") == len(CASES[case])


@pytest.mark.parametrize("case", list(CASES))
async def test_each_error_class_falls_back_for_a_stream_async(openai_server: OpenAIServer,
                                                              case: str) -> None:
    reg = registry(openai_server)
    fail_primary(openai_server, *CASES[case])
    stream = await reg.get("primary").acall("hi there", stream=True)
    assert "".join([d async for d in stream]) == "echo: hi there"
    assert stream.response.config_name == "backup"


def test_a_timeout_falls_back(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server, timeout=0.3, retry={"attempts": 1})
    fail_primary(openai_server, delay_reply(1.5, json_reply({})))
    resp = reg.get("primary")("hi")
    assert resp.config_name == "backup"


def test_a_refused_connection_falls_back(openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init([{**config(openai_server, "primary", fallbacks=["backup"]),
               "base_url": "http://127.0.0.1:1/v1"}, config(openai_server, "backup")])
    assert reg.get("primary")("hi").config_name == "backup"
    stream = reg.get("primary")("hi", stream=True)
    assert stream.text == "echo: hi" and stream.response.config_name == "backup"


def test_an_error_inside_a_200_stream_before_any_text_falls_back(
        openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)
    broken = sse_reply([chat_chunks(["x"])[0],
                        {"error": {"message": "overloaded", "type": "server_error",
                                   "code": "server_error"}}], done=False)
    fail_primary(openai_server, broken, broken)
    stream = reg.get("primary")("hi", stream=True)
    assert list(stream) == ["echo: ", "hi"] and stream.response.config_name == "backup"


def test_a_stream_broken_after_its_first_delta_does_not_fall_back(
        openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)
    fail_primary(openai_server, sse_reply(chat_chunks(["Hel", "lo"])[:3], done=False))
    stream = reg.get("primary")("hi", stream=True)
    with pytest.raises(errors.ModelConnectionError) as info:
        list(stream)
    assert info.value.partial_text == "Hello" and "backup" not in paths(openai_server)


@pytest.mark.parametrize(("status", "fallback_on"), [(401, ["auth"]), (403, ["auth"]),
                                                     (404, ["not_found"])])
def test_other_classes_fall_back_only_when_named(openai_server: OpenAIServer, status: int,
                                                 fallback_on: list[str]) -> None:
    fail_primary(openai_server, error_reply(status, "no"))
    with pytest.raises(errors.ModelAPIError) as info:
        registry(openai_server).get("primary")("hi")
    assert info.value.status_code == status and "backup" not in paths(openai_server)
    fail_primary(openai_server, error_reply(status, "no"))
    resp = registry(openai_server, fallback_on=fallback_on).get("primary")("hi")
    assert resp.config_name == "backup"


def test_fallback_on_narrows_the_classes(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server, fallback_on=["rate_limit"])
    fail_primary(openai_server, error_reply(500, "x"), error_reply(500, "x"))
    with pytest.raises(errors.ServerError):
        reg.get("primary")("hi")
    fail_primary(openai_server, *[error_reply(429, "x", headers={"retry-after": "0"})] * 2)
    assert reg.get("primary")("hi").config_name == "backup"


def test_a_budget_refusal_falls_back_when_named(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server, budget={"tokens": 1}, fallback_on=["budget"])
    assert reg.get("primary")("hi").config_name == "backup"
    assert "primary" not in paths(openai_server)  # refused before anything was sent
    with pytest.raises(errors.BudgetExceededError):
        registry(openai_server, budget={"tokens": 1}).get("primary")("hi")


def test_the_chain_goes_on_through_a_fallbacks_own_fallbacks(
        openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init([config(openai_server, "a", fallbacks=["b"]),
              config(openai_server, "b", fallbacks=["c"]), config(openai_server, "c")])
    for name in ("a", "b"):
        openai_server.enqueue(*[error_reply(500, "x")] * 2, path=f"/{name}/v1/chat/completions")
    resp = reg.get("a")("hi")
    assert resp.config_name == "c" and paths(openai_server) == ["a", "a", "b", "b", "c"]


def test_the_last_error_goes_up_chained_to_the_first(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)
    fail_primary(openai_server, *[error_reply(500, "first")] * 2)
    openai_server.enqueue(*[error_reply(503, "second")] * 2, path="/backup/v1/chat/completions")
    with pytest.raises(errors.ServerError) as info:
        reg.get("primary")("hi")
    assert info.value.config_name == "backup" and info.value.status_code == 503
    assert isinstance(info.value.__cause__, errors.ServerError)
    assert info.value.__cause__.config_name == "primary"


async def test_async_calls_fall_back(openai_server: OpenAIServer) -> None:
    reg = registry(openai_server)
    fail_primary(openai_server, *[error_reply(500, "x")] * 2)
    resp = await reg.get("primary").acall("hi")
    assert resp.config_name == "backup"


def test_embeddings_fall_back(openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init([{**config(openai_server, "e1", fallbacks=["e2"]), "model_type": "openai_embedding"},
              {**config(openai_server, "e2"), "model_type": "openai_embedding"}])
    openai_server.enqueue(*[error_reply(500, "x")] * 2, path="/e1/v1/embeddings")
    resp = reg.get("e1")(["a", "b"])
    assert resp.config_name == "e2" and len(resp.embedding or []) == 2


# -- refused at init -----------------------------------------------------------------
def test_an_unknown_fallback_is_a_config_error_naming_the_closest(
        openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init(config(openai_server, "keep"))
    with pytest.raises(errors.ConfigError) as info:
        reg.init([config(openai_server, "primary", fallbacks=["bakup"]),
                  config(openai_server, "backup")])
    assert "'bakup' is not a loaded config; did you mean 'backup'" in str(info.value)
    assert info.value.issues[0].field == "fallbacks"
    assert reg.list_configs() == ["keep"]  # unchanged


@pytest.mark.parametrize("chain", [
    {"a": ["b"], "b": ["a"]},
    {"a": ["b"], "b": ["c"], "c": ["a"]},
    {"a": ["b", "c"], "b": [], "c": ["d"], "d": ["c"]},
])
def test_a_fallback_cycle_is_a_config_error(openai_server: OpenAIServer,
                                            chain: dict[str, list[str]]) -> None:
    reg = Registry()
    with pytest.raises(errors.ConfigError, match="fallback cycle"):
        reg.init([config(openai_server, n, fallbacks=f) for n, f in chain.items()])
    assert reg.list_configs() == []


def test_a_cycle_closed_by_a_later_init_is_refused(openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init([config(openai_server, "a", fallbacks=["b"]), config(openai_server, "b")])
    with pytest.raises(errors.ConfigError, match=r"fallback cycle: b -> a -> b"):
        reg.init(config(openai_server, "b", fallbacks=["a"]), clear_existing=False)
    assert reg.entry("b").config.fallbacks == []


@pytest.mark.parametrize(("fallbacks", "message"), [
    (["primary"], "itself"), (["x", "x"], "twice"), ([""], "empty")])
def test_bad_fallback_lists(openai_server: OpenAIServer, fallbacks: list[str],
                            message: str) -> None:
    with pytest.raises(errors.ConfigError, match=message):
        Registry().init(config(openai_server, "primary", fallbacks=fallbacks))


def test_an_unknown_error_class_is_a_config_error(openai_server: OpenAIServer) -> None:
    with pytest.raises(errors.ConfigError, match="rate_limit"):
        Registry().init(config(openai_server, "p", fallback_on=["ratelimit"]))
