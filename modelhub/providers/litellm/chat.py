"""`litellm_chat`: any model LiteLLM reaches, through `litellm.completion` and
`acompletion`, streams included.

litellm is imported when the first such wrapper is built (its import takes seconds),
with its model cost map read from its bundled copy (`LITELLM_LOCAL_MODEL_COST_MAP`,
unless the first config sets `fetch_model_cost_map`), its telemetry off and its debug
banners quiet, and the user's `httpx` log level as it was; no callback is added (a
config asks for one in `generate_args`). Its own retries are off on every call
(`num_retries=0`, `max_retries=0`): ours is the only retry policy.

Keys: LiteLLM reads a provider's key and base URL from the environment itself. So a
config whose `base_url` (`api_base`) is set sends its own `api_key` or a placeholder,
never a key from the environment; without a `base_url`, a provider of the table below
is given its own host explicitly, so that no variable (`OPENAI_BASE_URL`,
`ANTHROPIC_BASE_URL`, ...) can move its key elsewhere. A provider outside the table is
left to LiteLLM's own resolution.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub._secrets import LOGGERS, protect_logger, remember
from modelhub.errors import ModelhubError
from modelhub.http.deadline import timeout_for
from modelhub.http.errors import ErrorContext, public_url
from modelhub.providers.litellm.clients import SyncClients
from modelhub.providers.litellm.config import FLATTEN_BY_DEFAULT, LiteLLMChatConfig
from modelhub.providers.litellm.wire import THINKING_KEY, ChunkReader, map_error, parse_completion
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import convert_roles
from modelhub.wrappers.sdk import acall_sdk, aread_sdk_stream, call_sdk, read_sdk_stream

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["DEFAULT_HOSTS", "LiteLLMChatWrapper"]

# Providers whose address LiteLLM would otherwise take from the environment: their own
# host (as LiteLLM's api_base means it) and the variable their key is read from.
DEFAULT_HOSTS: dict[str, tuple[str, str]] = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": ("https://api.anthropic.com", "ANTHROPIC_API_KEY"),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "deepseek": ("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
}
# On every call: LiteLLM's retries and its SDKs' off (ours is the only retry policy).
NO_RETRIES = {"num_retries": 0, "max_retries": 0}
# Sent as the key to a base_url the config names without a key of its own.
NO_KEY = "no-key"
COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"
SDK_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "openai._base_client")


def _import_litellm(fetch_cost_map: bool) -> ModuleType:
    """litellm, imported quiet: bundled cost map, telemetry off, no debug banners; the
    level of the `httpx` logger, which its import sets to WARNING, left as it was."""
    import logging
    import sys

    if "litellm" not in sys.modules:
        if not fetch_cost_map:
            os.environ.setdefault(COST_MAP_ENV, "True")
        httpx_logger = logging.getLogger("httpx")
        level = httpx_logger.level
        import litellm

        httpx_logger.setLevel(level)
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


class LiteLLMChatWrapper(ChatWrapperBase):
    """Chat through LiteLLM: text, images, audio where the model takes it, tools
    (parallel, streamed), stop, response_format (LiteLLM translates each to the
    provider's own form), reasoning to `reasoning`."""

    model_type: ClassVar[str] = "litellm_chat"
    config_class: ClassVar[type[LiteLLMChatConfig]] = LiteLLMChatConfig
    required_modules: ClassVar[tuple[str, ...]] = ("litellm",)
    extra: ClassVar[str | None] = "litellm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"
    config: LiteLLMChatConfig

    context: ErrorContext

    def setup(self) -> None:
        """Import litellm, find the model's provider, fix where its key may go."""
        cfg = self.config
        self._litellm = _import_litellm(cfg.fetch_model_cost_map)
        self.provider, own_key, own_base = self._find_provider()
        host = DEFAULT_HOSTS.get(self.provider or "")
        fixed: dict[str, Any] = {}
        secrets = list(cfg.secret_values())
        if cfg.base_url is not None:
            fixed["api_base"] = cfg.wire_url()
            fixed["api_key"] = cfg.api_key.get_secret_value() if cfg.api_key else NO_KEY
        else:
            if host is not None:
                fixed["api_base"] = host[0]
                secrets.append(os.environ.get(host[1], ""))
            if cfg.api_key is not None:
                fixed["api_key"] = cfg.api_key.get_secret_value()
        if cfg.timeout is not None:
            fixed["timeout"] = cfg.timeout
        if cfg.headers:
            fixed["extra_headers"] = cfg.wire_headers()
        if not cfg.verify_ssl:
            fixed["ssl_verify"] = False
        self._fixed = fixed
        key, base = fixed.get("api_key"), fixed.get("api_base")
        if key is None and host is not None and base == host[0]:
            key = os.environ.get(host[1]) or None  # the key LiteLLM would read itself
        if base is None:
            # A provider left to LiteLLM's own resolution: the wrapper's client gets the
            # address and key LiteLLM would use itself (nothing goes anywhere else).
            base, key = own_base, key or own_key
            if key:
                secrets.append(key)
        self._sync_clients = SyncClients(self._litellm, self.provider, base, key,
                                         verify=cfg.verify_ssl)
        flatten = cfg.flatten_messages_as_text
        self._flatten = self.model_name.startswith(FLATTEN_BY_DEFAULT) if flatten is None \
            else flatten
        base = fixed.get("api_base")
        self.context = ErrorContext(
            provider="litellm", config_name=cfg.config_name,
            url=public_url(base) if base else None,
            secrets=tuple(s for s in secrets if s), timeout=cfg.timeout)
        protect_logger(*LOGGERS, *SDK_LOGGERS)
        remember(self, self.context.secrets)

    def _find_provider(self) -> tuple[str | None, str | None, str | None]:
        """The provider LiteLLM routes this model to, and the key and address it would
        use by itself (Nones if it cannot tell: the call then fails with LiteLLM's own
        error)."""
        try:
            found = self._litellm.get_llm_provider(model=self.model_name)
        except Exception:
            return None, None, None
        return str(found[1]), found[2] or None, found[3] or None

    # -- requests ------------------------------------------------------------------------
    def _messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Role conversions and flattening applied; a tool call's thinking blocks moved to
        its message's `thinking_blocks`, where LiteLLM reads them."""
        cfg = self.config
        messages = convert_roles(messages, cfg.custom_role_conversions, flatten=self._flatten)
        if not any(m.get("tool_calls") for m in messages):
            return messages
        out = []
        for message in messages:
            calls = message.get("tool_calls")
            if calls and any("extra" in c for c in calls):
                message = dict(message)
                blocks = [b for c in calls for b in (c.get("extra") or {}).get(THINKING_KEY, ())]
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "extra"}
                                         for c in calls]
                if blocks:
                    message[THINKING_KEY] = blocks
            out.append(message)
        return out

    def arguments(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of `litellm.completion` for this request."""
        kwargs: dict[str, Any] = {"model": self.model_name,
                                  "messages": self._messages(request.messages),
                                  **self._fixed, **request.params, **NO_RETRIES}
        if "extra_headers" in request.params and "extra_headers" in self._fixed:
            kwargs["extra_headers"] = {**self._fixed["extra_headers"],
                                       **request.params["extra_headers"]}
        if request.stop:
            kwargs["stop"] = request.stop
        if request.tools:
            kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
        if request.output is not None:
            from modelhub.providers.openai.schema import response_format

            kwargs["response_format"] = response_format(request.output)
        if request.stream:
            kwargs["stream"] = True
            kwargs.setdefault("stream_options", {"include_usage": True})
        timeout = timeout_for(self.config.timeout)  # the call's own, if given
        if timeout is not None:
            kwargs["timeout"] = timeout
        return kwargs

    def sync_arguments(self, request: ChatRequest) -> dict[str, Any]:
        """`arguments`, with this wrapper's client keeping to the attempt's deadline
        (unless a call names its own `client`)."""
        kwargs = self.arguments(request)
        if "client" not in kwargs:
            client = self._sync_clients.get()
            if client is not None:
                kwargs["client"] = client
        return kwargs

    # -- calls ---------------------------------------------------------------------------
    def _map(self, exc: BaseException) -> ModelhubError | None:
        return map_error(exc, self.context)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.sync_arguments(request)
        response = call_sdk(lambda: self._litellm.completion(**kwargs), self._map)
        return parse_completion(response, self.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.arguments(request)
        response = await acall_sdk(lambda: self._litellm.acompletion(**kwargs), self._map)
        return parse_completion(response, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        kwargs = self.sync_arguments(request)
        chunks = call_sdk(lambda: self._litellm.completion(**kwargs), self._map)
        reader = ChunkReader(self.context)
        return read_sdk_stream(chunks, reader, self._map), reader.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        kwargs = self.arguments(request)
        chunks = await acall_sdk(lambda: self._litellm.acompletion(**kwargs), self._map)
        reader = ChunkReader(self.context)
        return aread_sdk_stream(chunks, reader, self._map), reader.response
