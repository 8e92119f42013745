"""ModelResponse.as_message(): the assistant turn that continues a conversation."""

from __future__ import annotations

from modelhub.response import ModelResponse, ToolCall


def test_text_answer_becomes_an_assistant_message() -> None:
    assert ModelResponse(text="Hi").as_message() == {"role": "assistant", "content": "Hi"}


def test_tool_calls_carry_their_extra_as_extra_content() -> None:
    signed = ToolCall("c1", "get", {"city": "Paris"},
                      extra={"google": {"thought_signature": "c2ln"}})
    plain = ToolCall("c2", "put", {})
    message = ModelResponse(tool_calls=[signed, plain]).as_message()
    assert message["content"] is None
    assert message["tool_calls"] == [
        {"id": "c1", "type": "function",
         "function": {"name": "get", "arguments": '{"city": "Paris"}'},
         "extra_content": {"google": {"thought_signature": "c2ln"}}},
        {"id": "c2", "type": "function", "function": {"name": "put", "arguments": "{}"}}]
