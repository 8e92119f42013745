"""`echo_chat`: a chat wrapper with no network, written only against modelhub's public
plugin API, as a stranger's plugin would be."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from modelhub import ChatWrapperBase, ModelResponse, Usage
from modelhub.config.schema import ModelConfig
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, StreamSource
from modelhub_testplugin.config import EchoConfig


class EchoChatWrapper(ChatWrapperBase):
    """Answers with the last user message, prefixed; streams it word by word."""

    model_type: ClassVar[str] = "echo_chat"
    config_class: ClassVar[type[ModelConfig]] = EchoConfig
    config: EchoConfig

    def _answer(self, request: ChatRequest) -> str:
        last = next((m for m in reversed(request.messages) if m["role"] == "user"), None)
        text = self.config.prefix + str(last["content"] if last else "")
        for stop in request.stop or ():
            text = text.split(stop, 1)[0]
        return text

    def _response(self, text: str) -> ModelResponse:
        n = len(text.split())
        return ModelResponse(text=text, finish_reason="stop", model=self.model_name,
                             usage=Usage(1, n, n + 1))

    def _complete(self, request: ChatRequest) -> ModelResponse:
        return self._response(self._answer(request))

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        return self._complete(request)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        text = self._answer(request)

        def deltas() -> Iterator[str]:
            yield from (w + " " for w in text.split(" ")[:-1])
            yield text.split(" ")[-1]

        return deltas(), lambda: self._response(text)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        sync_deltas, finalize = self._open_stream(request)

        async def deltas() -> AsyncIterator[str]:
            for d in sync_deltas:
                yield d

        return deltas(), finalize


class NotAWrapper:
    """Declared as a model type by mistake: loading it must fail clearly."""

    def __call__(self, *args: Any) -> None:
        return None
