"""Config models of the POST wrappers (importing this never imports httpx).

They take every argument of AgentScope v0.1.6's `PostAPIModelWrapperBase`: `api_url`
(folded into `base_url`: the whole URL requests are POSTed to), `headers`,
`json_args`, `post_args`, `messages_key`, `max_length`, `timeout`, `max_retries` and
`retry_interval`, plus the paths where the answer is found.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from modelhub.config.schema import ConfigModel, RemoteModelConfig

__all__ = ["PostAPIArgs", "PostAPIChatConfig", "PostAPIConfig", "PostAPIDallEConfig",
           "PostAPIEmbeddingConfig"]

# AgentScope's defaults: where each kind of answer is.
CHAT_TEXT_PATH = "data.response.choices.0.message.content"
EMBEDDING_PATH = "data.*.embedding"
IMAGE_URLS_PATH = "data.response.data.*.url"
# The generation parameters common to chat endpoints, for the typo check only: any
# other key an endpoint takes passes through.
CHAT_PARAMS = frozenset({"temperature", "top_p", "top_k", "max_tokens", "max_new_tokens",
                         "max_length", "seed", "presence_penalty", "frequency_penalty",
                         "repetition_penalty", "do_sample", "num_beams"})


class PostAPIArgs(ConfigModel):
    """AgentScope's `post_args`: the `requests.post(...)` keyword arguments that have a
    meaning here. Each is folded into the matching top-level setting."""

    params: dict[str, str | SecretStr] | None = Field(
        default=None, description="Query parameters (into `default_query`).")
    headers: dict[str, str | SecretStr] | None = Field(
        default=None, description="Headers (merged under `headers`).")
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                                  description="Seconds (into `timeout`).")
    verify: bool | None = Field(default=None, description="Into `verify_ssl`.")
    proxies: dict[str, str] | str | None = Field(
        default=None, description="One proxy URL, or requests' {scheme: url} naming one.")


def _path(value: str | None) -> str | None:
    if value is not None:
        from modelhub.providers.post_api.paths import ResponsePath

        ResponsePath.parse(value)
    return value


class PostAPIConfig(RemoteModelConfig):
    """What every POST wrapper's config has."""

    default_response_path: ClassVar[str] = CHAT_TEXT_PATH

    json_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Sent in every request body, beside the input; generate_args and a "
                    "call's keyword arguments go over them.")
    post_args: PostAPIArgs | None = Field(
        default=None, description="AgentScope's requests.post arguments (params, headers, "
                                  "timeout, verify, proxies), folded into the settings.")
    messages_key: str = Field(default="messages", min_length=1,
                              description="The body key the input goes under.")
    max_length: int | None = Field(
        default=None, description="Accepted for AgentScope configs; AgentScope sends "
                                  "nothing for it, and neither does modelhub.")
    retry_interval: float = Field(
        default=1.0, ge=0, le=60, allow_inf_nan=False,
        description="Seconds: the base of the backoff between retries.")
    default_query: dict[str, str | SecretStr] = Field(
        default_factory=dict, description="Query parameters sent with every request.")
    response_path: str | None = Field(
        default=None, description="Dotted path of the answer in the response body "
                                  "(default: as AgentScope reads it).")
    usage_path: str | None = Field(
        default=None, description="Dotted path of the token usage (OpenAI's shape).")

    _check_paths = field_validator("response_path", "usage_path")(_path)

    @field_validator("default_query")
    @classmethod
    def _secret_query(cls, value: dict[str, Any]) -> dict[str, Any]:
        from modelhub.config.checks import secret_entries

        return secret_entries(value, "query parameter", header=False) if value else value

    @model_validator(mode="after")
    def _needs_an_url(self) -> PostAPIConfig:
        if not self.base_url:
            raise ValueError("a POST endpoint needs its URL: set 'api_url' (or 'base_url')")
        return self

    @model_validator(mode="after")
    def _fold_post_args(self) -> PostAPIConfig:
        args = self.post_args
        if args is None:
            return self
        from modelhub.config.checks import check_proxy, secret_entries

        if args.headers:
            merged = secret_entries({**args.headers, **self.headers}, "post_args.headers",
                                    header=True)
            object.__setattr__(self, "headers", merged)
        if args.params:
            merged = secret_entries({**args.params, **self.default_query}, "post_args.params",
                                    header=False)
            object.__setattr__(self, "default_query", merged)
        for source, target in (("timeout", "timeout"), ("verify", "verify_ssl")):
            value = getattr(args, source)
            if value is None:
                continue
            if target in self.model_fields_set and getattr(self, target) != value:
                raise ValueError(f"{target!r} is given both at top level and as "
                                 f"post_args.{source}, with different values")
            object.__setattr__(self, target, value)
        if args.proxies is not None:
            proxies = args.proxies
            urls = {proxies} if isinstance(proxies, str) else set(proxies.values())
            if len(urls) != 1:
                raise ValueError("post_args.proxies must name one proxy for every scheme")
            proxy = urls.pop()
            check_proxy(proxy)
            if self.proxy is not None and self.proxy != proxy:
                raise ValueError("'proxy' and post_args.proxies name different proxies")
            object.__setattr__(self, "proxy", proxy)
        return self

    def answer_path(self) -> str:
        """The path of the answer: the config's, else the type's default."""
        return self.response_path or self.default_response_path


class PostAPIChatConfig(PostAPIConfig):
    """`post_api_chat` (alias `post_api`): any HTTP endpoint that chats.

    The other paths default to the OpenAI shape around `response_path` when it is one
    (`<prefix>choices.0.message.content`): tool calls at `...message.tool_calls`,
    reasoning at `...message.reasoning_content`, the finish reason at
    `...choices.0.finish_reason`, usage at `<prefix>usage`, and in a stream the
    text at `...choices.0.delta.content`.
    """

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default.")
    stream_framing: Literal["sse", "ndjson"] = Field(
        default="sse", description="How a streamed answer is framed.")
    stream_delta_path: str | None = Field(
        default=None, description="Dotted path of the text in each stream event.")
    stream_end: str | None = Field(
        default="[DONE]", description="The event data that ends a stream; null: the "
                                      "stream ends with its body.")
    tool_calls_path: str | None = Field(
        default=None, description="Dotted path of the tool calls (OpenAI's shape).")
    reasoning_path: str | None = Field(default=None,
                                       description="Dotted path of reasoning text.")
    finish_reason_path: str | None = Field(default=None,
                                           description="Dotted path of the finish reason.")
    stop_key: str | None = Field(
        default=None, description="Body key to send stop strings under (they are also "
                                  "trimmed from the answer, whether or not it is set).")

    _check_chat_paths = field_validator("stream_delta_path", "tool_calls_path",
                                        "reasoning_path", "finish_reason_path")(_path)


class PostAPIEmbeddingConfig(PostAPIConfig):
    """`post_api_embedding`: any HTTP endpoint that embeds."""

    default_response_path: ClassVar[str] = EMBEDDING_PATH

    batch_size: int | None = Field(
        default=None, gt=0, description="Texts per request (default: all in one); with 1, "
                                        "the text is sent as a string, not a list.")


class PostAPIDallEConfig(PostAPIConfig):
    """`post_api_dall_e` (alias `post_api_dalle`): any HTTP endpoint that draws."""

    default_response_path: ClassVar[str] = IMAGE_URLS_PATH
