"""What the batch tests share: an OpenAI loopback server whose answer depends on the
line asked (a line holding FAIL gets a 500, one holding a held word waits until the
test lets it go), and writing input files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tests.openai_server import OpenAIServer, RecordedRequest, Reply, default_reply, error_reply

__all__ = ["BatchServer", "write_configs", "write_lines"]


def _text(req: RecordedRequest) -> str:
    return json.dumps(req.json)


class BatchServer(OpenAIServer):
    """The OpenAI server, failing the lines that hold one of `failing` and holding back
    those that hold `held` until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = {"FAIL"}
        self.held = "HELD"
        self.release = threading.Event()

    def default_reply(self, req: RecordedRequest) -> Reply:
        """The realistic answer, or a 500, or the answer late."""
        text = _text(req)
        if any(word in text for word in self.failing):
            return error_reply(500, "the model fell over", type="server_error")
        if self.held in text:
            self.release.wait(20)
        return default_reply(req)

    def asked(self) -> list[str]:
        """The last user message of every chat request, in the order they came."""
        out = []
        for req in self.requests:
            messages = (req.json or {}).get("messages") or []
            out += [m["content"] for m in messages[-1:]]
        return out


def write_lines(path: Path, lines: Iterable[Any]) -> Path:
    """A JSON Lines file: dicts as JSON, strings verbatim."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return path


def write_configs(path: Path, server: OpenAIServer) -> Path:
    """`up` (openai_chat), `emb` (openai_embedding) and `painter` (images) on `server`,
    no retries."""
    path.write_text(yaml.safe_dump([
        {"config_name": "up", "model_type": "openai_chat", "model_name": "gpt-up",
         "base_url": server.base_url, "api_key": "${BATCH_TEST_KEY:-sk-batch}",
         "max_retries": 0},
        {"config_name": "emb", "model_type": "openai_embedding", "model_name": "e",
         "base_url": server.base_url, "api_key": "sk-batch", "max_retries": 0},
        {"config_name": "painter", "model_type": "openai_dall_e",
         "base_url": server.base_url}]))
    return path
