"""`anthropic_chat`: Claude on the Messages API through the official `anthropic` SDK,
sync and native async (`AsyncAnthropic`), streams included.

The SDK's own retries are off (`max_retries=0`: ours is the only retry policy), and it
is always given its base URL and its key explicitly, so that no environment variable
(`ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_CUSTOM_HEADERS`, a credentials
profile) can send a key elsewhere: ANTHROPIC_API_KEY is read only for Anthropic's own
host, and a config with no key sends none.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub._secrets import LOGGERS, protect_logger, remember
from modelhub.errors import ModelhubError, UnsupportedFeatureError
from modelhub.http.errors import ErrorContext, public_url, same_origin
from modelhub.providers.anthropic import messages as convert
from modelhub.providers.anthropic.config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_TOKENS,
    KEY_ENV,
    AnthropicChatConfig,
)
from modelhub.providers.anthropic.wire import EventReader, map_error, parse_message
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.sdk import (
    PerLoop,
    acall_sdk,
    aread_sdk_stream,
    call_sdk,
    keep_to_deadline,
    read_sdk_stream,
)

if TYPE_CHECKING:
    import anthropic

__all__ = ["AnthropicChatWrapper"]

MESSAGES_PATH = "/v1/messages"
SDK_LOGGERS = ("anthropic", "anthropic._base_client", "httpx2", "httpcore2")
CUSTOM_HEADERS_ENV = "ANTHROPIC_CUSTOM_HEADERS"


class AnthropicChatWrapper(ChatWrapperBase):
    """Chat on Anthropic's Messages API: text, images, tools (parallel, streamed),
    thinking (to `reasoning`, its blocks kept for the next turn), stop sequences and
    structured output (`output_config.format`).

    `max_tokens`, which the API requires, defaults to 2048 (AgentScope's default); set
    it in `generate_args` or per call.
    """

    model_type: ClassVar[str] = "anthropic_chat"
    config_class: ClassVar[type[AnthropicChatConfig]] = AnthropicChatConfig
    required_modules: ClassVar[tuple[str, ...]] = ("anthropic",)
    extra: ClassVar[str | None] = "anthropic"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"

    def default_output_limit(self) -> int | None:
        """`max_tokens` is required: a call naming none is sent the default."""
        return DEFAULT_MAX_TOKENS
    config: AnthropicChatConfig

    client: anthropic.Anthropic
    context: ErrorContext

    def setup(self) -> None:
        """Build the SDK client: explicit base URL and key, SDK retries off."""
        import anthropic

        cfg = self.config
        url = cfg.base_url or DEFAULT_BASE_URL
        key = self.api_key(url)
        secrets = tuple(s for s in (key, *cfg.secret_values()) if s)
        self.context = ErrorContext(provider="anthropic", config_name=cfg.config_name,
                                    url=public_url(url.rstrip("/") + MESSAGES_PATH),
                                    secrets=secrets, timeout=cfg.timeout)
        protect_logger(*LOGGERS, *SDK_LOGGERS)
        remember(self, secrets)
        omit = anthropic.Omit()
        # Without a key, the SDK's auth headers are left out of each request (and the
        # SDK, given an empty key, looks for none in the environment or on disk).
        self._omit_auth = {} if key is not None else {
            name: omit for name in ("Authorization", "X-Api-Key")
            if name.lower() not in {h.lower() for h in cfg.headers}}
        self._client_kwargs = self._sdk_arguments(omit, cfg.wire_url(url) or url, key)
        self.client = keep_to_deadline(
            anthropic.Anthropic(**self._client_kwargs, **self._http_client(False)))
        self._aclients: PerLoop[anthropic.AsyncAnthropic] = PerLoop(
            lambda: keep_to_deadline(anthropic.AsyncAnthropic(**self._client_kwargs,
                                                              **self._http_client(True))))

    def api_key(self, url: str) -> str | None:
        """The key sent to `url`: the config's own, else ANTHROPIC_API_KEY when `url` is
        Anthropic's own host."""
        if self.config.api_key is not None:
            return self.config.api_key.get_secret_value()
        if self.config.base_url is None or same_origin(url, DEFAULT_BASE_URL):
            return os.environ.get(KEY_ENV) or None
        return None

    def _sdk_arguments(self, omit: Any, url: str, key: str | None) -> dict[str, Any]:
        """The SDK client's arguments: explicit URL and key, retries off, the config's
        headers, and none of the headers the SDK would add from ANTHROPIC_CUSTOM_HEADERS."""
        cfg = self.config
        headers: dict[str, Any] = cfg.wire_headers()
        named = {h.lower() for h in headers}
        for line in os.environ.get(CUSTOM_HEADERS_ENV, "").split("\n"):
            name = line.partition(":")[0].strip()
            if name and name.lower() not in named:
                headers[name] = omit
        return {"api_key": key or "", "base_url": url, "timeout": cfg.timeout,
                "max_retries": 0, "default_headers": headers}

    def _http_client(self, is_async: bool) -> dict[str, Any]:
        """An HTTP client of the SDK's kind, only when a proxy or TLS setting needs one."""
        cfg = self.config
        if cfg.proxy is None and cfg.verify_ssl:
            return {}
        import anthropic

        kind = anthropic.DefaultAsyncHttpxClient if is_async else anthropic.DefaultHttpxClient
        return {"http_client": kind(proxy=cfg.proxy, verify=cfg.verify_ssl)}

    def _aclient(self) -> anthropic.AsyncAnthropic:
        """The async client of the running event loop (one cannot cross loops)."""
        return self._aclients.get()

    # -- requests --------------------------------------------------------------------------
    def prepare_messages(self, messages: Any) -> list[dict[str, Any]]:
        """The neutral shape, and Anthropic's own (as `format()` returns it) as it is."""
        return convert.prepare(messages)

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6's Anthropic formatter: in multi-agent mode the system
        prompt and one user message holding the conversation history (images as blocks
        after it); in chat mode each message as content blocks, `tool_use` and
        `tool_result` included. The list goes back to this wrapper as it is."""
        from modelhub.providers.anthropic.formatter import format_chat, format_multi_agent

        return format_multi_agent(*args) if multi_agent_mode else format_chat(*args)

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages API body: `model`, `max_tokens`, `messages`, and the rest."""
        params = dict(request.params)
        body: dict[str, Any] = {"model": self.model_name,
                                "max_tokens": params.pop("max_tokens", DEFAULT_MAX_TOKENS)}
        system, body["messages"] = convert.to_anthropic(request.messages)
        given = params.pop("system", None)
        if given is not None and system is not None:
            raise TypeError("a system prompt is given both as a system message and as the "
                            "'system' argument: give one")
        if given is not None or system is not None:
            body["system"] = given if given is not None else system
        stops = list(request.stop or ()) + list(params.pop("stop_sequences", None) or ())
        if stops:
            body["stop_sequences"] = stops
        parallel = params.pop("parallel_tool_calls", None)
        if request.tools:
            body["tools"] = convert.tools(request.tools)
        # parallel_tool_calls means something only with tools (the API refuses a
        # tool_choice without them)
        choice = convert.tool_choice(request.tool_choice, parallel if request.tools else None)
        if choice is not None:
            body["tool_choice"] = choice
        if request.output is not None:
            body["output_config"] = {**params.pop("output_config", {}),
                                     **convert.output_config(self._schema(request))}
        body.update(params)
        return body

    def _schema(self, request: ChatRequest) -> dict[str, Any]:
        spec = request.output
        assert spec is not None
        if spec.schema is None:
            raise UnsupportedFeatureError(
                f"config {self.config_name!r}: Anthropic's structured outputs take a JSON "
                "schema; there is no JSON-object mode: give response_format a pydantic model "
                "or a JSON schema", config_name=self.config_name, capability="response_format")
        if spec.model is None:
            return spec.schema  # a schema the caller wrote goes as written
        import anthropic

        # The SDK's own rewrite into what the API supports; an SDK from before
        # structured outputs has none, and then every object is closed here.
        transform = getattr(anthropic, "transform_schema", None)
        if transform is None:
            return convert.closed_schema(spec.schema)
        return dict(transform(spec.schema))

    def _create(self, body: dict[str, Any], stream: bool) -> dict[str, Any]:
        """The SDK's `messages.create` arguments: what it requires by name, the rest as
        the body it sends (so every API parameter passes, whatever the SDK version)."""
        args = {k: body.pop(k) for k in ("model", "max_tokens", "messages")}
        if stream:
            args["stream"] = True
        if body:
            args["extra_body"] = body
        if self._omit_auth:
            args["extra_headers"] = self._omit_auth
        return args

    # -- calls -------------------------------------------------------------------------------
    def error_context(self) -> ErrorContext:
        """The calls' context: its secrets include a key read from ANTHROPIC_API_KEY."""
        return self.context

    def _map(self, exc: BaseException) -> ModelhubError | None:
        return map_error(exc, self.context)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        args = self._create(self.payload(request), stream=False)
        return parse_message(call_sdk(lambda: self.client.messages.create(**args), self._map))

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        args = self._create(self.payload(request), stream=False)
        client = self._aclient()
        return parse_message(await acall_sdk(lambda: client.messages.create(**args),
                                             self._map))

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        args = self._create(self.payload(request), stream=True)
        events = call_sdk(lambda: self.client.messages.create(**args), self._map)
        reader = EventReader(self.context)
        return read_sdk_stream(events, reader, self._map, events.close,
                               context=self.context), reader.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        args = self._create(self.payload(request), stream=True)
        client = self._aclient()
        events = await acall_sdk(lambda: client.messages.create(**args), self._map)
        reader = EventReader(self.context)
        return aread_sdk_stream(events, reader, self._map, events.close,
                                context=self.context), reader.response
