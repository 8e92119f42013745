"""`rpm` and `tpm`: calls wait for room in a sliding window, across threads and asyncio
tasks, never failing for it (the window is shortened for the tests)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from modelhub.calls import ratelimit
from modelhub.calls.ratelimit import RateLimiter
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer

WINDOW = 0.4


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_rpm_holds_across_threads() -> None:
    limiter = RateLimiter(3, None, window=WINDOW)
    admitted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter.acquire()
        with lock:
            admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(9)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(admitted) == 9  # every call went, none failed
    assert most_in_any_window(admitted, WINDOW * 0.95) <= 3
    assert max(admitted) - start >= 2 * WINDOW * 0.95  # two windows were waited for


def test_tpm_counts_tokens_and_settles_to_what_was_used() -> None:
    limiter = RateLimiter(None, 100, window=WINDOW)
    first = limiter.acquire(60)
    start = time.monotonic()
    limiter.settle(first, 20)  # it used less than reckoned: room for 80 now
    limiter.acquire(70)
    assert time.monotonic() - start < WINDOW / 2
    limiter.acquire(50)  # 90 in the window: waits for the first ones to slide out
    assert time.monotonic() - start >= WINDOW * 0.9


def test_a_call_larger_than_tpm_waits_for_an_empty_window_then_goes() -> None:
    limiter = RateLimiter(None, 10, window=WINDOW)
    limiter.acquire(5)
    start = time.monotonic()
    limiter.acquire(50)
    assert WINDOW * 0.9 <= time.monotonic() - start < WINDOW * 10


async def test_rpm_holds_across_asyncio_tasks_without_blocking_the_loop() -> None:
    limiter = RateLimiter(2, None, window=WINDOW)
    admitted: list[float] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while len(admitted) < 6:
            ticks += 1
            await asyncio.sleep(0.01)

    async def task() -> None:
        await limiter.aacquire()
        admitted.append(time.monotonic())

    await asyncio.gather(ticker(), *(task() for _ in range(6)))
    assert most_in_any_window(admitted, WINDOW * 0.95) <= 2
    assert ticks >= 10  # the loop went on while the tasks waited


def test_a_config_limits_its_calls_across_threads(openai_server: OpenAIServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "WINDOW", WINDOW)
    reg = Registry()
    reg.init({"config_name": "limited", "model_type": "openai_chat", "model_name": "m",
              "api_key": "sk-limit-0123456789", "base_url": openai_server.base_url,
              "rpm": 2, "tpm": 10_000})
    model = reg.get("limited")
    seen: list[float] = []
    reg.add_hooks(before_call=lambda event: seen.append(time.monotonic()))
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(model("hi").text))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == ["echo: hi"] * 6 and len(openai_server.requests) == 6
    assert most_in_any_window(seen, WINDOW * 0.95) <= 2


async def test_a_config_limits_its_async_calls(openai_server: OpenAIServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "WINDOW", WINDOW)
    reg = Registry()
    reg.init({"config_name": "limited", "model_type": "openai_chat", "model_name": "m",
              "api_key": "sk-limit-0123456789", "base_url": openai_server.base_url,
              "rpm": 2})
    model = reg.get("limited")
    seen: list[float] = []
    reg.add_hooks(before_call=lambda event: seen.append(time.monotonic()))
    answers = await asyncio.gather(*(model.acall(f"q{i}") for i in range(5)))
    assert sorted(a.text for a in answers) == [f"echo: q{i}" for i in range(5)]
    assert most_in_any_window(seen, WINDOW * 0.95) <= 2


def test_reloading_with_other_limits_takes_them_at_once(openai_server: OpenAIServer) -> None:
    reg = Registry()
    base = {"config_name": "l", "model_type": "openai_chat", "model_name": "m",
            "base_url": openai_server.base_url}
    reg.init({**base, "rpm": 1})
    reg.get("l")("a")
    first = reg.calls.state(reg.entry("l").config).limiter
    reg.init({**base, "rpm": 100}, clear_existing=True)
    start = time.monotonic()
    reg.get("l")("b")  # the old window (1 per minute) no longer applies
    assert time.monotonic() - start < 5
    assert reg.calls.state(reg.entry("l").config).limiter is not first
