"""litellm_chat against bare `litellm.completion`: one call, and one 200-chunk stream
read to its end, both down LiteLLM's `openai/` path on the same loopback server."""

from __future__ import annotations

import os
from typing import Any

from bench import _routes  # the core figures' OpenAI-protocol answers
from benchlib import report_paired, serve

MESSAGES = [{"role": "user", "content": "Hi"}]


def run(quick: bool) -> None:
    """Report the two figures."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    from modelhub.registry import Registry

    # Rounds of a few calls each side in turn; medians (see benchlib.paired).
    (batch, rounds), (sbatch, srounds) = ((5, 15), (2, 15)) if quick else ((10, 80), (2, 50))
    with serve(_routes()) as url:
        base = url + "/v1"
        reg = Registry()
        reg.init({"config_name": "ll", "model_type": "litellm_chat",
                  "model_name": "openai/m", "api_key": "sk-bench", "api_base": base,
                  "max_retries": 0})
        model = reg.get("ll")
        # The same arguments the wrapper gives: its key and base, retries off, timeout.
        same: dict[str, Any] = {"model": "openai/m", "api_base": base, "api_key": "sk-bench",
                                "num_retries": 0, "max_retries": 0, "timeout": 60.0}

        def ours_call() -> None:
            model(MESSAGES)

        def sdk_call() -> None:
            litellm.completion(messages=MESSAGES, **same)

        report_paired("litellm_chat call vs litellm.completion", sdk_call, ours_call, batch,
                      rounds, "<= 1.1x")

        def ours_stream() -> None:
            "".join(model(MESSAGES, stream=True))

        def sdk_stream() -> None:
            text = []
            for chunk in litellm.completion(messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True}, **same):
                if chunk.choices and chunk.choices[0].delta.content:
                    text.append(chunk.choices[0].delta.content)
            "".join(text)

        report_paired("litellm_chat 200-chunk stream vs litellm.completion", sdk_stream,
                      ours_stream, sbatch, srounds, "<= 1.1x")
