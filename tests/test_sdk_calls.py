"""Calling a provider SDK (`modelhub.wrappers.sdk`): exceptions mapped by the provider's
function and raised with no SDK exception chained, in calls and in streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from modelhub import errors
from modelhub.wrappers.sdk import acall_sdk, aread_sdk_stream, call_sdk, read_sdk_stream


class SDKError(Exception):
    """What an SDK raises (its text may quote a key)."""


def mapping(exc: BaseException) -> errors.ModelhubError | None:
    return errors.ServerError("mapped", status_code=500) if isinstance(exc, SDKError) else None


class Reader:
    def feed(self, item: Any) -> str:
        return str(item)

    def end(self) -> str:
        return "!"


def fail(exc: Exception) -> Any:
    raise exc


def test_calls_map_and_chain_nothing() -> None:
    assert call_sdk(lambda: 3, mapping) == 3
    with pytest.raises(errors.ServerError) as info:
        call_sdk(lambda: fail(SDKError("key sk-123")), mapping)
    assert info.value.__context__ is None and info.value.__cause__ is None
    with pytest.raises(KeyError):  # not the SDK's: goes on as it is
        call_sdk(lambda: fail(KeyError("x")), mapping)


async def test_async_calls_map() -> None:
    async def ok() -> int:
        return 4

    async def bad() -> int:
        raise SDKError("x")

    assert await acall_sdk(ok, mapping) == 4
    with pytest.raises(errors.ServerError) as info:
        await acall_sdk(bad, mapping)
    assert info.value.__context__ is None


def test_streams_yield_deltas_map_failures_and_close() -> None:
    closed: list[bool] = []
    assert list(read_sdk_stream(iter([1, "", 2]), Reader(), mapping,
                                lambda: closed.append(True))) == ["1", "2", "!"]

    def broken() -> Iterator[int]:
        yield 1
        raise SDKError("cut")

    out: list[str] = []
    with pytest.raises(errors.ServerError) as info:
        out.extend(read_sdk_stream(broken(), Reader(), mapping, lambda: closed.append(True)))
    assert out == ["1"] and info.value.__context__ is None and closed == [True, True]
    stream = read_sdk_stream(iter(range(5)), Reader(), mapping, lambda: closed.append(True))
    next(stream)
    stream.close()  # stopped early: the SDK stream is closed too
    assert closed == [True, True, True]


async def test_async_streams() -> None:
    closed: list[bool] = []

    async def items() -> AsyncIterator[int]:
        yield 1
        raise SDKError("cut")

    async def close() -> None:
        closed.append(True)

    out: list[str] = []
    with pytest.raises(errors.ServerError):
        async for delta in aread_sdk_stream(items(), Reader(), mapping, close):
            out.append(delta)
    assert out == ["1"] and closed == [True]


# -- reading what the reader cannot, peeking at a stream, one client per event loop ------------
class PickyReader:
    """Reads dicts with a 'text' key only."""

    def feed(self, item: Any) -> str | None:
        return str(item["text"]) or None

    def end(self) -> None:
        return None


def test_with_a_context_an_unreadable_item_is_a_parse_error_naming_the_call() -> None:
    from modelhub.http.errors import ErrorContext

    context = ErrorContext("prov", "cfg", secrets=("sk-canary-0123456789",))
    items = [{"text": "a"}, {"other": "sk-canary-0123456789"}]
    with pytest.raises(KeyError):  # no context: the reader's own exception, as it is
        list(read_sdk_stream(iter(items), PickyReader(), mapping))
    out: list[str] = []
    with pytest.raises(errors.ResponseParseError) as info:
        out.extend(read_sdk_stream(iter(items), PickyReader(), mapping, context=context))
    error = info.value
    assert out == ["a"] and error.config_name == "cfg" and error.provider == "prov"
    assert "sk-canary" not in str(error) + repr(error.response)  # the item, redacted
    assert error.__context__ is None


class RefusingReader:
    """Raises its own ResponseParseError, holding nothing, for every item."""

    def feed(self, item: Any) -> str | None:
        raise errors.ResponseParseError("no text in this event")

    def end(self) -> None:
        return None


def test_a_readers_parse_error_keeps_the_item_it_failed_on_redacted() -> None:
    from modelhub.http.errors import ErrorContext

    context = ErrorContext("prov", "cfg", secrets=("sk-canary-0123456789",))
    item = {"odd": "sk-canary-0123456789"}
    with pytest.raises(errors.ResponseParseError) as info:
        list(read_sdk_stream(iter([item]), RefusingReader(), mapping, context=context))
    error = info.value
    assert error.config_name == "cfg" and isinstance(error.response, dict)
    assert set(error.response) == {"odd"} and "sk-canary" not in repr(error.response)
    assert item == {"odd": "sk-canary-0123456789"}  # the stream's own item left as it was


async def test_async_streams_take_a_context_too() -> None:
    from modelhub.http.errors import ErrorContext

    async def items() -> AsyncIterator[Any]:
        yield {"text": "a"}
        yield 7

    with pytest.raises(errors.ResponseParseError) as info:
        async for _ in aread_sdk_stream(items(), PickyReader(), mapping,
                                        context=ErrorContext("prov", "cfg")):
            pass
    assert info.value.config_name == "cfg"


def test_peek_reads_the_first_item_now_and_keeps_it() -> None:
    from modelhub.wrappers.sdk import peek_sdk_stream

    sent: list[int] = []

    def stream() -> Iterator[int]:
        sent.append(1)  # the request goes out with the first item
        yield 1
        yield 2

    first, rest = peek_sdk_stream(stream(), mapping)
    assert sent == [1] and first == 1 and list(rest) == [1, 2]
    assert peek_sdk_stream(iter([]), mapping)[0] is None

    def refused() -> Iterator[int]:
        raise SDKError("HTTP 429 for key sk-123")
        yield 0

    with pytest.raises(errors.ServerError) as info:  # mapped, raised at open
        peek_sdk_stream(refused(), mapping)
    assert info.value.__context__ is None


async def test_apeek_reads_the_first_item_now_and_keeps_it() -> None:
    from modelhub.wrappers.sdk import apeek_sdk_stream

    async def stream() -> AsyncIterator[int]:
        yield 1
        yield 2

    first, rest = await apeek_sdk_stream(stream(), mapping)
    assert first == 1 and [i async for i in rest] == [1, 2]

    async def refused() -> AsyncIterator[int]:
        raise SDKError("x")
        yield 0

    with pytest.raises(errors.ServerError):
        await apeek_sdk_stream(refused(), mapping)

    async def empty() -> AsyncIterator[int]:
        return
        yield 0

    assert (await apeek_sdk_stream(empty(), mapping))[0] is None


def test_per_loop_builds_one_object_per_event_loop() -> None:
    import asyncio

    from modelhub.wrappers.sdk import PerLoop

    built: list[object] = []

    def build() -> object:
        built.append(object())
        return built[-1]

    stale: set[int] = set()
    clients: PerLoop[object] = PerLoop(build, stale=lambda c: id(c) in stale)

    async def twice() -> tuple[object, object]:
        return clients.get(), clients.get()

    a1, a2 = asyncio.run(twice())
    b1, _ = asyncio.run(twice())
    assert a1 is a2 and b1 is not a1 and len(built) == 2

    async def rebuilt() -> bool:
        first = clients.get()
        stale.add(id(first))
        return clients.get() is not first

    assert asyncio.run(rebuilt())
    with pytest.raises(RuntimeError):  # outside a running loop
        clients.get()
