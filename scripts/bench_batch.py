"""Figure (g) of the core bench: `modelhub batch` throughput with 64 requests in flight,
against a bare `httpx.AsyncClient` loop with 64 in flight on the same loopback server,
the two taking turns (target >= 0.9x).

The batch job is the real one (`run_local`): it reads the input file, asks
`openai_chat` each line, writes and flushes each answer as it lands, draws its
progress bar (to a null stream here), and puts the output in input order at the end.
The floor sends the same chat requests and decodes each answer, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import ROWS

IN_FLIGHT = 64


def _floor(url: str, n: int) -> float:
    """Seconds for n chat calls through a bare httpx.AsyncClient, 64 in flight."""
    import httpx

    payload = json.dumps({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    headers = {"authorization": "Bearer k", "content-type": "application/json"}

    async def run() -> float:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        async with httpx.AsyncClient(limits=limits) as client:
            todo = iter(range(n))

            async def worker() -> None:
                for _ in todo:
                    r = await client.post(url, content=payload, headers=headers)
                    json.loads(r.content)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
            return time.perf_counter() - start

    return asyncio.run(run())


def _batch(model: object, source: Path, out: Path) -> float:
    """Seconds for the batch job over `source`, 64 in flight, from an empty output."""
    from modelhub.batch import BatchJob, run_local

    out.unlink(missing_ok=True)
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
        start = time.perf_counter()
        result = run_local(model, BatchJob(source, out, IN_FLIGHT, progress=True))  # type: ignore[arg-type]
        took = time.perf_counter() - start
    assert result.answered == result.total and result.failed == 0, result
    return took


def run(base: str, quick: bool) -> None:
    """Figure (g) against the server at `base` (an OpenAI-style `/v1` prefix)."""
    import modelhub

    n, turns = (500, 3) if quick else (2000, 7)
    print(f"(g) modelhub batch, {n} lines, {IN_FLIGHT} in flight vs bare httpx.AsyncClient",
          flush=True)
    modelhub.init([{"config_name": "batch-bench", "model_type": "openai_chat",
                    "model_name": "m", "base_url": base, "api_key": "k", "max_retries": 0}])
    model = modelhub.get("batch-bench")
    folder = Path(tempfile.mkdtemp(prefix="modelhub-bench-batch-"))
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "prompt": "Hi"}) + "\n" for i in range(n)))
    out = folder / "out.jsonl"
    floors, ours = [], []
    _floor(base + "/chat/completions", IN_FLIGHT)  # warm-up of both
    _batch(model, source, out)
    for _ in range(turns):
        floors.append(_floor(base + "/chat/completions", n))
        ours.append(_batch(model, source, out))
    floor_t, ours_t = statistics.median(floors), statistics.median(ours)
    ROWS.append((f"(g) batch, {IN_FLIGHT} in flight: throughput vs httpx.AsyncClient",
                 f"{floor_t / ours_t:.2f}x", ">= 0.9x",
                 f"{n / ours_t:.0f} vs {n / floor_t:.0f} lines/s"))
    print(f"  throughput {floor_t / ours_t:.2f}x ({n / ours_t:.0f} vs {n / floor_t:.0f} "
          f"lines/s; target >= 0.9x)", flush=True)
    for path in (source, out):
        path.unlink(missing_ok=True)
    folder.rmdir()
