"""The retry block, 408 and 409, and a call's own `timeout` and `max_retries`, through
the base classes (an OpenAI-shaped loopback server; nothing provider-specific)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from modelhub.retry import RetryPolicy
from tests.openai_server import OpenAIServer, Reply, error_reply

KEY = "sk-retry-test-0123456789"


def model(server: OpenAIServer, name: str = "r", **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": name, "model_type": "openai_chat", "model_name": "m",
              "api_key": KEY, "base_url": server.base_url, **extra})
    return reg.get(name)


def fast(attempts: int, **more: Any) -> dict[str, Any]:
    return {"retry": {"attempts": attempts, "backoff_base": 0.01, "backoff_max": 0.05,
                      "jitter": 0, **more}}


def test_the_retry_block_sets_the_policy() -> None:
    reg = Registry()
    reg.init([{"config_name": "a", "model_type": "openai_chat", "max_retries": 4},
              {"config_name": "b", "model_type": "openai_chat",
               "retry": {"attempts": 3, "backoff_base": 0.2, "backoff_max": 1.5,
                         "jitter": 0.5, "max_retry_after": 7}},
              {"config_name": "c", "model_type": "openai_chat",
               "retry": {"backoff_base": 1}, "max_retries": 1}])
    policy: RetryPolicy = reg.get("a")._retry
    assert (policy.max_retries, policy.base_delay, policy.max_delay) == (4, 0.5, 30.0)
    policy = reg.get("b")._retry
    assert (policy.max_retries, policy.base_delay, policy.max_delay, policy.jitter,
            policy.max_retry_after) == (2, 0.2, 1.5, 0.5, 7)
    policy = reg.get("c")._retry  # max_retries is the short form of attempts - 1
    assert (policy.max_retries, policy.base_delay) == (1, 1)


def test_attempts_and_max_retries_that_disagree_are_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="disagree"):
        Registry().init({"config_name": "x", "model_type": "openai_chat", "max_retries": 1,
                         "retry": {"attempts": 5}})
    with pytest.raises(errors.ConfigError, match="retry"):
        Registry().init({"config_name": "x", "model_type": "openai_chat",
                         "retry": {"attempts": 0}})


def test_backoff_grows_with_jitter_within_bounds_and_is_capped() -> None:
    policy = RetryPolicy(10, base_delay=1, max_delay=5, jitter=0.25)
    server_error = errors.ServerError("x", status_code=500)
    for attempt, centre in ((1, 1), (2, 2), (3, 4)):
        waits = [policy.delay(attempt, server_error) for _ in range(200)]
        assert all(w is not None and centre * 0.75 <= w <= centre * 1.25 for w in waits)
        assert len(set(waits)) > 1  # jittered
    assert policy.delay(6, server_error) == 5  # capped
    assert RetryPolicy(3, base_delay=1, jitter=0).delay(2, server_error) == 2


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_transient_statuses_are_retried(openai_server: OpenAIServer, status: int) -> None:
    openai_server.enqueue(error_reply(status, "again", headers={"retry-after": "0"}),
                          error_reply(status, "again", headers={"retry-after": "0"}))
    assert model(openai_server, **fast(3))("hi").text == "echo: hi"
    assert len(openai_server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_statuses_are_not_retried(openai_server: OpenAIServer, status: int) -> None:
    openai_server.enqueue(error_reply(status, "no"))
    with pytest.raises(errors.ModelAPIError) as info:
        model(openai_server, **fast(5))("hi")
    assert info.value.status_code == status and len(openai_server.requests) == 1


def test_a_retry_after_longer_than_max_retry_after_is_not_waited_for(
        openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(429, "slow", headers={"retry-after": "30"}))
    start = time.monotonic()
    with pytest.raises(errors.RateLimitError) as info:
        model(openai_server, **fast(4, max_retry_after=2))("hi")
    assert info.value.retry_after == 30 and len(openai_server.requests) == 1
    assert time.monotonic() - start < 10  # not the 30 s asked for


def test_a_retry_after_within_bounds_is_honoured(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(429, "slow", headers={"retry-after": "1"}))
    start = time.monotonic()
    assert model(openai_server, **fast(2, max_retry_after=2))("hi").text == "echo: hi"
    assert time.monotonic() - start >= 0.95 and len(openai_server.requests) == 2


def test_a_calls_own_max_retries(openai_server: OpenAIServer) -> None:
    chat = model(openai_server, **fast(5))
    openai_server.enqueue(*[error_reply(503, "busy")] * 3)
    with pytest.raises(errors.ServerError):
        chat("hi", max_retries=0)
    assert len(openai_server.requests) == 1
    openai_server.reset()
    openai_server.enqueue(*[error_reply(503, "busy")] * 2)
    assert chat("hi", max_retries=2).text == "echo: hi"
    assert len(openai_server.requests) == 3
    with pytest.raises(ValueError, match="max_retries"):
        chat("hi", max_retries=-1)


async def test_a_calls_own_max_retries_async(openai_server: OpenAIServer) -> None:
    chat = model(openai_server, **fast(5))
    openai_server.enqueue(*[error_reply(500, "boom")] * 3)
    with pytest.raises(errors.ServerError):
        await chat.acall("hi", max_retries=1)
    assert len(openai_server.requests) == 2


def test_a_calls_own_timeout_replaces_the_configs(openai_server: OpenAIServer) -> None:
    chat = model(openai_server, timeout=30, max_retries=0)
    openai_server.enqueue(Reply(200, {"content-type": "application/json"},
                                sse=[b" "] * 40 + [b"{}"], piece_delay=0.1))
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        chat("hi", timeout=0.5)
    assert info.value.timeout == 0.5 and time.monotonic() - start < 3
    assert chat("hi").text == "echo: hi"  # the next call keeps the config's
    with pytest.raises(ValueError, match="timeout"):
        chat("hi", timeout=0)


async def test_a_calls_own_timeout_bounds_a_stream_too(openai_server: OpenAIServer) -> None:
    import json

    from tests.openai_server import chat_chunks

    first = chat_chunks(["Hel"])[1]
    openai_server.enqueue(Reply(200, {"content-type": "text/event-stream"},
                                sse=[f"data: {json.dumps(first)}\n\n".encode()]
                                + [b": keep-alive\n\n"] * 30, piece_delay=0.1))
    chat = model(openai_server, timeout=60, max_retries=0)
    stream = await chat.acall("hi", stream=True, timeout=0.6)
    start = time.monotonic()
    with pytest.raises(errors.ModelTimeoutError) as info:
        [d async for d in stream]
    assert info.value.partial_text == "Hel" and time.monotonic() - start < 3


def test_embeddings_and_images_take_call_options(openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init([{"config_name": "e", "model_type": "openai_embedding", "model_name": "m",
               "api_key": KEY, "base_url": openai_server.base_url, **fast(4)},
              {"config_name": "i", "model_type": "openai_dall_e", "model_name": "m",
               "api_key": KEY, "base_url": openai_server.base_url, **fast(4)}])
    openai_server.enqueue(error_reply(500, "x"), error_reply(500, "x"))
    with pytest.raises(errors.ServerError):
        reg.get("e")(["a"], max_retries=1)
    assert len(openai_server.requests) == 2
    openai_server.reset()
    openai_server.enqueue(error_reply(409, "conflict"))
    assert reg.get("i")("a cat", max_retries=1).image_urls
    assert len(openai_server.requests) == 2
