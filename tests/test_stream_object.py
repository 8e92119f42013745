"""ModelStream: str deltas, then the complete response; sync and async kept apart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from modelhub import ModelResponse, ModelStream


def sync_stream() -> ModelStream:
    def deltas() -> Iterator[str]:
        yield "Hel"
        yield "lo"

    return ModelStream(deltas=deltas(), finalize=lambda: ModelResponse(text="Hello",
                                                                       finish_reason="stop"))


def test_sync_stream_yields_deltas_then_completes() -> None:
    stream = sync_stream()
    assert not stream.done and stream.tool_calls == [] and stream.usage is None
    with pytest.raises(RuntimeError):
        _ = stream.response
    assert list(stream) == ["Hel", "lo"]
    assert stream.done and stream.text == "Hello" and stream.finish_reason == "stop"
    assert list(stream) == []  # a consumed stream yields nothing more


def test_text_so_far_before_consumption() -> None:
    stream = sync_stream()
    it = iter(stream)
    assert next(it) == "Hel"
    assert stream.text == "Hel" and not stream.done


async def test_sync_stream_refuses_async_iteration() -> None:
    with pytest.raises(TypeError, match="sync call"):
        async for _ in sync_stream():
            pass


async def test_async_stream() -> None:
    async def deltas() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    stream = ModelStream(adeltas=deltas(), finalize=lambda: ModelResponse(text="ab"))
    with pytest.raises(TypeError, match="async for"):
        list(stream)
    assert (await stream.aconsume()).text == "ab"


def test_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        ModelStream(finalize=lambda: ModelResponse())


def test_close_releases_the_source() -> None:
    closed = []

    def deltas() -> Iterator[str]:
        try:
            yield "x"
            yield "y"
        finally:
            closed.append(True)

    stream = ModelStream(deltas=deltas(), finalize=lambda: ModelResponse())
    with stream:
        next(iter(stream))
    assert closed == [True] and not stream.done
