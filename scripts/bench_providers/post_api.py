"""post_api_chat against a raw `httpx.Client` POST to the same loopback endpoint: one
call (AgentScope's `data.response` shape) and one 200-chunk SSE stream, the floor
decoding the same JSON and reading the same keys."""

from __future__ import annotations

import json

from benchlib import Route, http_answer, report_paired, serve, sse_body

TARGET = "<= 1.1x"


def _routes() -> list[Route]:
    answer = {"code": 200, "data": {"response": {
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}}}
    events = [{"data": {"response": {"choices": [{"index": 0, "delta": {"content": f"tok{i} "},
                                                  "finish_reason": None}]}}}
              for i in range(200)]
    events.append({"data": {"response": {"choices": [], "usage": {
        "prompt_tokens": 5, "completion_tokens": 200, "total_tokens": 205}}}})
    stream = http_answer(sse_body(events, done="[DONE]"), "text/event-stream")
    return [Route(b"/llm", stream, body=b'"stream":true'),
            Route(b"/llm", http_answer(json.dumps(answer).encode()))]


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: the wrapper against raw httpx."""
    import httpx

    import modelhub

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((20, 15), (3, 15)) if quick else ((25, 120), (5, 80))
    with serve(_routes()) as url:
        modelhub.init([{"config_name": "post-bench", "model_type": "post_api_chat",
                        "api_url": url + "/llm/", "headers": {"Authorization": "Bearer k"},
                        "json_args": {"temperature": 0.5}, "max_retries": 0}])
        model = modelhub.get("post-bench")
        raw = httpx.Client()
        headers = {"authorization": "Bearer k", "content-type": "application/json"}

        def body(stream: bool) -> bytes:
            payload: dict[str, object] = {
                "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5}
            if stream:
                payload["stream"] = True
            return json.dumps(payload, separators=(",", ":")).encode()

        def raw_call() -> None:
            answer = json.loads(raw.post(url + "/llm/", content=body(False),
                                         headers=headers).content)
            assert answer["data"]["response"]["choices"][0]["message"]["content"]

        def raw_stream() -> None:
            with raw.stream("POST", url + "/llm/", content=body(True), headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        event = json.loads(line[6:])["data"]["response"]
                        for choice in event["choices"]:
                            choice["delta"].get("content")

        def our_call() -> None:
            model("Hi")

        def our_stream() -> None:
            for _ in model("Hi", stream=True):
                pass

        report_paired("post_api_chat call vs raw httpx.Client POST", raw_call, our_call,
                      batch, rounds, TARGET)
        report_paired("post_api_chat 200-chunk stream vs raw httpx iter_lines", raw_stream,
                      our_stream, sbatch, srounds, TARGET)
        raw.close()
