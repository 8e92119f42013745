"""The DashScope family against its bare SDK: one `dashscope_chat` call and one
200-chunk stream through the wrapper, against the same `dashscope.Generation.call`
made directly, on the same loopback server (DashScope's SSE framing), in turns."""

from __future__ import annotations

import json
from typing import Any

from benchlib import Route, http_answer, report_paired, serve

GENERATION = b"/services/aigc/text-generation/generation"


def _event(i: int, content: str, finish: str = "null") -> str:
    body = {"output": {"choices": [{"message": {"role": "assistant", "content": content},
                                    "finish_reason": finish}]},
            "usage": {"input_tokens": 5, "output_tokens": i, "total_tokens": 5 + i},
            "request_id": "bench"}
    return f"id:{i}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(body)}\n\n"


def _routes() -> list[Route]:
    answer = json.dumps({"output": {"choices": [{"finish_reason": "stop", "message": {
        "role": "assistant", "content": "Hello there!"}}]},
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
        "request_id": "bench"}).encode()
    events = [_event(i, f"w{i} ") for i in range(1, 200)] + [_event(200, "end", "stop")]
    stream = http_answer("".join(events).encode(), "text/event-stream;charset=UTF-8")
    return [Route(GENERATION, stream, header=b"x-dashscope-sse: enable"),
            Route(GENERATION, http_answer(answer))]


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: wrapper vs bare SDK, as ratios."""
    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((10, 15), (2, 15)) if quick else ((20, 100), (2, 60))
    import dashscope

    import modelhub

    with serve(_routes()) as url:
        base = url + "/api/v1"
        modelhub.init([{"config_name": "qwen", "model_type": "dashscope_chat",
                        "model_name": "qwen-plus", "base_url": base, "api_key": "k",
                        "max_retries": 0}], clear_existing=True)
        model = modelhub.get("qwen")
        messages = [{"role": "user", "content": "Hi"}]
        bare: dict[str, Any] = {"model": "qwen-plus", "messages": messages, "api_key": "k",
                                "base_address": base, "result_format": "message"}

        def sdk_call() -> None:
            out = dashscope.Generation.call(**bare)
            assert out.status_code == 200 and out.output.choices[0].message.content

        def our_call() -> None:
            assert model(messages).text

        print("one dashscope_chat call", flush=True)
        report_paired("dashscope_chat call vs bare dashscope.Generation.call", sdk_call,
                      our_call, batch, rounds, "<= 1.1x")

        def sdk_stream() -> None:
            text = []
            for chunk in dashscope.Generation.call(stream=True, incremental_output=True,
                                                   **bare):
                assert chunk.status_code == 200
                text.append(chunk.output.choices[0].message.content)
            assert len(text) == 200

        def our_stream() -> None:
            assert sum(1 for _ in model(messages, stream=True)) == 200

        print("one 200-chunk dashscope_chat stream, to the last chunk", flush=True)
        report_paired("dashscope_chat 200-chunk stream vs bare dashscope.Generation.call",
                      sdk_stream, our_stream, sbatch, srounds, "<= 1.1x")
