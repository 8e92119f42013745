"""Checked by `mypy` in CI (never run): the call surface is typed, so a user's typo
fails type checking. A `# type: ignore[...]` below marks a line that must fail: with
`warn_unused_ignores`, mypy reports the ignore if the line ever type-checks."""

from __future__ import annotations

from typing_extensions import assert_type

import modelhub
from modelhub import ChatWrapperBase, EmbeddingWrapperBase, ModelResponse, ModelStream


def chat_calls() -> None:
    model = modelhub.get("chat", ChatWrapperBase)
    assert_type(model, ChatWrapperBase)
    assert_type(model("hi", stream=False), ModelResponse)
    assert_type(model("hi", stream=True), ModelStream)
    either = model("hi")  # a config may stream by default
    assert_type(either, ModelResponse | ModelStream)
    text: str | None = either.text  # both have it
    model("hi", stream=False).txet  # type: ignore[attr-defined]
    model("hi", stream=True).usgae  # type: ignore[attr-defined]
    print(text)


async def async_calls() -> None:
    model = modelhub.get("chat", ChatWrapperBase)
    assert_type(await model.acall("hi", stream=False), ModelResponse)
    assert_type(await model.acall("hi", stream=True), ModelStream)


def untyped_get() -> None:
    model = modelhub.get("anything")
    result = model("hi")
    assert_type(result, ModelResponse | ModelStream)
    result.txet  # type: ignore[union-attr]


def embeddings() -> None:
    model = modelhub.get("emb", EmbeddingWrapperBase)
    assert_type(model(["a", "b"]).embedding, list[list[float]] | None)


def usage_and_hooks() -> None:
    from modelhub.calls.hooks import CallEvent, HookHandle
    from modelhub.calls.ledger import UsageTotals

    totals = modelhub.usage()
    assert_type(totals, dict[str, UsageTotals])
    cost: float | None = totals["gpt"].cost
    totals["gpt"].tokens  # type: ignore[attr-defined]

    def record(event: CallEvent) -> None:
        print(event.config_name, event.latency, cost)

    handle = modelhub.add_hooks(after_call=record)
    assert_type(handle, HookHandle)
    handle.remove()
    modelhub.add_hooks(after_call=record, on_eror=record)  # type: ignore[call-arg]
