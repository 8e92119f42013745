"""Everything a plugin author needs, in one place (and each name also on `modelhub`).

    from modelhub.plugin import ChatWrapperBase, ChatRequest, ModelConfig, ModelResponse

A backend is a subclass of one kind's base class with a pydantic config model, declared
in the entry-point group `modelhub.model_types`:

- `ChatWrapperBase`: implement `_complete(request)` and/or `_open_stream(request)`
  (and their async twins for native async); declare `capabilities`.
- `EmbeddingWrapperBase`: implement `_embed(texts, params)`; set `max_batch_size`.
- `ImageWrapperBase`: implement `_generate(prompt, params)`.

A streaming backend feeds a `StreamAccumulator`; one that speaks HTTP can use
`JSONEndpoint` (`modelhub.http.client`); one built on an SDK maps the SDK's errors with
`api_error` and `ErrorContext`. A backend that stops at stop strings itself but returns
them (local generation) cuts its text with `trim_at_stop` / `StopTrimmer`; one whose
model has no tool-calling API writes tools as text with `ToolTextProtocol`; one that
keeps large files (converted weights) puts them in `cache_folder(name)`.
"""

from __future__ import annotations

from modelhub import errors
from modelhub.cache import cache_folder
from modelhub.config.schema import ConfigModel, ModelConfig, RemoteModelConfig
from modelhub.http.errors import ErrorContext, api_error
from modelhub.plugins import register, unregister
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.tools_text import (
    AnswerFilter,
    ToolTextFilter,
    ToolTextProtocol,
    template_messages,
)
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.base import Capability, ModelWrapperBase
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.embedding import EmbeddingWrapperBase, mean_pool
from modelhub.wrappers.images import ImageWrapperBase
from modelhub.wrappers.stops import StopTrimmer, trim_at_stop
from modelhub.wrappers.stream import ModelStream

__all__ = [
    "AnswerFilter",
    "AsyncStreamSource",
    "Capability",
    "ChatRequest",
    "ChatWrapperBase",
    "ConfigModel",
    "EmbeddingWrapperBase",
    "ErrorContext",
    "ImageWrapperBase",
    "ModelConfig",
    "ModelResponse",
    "ModelStream",
    "ModelWrapperBase",
    "RemoteModelConfig",
    "StopTrimmer",
    "StreamAccumulator",
    "StreamSource",
    "ToolCall",
    "ToolTextFilter",
    "ToolTextProtocol",
    "Usage",
    "api_error",
    "cache_folder",
    "errors",
    "mean_pool",
    "register",
    "template_messages",
    "trim_at_stop",
    "unregister",
]
