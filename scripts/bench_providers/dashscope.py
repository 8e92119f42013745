"""The DashScope family against its bare SDK: one `dashscope_chat` call and one
200-chunk stream through the wrapper, against the same `dashscope.Generation.call`
made directly, on the same loopback server (DashScope's SSE framing), in turns."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from benchlib import Route, best_pair, http_answer, per_call, report, serve

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


def cpu_per_call(fn: Callable[[], Any], n: int) -> float:
    """This process's CPU seconds per call of `fn` (the server runs in another process,
    so this is the client's own cost, and other load on the machine barely moves it)."""
    fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: wrapper vs bare SDK, as ratios."""
    # Many short turns, the best of each: on a shared machine the least disturbed turn
    # is the closest to what the code costs.
    calls, streams, turns = (50, 5, 9) if quick else (200, 20, 15)
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
        floor, ours = best_pair(lambda: per_call(sdk_call, calls),
                                lambda: per_call(our_call, calls), turns)
        report("dashscope_chat call vs bare dashscope.Generation.call", ours, floor, "<= 1.1x",
               unit="us")
        floor, ours = best_pair(lambda: cpu_per_call(sdk_call, calls),
                                lambda: cpu_per_call(our_call, calls), turns)
        report("  the same, client CPU time", ours, floor, "<= 1.1x", unit="us")

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
        floor, ours = best_pair(lambda: per_call(sdk_stream, streams),
                                lambda: per_call(our_stream, streams), turns)
        report("dashscope_chat 200-chunk stream vs bare dashscope.Generation.call", ours, floor,
               "<= 1.1x")
        floor, ours = best_pair(lambda: cpu_per_call(sdk_stream, streams),
                                lambda: cpu_per_call(our_stream, streams), turns)
        report("  the same, client CPU time", ours, floor, "<= 1.1x")
