"""The Ollama family: `ollama_chat` against the bare `ollama.Client` on the same
loopback server, for one call and for one 200-chunk NDJSON stream."""

from __future__ import annotations

import json

from benchlib import Route, http_answer, report_paired, serve

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

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((20, 15), (2, 15)) if quick else ((25, 120), (3, 60))
    with serve(_routes()) as url:
        modelhub.init([{"config_name": "ollama-bench", "model_type": "ollama_chat",
                        "model_name": "m", "base_url": url, "max_retries": 0}])
        model = modelhub.get("ollama-bench")
        client = ollama.Client(host=url)

        def sdk_call() -> None:
            client.chat(model="m", messages=MESSAGES)

        def our_call() -> None:
            model(MESSAGES)

        report_paired("ollama_chat: one call vs bare ollama.Client.chat", sdk_call, our_call,
                      batch, rounds, "<= 1.1x")

        def sdk_stream() -> None:
            for _ in client.chat(model="m", messages=MESSAGES, stream=True):
                pass

        def our_stream() -> None:
            for _ in model(MESSAGES, stream=True):
                pass

        report_paired("ollama_chat: 200-chunk NDJSON stream vs bare ollama.Client.chat",
                      sdk_stream, our_stream, sbatch, srounds, "<= 1.1x")
