"""hf_inference_chat against a bare huggingface_hub `InferenceClient` on the same
loopback TGI-style server: one chat_completion call and one 200-chunk stream, in wall
time and in this process's CPU time (the server runs in another process; CPU time is
far less disturbed by other load on a busy machine).

Both sides make the same call: the same timeout on the client (the wrapper's default,
120 s), a client of its own per stream (as the wrapper does: the SDK keeps a client's
streamed responses open until it is closed) and `include_usage` asked for."""

from __future__ import annotations

import json

from benchlib import Route, http_answer, report_paired, serve, sse_body

TARGET = "<= 1.1x"
TIMEOUT = 120.0  # the wrapper's default timeout, set on the bare clients too


def _routes() -> list[Route]:
    answer = {"object": "chat.completion", "id": "", "created": 0, "model": "tgi",
              "system_fingerprint": "3.2.3",
              "choices": [{"index": 0, "message": {"role": "assistant",
                                                   "content": "Hello there!"},
                           "logprobs": None, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}

    def chunk(content: str, finish: str | None = None) -> dict[str, object]:
        return {"object": "chat.completion.chunk", "id": "", "created": 0, "model": "tgi",
                "system_fingerprint": "3.2.3",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                             "logprobs": None, "finish_reason": finish}], "usage": None}

    events = [chunk(f"tok{i} ") for i in range(199)] + [chunk("end", "stop")]
    last = chunk("")
    last["choices"], last["usage"] = [], {"prompt_tokens": 5, "completion_tokens": 200,
                                          "total_tokens": 205}
    stream = http_answer(sse_body([*events, last], done="[DONE]"), "text/event-stream")
    return [Route(b"/v1/chat/completions", stream, body=b'"stream":true'),
            Route(b"/v1/chat/completions", stream, body=b'"stream": true'),
            Route(b"/v1/chat/completions", http_answer(json.dumps(answer).encode()))]


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: the wrapper against the bare SDK."""
    from huggingface_hub import InferenceClient

    import modelhub

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((20, 15), (2, 15)) if quick else ((25, 120), (2, 60))
    messages = [{"role": "user", "content": "Hi"}]
    with serve(_routes()) as url:
        modelhub.init([{"config_name": "hf-bench", "model_type": "hf_inference_chat",
                        "model_name": "tgi", "base_url": url, "api_key": "hf_k",
                        "max_retries": 0}])
        model = modelhub.get("hf-bench")
        client = InferenceClient(base_url=url, token="hf_k", timeout=TIMEOUT)

        # The bare side reads what the wrapper hands back: the text, the finish reason
        # and the usage.
        def sdk_call() -> None:
            out = client.chat_completion(messages, model="tgi")
            assert out.choices[0].message.content and out.choices[0].finish_reason
            assert out.usage.total_tokens

        def sdk_stream() -> None:
            with InferenceClient(base_url=url, token="hf_k", timeout=TIMEOUT) as fresh:
                for event in fresh.chat_completion(messages, model="tgi", stream=True,
                                                   stream_options={"include_usage": True}):
                    event.usage  # noqa: B018
                    for choice in event.choices:
                        choice.delta.content, choice.finish_reason  # noqa: B018

        def our_stream() -> None:
            for _ in model("Hi", stream=True):
                pass

        def our_call() -> None:
            model("Hi")

        report_paired("hf_inference_chat call vs bare InferenceClient", sdk_call, our_call,
                      batch, rounds, TARGET)
        report_paired("hf_inference_chat 200-chunk stream vs bare InferenceClient", sdk_stream,
                      our_stream, sbatch, srounds, TARGET)
