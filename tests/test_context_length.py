"""ContextLengthError: a 400 (or an error inside a stream) whose code or message says
the input does not fit the model's context, as each provider words it; and through an
SDK family's own error mapping."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub import errors
from modelhub.http.errors import ErrorContext, api_error
from modelhub.registry import Registry
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
    error_reply,
)

CONTEXT = ErrorContext(provider="p", config_name="c")


@pytest.mark.parametrize(("status", "message", "code"), [
    (400, "This model's maximum context length is 8192 tokens. However, your messages "
          "resulted in 9000 tokens.", "context_length_exceeded"),
    (400, "Please reduce the length of the messages.", None),
    (400, "prompt is too long: 210000 tokens > 200000 maximum", None),
    (400, "The input token count (1100000) exceeds the maximum number of tokens allowed "
          "(1048576).", None),
    (400, "Range of input length should be [1, 30720]", "InvalidParameter"),
    (422, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. "
          "Given: 5000 `inputs` tokens and 100 `max_new_tokens`", None),
    (None, "input is too long for requested model", None),
    (400, "something", "model_context_window_exceeded"),
])
def test_providers_wordings_are_context_length_errors(status: int | None, message: str,
                                                      code: str | None) -> None:
    error = api_error(status, message, context=CONTEXT, code=code)
    assert isinstance(error, errors.ContextLengthError)
    assert isinstance(error, errors.BadRequestError)  # still what callers caught before


@pytest.mark.parametrize(("status", "message"), [
    (400, "temperature must be at most 2"), (401, "maximum context length is 8192"),
    (500, "prompt is too long"), (429, "too many tokens per minute"),
])
def test_other_errors_are_not(status: int, message: str) -> None:
    error = api_error(status, message, context=CONTEXT)
    assert not isinstance(error, errors.ContextLengthError)


def test_an_sdk_familys_400_becomes_a_context_length_error(
        anthropic_server: AnthropicServer) -> None:  # noqa: F811 (the fixture)
    anthropic_server.enqueue(error_reply(400, "prompt is too long: 210000 tokens > 200000 "
                                              "maximum", "invalid_request_error"))
    reg = Registry()
    config: dict[str, Any] = {"config_name": "claude", "model_type": "anthropic_chat",
                              "model_name": "claude-sonnet-4-5", "api_key": "sk-ant-0123456789",
                              "base_url": anthropic_server.url}
    reg.init(config)
    with pytest.raises(errors.ContextLengthError) as info:
        reg.get("claude")("x" * 100)
    assert info.value.status_code == 400 and len(anthropic_server.requests) == 1
