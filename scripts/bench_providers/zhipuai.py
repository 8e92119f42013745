"""zhipuai_chat against the bare zai-sdk (`ZhipuAiClient`), on the same loopback server
speaking Zhipu's v4 wire: one call, and one 200-chunk stream read to its end. Each is
reported twice: by wall time, and by this process's CPU time (which other processes
on a busy machine disturb less)."""

from __future__ import annotations

import json
from typing import Any

from benchlib import Route, http_answer, report_paired, serve, sse_body

PREFIX = "/api/paas/v4"
MESSAGES = [{"role": "user", "content": "Hi"}]


def _routes() -> list[Route]:
    usage = {"prompt_tokens": 5, "completion_tokens": 199, "total_tokens": 204}
    completion = json.dumps({
        "id": "8239375684858666781", "request_id": "8239375684858666781", "created": 0,
        "model": "glm-4", "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "Hello there!"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}).encode()
    events: list[dict[str, Any]] = []
    for i in range(200):
        choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant",
                                                        "content": f"tok{i} "}}
        event: dict[str, Any] = {"id": "c", "created": 0, "model": "glm-4",
                                 "choices": [choice]}
        if i == 199:
            choice["finish_reason"] = "stop"
            event["usage"] = usage
        events.append(event)
    stream = http_answer(sse_body(events, done="[DONE]"), "text/event-stream")
    return [Route(b"/chat/completions", stream, body=b'"stream": true'),
            Route(b"/chat/completions", stream, body=b'"stream":true'),
            Route(b"/chat/completions", http_answer(completion))]


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: the wrapper against the bare SDK."""
    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((10, 15), (2, 15)) if quick else ((25, 100), (3, 60))
    from zai import ZhipuAiClient

    import modelhub

    with serve(_routes()) as url:
        base = url + PREFIX
        modelhub.init([{"config_name": "glm", "model_type": "zhipuai_chat", "model_name": "glm-4",
                        "api_key": "id.secret", "base_url": base, "max_retries": 0}],
                      clear_existing=True)
        model = modelhub.get("glm")
        client = ZhipuAiClient(api_key="id.secret", base_url=base, max_retries=0)

        def sdk_call() -> None:
            done = client.chat.completions.create(model="glm-4", messages=MESSAGES)
            assert done.choices[0].message.content == "Hello there!"

        def our_call() -> None:
            assert model(MESSAGES).text == "Hello there!"

        report_paired("zhipuai_chat call vs bare zai-sdk", sdk_call, our_call, batch, rounds,
                      "<= 1.1x")

        def sdk_stream() -> None:
            text = []
            for chunk in client.chat.completions.create(model="glm-4", messages=MESSAGES,
                                                        stream=True):
                text.append(chunk.choices[0].delta.content or "")
            assert len(text) == 200

        def our_stream() -> None:
            stream = model(MESSAGES, stream=True)
            assert sum(1 for _ in stream) == 200 and stream.usage is not None

        report_paired("zhipuai_chat 200-chunk stream vs bare zai-sdk", sdk_stream, our_stream,
                      sbatch, srounds, "<= 1.1x")
