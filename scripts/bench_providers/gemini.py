"""Gemini: one generateContent call and one 200-chunk streamGenerateContent (SSE, usage in
every chunk, as Gemini sends it) through `gemini_chat`, against the same made with a
bare `google.genai.Client` (its defaults, but retries off and a 60 s timeout, as the
wrapper's), on the same loopback server.

Each is measured twice: in wall time, and in this process's CPU time, which is the
client's own cost and holds steady on a machine whose other work makes wall times
swing."""

from __future__ import annotations

import json
from typing import Any

from benchlib import (
    Route,
    best_pair,
    cpu_per_call,
    http_answer,
    report,
    report_paired,
    serve,
    sse_body,
)


def _chunk(text: str, i: int, finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"},
                                 "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": i,
                              "totalTokenCount": 5 + i},
            "modelVersion": "gemini-2.5-flash", "responseId": "r"}


def _routes() -> list[Route]:
    answer = json.dumps(_chunk("Hello there!", 3, "STOP")).encode()
    events = [_chunk(f"tok{i} ", i) for i in range(1, 200)] + [_chunk("", 200, "STOP")]
    stream = http_answer(sse_body(events), "text/event-stream")
    return [Route(b":streamgeneratecontent", stream),
            Route(b":generatecontent", http_answer(answer))]


def run(quick: bool) -> None:
    """The call and the stream, wrapper against bare SDK, as ratios."""
    from google import genai
    from google.genai import types

    from modelhub.registry import Registry

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((10, 15), (2, 15)) if quick else ((25, 100), (3, 60))
    calls = 150 if quick else 1000  # the mocked figure's
    with serve(_routes()) as url:
        reg = Registry()
        reg.init({"config_name": "gemini", "model_type": "gemini_chat", "model_name": "m",
                  "api_key": "bench-key", "base_url": url, "max_retries": 0})
        model = reg.get("gemini")
        # The same timeout as the wrapper's (60 s, the config's default): with one, the
        # SDK sets it on each request and sends it as X-Server-Timeout.
        bare = genai.Client(api_key="bench-key", http_options=types.HttpOptions(
            base_url=url, api_version="v1beta", timeout=60_000,
            retry_options=types.HttpRetryOptions(attempts=1)))

        def sdk_call() -> None:
            assert bare.models.generate_content(model="m", contents="Hi").text

        def our_call() -> None:
            assert model("Hi").text  # type: ignore[union-attr]

        report_paired("gemini_chat call vs bare google.genai", sdk_call, our_call, batch,
                      rounds, "<= 1.1x")

        def sdk_stream() -> None:
            text = "".join(c.text or "" for c in bare.models.generate_content_stream(
                model="m", contents="Hi"))
            assert text.startswith("tok1 ")

        def our_stream() -> None:
            text = "".join(model("Hi", stream=True))
            assert text.startswith("tok1 ")

        report_paired("gemini_chat 200-chunk stream vs bare google.genai", sdk_stream,
                      our_stream, sbatch, srounds, "<= 1.1x")
    _mocked(calls)


def _mocked(calls: int) -> None:
    """The call again with the HTTP exchange mocked out (httpx2's MockTransport) on
    both sides: only the clients' own work is left to measure."""
    import httpx2
    from google import genai
    from google.genai import types

    from modelhub.http import pool
    from modelhub.registry import Registry

    answer = json.dumps(_chunk("Hello there!", 3, "STOP")).encode()
    mock = httpx2.Client(transport=httpx2.MockTransport(lambda request: httpx2.Response(
        200, content=answer, headers={"content-type": "application/json"})))
    real = pool.sync_client
    pool.sync_client = lambda key=(True, None), *, library="httpx": mock  # type: ignore[assignment]
    try:
        reg = Registry()
        reg.init({"config_name": "gemini", "model_type": "gemini_chat", "model_name": "m",
                  "api_key": "bench-key", "base_url": "http://127.0.0.1:9", "max_retries": 0})
        model = reg.get("gemini")
        bare = genai.Client(api_key="bench-key", http_options=types.HttpOptions(
            base_url="http://127.0.0.1:9", api_version="v1beta", timeout=60_000,
            httpx_client=mock,
            httpx_async_client=httpx2.AsyncClient(),
            retry_options=types.HttpRetryOptions(attempts=1)))
        sdk, ours = best_pair(
            lambda: cpu_per_call(lambda: bare.models.generate_content(model="m",
                                                                       contents="Hi"), calls),
            lambda: cpu_per_call(lambda: model("Hi"), calls), 10)
        report("gemini_chat call, HTTP mocked, CPU time", ours, sdk, "<= 1.1x")
    finally:
        pool.sync_client = real  # type: ignore[assignment]
