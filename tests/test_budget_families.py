"""Every chat family takes the output limit a budget gives a call that names none, and
sends it in its provider's spelling: the request each family's loopback server
received holds what the budget had left (or the family's default, when smaller)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modelhub.calls.estimate import OUTPUT_CAP, input_tokens
from modelhub.registry import Registry
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
)
from tests.gemini_server import (  # noqa: F401 (fixtures)
    GeminiServer,
    gemini_server_fixture,
    gemini_server_session_fixture,
)
from tests.hf_server import HFServer
from tests.ollama_server import (  # noqa: F401 (fixtures)
    OllamaServer,
    server_fixture,
    server_session_fixture,
)
from tests.zhipuai_server import (  # noqa: F401 (fixtures)
    ZhipuAIServer,
    zhipuai_server,
    zhipuai_server_session,
)

KEY = "sk-budget-families-0123456789"
ASKED = input_tokens([{"role": "user", "content": "hi"}])


@pytest.fixture(scope="module")
def hf_server() -> Iterator[HFServer]:
    with HFServer() as server:
        yield server


def _at(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(body: dict[str, Any]) -> Any:
        for key in path:
            body = body[key]
        return body

    return read


# family: (server fixture, config without its URL, how the URL is given, where the limit
# is in the request body, the family's own default when it is smaller than OUTPUT_CAP)
FAMILIES: dict[str, tuple[str, dict[str, Any], Callable[[Any], dict[str, Any]],
                          Callable[[dict[str, Any]], Any], int]] = {
    "openai_chat": ("openai_server", {"model_name": "gpt-4o-mini", "api_key": KEY},
                    lambda s: {"base_url": s.base_url}, _at("max_tokens"), OUTPUT_CAP),
    "anthropic_chat": ("anthropic_server", {"model_name": "claude-sonnet-4-5",
                                            "api_key": KEY},
                       lambda s: {"base_url": s.url}, _at("max_tokens"), 2048),
    "gemini_chat": ("gemini_server", {"model_name": "gemini-2.5-flash", "api_key": KEY},
                    lambda s: {"base_url": s.url},
                    _at("generationConfig", "maxOutputTokens"), OUTPUT_CAP),
    "ollama_chat": ("ollama_server", {"model_name": "llama3.2"},
                    lambda s: {"base_url": s.url}, _at("options", "num_predict"),
                    OUTPUT_CAP),
    "zhipuai_chat": ("zhipuai_server", {"model_name": "glm-4", "api_key": KEY},
                     lambda s: {"base_url": s.base_url}, _at("max_tokens"), OUTPUT_CAP),
    "dashscope_chat": ("dashscope_server", {"model_name": "qwen-plus", "api_key": KEY},
                       lambda s: {"base_url": s.base_url}, _at("parameters", "max_tokens"),
                       OUTPUT_CAP),
    "hf_inference_chat": ("hf_server", {"model_name": "tgi"},
                          lambda s: {"base_url": s.url}, _at("max_tokens"), OUTPUT_CAP),
    "hf_inference_generate": ("hf_server", {"model_name": "tgi"},
                              lambda s: {"base_url": s.url},
                              _at("parameters", "max_new_tokens"), OUTPUT_CAP),
    "litellm_chat": ("openai_server", {"model_name": "openai/gpt-4o-mini", "api_key": KEY},
                     lambda s: {"api_base": s.base_url}, _at("max_tokens"), OUTPUT_CAP),
}


@pytest.mark.parametrize("model_type", sorted(FAMILIES))
def test_each_family_sends_the_limit_a_budget_leaves(model_type: str,
                                                    request: pytest.FixtureRequest,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # (litellm is not imported here: modelhub's own import of it keeps the logging
    # levels its import would change.)
    if model_type == "litellm_chat" and importlib.util.find_spec("litellm") is None:
        pytest.skip("litellm is not installed")
    fixture, config, url, limit_in, default = FAMILIES[model_type]
    server = request.getfixturevalue(fixture)
    if hasattr(server, "reset"):
        server.reset()
    for name in ("HF_TOKEN", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    for budget, expected in ((100_000, default), (ASKED + 150, 150)):
        reg = Registry()
        reg.init({"config_name": "b", "model_type": model_type, "max_retries": 0,
                  "budget": {"tokens": budget}, **config, **url(server)})
        reg.get("b")("hi")
        body = server.requests[-1].json
        assert isinstance(body, dict)
        assert limit_in(body) == expected, body
    # A limit the call names is sent as it is (the fixture servers' usage does not
    # follow the limit: a fresh budget).
    reg = Registry()
    reg.init({"config_name": "b", "model_type": model_type, "max_retries": 0,
              "budget": {"tokens": 100_000}, **config, **url(server)})
    name = "max_new_tokens" if model_type == "hf_inference_generate" else "max_tokens"
    reg.get("b")("hi", **{name: 5})
    assert limit_in(server.requests[-1].json) == 5
