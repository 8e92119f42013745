"""Config models of the Ollama family (importing this never imports `ollama`).

They take AgentScope v0.1.x's Ollama wrapper arguments unchanged: `options` (the
request's `options`, e.g. `{"temperature": 0.7, "num_ctx": 8192}`), `keep_alive`,
`host` (folded into `base_url`, the bare server address), `stream` for chat, and the
`ollama.Client(**kwargs)` arguments that mean something here (`timeout`, `headers`,
`verify`, `proxy`, `follow_redirects`). A host written without a scheme
(`localhost:11434`) reads as the `ollama` client reads it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, Field, field_validator, model_validator

from modelhub.config.schema import BASE_URL_ALIASES, RemoteModelConfig

__all__ = ["CHAT_FIELDS", "CHAT_PARAMS", "DEFAULT_PORT", "EMBED_FIELDS", "EMBED_PARAMS",
           "GENERATE_FIELDS", "GENERATE_PARAMS", "OPTION_ALIASES", "OPTION_NAMES",
           "OllamaChatConfig", "OllamaConfig", "OllamaEmbeddingConfig",
           "OllamaGenerateConfig", "host_url"]

DEFAULT_PORT = 11434

# What the server reads from a request's `options` (its api.Options and api.Runner,
# old and new names both).
OPTION_NAMES = frozenset({
    "num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread", "numa",
    "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "embedding_only",
    "draft_num_predict", "num_keep", "seed", "num_predict", "top_k", "top_p", "min_p",
    "tfs_z", "typical_p", "repeat_last_n", "temperature", "repeat_penalty",
    "presence_penalty", "frequency_penalty", "mirostat", "mirostat_tau", "mirostat_eta",
    "penalize_newline", "stop",
})
# Request fields beside `options`, per endpoint.
_COMMON = frozenset({"model", "options", "keep_alive"})
CHAT_FIELDS = _COMMON | {"think", "format", "logprobs", "top_logprobs"}
GENERATE_FIELDS = CHAT_FIELDS | {"system", "template", "context", "raw", "suffix", "images"}
EMBED_FIELDS = _COMMON | {"truncate", "dimensions"}
# OpenAI's spelling of an option, so that a config moved between backends means the same.
OPTION_ALIASES = {"max_tokens": "num_predict", "max_completion_tokens": "num_predict"}

CHAT_PARAMS = OPTION_NAMES | CHAT_FIELDS | set(OPTION_ALIASES)
GENERATE_PARAMS = OPTION_NAMES | GENERATE_FIELDS | set(OPTION_ALIASES)
EMBED_PARAMS = OPTION_NAMES | EMBED_FIELDS


def host_url(host: str) -> str:
    """A host as the `ollama` client reads it, written as a URL: without a scheme,
    `http://` and port 11434 unless given (`localhost` -> `http://localhost:11434`,
    `:8080` -> `http://127.0.0.1:8080`); with one, as it is. No trailing slash."""
    host = host.strip()
    if "://" not in host:
        from urllib.parse import urlsplit

        parts = urlsplit("//" + host)
        name = parts.hostname or "127.0.0.1"
        if ":" in name:
            name = f"[{name}]"
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            return "http://" + host  # an invalid port: base_url's own check names it
        host = f"http://{name}:{port}{parts.path}"
    return host.rstrip("/")


class OllamaConfig(RemoteModelConfig):
    """What every Ollama config has."""

    known_params: ClassVar[frozenset[str]] = EMBED_PARAMS

    options: dict[str, Any] | None = Field(
        default=None, description="The request's options (temperature, num_ctx, seed, stop, "
                                  "...), under a call's own. Set num_ctx: Ollama silently "
                                  "cuts prompts longer than its default context.")
    keep_alive: str | float | None = Field(
        default=None, description="How long the model stays loaded after a request "
                                  "('5m', seconds, 0 to unload, -1 to keep); default: the "
                                  "server's.")
    verify_ssl: bool = Field(
        default=True, validation_alias=AliasChoices("verify_ssl", "verify"),
        description="Verify TLS certificates (AgentScope's ollama.Client `verify`).")
    follow_redirects: bool = Field(
        default=True, description="Follow HTTP redirects, as the ollama client does.")

    @model_validator(mode="before")
    @classmethod
    def _host_as_url(cls, data: Any) -> Any:
        # Ollama's client takes `localhost:11434`; base_url's own check wants a URL.
        if not isinstance(data, dict):
            return data
        fixed = {k: host_url(v) for k in ("base_url", *BASE_URL_ALIASES)
                 if isinstance(v := data.get(k), str) and "://" not in v}
        return {**data, **fixed} if fixed else data

    @field_validator("options")
    @classmethod
    def _options_spelling(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value:
            from modelhub.config.params import misspelled_params

            wrong = misspelled_params(value, OPTION_NAMES)
            if wrong:
                raise ValueError("; ".join(f"unknown option {given!r}; did you mean {meant!r}?"
                                           for given, meant in wrong))
        return value


class OllamaChatConfig(OllamaConfig):
    """`ollama_chat`: /api/chat."""

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")


class OllamaGenerateConfig(OllamaConfig):
    """`ollama_generate`: /api/generate."""

    known_params: ClassVar[frozenset[str]] = GENERATE_PARAMS

    stream: bool = Field(default=False, description="Stream by default.")


class OllamaEmbeddingConfig(OllamaConfig):
    """`ollama_embedding`: /api/embed."""

    known_params: ClassVar[frozenset[str]] = EMBED_PARAMS
