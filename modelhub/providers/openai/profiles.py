"""OpenAI-compatible services as data: one `Profile` row each.

A config picks a profile with `provider:` (`openai_chat` and `openai_embedding`), or
by its model_type (`yi_chat`). The row says where the service lives, which
environment variables hold its key, how the key is sent, and what it does differently.

The rule for keys: a key read from an environment variable goes only to the
profile's own host. A config with a `base_url` elsewhere sends the key it names
(`api_key: ${VAR}`) or none. No profile falls back to another's base URL, and no
environment variable moves one (`OPENAI_BASE_URL`, which the openai SDK reads, is
not read: a variable could otherwise send the key to a host of its choosing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PROFILES", "Profile", "profile_for", "profile_names"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One OpenAI-compatible service."""

    name: str
    base_url: str | None  # where it lives; None: the config must say (a gateway, Azure)
    key_env: tuple[str, ...] = ()  # variables its key is read from, first set wins
    auth: Literal["bearer", "api-key"] = "bearer"  # Authorization: Bearer, or api-key
    model_types: tuple[str, ...] = ()  # model types that stand for this profile
    stream_usage: bool = True  # accepts stream_options.include_usage
    max_embedding_batch: int | None = 2048  # inputs per /embeddings request
    local: bool = False  # a server on the user's own machine
    description: str = ""


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("openai", "https://api.openai.com/v1", ("OPENAI_API_KEY",),
            model_types=("openai_chat", "openai", "openai_embedding", "openai_dall_e"),
            description="OpenAI"),
    Profile("azure", None, ("AZURE_OPENAI_API_KEY",), auth="api-key",
            model_types=("azure_openai_chat", "azure_openai_embedding"),
            description="Azure OpenAI (azure_endpoint, api_version, deployment)"),
    Profile("deepseek", "https://api.deepseek.com/v1", ("DEEPSEEK_API_KEY",),
            description="DeepSeek"),
    Profile("groq", "https://api.groq.com/openai/v1", ("GROQ_API_KEY",), description="Groq"),
    Profile("together", "https://api.together.xyz/v1", ("TOGETHER_API_KEY",),
            description="Together AI"),
    Profile("openrouter", "https://openrouter.ai/api/v1", ("OPENROUTER_API_KEY",),
            description="OpenRouter"),
    # Mistral rejects unknown fields (422) and sends usage in its last chunk unasked.
    Profile("mistral", "https://api.mistral.ai/v1", ("MISTRAL_API_KEY",), stream_usage=False,
            description="Mistral AI"),
    Profile("fireworks", "https://api.fireworks.ai/inference/v1", ("FIREWORKS_API_KEY",),
            description="Fireworks AI"),
    Profile("moonshot", "https://api.moonshot.cn/v1", ("MOONSHOT_API_KEY",),
            description="Moonshot AI (Kimi)"),
    Profile("dashscope", "https://dashscope.aliyuncs.com/compatible-mode/v1",
            ("DASHSCOPE_API_KEY",), max_embedding_batch=10,
            description="Alibaba Cloud DashScope, OpenAI-compatible mode"),
    Profile("zhipuai", "https://open.bigmodel.cn/api/paas/v4", ("ZHIPUAI_API_KEY",),
            description="Zhipu AI (BigModel) v4 API"),
    Profile("yi", "https://api.lingyiwanwu.com/v1", ("YI_API_KEY",), model_types=("yi_chat",),
            description="01.AI Yi"),
    Profile("vllm", "http://localhost:8000/v1", local=True, description="a vLLM server"),
    Profile("lmstudio", "http://localhost:1234/v1", local=True, description="LM Studio"),
    Profile("llamacpp", "http://localhost:8080/v1", local=True,
            description="a llama.cpp server (llama-server, llama_cpp.server)"),
    Profile("ollama", "http://localhost:11434/v1", local=True,
            description="Ollama's OpenAI-compatible API"),
)}

_BY_MODEL_TYPE = {t: p for p in PROFILES.values() for t in p.model_types}


def profile_names() -> list[str]:
    """Every profile's name, sorted."""
    return sorted(PROFILES)


def profile_for(name: str | None, model_type: str) -> Profile:
    """The profile a config names, else the one its model_type stands for, else OpenAI."""
    if name is not None:
        return PROFILES[name]
    return _BY_MODEL_TYPE.get(model_type, PROFILES["openai"])
