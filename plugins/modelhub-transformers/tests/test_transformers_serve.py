"""`modelhub serve` on a transformers_chat config (the tiny random-weight Llama), started
by scripts/transformers/transformers_setup.sh as a user would, and called by the real
`openai` SDK (JSON, stream, tools, stop) and by the configs beside that script
(`openai_chat`, and AgentScope's `post_api_chat` on /llm/)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from modelhub.registry import Registry
from tests.serving import free_port, run_command, wait_until_up

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts" / "transformers"
PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
ADD = {"type": "function", "function": {
    "name": "add", "description": "Add two numbers.",
    "parameters": {"type": "object", "required": ["a", "b"],
                   "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99},
                                  "b": {"type": "integer", "minimum": 0, "maximum": 99}}}}}


@pytest.fixture(scope="module")
def served(tiny_llama: Path) -> Iterator[str]:
    """transformers_setup.sh -m <the tiny Llama> on a free port: its address."""
    port = free_port()
    with run_command(["bash", str(SCRIPTS / "transformers_setup.sh"), "-m", str(tiny_llama),
                      "-p", str(port)], env={"PYTHON": sys.executable}) as child:
        first = child.first_line(timeout=120)
        assert f"http://127.0.0.1:{port}/v1" in first and "transformers" in first
        wait_until_up(f"http://127.0.0.1:{port}/health", child.process, timeout=120)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(served: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=served + "/v1", api_key="unused", max_retries=0)


def test_openai_sdk_json_and_stream(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["transformers"]
    whole = client.chat.completions.create(model="transformers", messages=PROMPT, max_tokens=12)
    text = whole.choices[0].message.content
    assert text and whole.choices[0].finish_reason in ("stop", "length")
    assert whole.usage is not None and 0 < whole.usage.completion_tokens <= 12
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    chunks = list(client.chat.completions.create(
        model="transformers", messages=PROMPT, max_tokens=12, stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_openai_sdk_tools_and_stop(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(model="transformers", messages=PROMPT, tools=[ADD],
                                          tool_choice="required", max_tokens=40)
    [call] = resp.choices[0].message.tool_calls or []
    assert call.function.name == "add" and resp.choices[0].finish_reason == "tool_calls"
    assert set(json.loads(call.function.arguments)) == {"a", "b"}

    text = client.chat.completions.create(model="transformers", messages=PROMPT,
                                          max_tokens=12).choices[0].message.content or ""
    cut = text[len(text) // 2:][:3]
    assert cut.strip()
    stopped = client.chat.completions.create(model="transformers", messages=PROMPT,
                                             max_tokens=12, stop=[cut])
    assert stopped.choices[0].message.content == text[:text.index(cut)]


def test_the_scripts_configs(served: str) -> None:
    registry = Registry()
    registry.init(str(SCRIPTS / "model_config.yaml"), environ={"MODELHUB_SERVE_URL": served})
    via_openai = registry.get("transformers_openai")(PROMPT, max_tokens=12, temperature=0)
    via_post = registry.get("transformers_post_api")(PROMPT, max_new_tokens=12,
                                                    temperature=0)
    assert via_openai.text and via_openai.text == via_post.text
    assert via_post.usage is not None and via_post.usage.output_tokens > 0
    stream = registry.get("transformers_post_api")(PROMPT, max_new_tokens=12,
                                                  temperature=0, stream=True)
    assert "".join(stream) == via_post.text
