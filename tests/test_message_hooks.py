"""The shared hooks a provider with its own message shape builds on: `prepare_messages`
(a wrapper takes its own format() output back), `ToolCall.extra` carried by
`as_message()`, and the public readers of agent messages."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from modelhub.plugin import ChatRequest, ChatWrapperBase, ModelResponse, ToolCall
from modelhub.wrappers.formatting import flatten_messages, message_fields


class Native(ChatWrapperBase):
    """Takes lists in its own shape as they are; echoes what its hook received."""

    model_type: ClassVar[str] = "native_echo"

    def prepare_messages(self, messages: Any) -> list[dict[str, Any]]:
        if isinstance(messages, list) and messages and messages[0].get("native"):
            return messages
        return super().prepare_messages(messages)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        return ModelResponse(text=repr(request.messages))


def test_prepare_messages_lets_a_provider_take_its_own_shape() -> None:
    model = Native(config_name="n")
    own = [{"native": True, "role": "user",
            "content": [{"type": "image", "source": {"type": "url", "url": "https://x/a.png"}}]}]
    assert model(own).text == repr(own)  # not re-read as an AgentScope image block
    assert model("hi").text == repr([{"role": "user", "content": "hi"}])


def test_as_message_carries_tool_call_extra_only_when_set() -> None:
    resp = ModelResponse(tool_calls=[
        ToolCall("a", "f", {"x": 1}, extra={"thinking_blocks": [{"type": "thinking"}]}),
        ToolCall("b", "g", {})])
    calls = resp.as_message()["tool_calls"]
    assert calls[0]["extra"] == {"thinking_blocks": [{"type": "thinking"}]}
    assert "extra" not in calls[1]
    calls[0]["extra"]["more"] = 1  # the message holds a copy of the dict
    assert resp.tool_calls[0].extra.keys() == {"thinking_blocks"}


def test_flatten_and_fields() -> None:
    class Msg:
        name, role, content, url = "bob", "user", "hi", None

    msg = Msg()
    assert flatten_messages((None, [{"role": "system", "content": "s"}, [msg]])) == [
        {"role": "system", "content": "s"}, msg]
    assert message_fields(msg) == ("user", "hi", "bob", None)
    with pytest.raises(TypeError):
        flatten_messages((["not a message"],))


def test_convert_roles() -> None:
    from modelhub.wrappers.formatting import convert_roles

    msgs = [{"role": "system", "content": [{"type": "text", "text": "a"},
                                           {"type": "text", "text": "b"}]},
            {"role": "user", "content": "hi"}]
    assert convert_roles(msgs, {}) is msgs
    assert convert_roles(msgs, {"system": "user"}, flatten=True) == [
        {"role": "user", "content": "a\nb"}, {"role": "user", "content": "hi"}]
    assert msgs[0]["role"] == "system"  # the given messages are not changed
