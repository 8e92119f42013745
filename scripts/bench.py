"""modelhub benchmark: every figure is a ratio against its floor, measured in the same run.

    python scripts/bench.py                    # the core figures (a)-(g), about six minutes
    python scripts/bench.py --quick            # fewer repetitions
    python scripts/bench.py --batch            # figure (g) alone: modelhub batch
    python scripts/bench.py --family NAME      # one provider family against its bare SDK
    python scripts/bench.py --all              # the core figures, then every family

A minimal asyncio HTTP/1.1 server (keep-alive, precomputed answers) runs in its own
process on 127.0.0.1, so client cost dominates (see `benchlib`). Each provider family
has a module in `scripts/bench_providers/` with `run(quick)`: one call and one
200-chunk stream through its wrapper against the same made with the bare SDK, on the
same server. Run on demand, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    ENV,
    ROWS,
    Route,
    best_of,
    best_pair,
    fresh,
    http_answer,
    interleaved,
    per_call,
    report,
    serve,
    sse_body,
    table,
)


def _routes() -> list[Route]:
    completion = json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}).encode()
    events = []
    for i in range(200):
        delta = {"role": "assistant", "content": ""} if i == 0 else {"content": f"tok{i} "}
        events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    # As OpenAI ends a stream: a chunk with the finish reason, then one with the usage.
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 199,
                                            "total_tokens": 204}})
    stream = http_answer(sse_body(events, done="[DONE]"), "text/event-stream")
    return [Route(b"/chat/completions", stream, body=b'"stream":true'),
            Route(b"/chat/completions", stream, body=b'"stream": true'),
            Route(b"/chat/completions", http_answer(completion))]


def families() -> list[str]:
    """The provider families with a benchmark module."""
    folder = Path(__file__).resolve().parent / "bench_providers"
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def run_family(name: str, quick: bool) -> None:
    """One family's figures: its wrapper against its bare SDK."""
    module = importlib.import_module(f"bench_providers.{name}")
    print(f"[{name}]", flush=True)
    module.run(quick)


# The least a process that validates with pydantic pays beyond importing BaseModel: the
# validator machinery (and the plugin lookup pydantic makes when it builds the first
# validator), a constrained field, a SecretStr.
PYDANTIC_MINIMUM = textwrap.dedent("""
    from pydantic import BaseModel, Field, SecretStr
    class M(BaseModel):
        n: int = Field(gt=0)
        key: SecretStr
    M(n=1, key="k")""")

# What a config of a built-in type needs beyond the common keys, to validate.
_EXTRA: dict[str, dict[str, Any]] = {
    "azure_openai_chat": {"azure_endpoint": "https://x.example", "api_version": "2024-10-21"},
    "azure_openai_embedding": {"azure_endpoint": "https://x.example",
                               "api_version": "2024-10-21"},
}
# Model types that reach no network: no key, no base_url, their own keys instead.
_LOCAL: dict[str, dict[str, Any]] = {
    "callable": {"callable": "json:dumps", "max_retries": 0},
    "scripted": {"responses": ["hi"], "max_retries": 0},
}


def _builtin_types() -> list[str]:
    """Every model_type modelhub itself declares."""
    from modelhub import plugins

    return sorted({i.model_type for i in plugins.list_plugins() if i.distribution == "modelhub"})


def _configs(base_url: str) -> list[dict[str, Any]]:
    types = _builtin_types()
    out = []
    for i in range(100):
        t = types[i % len(types)]
        if t in _LOCAL:
            out.append({"config_name": f"c{i}", "model_type": t, "model_name": "m",
                        "generate_args": {"temperature": 0.5}, **_LOCAL[t]})
            continue
        config: dict[str, Any] = {"config_name": f"c{i}", "model_type": t, "model_name": "m",
                                  "api_key": "${BENCH_KEY:-sk-bench}", "base_url": base_url,
                                  "generate_args": {"temperature": 0.5}, "max_retries": 0,
                                  **_EXTRA.get(t, {})}
        out.append(config)
    return out


def core(quick: bool) -> None:
    """The core figures (a)-(g)."""
    runs, calls, streams = (7, 300, 30) if quick else (15, 2000, 150)

    import yaml

    server = serve(_routes())
    base = server.__enter__() + "/v1"
    tmp = Path(tempfile.mkdtemp())
    # modelhub's entry-point cache in a folder of the bench's own: the warm-up run of each
    # figure fills it, as a user's first run does.
    os.environ["MODELHUB_CACHE_DIR"] = ENV["MODELHUB_CACHE_DIR"] = str(tmp / "cache")
    try:
        config_file = tmp / "models.yaml"
        config_file.write_text(yaml.safe_dump(_configs(base), sort_keys=False))
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})

        types = _builtin_types()
        print(f"(a) fresh process: import modelhub + init() of 100 configs over "
              f"{len(types)} built-in types, each validated", flush=True)
        init_code = f"import modelhub; modelhub.init({str(config_file)!r})"
        ours, floor = interleaved(init_code, "from pydantic import BaseModel; import yaml", runs)
        report("(a) import + init 100 configs vs `from pydantic import BaseModel; import yaml`",
               ours, floor, "<= 1.6x")
        one_model, again = interleaved(PYDANTIC_MINIMUM + "\nimport yaml",
                                       "from pydantic import BaseModel; import yaml", runs)
        print(f"  for context: one pydantic model (a constrained field and a SecretStr) "
              f"defined and validated once, the least a process validating with pydantic "
              f"pays: {one_model * 1000:.0f} ms = {one_model / again:.2f}x")
        cold = statistics.median(fresh(init_code, max(3, runs // 2),
                                        {**ENV, "MODELHUB_CACHE_DIR": ""}))
        print(f"  for context: the same with the entry-point cache off {cold * 1000:.0f} ms = "
              f"{cold / floor:.2f}x")
        loaded = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(f"""
                import sys, modelhub; modelhub.init({str(config_file)!r})
                heavy = ['httpx', 'httpcore', 'openai', 'anthropic', 'litellm', 'torch']
                print(','.join(m for m in heavy if m in sys.modules) or 'none')""")],
            capture_output=True, text=True, check=True).stdout.strip()
        print(f"  provider SDKs in sys.modules after init: {loaded}")

        print("(b) fresh process: import + init + one openai_chat call", flush=True)
        one_call = textwrap.dedent(f"""
            import modelhub{{patch}}
            modelhub.init([{{{{"config_name": "c", "model_type": "openai_chat",
                             "model_name": "m", "base_url": {base!r}, "api_key": "k"}}}}])
            modelhub.get("c")("Hi")""")
        ours, floor = interleaved(
            one_call.format(patch=""),
            f"import httpx; httpx.post({base + '/chat/completions'!r}, content={body!r}, "
            "headers={'authorization': 'Bearer k', 'content-type': 'application/json'}).json()",
            runs)
        report("(b) import + init + 1 call vs raw httpx process", ours, floor, "<= 1.5x")
        with_tls = statistics.median(fresh(one_call.format(
            patch="; import modelhub.http.pool as t; "
                  "t.transport_key = lambda url, verify=True, proxy=None: (verify, proxy)"),
            max(3, runs // 2)))
        print(f"  for context: the same building the TLS context a plain-HTTP endpoint never "
              f"uses (raw httpx.post builds it) {with_tls * 1000:.0f} ms = "
              f"{with_tls / floor:.2f}x")
        raw_post = (f"import httpx; httpx.post({base + '/chat/completions'!r}, content={body!r}, "
                    "headers={'authorization': 'Bearer k', 'content-type': "
                    "'application/json'}).json()")
        with_model, again = interleaved(PYDANTIC_MINIMUM + "\n" + raw_post, raw_post, runs)
        print(f"  for context: the raw httpx process validating that one pydantic model too "
              f"{with_model * 1000:.0f} ms = {with_model / again:.2f}x")
        sdk = statistics.median(fresh(
            f"import openai; openai.OpenAI(base_url={base!r}, api_key='k').chat.completions"
            ".create(model='m', messages=[{'role': 'user', 'content': 'Hi'}])", max(3, runs // 3)))
        print(f"  for context: openai SDK process {sdk * 1000:.0f} ms = {sdk / floor:.2f}x")

        import httpx
        import openai

        import modelhub

        modelhub.init([{"config_name": "chat", "model_type": "openai_chat", "model_name": "m",
                        "base_url": base, "api_key": "k", "max_retries": 0}])
        model = modelhub.get("chat")
        raw = httpx.Client()
        url = base + "/chat/completions"
        headers = {"authorization": "Bearer k", "content-type": "application/json"}
        payload = body.encode()

        print("(c) sequential chat calls", flush=True)
        floor, ours = best_pair(
            lambda: per_call(lambda: json.loads(
                raw.post(url, content=payload, headers=headers).content), calls),
            lambda: per_call(lambda: model("Hi"), calls), 3)
        report("(c) sequential openai_chat call vs raw httpx.Client", ours, floor, "<= 1.3x")
        client = openai.OpenAI(base_url=base, api_key="k", max_retries=0)
        sdk = best_of(lambda: per_call(lambda: client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Hi"}]), calls), 3)
        print(f"  for context: openai SDK {sdk * 1e6:.0f} us/call = {sdk / floor:.2f}x")

        print("(d) 200-chunk stream, time to the last chunk", flush=True)
        stream_body = json.dumps({"model": "m", "stream": True,
                                  "messages": [{"role": "user", "content": "Hi"}]}).encode()

        def raw_stream() -> None:
            with raw.stream("POST", url, content=stream_body, headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        json.loads(line[6:])

        def our_stream() -> None:
            for _ in model("Hi", stream=True):
                pass

        floor, ours = best_pair(lambda: per_call(raw_stream, streams),
                                 lambda: per_call(our_stream, streams), 3)
        report("(d) 200-chunk stream vs raw httpx iter_lines + json", ours, floor, "<= 2x")

        def sdk_stream() -> None:
            for _ in client.chat.completions.create(model="m", stream=True, messages=[
                    {"role": "user", "content": "Hi"}]):
                pass

        sdk = best_of(lambda: per_call(sdk_stream, streams), 3)
        print(f"  for context: openai SDK stream {sdk * 1000:.2f} ms = {sdk / floor:.2f}x")

        print("(e) 500 concurrent acalls, 100 in flight, cold pool", flush=True)

        async def run_ours() -> float:
            sem = asyncio.Semaphore(100)

            async def one() -> None:
                async with sem:
                    await model.acall("Hi")

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(500)))
            return time.perf_counter() - start

        async def run_raw() -> float:
            sem = asyncio.Semaphore(100)
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1000,
                                                             max_keepalive_connections=200)) as c:
                async def one() -> None:
                    async with sem:
                        r = await c.post(url, content=payload, headers=headers)
                        json.loads(r.content)

                start = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(500)))
                return time.perf_counter() - start

        floor_times, our_times = [], []
        for _ in range(3 if quick else 7):
            floor_times.append(asyncio.run(run_raw()))
            our_times.append(asyncio.run(run_ours()))
        floor_t, ours_t = statistics.median(floor_times), statistics.median(our_times)
        ROWS.append(("(e) 500 acalls, 100 in flight: throughput vs httpx.AsyncClient",
                     f"{floor_t / ours_t:.2f}x", ">= 0.9x",
                     f"{500 / ours_t:.0f} vs {500 / floor_t:.0f} calls/s"))
        print(f"  throughput {floor_t / ours_t:.2f}x ({500 / ours_t:.0f} vs "
              f"{500 / floor_t:.0f} calls/s; target >= 0.9x)")

        print("(f) get() with 10,000 configs vs 10; building 100 wrappers", flush=True)
        from modelhub.registry import Registry

        small, big = Registry(), Registry()
        template = {"model_type": "openai_chat", "model_name": "m", "base_url": base}
        small.init([{"config_name": f"s{i}", **template} for i in range(10)])
        big.init([{"config_name": f"b{i}", **template} for i in range(10_000)])
        small.get("s5")
        big.get("b5000")
        n = 200_000
        t_small, t_big = best_pair(lambda: per_call(lambda: small.get("s5"), n),
                                    lambda: per_call(lambda: big.get("b5000"), n), 5)
        report("(f) get() with 10,000 configs vs with 10", t_big, t_small, "<= ~1x", unit="ns")
        newcomers = Registry()
        newcomers.init([{"config_name": f"w{i}", **template} for i in range(101)])
        newcomers.get("w0")
        start = time.perf_counter()
        for i in range(1, 101):
            newcomers.get(f"w{i}")
        build = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(100):
            openai.OpenAI(base_url=base, api_key="k")
        sdk = time.perf_counter() - start
        ROWS.append(("(f) build 100 more openai_chat wrappers", f"{build * 1000:.1f} ms",
                     "<= 100 ms", f"100 openai.OpenAI() clients: {sdk * 1000:.0f} ms"))
        print(f"  100 wrappers built in {build * 1000:.1f} ms (target <= 100 ms); "
              f"100 openai.OpenAI() clients: {sdk * 1000:.0f} ms")

        import bench_batch

        bench_batch.run(base, quick)
    finally:
        server.__exit__(None, None, None)


def batch_only(quick: bool) -> None:
    """Figure (g) alone, on a server of its own."""
    import bench_batch

    with serve(_routes()) as url:
        bench_batch.run(url + "/v1", quick)


def main() -> None:
    """Run the benchmarks asked for and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--family", action="append", choices=families(), default=[],
                        help="a provider family's figures (repeatable)")
    parser.add_argument("--all", action="store_true", help="core figures and every family")
    parser.add_argument("--batch", action="store_true",
                        help="figure (g) alone: modelhub batch against httpx.AsyncClient")
    args = parser.parse_args()
    if args.batch:
        batch_only(args.quick)
    elif args.all or not args.family:
        core(args.quick)
    for name in families() if args.all else args.family:
        run_family(name, args.quick)
    print("\n" + table())


if __name__ == "__main__":
    main()
