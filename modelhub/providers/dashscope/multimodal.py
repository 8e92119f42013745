"""`dashscope_multimodal`: the MultiModalConversation API (Qwen-VL, Qwen-Audio,
Qwen-Omni): image, audio and video parts, sync and async (the SDK's
AioMultiModalConversation), streamed with `incremental_output`.

Local files (a path, or a `file://` URL) are uploaded to DashScope's temporary storage
by the SDK's own upload code before the call, with this config's address and key (the
SDK left to itself would ask its module-wide address for the upload policy), and sent
as the `oss://` URLs it returns.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.providers.dashscope.chat import DashScopeChatBase
from modelhub.providers.dashscope.config import DashScopeMultiModalConfig
from modelhub.providers.dashscope.messages import is_local, multimodal_messages, upload_local_files
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import ChatRequest

__all__ = ["DashScopeMultiModalWrapper"]

# Tells DashScope to resolve the oss:// URLs of uploaded files.
OSS_HEADER = "X-DashScope-OssResourceResolve"


class DashScopeMultiModalWrapper(DashScopeChatBase):
    """Chat on DashScope's MultiModalConversation API: text, images, audio and video
    in, text out; tools (streamed too), reasoning, stop and JSON mode as in
    `dashscope_chat`."""

    model_type: ClassVar[str] = "dashscope_multimodal"
    config_class: ClassVar[type[DashScopeMultiModalConfig]] = DashScopeMultiModalConfig
    config: DashScopeMultiModalConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "video", "stop", "response_format"})
    service_path: ClassVar[str] = "/services/aigc/multimodal-generation/generation"

    def api(self) -> Any:
        """`dashscope.MultiModalConversation`."""
        from dashscope import MultiModalConversation

        return MultiModalConversation

    def aio_api(self) -> Any:
        """`dashscope.AioMultiModalConversation`."""
        from dashscope import AioMultiModalConversation

        return AioMultiModalConversation

    def messages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """Content as lists of DashScope parts, local files uploaded."""
        messages = multimodal_messages(request.messages)
        upload_local_files(messages, self.uploader())
        return messages

    async def amessages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """Async twin of `messages`: uploads, if any, run in a thread."""
        if not any(is_local(v) for m in request.messages for v in _values(m)):
            return self.messages(request)
        import asyncio

        return await asyncio.to_thread(self.messages, request)

    def call_kwargs(self, request: ChatRequest, messages: list[dict[str, Any]], *,
                    aio_session: Any = None, sync: bool = True) -> dict[str, Any]:
        """As for Generation; with uploaded files, the header that has them resolved."""
        kwargs = super().call_kwargs(request, messages, aio_session=aio_session, sync=sync)
        if any(isinstance(v, str) and v.startswith("oss://")
               for m in messages for v in _values(m)):
            kwargs["headers"][OSS_HEADER] = "enable"
        return kwargs


def _values(message: dict[str, Any]) -> list[Any]:
    """Every value of a message's content parts (lists of frames flattened)."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    out: list[Any] = []
    for part in content:
        if isinstance(part, dict):
            for value in part.values():
                out.extend(value if isinstance(value, list) else [value])
    return out
