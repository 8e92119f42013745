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
