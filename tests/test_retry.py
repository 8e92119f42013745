"""RetryPolicy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import pytest

from modelhub import errors
from modelhub.retry import RetryPolicy


def failing(*excs: Exception):  # type: ignore[no-untyped-def]
    calls = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(excs):
            raise excs[len(calls) - 1]
        return "ok"

    return fn, calls


def test_retries_transient_errors_then_succeeds() -> None:
    fn, calls = failing(errors.ServerError("x", status_code=500),
                        errors.ModelConnectionError("down"))
    assert RetryPolicy(2, base_delay=0.001).call(fn) == "ok"
    assert len(calls) == 3


def test_gives_up_after_max_retries() -> None:
    fn, calls = failing(*[errors.ServerError("x", status_code=503)] * 5)
    with pytest.raises(errors.ServerError):
        RetryPolicy(2, base_delay=0.001).call(fn)
    assert len(calls) == 3


@pytest.mark.parametrize("error", [
    errors.BadRequestError("bad", status_code=400),
    errors.AuthenticationError("who", status_code=401),
    errors.ResponseParseError("garbled"),
])
def test_does_not_retry_permanent_errors(error: Exception) -> None:
    fn, calls = failing(error)
    with pytest.raises(type(error)):
        RetryPolicy(3, base_delay=0.001).call(fn)
    assert len(calls) == 1


def test_honours_retry_after_and_refuses_one_too_long() -> None:
    policy = RetryPolicy(3, max_delay=10)
    assert policy.delay(1, errors.RateLimitError("x", retry_after=0.5)) == 0.5
    assert policy.delay(1, errors.RateLimitError("x", retry_after=600)) is None
    backoff = policy.delay(2, errors.ServerError("x"))
    assert backoff is not None and 0.75 <= backoff <= 1.25


async def test_async_retry() -> None:
    calls = []

    async def fn() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise errors.RateLimitError("x", retry_after=0.001, status_code=429)
        return 7

    assert await RetryPolicy(1).acall(fn) == 7 and len(calls) == 2
