"""hf_inference_chat against a bare huggingface_hub `InferenceClient` on the same
loopback TGI-style server: one chat_completion call and one 200-chunk stream."""

from __future__ import annotations

import json

from benchlib import Route, best_pair, http_answer, per_call, report, serve, sse_body

TARGET = "<= 1.1x"


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

    calls, streams = (300, 30) if quick else (2000, 150)
    messages = [{"role": "user", "content": "Hi"}]
    with serve(_routes()) as url:
        modelhub.init([{"config_name": "hf-bench", "model_type": "hf_inference_chat",
                        "model_name": "tgi", "base_url": url, "api_key": "hf_k",
                        "max_retries": 0}])
        model = modelhub.get("hf-bench")
        client = InferenceClient(base_url=url, token="hf_k")

        def sdk_call() -> None:
            out = client.chat_completion(messages, model="tgi")
            assert out.choices[0].message.content

        def sdk_stream() -> None:
            with InferenceClient(base_url=url, token="hf_k") as fresh:
                for event in fresh.chat_completion(messages, model="tgi", stream=True,
                                                   stream_options={"include_usage": True}):
                    for choice in event.choices:
                        choice.delta.content  # noqa: B018

        def our_stream() -> None:
            for _ in model("Hi", stream=True):
                pass

        floor, ours = best_pair(lambda: per_call(sdk_call, calls),
                                lambda: per_call(lambda: model("Hi"), calls), 3)
        report("hf_inference_chat call vs bare InferenceClient", ours, floor, TARGET)
        floor, ours = best_pair(lambda: per_call(sdk_stream, streams),
                                lambda: per_call(our_stream, streams), 3)
        report("hf_inference_chat 200-chunk stream vs bare InferenceClient", ours, floor,
               TARGET)
