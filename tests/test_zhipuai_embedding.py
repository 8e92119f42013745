"""zhipuai_embedding on the real zai-sdk against the loopback Zhipu zhipuai_server: batches of
at most 64, vectors in input order, dimensions, usage, errors; and format() of
zhipuai_chat as AgentScope v0.1.6's formatter_test.py expects."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests import zhipuai_server as zs
from tests.loopback import json_reply, vector
from tests.test_formatting import INPUTS, Msg
from tests.zhipuai_server import ZhipuAIServer, embeddings_body, error_reply

# The Zhipu server fixtures (they live with the server).
zhipuai_server_session = zs.zhipuai_server_session
zhipuai_server = zs.zhipuai_server


def embedder(zhipuai_server: ZhipuAIServer, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "e", "model_type": "zhipuai_embedding", "model_name": "embedding-3",
              "api_key": "k.s", "base_url": zhipuai_server.base_url, "max_retries": 0, **extra})
    return reg.get("e")


def test_one_text_and_the_request(zhipuai_server: ZhipuAIServer) -> None:
    resp = embedder(zhipuai_server, dimensions=16)("hello")
    assert resp.embedding == [vector("hello", 16)] and resp.model == "embedding-3"
    assert (resp.usage.input_tokens, resp.usage.total_tokens) == (4, 4)
    req = zhipuai_server.last
    assert req.path == "/api/paas/v4/embeddings"
    assert req.json == {"model": "embedding-3", "input": "hello", "dimensions": 16}
    assert req.headers["authorization"] == "Bearer k.s"


def test_batches_of_64_in_input_order_with_usage_summed(zhipuai_server: ZhipuAIServer) -> None:
    texts = [f"text {i}" for i in range(130)]
    resp = embedder(zhipuai_server)(texts)
    assert [len(r.json["input"]) for r in zhipuai_server.requests] == [64, 64, 2]
    assert all(isinstance(r.json["input"], list) for r in zhipuai_server.requests)
    assert resp.embedding == [vector(t, 8) for t in texts]
    assert resp.usage.input_tokens == 4 * 130 and len(resp.raw) == 3


def test_vectors_sent_out_of_order_come_back_in_input_order(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(embeddings_body([[0.0], [1.0], [2.0]], order=[2, 0, 1])))
    assert embedder(zhipuai_server)(["a", "b", "c"]).embedding == [[0.0], [1.0], [2.0]]


def test_generation_arguments_and_a_call_override(zhipuai_server: ZhipuAIServer) -> None:
    embedder(zhipuai_server, dimensions=256, generate_args={"user": "u-123456"})(
        "x", dimensions=512, request_id="r1")
    assert zhipuai_server.last.json["dimensions"] == 512 and zhipuai_server.last.json["user"] == "u-123456"
    assert zhipuai_server.last.json["request_id"] == "r1"


def test_a_wrong_count_of_vectors_is_a_parse_error(zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(embeddings_body([[0.0]])))
    with pytest.raises(errors.ResponseParseError, match="expected 2 embeddings"):
        embedder(zhipuai_server)(["a", "b"])


async def test_async_and_errors(zhipuai_server: ZhipuAIServer) -> None:
    assert (await embedder(zhipuai_server).acall(["a"])).embedding == [vector("a", 8)]
    zhipuai_server.enqueue(error_reply("unauthorized"))
    with pytest.raises(errors.AuthenticationError) as info:
        embedder(zhipuai_server)("a")
    assert info.value.url == f"{zhipuai_server.url}/api/paas/v4/embeddings"
    zhipuai_server.enqueue(error_reply("concurrency", retry_after="0.1"))
    assert len(embedder(zhipuai_server, max_retries=1)(["a"]).embedding) == 1


# -- format() ------------------------------------------------------------------------------------
def chat(zhipuai_server: ZhipuAIServer, model_name: str = "glm-4") -> Any:
    reg = Registry()
    reg.init({"config_name": "c", "model_type": "zhipuai_chat", "model_name": model_name,
              "api_key": "xxx", "base_url": zhipuai_server.base_url})
    return reg.get("c")


def test_format_as_agentscopes_zhipuai_formatter() -> None:
    from modelhub.providers.zhipuai.chat import ZhipuAIChatWrapper

    # built as formatter_test.py builds AgentScope's wrapper (no request is made)
    m = ZhipuAIChatWrapper(config_name="x", model_name="glm-4", api_key="xxx")
    # formatter_test.py, test_zhipuai_chat (multi-agent mode)
    assert m.format(*INPUTS) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"content": "## Conversation History\nuser: What is the weather today?\n"
                    "assistant: It is sunny today", "role": "user"}]
    # CommonFormatter.format_chat (chat mode)
    assert m.format(*INPUTS, multi_agent_mode=False) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]
    with pytest.raises(TypeError):
        m.format(Msg("system", "x", "system"), ["What is the weather today?"])


def test_format_keeps_tool_blocks_and_images(zhipuai_server: ZhipuAIServer) -> None:
    m = chat(zhipuai_server, "glm-4v-plus")
    tools = [Msg("user", "weather?", "user"),
             Msg("assistant", [{"type": "text", "text": "Let's search"},
                               {"type": "tool_use", "id": "xxx", "name": "search",
                                "input": {"q": "Beijing"}}], "assistant"),
             Msg("system", [{"type": "tool_result", "id": "xxx", "name": "search",
                             "output": "sunny"}], "system")]
    out = m.format(*tools, multi_agent_mode=False)
    assert out[1]["tool_calls"][0]["function"] == {"name": "search",
                                                   "arguments": '{"q": "Beijing"}'}
    assert out[2] == {"role": "tool", "tool_call_id": "xxx", "content": "sunny"}
    merged = m.format(Msg("system", "judge", "system"),
                      Msg("alice", "see", "user", url="https://x/a.jpg"))
    assert merged[1]["content"][1] == {"type": "image_url",
                                       "image_url": {"url": "https://x/a.jpg"}}
    # and what format() made is what a call sends
    m(merged)
    assert zhipuai_server.last.json["messages"][1]["content"][1]["image_url"]["url"] == \
        "https://x/a.jpg"
