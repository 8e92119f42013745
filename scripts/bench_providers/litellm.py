"""litellm_chat against bare `litellm.completion`: one call, and one 200-chunk stream
read to its end, both down LiteLLM's `openai/` path on the same loopback server."""

from __future__ import annotations

import json
import os
from typing import Any

from benchlib import Route, best_pair, http_answer, per_call, report, serve, sse_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def _routes() -> list[Route]:
    completion = json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}).encode()
    events: list[Any] = []
    for i in range(200):
        delta = {"role": "assistant", "content": ""} if i == 0 else {"content": f"tok{i} "}
        events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 199,
                                            "total_tokens": 204}})
    stream = http_answer(sse_body(events, done="[DONE]"), "text/event-stream")
    return [Route(b"/chat/completions", stream, body=b'"stream":true'),
            Route(b"/chat/completions", stream, body=b'"stream": true'),
            Route(b"/chat/completions", http_answer(completion))]


def run(quick: bool) -> None:
    """Report the two figures."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    from modelhub.registry import Registry

    calls, streams, repeats = (50, 10, 3) if quick else (300, 50, 7)
    with serve(_routes()) as url:
        base = url + "/v1"
        reg = Registry()
        reg.init({"config_name": "ll", "model_type": "litellm_chat",
                  "model_name": "openai/m", "api_key": "sk-bench", "api_base": base,
                  "max_retries": 0})
        model = reg.get("ll")
        # The same arguments the wrapper gives: its key and base, retries off, timeout.
        same: dict[str, Any] = {"model": "openai/m", "api_base": base, "api_key": "sk-bench",
                                "num_retries": 0, "max_retries": 0, "timeout": 60.0}

        def ours_call() -> None:
            model(MESSAGES)

        def sdk_call() -> None:
            litellm.completion(messages=MESSAGES, **same)

        ours, floor = best_pair(lambda: per_call(ours_call, calls),
                                lambda: per_call(sdk_call, calls), repeats)
        report("litellm_chat call vs litellm.completion", ours, floor, "<= 1.1x")

        def ours_stream() -> None:
            "".join(model(MESSAGES, stream=True))

        def sdk_stream() -> None:
            text = []
            for chunk in litellm.completion(messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True}, **same):
                if chunk.choices and chunk.choices[0].delta.content:
                    text.append(chunk.choices[0].delta.content)
            "".join(text)

        ours, floor = best_pair(lambda: per_call(ours_stream, streams),
                                lambda: per_call(sdk_stream, streams), repeats)
        report("litellm_chat 200-chunk stream vs litellm.completion", ours, floor, "<= 1.1x")
