"""anthropic_chat against the bare `anthropic` SDK: one call, and one 200-chunk stream
read to its end, both on the same loopback Messages API server."""

from __future__ import annotations

import json
from typing import Any

from benchlib import Route, http_answer, report_paired, serve

MESSAGES = [{"role": "user", "content": "Hi"}]
MAX_TOKENS = 2048  # what the wrapper sends by default, sent by the SDK call too


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


def _routes() -> list[Route]:
    usage = {"input_tokens": 5, "output_tokens": 3}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": "Hello there!"}],
               "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}
    events = [{"type": "message_start",
               "message": {**message, "content": [], "stop_reason": None,
                           "usage": {"input_tokens": 5, "output_tokens": 1}}},
              {"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}}]
    events += [{"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": f"tok{i} "}} for i in range(200)]
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                   "stop_sequence": None},
                "usage": {"output_tokens": 200}},
               {"type": "message_stop"}]
    stream = http_answer(b"".join(_event(e) for e in events), "text/event-stream")
    return [Route(b"/v1/messages", stream, body=b'"stream":true'),
            Route(b"/v1/messages", stream, body=b'"stream": true'),
            Route(b"/v1/messages", http_answer(json.dumps(message).encode()))]


def run(quick: bool) -> None:
    """Report the two figures."""
    import anthropic

    from modelhub.registry import Registry

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((10, 15), (2, 15)) if quick else ((25, 100), (3, 60))
    with serve(_routes()) as url:
        reg = Registry()
        reg.init({"config_name": "claude", "model_type": "anthropic_chat", "model_name": "m",
                  "api_key": "sk-bench", "base_url": url, "max_retries": 0})
        model = reg.get("claude")
        client = anthropic.Anthropic(api_key="sk-bench", base_url=url, max_retries=0)

        def ours_call() -> None:
            model(MESSAGES)

        def sdk_call() -> None:
            client.messages.create(model="m", max_tokens=MAX_TOKENS, messages=MESSAGES)

        report_paired("anthropic_chat call vs anthropic SDK", sdk_call, ours_call, batch, rounds,
                      "<= 1.1x")

        def ours_stream() -> None:
            "".join(model(MESSAGES, stream=True))

        def sdk_stream() -> None:
            text = []
            for event in client.messages.create(model="m", max_tokens=MAX_TOKENS,
                                                messages=MESSAGES, stream=True):
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
            "".join(text)

        report_paired("anthropic_chat 200-chunk stream vs anthropic SDK", sdk_stream,
                      ours_stream, sbatch, srounds, "<= 1.1x")
