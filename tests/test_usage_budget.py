"""Per-registry usage totals, cost (a pricing block or the bundled table, read on
first use), budgets refused before a call, and `modelhub.usage()`."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import modelhub
from modelhub import errors
from modelhub.calls.pricing import table_price
from modelhub.registry import Registry, default_registry
from tests.openai_server import OpenAIServer, error_reply

# The fixture server's usage: 9 prompt and 12 completion tokens per call.
IN, OUT = 9, 12


def chat(server: OpenAIServer, name: str = "u", **extra: Any) -> tuple[Registry, Any]:
    reg = Registry()
    reg.init({"config_name": name, "model_type": "openai_chat", "model_name": "my-model",
              "api_key": "sk-usage-0123456789", "base_url": server.base_url,
              "max_retries": 0, **extra})
    return reg, reg.get(name)


def test_totals_count_calls_errors_tokens_latency_and_cost(openai_server: OpenAIServer) -> None:
    reg, model = chat(openai_server, pricing={"input": 2.0, "output": 8.0})
    model("a")
    stream = model("b", stream=True)
    stream.consume()
    openai_server.enqueue(error_reply(500, "x"))
    with pytest.raises(errors.ServerError):
        model("c")
    totals = reg.usage()["u"]
    assert (totals.calls, totals.errors) == (3, 1)
    assert (totals.input_tokens, totals.output_tokens) == (2 * IN, 2 * OUT)
    assert totals.total_tokens == 2 * (IN + OUT) and totals.latency > 0
    assert totals.cost == pytest.approx(2 * (IN * 2.0 + OUT * 8.0) / 1e6)
    assert reg.usage("nothing-called")["nothing-called"].calls == 0
    reg.reset_usage()
    assert reg.usage() == {}


def test_each_registry_keeps_its_own_totals(openai_server: OpenAIServer) -> None:
    reg1, m1 = chat(openai_server)
    reg2, m2 = chat(openai_server)
    m1("x")
    m1("y")
    m2("z")
    assert reg1.usage()["u"].calls == 2 and reg2.usage()["u"].calls == 1


def test_module_usage_reports_the_default_registry(openai_server: OpenAIServer) -> None:
    modelhub.init({"config_name": "usage-default", "model_type": "openai_chat",
                   "model_name": "gpt-4o-mini", "api_key": "sk-usage-0123456789",
                   "base_url": openai_server.base_url})
    try:
        modelhub.get("usage-default")("hi")
        totals = modelhub.usage("usage-default")["usage-default"]
        assert totals.calls == 1
        assert totals.cost == pytest.approx((IN * 0.15 + OUT * 0.6) / 1e6)  # bundled price
    finally:
        default_registry.remove("usage-default")
        default_registry.reset_usage("usage-default")


@pytest.mark.parametrize(("name", "price"), [
    ("gpt-4o-mini", (0.15, 0.6)), ("gpt-4o-mini-2024-07-18", (0.15, 0.6)),
    ("openai/gpt-4o", (2.5, 10.0)), ("GPT-4o", (2.5, 10.0)),
])
def test_the_bundled_table_finds_well_known_names(name: str, price: tuple[float, float]) -> None:
    found = table_price(name)
    assert found is not None and (found.input, found.output) == price


def test_an_unknown_model_has_no_cost(openai_server: OpenAIServer) -> None:
    reg, model = chat(openai_server, model_name="no-such-model-xyz")
    model("hi")
    assert table_price("no-such-model-xyz") is None and reg.usage()["u"].cost is None


def test_a_token_budget_refuses_a_call_before_it_is_sent(openai_server: OpenAIServer) -> None:
    reg, model = chat(openai_server, budget={"tokens": 45})
    model("hi")
    model("hi")  # 42 used, and about 5 more fit
    sent = len(openai_server.requests)
    with pytest.raises(errors.BudgetExceededError) as info:
        model("hi")
    assert len(openai_server.requests) == sent  # nothing sent
    error = info.value
    assert (error.config_name, error.unit, error.budget, error.spent) == ("u", "tokens", 45, 42)
    assert "45 tokens" in str(error)
    totals = reg.usage()["u"]
    assert (totals.calls, totals.errors) == (3, 1)
    reg.reset_usage("u")
    assert model("hi").text == "echo: hi"  # a reset starts the budget again


def test_a_usd_budget_counts_the_answer_asked_for(openai_server: OpenAIServer) -> None:
    # AgentScope writes a budget as a number of USD.
    _reg, model = chat(openai_server, budget=0.001, pricing={"input": 1.0, "output": 10.0})
    with pytest.raises(errors.BudgetExceededError) as info:
        model("hi", max_tokens=1000)  # 1000 tokens at $10/M: $0.01
    assert info.value.unit == "usd" and info.value.estimate == pytest.approx(0.01, rel=0.01)
    assert openai_server.requests == []
    assert model("hi", max_tokens=10).text == "echo: hi"


def test_a_budget_in_usd_without_a_price_is_not_enforced_on_cost(
        openai_server: OpenAIServer) -> None:
    _reg, model = chat(openai_server, model_name="no-such-model-xyz", budget={"usd": 0})
    assert model("hi").text == "echo: hi"


def test_budgets_hold_under_threads(openai_server: OpenAIServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    reg, model = chat(openai_server, budget={"tokens": 100})

    def one(_: int) -> str:
        try:
            return str(model("hi", max_tokens=OUT).text)
        except errors.BudgetExceededError:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(16)))
    # A call holds its worst case: its input as reckoned (5 tokens for "hi") and the
    # output it asks for, so calls in flight together pass the budget only by the
    # error of their input estimates (this server counts 9). tests/test_budget_cap.py
    # holds a server that honours the limit it is sent.
    assert "refused" in results and results[0] == "echo: hi"
    totals = reg.usage()["u"]
    assert totals.total_tokens <= 100 + results.count("echo: hi") * (IN - 5)
    assert totals.calls == 16 and totals.errors == results.count("refused")
    with pytest.raises(errors.BudgetExceededError):
        model("hi")


def test_nothing_of_modelhub_calls_is_imported_by_init() -> None:
    code = """
import sys, json, modelhub
modelhub.init([{"config_name": "a", "model_type": "openai_chat", "budget": 1,
                "pricing": {"input": 1}, "rpm": 5, "tpm": 100, "log": "x.db",
                "retry": {"attempts": 2}},
               {"config_name": "b", "model_type": "openai_chat", "fallbacks": ["a"]}])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("modelhub.calls")
                        or m in ("sqlite3", "opentelemetry"))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == ["modelhub.calls", "modelhub.calls.fallbacks"]


def test_answers_asked_for_again_are_counted(openai_server: OpenAIServer) -> None:
    from pydantic import BaseModel

    from tests.openai_server import chat_completion, json_reply

    class City(BaseModel):
        name: str

    reg, model = chat(openai_server, pricing={"input": 1.0, "output": 2.0})
    openai_server.enqueue(json_reply(chat_completion("not json")),
                          json_reply(chat_completion('{"name": "Oslo"}')))
    assert model("city?", response_format=City, parse_retries=1).parsed == City(name="Oslo")
    totals = reg.usage()["u"]
    assert (totals.input_tokens, totals.output_tokens) == (2 * IN, 2 * OUT)
    assert totals.cost == pytest.approx(2 * (IN * 1.0 + OUT * 2.0) / 1e6)
    openai_server.enqueue(json_reply(chat_completion("no")), json_reply(chat_completion("nope")))
    with pytest.raises(errors.ResponseParseError):
        model("city?", response_format=City, parse_retries=1)
    totals = reg.usage()["u"]
    assert (totals.input_tokens, totals.output_tokens, totals.errors) == (4 * IN, 4 * OUT, 1)


def test_an_answer_asked_for_again_holds_its_worst_case_first(
        openai_server: OpenAIServer) -> None:
    from pydantic import BaseModel

    from modelhub.calls.estimate import input_tokens
    from tests.openai_server import chat_completion, json_reply

    class City(BaseModel):
        name: str

    first = input_tokens([{"role": "user", "content": "city?"}]) + OUT
    # Room for the first ask and its usage, not for the longer second one.
    reg, model = chat(openai_server, budget={"tokens": first + IN + OUT})
    openai_server.enqueue(json_reply(chat_completion("not json")),
                          json_reply(chat_completion('{"name": "Oslo"}')))
    with pytest.raises(errors.BudgetExceededError) as info:
        model("city?", response_format=City, parse_retries=2, max_tokens=OUT)
    assert isinstance(info.value.__context__, errors.ResponseParseError)
    assert len(openai_server.requests) == 1  # the second ask was not sent
    totals = reg.usage()["u"]
    assert (totals.input_tokens, totals.output_tokens, totals.errors) == (IN, OUT, 1)
    held = reg.calls.ledger._totals["u"]
    assert (held._reserved_tokens, held._reserved_usd) == (0, 0.0)
    # With room for both, both are sent and counted.
    openai_server.reset()
    reg, model = chat(openai_server, budget={"tokens": 10_000})
    openai_server.enqueue(json_reply(chat_completion("not json")),
                          json_reply(chat_completion('{"name": "Oslo"}')))
    assert model("city?", response_format=City, parse_retries=2).parsed == City(name="Oslo")
    assert reg.usage()["u"].total_tokens == 2 * (IN + OUT)
    assert reg.calls.ledger._totals["u"]._reserved_tokens == 0
