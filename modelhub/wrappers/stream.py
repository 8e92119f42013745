"""`ModelStream`: what `model(..., stream=True)` returns.

Iterating it yields `str` deltas as they arrive. Its results (`text`, `tool_calls`,
`usage`, `finish_reason`, `parsed`, ...) are those of the complete response, the same
names as on `ModelResponse`:

- read from a sync stream that nobody has started iterating, a result consumes the
  stream first (so `model("Hi").text` works when the config streams by default);
- read in the middle of iterating, it raises RuntimeError (`partial_text` is the text
  so far); read from an async stream before `async for` or `aconsume()` has finished,
  likewise.

A stream returned by a sync call is iterated with `for`; one returned by `acall` with
`async for`. The call that opens it has already read up to its first text delta (so
that a failure before any text can be retried, or handed to a fallback); `on_end` is
told once how the stream ended: finished, broken, or closed before its end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from modelhub.errors import ModelCallError
from modelhub.response import ModelResponse, ToolCall, Usage

__all__ = ["APrefetched", "ModelStream", "Prefetched", "StreamEnd", "StreamStart",
           "aprefetch", "prefetch"]

_NEW, _READING, _DONE, _FAILED = "new", "reading", "done", "failed"

# Told once how a stream ended: (the response, the error, the text delivered); both
# None when it was closed (or dropped) before its end.
StreamEnd = Callable[[ModelResponse | None, BaseException | None, str], None]
D = TypeVar("D", Iterator[str], AsyncIterator[str])


@dataclass(slots=True)
class StreamStart(Generic[D]):
    """A stream opened and read up to its first text delta: the deltas (that one
    first), and how to build the final response."""

    deltas: D
    finalize: Callable[[], ModelResponse]


class Prefetched:
    """Deltas whose first one has been read already (closing closes the source)."""

    __slots__ = ("_first", "_rest")

    def __init__(self, first: str | None, rest: Iterator[str]) -> None:
        self._first = first
        self._rest = rest

    def __iter__(self) -> Iterator[str]:
        # The rest read at C speed (a loop over it never comes back through __next__).
        first, self._first = self._first, None
        if first is None:
            return self._rest
        import itertools

        return itertools.chain((first,), self._rest)

    def __next__(self) -> str:
        first = self._first
        if first is not None:
            self._first = None
            return first
        return next(self._rest)

    def close(self) -> None:
        """Release the source's connection."""
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()


class APrefetched:
    """Async twin of `Prefetched`."""

    __slots__ = ("_first", "_rest")

    def __init__(self, first: str | None, rest: AsyncIterator[str]) -> None:
        self._first = first
        self._rest = rest

    def __aiter__(self) -> APrefetched:
        return self

    async def __anext__(self) -> str:
        first = self._first
        if first is not None:
            self._first = None
            return first
        return await self._rest.__anext__()

    async def aclose(self) -> None:
        """Release the source's connection."""
        aclose = getattr(self._rest, "aclose", None)
        if aclose is not None:
            await aclose()


def prefetch(deltas: Iterator[str], finalize: Callable[[], ModelResponse]
             ) -> StreamStart[Iterator[str]]:
    """Read a stream up to its first text delta (raising what breaks it before)."""
    first = next(deltas, None)
    return StreamStart(Prefetched(first, deltas), finalize)


async def aprefetch(deltas: AsyncIterator[str], finalize: Callable[[], ModelResponse]
                    ) -> StreamStart[AsyncIterator[str]]:
    """Async twin of `prefetch`."""
    try:
        first: str | None = await deltas.__anext__()
    except StopAsyncIteration:
        first = None
    return StreamStart(APrefetched(first, deltas), finalize)


class ModelStream:
    """A streamed answer: an iterator of text deltas, then a complete response."""

    __slots__ = ("_aiter", "_finalize", "_iter", "_on_end", "_pieces", "_response", "_state")

    def __init__(self, *, finalize: Callable[[], ModelResponse],
                 deltas: Iterator[str] | None = None,
                 adeltas: AsyncIterator[str] | None = None,
                 on_end: StreamEnd | None = None) -> None:
        if (deltas is None) == (adeltas is None):
            raise ValueError("a stream has exactly one source: deltas or adeltas")
        self._iter = deltas
        self._aiter = adeltas
        self._finalize = finalize
        self._on_end = on_end
        self._pieces: list[str] = []
        self._response: ModelResponse | None = None
        self._state = _NEW

    def _end(self, response: ModelResponse | None, error: BaseException | None) -> None:
        """Tell `on_end` (once) how the stream ended."""
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(response, error, self.partial_text)

    def __del__(self) -> None:
        if getattr(self, "_on_end", None) is not None:  # dropped before its end: closed
            import contextlib

            with contextlib.suppress(Exception):  # at exit the log may be gone already
                self._end(None, None)

    # -- iteration ---------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        if self._iter is None:
            raise TypeError("this stream came from acall(): iterate it with `async for`")
        return self._read()

    def _read(self) -> Iterator[str]:
        if self._state == _DONE:
            return
        assert self._iter is not None
        self._state = _READING
        keep = self._pieces.append
        try:
            for delta in self._iter:
                keep(delta)
                yield delta
            self._response = self._finalize()
        except ModelCallError as error:
            failure = self._failed(error)
            self._end(None, failure)
            raise failure from None
        except GeneratorExit:
            self._end(None, None)  # the loop over it stopped early
            raise
        except BaseException as error:
            self._state = _FAILED
            self._end(None, error)
            raise
        self._state = _DONE
        self._end(self._response, None)

    def __aiter__(self) -> AsyncIterator[str]:
        if self._aiter is None:
            raise TypeError("this stream came from a sync call: iterate it with `for`, "
                            "or use `await model.acall(..., stream=True)`")
        return self._aread()

    async def _aread(self) -> AsyncIterator[str]:
        if self._state == _DONE:
            return
        assert self._aiter is not None
        self._state = _READING
        keep = self._pieces.append
        try:
            async for delta in self._aiter:
                keep(delta)
                yield delta
            self._response = self._finalize()
        except ModelCallError as error:
            failure = self._failed(error)
            self._end(None, failure)
            raise failure from None
        except GeneratorExit:
            self._end(None, None)
            raise
        except BaseException as error:
            self._state = _FAILED
            self._end(None, error)
            raise
        self._state = _DONE
        self._end(self._response, None)

    def _failed(self, error: ModelCallError) -> ModelCallError:
        """The stream broke: the error carries the text delivered before it."""
        self._state = _FAILED
        if error.partial_text is None:
            error.partial_text = self.partial_text
        return error

    def consume(self) -> ModelResponse:
        """Read the rest of a sync stream and return the complete response."""
        for _ in self:
            pass
        return self.response

    async def aconsume(self) -> ModelResponse:
        """Read the rest of an async stream and return the complete response."""
        async for _ in self:
            pass
        return self.response

    def close(self) -> None:
        """Stop reading and release the connection."""
        close = getattr(self._iter, "close", None)
        if close is not None:
            close()
        self._end(None, None)

    async def aclose(self) -> None:
        """Stop reading and release the connection (async)."""
        aclose = getattr(self._aiter, "aclose", None)
        if aclose is not None:
            await aclose()
        self._end(None, None)

    def __enter__(self) -> ModelStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> ModelStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # -- results -----------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Whether the stream has been read to its end."""
        return self._state == _DONE

    @property
    def partial_text(self) -> str:
        """The text delivered so far (all of it once the stream is done)."""
        return "".join(self._pieces)

    @property
    def response(self) -> ModelResponse:
        """The complete response (see the module docstring for when it is read)."""
        if self._response is not None:
            return self._response
        if self._state == _NEW and self._iter is not None:
            return self.consume()
        if self._state == _FAILED:
            raise RuntimeError("the stream broke before its end, so it has no complete "
                               "response (partial_text has the text it delivered)")
        if self._iter is None:
            raise RuntimeError("this async stream has not been read to its end: "
                               "`async for` over it, or `await stream.aconsume()`, first")
        raise RuntimeError("the stream is still being read: its results are there once the "
                           "loop over it ends (partial_text has the text so far)")

    @property
    def text(self) -> str:
        """The whole answer text."""
        return self.response.text or ""

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls the model asked for."""
        return self.response.tool_calls

    @property
    def usage(self) -> Usage | None:
        """The provider's token counts."""
        return self.response.usage

    @property
    def finish_reason(self) -> str | None:
        """Why the model stopped."""
        return self.response.finish_reason

    @property
    def model(self) -> str | None:
        """The model the provider says answered."""
        return self.response.model

    @property
    def reasoning(self) -> str | None:
        """Reasoning content, kept apart from `text`."""
        return self.response.reasoning

    @property
    def parsed(self) -> Any:
        """The structured output, when a response_format was given."""
        return self.response.parsed

    @property
    def raw(self) -> Any:
        """The provider's own events."""
        return self.response.raw

    @property
    def config_name(self) -> str | None:
        """The config that answered."""
        return self.response.config_name

    def __repr__(self) -> str:
        return f"<ModelStream {self._state} text={self.partial_text[:40]!r}>"
