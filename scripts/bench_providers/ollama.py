"""The Ollama family: `ollama_chat` against the bare `ollama.Client` on the same
loopback server, for one call and for one 200-chunk NDJSON stream."""

from __future__ import annotations

import json

from benchlib import Route, best_pair, http_answer, per_call, report, serve

MESSAGES = [{"role": "user", "content": "Hi"}]


def _routes() -> list[Route]:
    final = {"model": "m", "created_at": "2025-10-17T23:14:07.414671Z",
             "message": {"role": "assistant", "content": ""}, "done": True,
             "done_reason": "stop", "total_duration": 174560334, "load_duration": 101397084,
             "prompt_eval_count": 11, "prompt_eval_duration": 13074791, "eval_count": 200,
             "eval_duration": 52479709}
    whole = {**final, "message": {"role": "assistant", "content": "Hello there!"}}
    lines = [json.dumps({"model": "m", "created_at": "2025-10-17T23:14:07.414671Z",
                         "message": {"role": "assistant", "content": f"tok{i} "},
                         "done": False}) for i in range(200)]
    lines.append(json.dumps(final))
    stream = http_answer(("\n".join(lines) + "\n").encode(), "application/x-ndjson")
    return [Route(b"/api/chat", stream, body=b'"stream":true'),
            Route(b"/api/chat", stream, body=b'"stream": true'),
            Route(b"/api/chat", http_answer(json.dumps(whole).encode()))]


def run(quick: bool) -> None:
    """One call and one 200-chunk stream: ollama_chat vs the bare ollama.Client."""
    import ollama

    import modelhub

    calls, streams, repeats = (300, 30, 3) if quick else (2000, 150, 5)
    with serve(_routes()) as url:
        modelhub.init([{"config_name": "ollama-bench", "model_type": "ollama_chat",
                        "model_name": "m", "base_url": url, "max_retries": 0}])
        model = modelhub.get("ollama-bench")
        client = ollama.Client(host=url)

        def sdk_call() -> None:
            client.chat(model="m", messages=MESSAGES)

        def our_call() -> None:
            model(MESSAGES)

        sdk, ours = best_pair(lambda: per_call(sdk_call, calls),
                              lambda: per_call(our_call, calls), repeats)
        report("ollama_chat: one call vs bare ollama.Client.chat", ours, sdk, "<= 1.1x")

        def sdk_stream() -> None:
            for _ in client.chat(model="m", messages=MESSAGES, stream=True):
                pass

        def our_stream() -> None:
            for _ in model(MESSAGES, stream=True):
                pass

        sdk, ours = best_pair(lambda: per_call(sdk_stream, streams),
                              lambda: per_call(our_stream, streams), repeats)
        report("ollama_chat: 200-chunk NDJSON stream vs bare ollama.Client.chat", ours, sdk,
               "<= 1.1x")
