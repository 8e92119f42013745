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
    assert not stream.done
    assert list(stream) == ["Hel", "lo"]
    assert stream.done and stream.text == "Hello" and stream.finish_reason == "stop"
    assert list(stream) == []  # a consumed stream yields nothing more


def test_a_result_of_an_unread_stream_reads_it_first() -> None:
    stream = sync_stream()
    assert stream.text == "Hello" and stream.done and stream.partial_text == "Hello"


def test_a_result_in_the_middle_of_reading_is_a_clear_error() -> None:
    stream = sync_stream()
    it = iter(stream)
    assert next(it) == "Hel"
    assert stream.partial_text == "Hel" and not stream.done
    with pytest.raises(RuntimeError, match="still being read"):
        _ = stream.text
    assert list(it) == ["lo"] and stream.text == "Hello"


async def test_an_async_stream_must_be_read_before_its_results() -> None:
    async def deltas() -> AsyncIterator[str]:
        yield "a"

    stream = ModelStream(adeltas=deltas(), finalize=lambda: ModelResponse(text="a"))
    with pytest.raises(RuntimeError, match="aconsume"):
        _ = stream.usage
    await stream.aconsume()
    assert stream.text == "a"


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
