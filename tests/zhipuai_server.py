"""A loopback server that speaks Zhipu's v4 API (`/api/paas/v4`), for tests.

Bodies follow Zhipu's API reference and the `zai-sdk`'s own types (`Completion`,
`ChatCompletionChunk`, `EmbeddingsResponded`): a chat completion has `id`,
`request_id`, `created`, `model`, `choices` and `usage` (no `object`); a stream is SSE
(`data: <json>` and a blank line) whose last chunk carries the finish reason and the
usage, then `data: [DONE]`; tool calls arrive whole in one chunk, or, with
`tool_stream`, as fragments (id and name first, then argument pieces). Errors are
`{"error": {"code": "1301", "message": ...}}` with Zhipu's business codes under the
HTTP status Zhipu pairs them with (`ERRORS`), `Retry-After` on 429; an error inside a
200 stream is a `data: {"error": {...}}` event. The real SDK reads every fixture in
test_zhipuai_server_fidelity.py. The server machinery is `tests.loopback`'s.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import loopback
from tests.loopback import (
    LoopbackServer,
    RecordedRequest,
    Reply,
    json_reply,
    last_user_text,
    vector,
)

__all__ = ["ERRORS", "ZhipuAIServer", "chat_chunks", "completion", "embeddings_body",
           "error_reply", "sse_reply", "stream_error_event", "zhipuai_server",
           "zhipuai_server_session"]

_ids = itertools.count(8239375684858666781)

# (HTTP status, business code, message) as Zhipu answers them.
ERRORS: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "1214", "model参数非法。请检查文档。"),
    "sensitive": (400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生"
                               "敏感内容的提示语，感谢您的配合。"),
    "unauthorized": (401, "1000", "身份验证失败。"),
    "token_expired": (401, "1003", "Authentication Token已过期，请重新生成/获取。"),
    "arrears": (429, "1113", "您的账户已欠费，请充值后重试。"),
    "concurrency": (429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"),
    "internal": (500, "500", "Internal Error"),
}


def error_reply(kind: str, *, retry_after: str | None = None,
                message: str | None = None) -> Reply:
    """Zhipu's error answer for `kind` (a key of ERRORS)."""
    status, code, text = ERRORS[kind]
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return json_reply({"error": {"code": code, "message": message or text}}, status, headers)


def stream_error_event(kind: str = "sensitive") -> dict[str, Any]:
    """The event Zhipu sends inside a 200 stream when it stops it with an error."""
    _, code, text = ERRORS[kind]
    return {"error": {"code": code, "message": text}}


def sse_reply(events: list[Any], *, done: bool = True, **kwargs: Any) -> Reply:
    """Zhipu's event stream: `data: <json>` events, then `data: [DONE]`."""
    return loopback.sse_reply(events, done="[DONE]" if done else None, **kwargs)


# -- bodies ------------------------------------------------------------------------------------
def _usage(prompt: int = 31, completion: int = 217) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "prompt_tokens_details": {"cached_tokens": 0}, "total_tokens": prompt + completion}


def completion(content: str | None = "你好！", *, model: str = "glm-4",
               tool_calls: list[dict[str, Any]] | None = None,
               reasoning_content: str | None = None, finish_reason: str | None = None,
               usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A chat completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    if tool_calls:
        message["tool_calls"] = [{"id": tc["id"], "type": "function", "index": i,
                                  "function": {"name": tc["name"],
                                               "arguments": tc["arguments"]}}
                                 for i, tc in enumerate(tool_calls)]
    rid = str(next(_ids))
    return {"id": rid, "request_id": rid, "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": finish_reason or ("tool_calls" if tool_calls
                                                            else "stop")}],
            "usage": usage or _usage()}


def chat_chunks(pieces: list[str], *, model: str = "glm-4",
                tool_calls: list[dict[str, Any]] | None = None, tool_stream: bool = False,
                reasoning_pieces: list[str] | None = None, finish_reason: str | None = None,
                usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The chunks Zhipu streams for this answer (the last with finish reason and usage)."""
    rid, created = str(next(_ids)), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", **delta}}
        if finish:
            choice["finish_reason"] = finish
        return {"id": rid, "created": created, "model": model, "choices": [choice]}

    chunks = [chunk({"reasoning_content": p}) for p in reasoning_pieces or ()]
    chunks += [chunk({"content": p}) for p in pieces]
    calls = tool_calls or []
    if calls and not tool_stream:
        chunks.append(chunk({"tool_calls": [
            {"id": tc["id"], "index": i, "type": "function",
             "function": {"name": tc["name"], "arguments": tc["arguments"]}}
            for i, tc in enumerate(calls)]}))
    for i, tc in enumerate(calls if tool_stream else ()):
        chunks.append(chunk({"tool_calls": [{"id": tc["id"], "index": i, "type": "function",
                                             "function": {"name": tc["name"],
                                                          "arguments": ""}}]}))
        args = tc["arguments"]
        step = max(1, len(args) // 3)
        chunks += [chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j:j + step]}}]})
                   for j in range(0, len(args), step)]
    last = chunk({"content": ""}, finish_reason or ("tool_calls" if calls else "stop"))
    last["usage"] = usage or _usage(completion=len(pieces))
    chunks.append(last)
    return chunks


def embeddings_body(vectors: list[list[float]], *, model: str = "embedding-3",
                    order: list[int] | None = None) -> dict[str, Any]:
    """An embeddings body; `order` lists the data items' indexes as sent."""
    indexes = order if order is not None else list(range(len(vectors)))
    return {"model": model, "object": "list",
            "data": [{"embedding": vectors[i], "index": i, "object": "embedding"}
                     for i in indexes],
            "usage": {"completion_tokens": 0, "prompt_tokens": 4 * len(vectors),
                      "total_tokens": 4 * len(vectors)}}


# -- default behaviour -------------------------------------------------------------------------
def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    if req.method == "POST" and req.path.endswith("/chat/completions"):
        text = "echo: " + last_user_text(body)
        model = body.get("model", "glm-4")
        if body.get("stream"):
            words = text.split(" ")
            return sse_reply(chat_chunks([w + " " for w in words[:-1]] + [words[-1]],
                                         model=model))
        return json_reply(completion(text, model=model))
    if req.method == "POST" and req.path.endswith("/embeddings"):
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 8)
        return json_reply(embeddings_body([vector(t, dims) for t in inputs],
                                          model=body.get("model", "embedding-3")))
    return json_reply({"error": {"code": "1222", "message": f"API {req.path} 不存在"}}, 404)


class ZhipuAIServer(LoopbackServer):
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking Zhipu's v4 API (`base_url` ends in
    /api/paas/v4)."""

    api_prefix = "/api/paas/v4"

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic Zhipu answer when no reply is queued."""
        return default_reply(req)

    def __enter__(self) -> ZhipuAIServer:
        self.start()
        return self


# Fixtures: a test module binds both to names of its own (`zhipuai_server = zs.zhipuai_server`).
@pytest.fixture(scope="session")
def zhipuai_server_session() -> Iterator[ZhipuAIServer]:
    """The session's Zhipu server."""
    with ZhipuAIServer() as server:
        yield server


@pytest.fixture
def zhipuai_server(zhipuai_server_session: ZhipuAIServer) -> ZhipuAIServer:
    """The Zhipu server, with no queued replies or recorded requests."""
    zhipuai_server_session.reset()
    return zhipuai_server_session
