"""`ModelStream`: what `model(..., stream=True)` returns.

Iterating it yields `str` deltas as they arrive. Tool calls, usage, the finish reason
and the parsed output are read from it once it is consumed. A stream returned by a
sync call is iterated with `for`; one returned by `acall` with `async for`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from modelhub.response import ModelResponse, ToolCall, Usage

__all__ = ["ModelStream"]


class ModelStream:
    """A streamed answer: an iterator of text deltas, then a complete response."""

    __slots__ = ("_aiter", "_finalize", "_iter", "_pieces", "_response")

    def __init__(self, *, finalize: Callable[[], ModelResponse],
                 deltas: Iterator[str] | None = None,
                 adeltas: AsyncIterator[str] | None = None) -> None:
        if (deltas is None) == (adeltas is None):
            raise ValueError("a stream has exactly one source: deltas or adeltas")
        self._iter = deltas
        self._aiter = adeltas
        self._finalize = finalize
        self._pieces: list[str] = []
        self._response: ModelResponse | None = None

    # -- iteration ---------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        if self._iter is None:
            raise TypeError("this stream came from acall(): iterate it with `async for`")
        if self._response is not None:
            return
        for delta in self._iter:
            self._pieces.append(delta)
            yield delta
        self._response = self._finalize()

    async def __aiter__(self) -> AsyncIterator[str]:
        if self._aiter is None:
            raise TypeError("this stream came from a sync call: iterate it with `for`, "
                            "or use `await model.acall(..., stream=True)`")
        if self._response is not None:
            return
        async for delta in self._aiter:
            self._pieces.append(delta)
            yield delta
        self._response = self._finalize()

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

    async def aclose(self) -> None:
        """Stop reading and release the connection (async)."""
        aclose = getattr(self._aiter, "aclose", None)
        if aclose is not None:
            await aclose()

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
        return self._response is not None

    @property
    def response(self) -> ModelResponse:
        """The complete response; raises RuntimeError before the stream is consumed."""
        if self._response is None:
            raise RuntimeError("the stream has not been consumed yet: iterate it first")
        return self._response

    @property
    def text(self) -> str:
        """The text so far; all of it once consumed."""
        if self._response is not None:
            return self._response.text or ""
        return "".join(self._pieces)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls (complete once consumed; empty before)."""
        return self._response.tool_calls if self._response is not None else []

    @property
    def usage(self) -> Usage | None:
        """The provider's token counts (once consumed)."""
        return self._response.usage if self._response is not None else None

    @property
    def finish_reason(self) -> str | None:
        """Why the model stopped (once consumed)."""
        return self._response.finish_reason if self._response is not None else None

    @property
    def reasoning(self) -> str | None:
        """Reasoning content, kept apart from `text` (once consumed)."""
        return self._response.reasoning if self._response is not None else None

    @property
    def parsed(self) -> Any:
        """The structured output, when a response_format was given (once consumed)."""
        return self._response.parsed if self._response is not None else None

    def __repr__(self) -> str:
        state = "consumed" if self.done else "open"
        return f"<ModelStream {state} text={self.text[:40]!r}>"
