"""A budget is a cap under concurrency: each call holds its worst case (its input as
reckoned, and the most output it may get), a call that names no output limit is sent
what the budget has left (at most `OUTPUT_CAP`), so calls in flight together never
pass it. Tried with threads, asyncio tasks and streams against a loopback server
that honours the limit it is sent and reports usage it can be held to."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from modelhub import errors
from modelhub.calls.estimate import OUTPUT_CAP, input_tokens
from modelhub.registry import Registry
from tests.loopback import RecordedRequest, Reply
from tests.openai_server import OpenAIServer, chat_chunks, chat_completion, json_reply, sse_reply


class MeteredServer(OpenAIServer):
    """Chat completions whose usage is known: as many prompt tokens as modelhub reckons
    the messages to be (so the only error left is none), and `wants` output tokens (what
    the model writes when nothing stops it), or fewer when the request limits them
    (`max_tokens` or `max_completion_tokens`)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.limits: list[int | None] = []
        self.delay = 0.0
        self.wants = 40

    def default_reply(self, req: RecordedRequest) -> Reply:
        body: dict[str, Any] = req.json if isinstance(req.json, dict) else {}
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        with self.lock:
            self.limits.append(limit)
        out = self.wants if limit is None else min(self.wants, int(limit))
        usage = {"prompt_tokens": input_tokens(body.get("messages")),
                 "completion_tokens": out * int(body.get("n") or 1)}  # n answers
        usage["total_tokens"] = usage["prompt_tokens"] + out
        if body.get("stream"):  # in 20 pieces at most
            step = -(-out // 20) or 1
            pieces = ["w " * min(step, out - i) for i in range(0, out, step)]
            reply = sse_reply(chat_chunks(pieces, usage=usage))
        else:
            reply = json_reply(chat_completion("w " * out, usage=usage))
        reply.delay = self.delay
        return reply


@pytest.fixture(scope="module")
def metered_server() -> Iterator[MeteredServer]:
    with MeteredServer() as server:
        yield server


@pytest.fixture
def metered(metered_server: MeteredServer) -> MeteredServer:
    server = metered_server
    server.reset()
    server.limits.clear()
    server.delay = 0.02  # calls overlap
    server.wants = 40
    return server


def capped(server: OpenAIServer, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "capped", "model_type": "openai_chat", "model_name": "my-model",
              "api_key": "sk-budget-0123456789", "base_url": server.base_url,
              "max_retries": 0, **extra})
    return reg


MESSAGES = [{"role": "user", "content": "write me a fairly long answer please"}]


def thread_calls(model: Any, count: int, workers: int = 8, **kwargs: Any) -> list[str]:
    """`count` calls over `workers` threads: each answer's text, or "refused"."""
    def one(_: int) -> str:
        try:
            if kwargs.get("stream"):
                return "".join(model(MESSAGES, **kwargs))
            return str(model(MESSAGES, **kwargs).text)
        except errors.BudgetExceededError:
            return "refused"

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def test_threads_naming_a_limit_never_pass_a_token_budget(metered: MeteredServer) -> None:
    # Each call holds its input and the 30 tokens it asks for: many fit at once.
    reg = capped(metered, budget={"tokens": 600}, generate_args={"max_tokens": 30})
    model = reg.get("capped")
    results = thread_calls(model, 40)
    totals = reg.usage()["capped"]
    per_call = input_tokens(MESSAGES) + 30
    assert 600 - 8 * per_call <= totals.total_tokens <= 600
    assert "refused" in results and totals.calls == 40
    assert totals.errors == results.count("refused")
    assert set(metered.limits) == {30}
    with pytest.raises(errors.BudgetExceededError):
        model(MESSAGES, max_tokens=30)


@pytest.mark.parametrize("stream", [False, True])
def test_threads_naming_no_limit_are_sent_what_is_left(metered: MeteredServer,
                                                       stream: bool) -> None:
    # The model would write 3,000 tokens; each call holds (and is sent) at most what the
    # budget has left, up to OUTPUT_CAP; the last ones get less, and the rest none.
    metered.wants = 3000
    budget = 3 * OUTPUT_CAP
    reg = capped(metered, budget={"tokens": budget})
    results = thread_calls(reg.get("capped"), 16, stream=stream)
    totals = reg.usage()["capped"]
    assert 3000 <= totals.total_tokens <= budget
    assert "refused" in results and any(r.startswith("w ") for r in results)
    assert metered.limits and all(isinstance(n, int) and 1 <= n <= OUTPUT_CAP
                                  for n in metered.limits)


@pytest.mark.parametrize("stream", [False, True])
async def test_asyncio_tasks_never_pass_a_token_budget(metered: MeteredServer,
                                                       stream: bool) -> None:
    reg = capped(metered, budget={"tokens": 500}, generate_args={"max_tokens": 25})
    model = reg.get("capped")

    async def one() -> str:
        try:
            if stream:
                answer = await model.acall(MESSAGES, stream=True)
                return "".join([d async for d in answer])
            return str((await model.acall(MESSAGES)).text)
        except errors.BudgetExceededError:
            return "refused"

    results = await asyncio.gather(*(one() for _ in range(30)))
    totals = reg.usage()["capped"]
    assert 500 - 30 * (input_tokens(MESSAGES) + 25) <= totals.total_tokens <= 500
    assert totals.total_tokens >= 250 and "refused" in results
    # And with no limit named: what is left is sent.
    metered.wants = 3000
    reg = capped(metered, budget={"tokens": 2 * OUTPUT_CAP})
    model = reg.get("capped")
    results = await asyncio.gather(*(one() for _ in range(12)))
    assert 3000 <= reg.usage()["capped"].total_tokens <= 2 * OUTPUT_CAP
    assert "refused" in results


@pytest.mark.parametrize("named", [False, True])
def test_a_usd_budget_caps_the_cost(metered: MeteredServer, named: bool) -> None:
    # $1 per million input tokens, $100 per million output: 200 output tokens in all.
    extra = {"generate_args": {"max_tokens": 20}} if named else {}
    reg = capped(metered, budget={"usd": 0.02}, pricing={"input": 1.0, "output": 100.0},
                 **extra)
    results = thread_calls(reg.get("capped"), 30, workers=6)
    cost = reg.usage()["capped"].cost
    assert cost is not None and 0 < cost <= 0.02 + 1e-12
    assert "refused" in results
    if named:  # each call holds its input and 20 output tokens: ~$0.002
        assert cost >= 0.02 - 6 * (input_tokens(MESSAGES) * 1.0 + 20 * 100.0) / 1e6
    else:  # no limit named: each was sent at most the output tokens $0.02 leaves
        assert all(isinstance(n, int) and n <= 200 for n in metered.limits)


def test_the_limit_sent_is_what_is_left_and_a_named_one_is_kept(
        metered: MeteredServer) -> None:
    metered.delay = 0.0
    asked = input_tokens(MESSAGES)
    reg = capped(metered, budget={"tokens": 3 * OUTPUT_CAP})
    model = reg.get("capped")
    model(MESSAGES)  # plenty left: the cap
    assert json.loads(metered.requests[-1].body)["max_tokens"] == OUTPUT_CAP
    model(MESSAGES, max_tokens=7)  # named: kept, and held as it is
    assert metered.limits[-1] == 7
    with pytest.raises(errors.BudgetExceededError) as info:
        model(MESSAGES, max_tokens=3 * OUTPUT_CAP)  # a named limit that does not fit
    assert info.value.unit == "tokens" and metered.limits[-1] == 7
    # Room for two inputs, one token and 25 more: the second call is sent 25.
    tight = capped(metered, budget={"tokens": 2 * asked + 1 + 25}).get("capped")
    tight(MESSAGES, max_tokens=1)
    tight(MESSAGES)
    assert metered.limits[-1] == 25
    with pytest.raises(errors.BudgetExceededError):
        tight(MESSAGES)  # nothing left, not even one token: refused, nothing sent
    assert len(metered.limits) == 4


def test_an_openai_reasoning_model_is_limited_by_max_completion_tokens(
        metered: MeteredServer) -> None:
    metered.delay = 0.0
    reg = capped(metered, model_name="o3-mini", budget={"tokens": 10_000})
    reg.get("capped")(MESSAGES)
    body = json.loads(metered.requests[-1].body)
    assert body["max_completion_tokens"] == OUTPUT_CAP and "max_tokens" not in body


def test_a_stream_closed_before_its_usage_counts_what_it_held(
        metered: MeteredServer) -> None:
    metered.delay = 0.0
    reg = capped(metered, budget={"tokens": 10_000})
    stream = reg.get("capped")(MESSAGES, stream=True, max_tokens=30)
    next(iter(stream))
    stream.close()
    totals = reg.usage()["capped"]
    assert totals.total_tokens == input_tokens(MESSAGES) + 30


def test_a_type_that_cannot_be_limited_keeps_the_estimate() -> None:
    # A callable chat model has no output limit to send: its calls hold their input
    # as reckoned, as before (the README names such types).
    reg = Registry()
    reg.init({"config_name": "fn", "model_type": "callable",
              "callable": "tests.test_budget_cap:answer", "budget": {"tokens": 30}})
    model = reg.get("fn")
    assert model("hi").text == "ok"
    assert reg.usage()["fn"].calls == 1


def answer(messages: Any, **kwargs: Any) -> str:
    """A callable chat model for the test above."""
    assert "max_tokens" not in kwargs
    return "ok"


async def test_a_call_cancelled_while_it_waits_for_its_rate_limit_releases_its_hold(
        metered: MeteredServer) -> None:
    metered.delay = 0.0
    reg = capped(metered, budget={"tokens": 10_000}, rpm=1)
    model = reg.get("capped")
    await model.acall(MESSAGES, max_tokens=10)  # the minute's one request
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(model.acall(MESSAGES, max_tokens=5000), 0.2)
    held = reg.calls.ledger._totals["capped"]
    assert (held._reserved_tokens, held._reserved_usd) == (0, 0.0)
    assert reg.usage()["capped"].calls == 2 and reg.usage()["capped"].errors == 1


def test_a_budget_that_cannot_count_output_sends_no_limit(metered: MeteredServer) -> None:
    metered.delay = 0.0
    # A USD budget, and no price known for the model: nothing to cap the answer by.
    reg = capped(metered, model_name="no-such-model-xyz", budget={"usd": 1})
    reg.get("capped")(MESSAGES)
    reg = capped(metered, budget={"usd": 1}, pricing={"input": 1.0})  # output is free
    reg.get("capped")(MESSAGES)
    assert metered.limits == [None, None]


def test_a_call_asking_for_several_answers_holds_each(metered: MeteredServer) -> None:
    metered.delay = 0.0
    metered.wants = 3000
    asked = input_tokens(MESSAGES)
    reg = capped(metered, budget={"tokens": asked + 3 * 100 + 2})
    model = reg.get("capped")
    with pytest.raises(errors.BudgetExceededError):
        model(MESSAGES, n=3, max_tokens=101)  # 303 output tokens: one too many
    assert metered.limits == []
    model(MESSAGES, n=3)  # each answer is sent what a third of the rest allows
    assert metered.limits == [100]
    assert reg.usage()["capped"].total_tokens == asked + 300
