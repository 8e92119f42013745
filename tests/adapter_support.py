"""Helpers the framework adapter tests share: an openai_chat config on the loopback
server, and a check that an adapter module without its framework names its extra."""

from __future__ import annotations

import subprocess
import sys

from modelhub.registry import default_registry
from tests.openai_server import OpenAIServer


def openai_config(server: OpenAIServer, name: str, **extra: object) -> str:
    """Load (or reload) an openai_chat config `name` on `server` into the default registry."""
    default_registry.remove(name)
    default_registry.init({"config_name": name, "model_type": "openai_chat",
                           "model_name": "gpt-4o-mini", "api_key": "sk-test",
                           "base_url": server.base_url, "max_retries": 0, **extra})
    return name


def missing_framework_message(module: str, framework: str) -> str:
    """What importing `module` says in a fresh process where `framework` is missing."""
    code = (f"import sys; sys.modules[{framework!r}] = None\n"
            f"try:\n    import {module}\nexcept Exception as e:\n"
            "    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()
