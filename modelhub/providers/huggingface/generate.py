"""`hf_inference_generate`: a TGI endpoint's `/generate` and `/generate_stream`,
through huggingface_hub's `InferenceClient.text_generation` with `details`.

The prompt is the text of a single message as it is; several messages are laid out
as AgentScope lays a conversation out for one prompt (the system prompt, then
"## Conversation History" and a "name: text" line per message). `response_format`
becomes TGI's JSON grammar; usage comes from `details` (`generated_tokens`, and the
prompt's length where TGI reports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import InvalidArgumentError
from modelhub.http.errors import optional_str, parse_answer
from modelhub.providers.huggingface.client import HFInferenceBase
from modelhub.providers.huggingface.config import GENERATE_PARAMS, HFInferenceGenerateConfig
from modelhub.providers.huggingface.lines import KeptLines
from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import merged_history, to_text
from modelhub.wrappers.reasoning import split_think
from modelhub.wrappers.sdk import acall_sdk, call_sdk

__all__ = ["HFInferenceGenerateWrapper", "TGIStreamHandler", "parse_generation", "prompt_of"]


def prompt_of(messages: list[dict[str, Any]]) -> str:
    """One prompt from the messages: a single message's text as it is, else the
    system prompt and the conversation history."""
    if len(messages) == 1:
        return to_text(messages[0].get("content"))
    return "\n\n".join(to_text(m["content"]) for m in merged_history(messages))


def _usage(details: Any) -> Usage | None:
    if not isinstance(details, Mapping):
        return None
    out = int(details.get("generated_tokens") or 0)
    prefill = details.get("prefill")
    inp = int(details.get("input_length") or (len(prefill) if isinstance(prefill, list) else 0))
    return Usage(inp, out, inp + out)


def parse_generation(output: Any) -> ModelResponse:
    """A ModelResponse from a `/generate` answer with `details`."""
    text, reasoning = split_think(optional_str(output["generated_text"], "generated_text"))
    details = output.get("details")
    finish = details.get("finish_reason") if isinstance(details, Mapping) else None
    return ModelResponse(text=text, reasoning=reasoning, usage=_usage(details),
                         finish_reason=optional_str(finish, "finish_reason"), raw=output)


class TGIStreamHandler:
    """Reads `/generate_stream` events (`{"token": {...}, "generated_text": ...,
    "details": ...}`) into a `StreamAccumulator`."""

    __slots__ = ("accumulator",)

    def __init__(self, accumulator: StreamAccumulator) -> None:
        self.accumulator = accumulator

    def feed(self, event: Any) -> str | None:
        """Take one event; return the text delta it carries, if any."""
        acc = self.accumulator
        acc.add_raw(event)
        token = event["token"]
        details = event.get("details")
        if isinstance(details, Mapping):
            acc.set_finish_reason(optional_str(details.get("finish_reason"), "finish_reason"))
            acc.add_usage(_usage(details))
        if token.get("special"):
            return None  # an end-of-sequence token: not part of the text
        text = optional_str(token.get("text"), "a token's text")
        return acc.add_text(text) if text else None

    def end(self) -> str | None:
        """Release held-back text; a stream that ended without its details (and so its
        finish reason) is an error."""
        text = self.accumulator.flush()
        self.accumulator.check_complete(False)
        return text or None


class HFInferenceGenerateWrapper(HFInferenceBase, ChatWrapperBase):
    """Text generation on a TGI endpoint: streaming, stop sequences and a JSON
    grammar."""

    model_type: ClassVar[str] = "hf_inference_generate"
    config_class: ClassVar[type[HFInferenceGenerateConfig]] = HFInferenceGenerateConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_new_tokens"
    config: HFInferenceGenerateConfig

    def arguments(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of `text_generation` for one call."""
        unknown = sorted(set(request.params) - GENERATE_PARAMS)
        if unknown:
            raise InvalidArgumentError(
                f"text_generation cannot send {', '.join(map(repr, unknown))} (it takes "
                f"{', '.join(sorted(GENERATE_PARAMS))})")
        kwargs: dict[str, Any] = {**request.params, "prompt": prompt_of(request.messages),
                                  "details": True}
        url = self.config.wire_url()
        route = "/generate_stream" if request.stream else "/generate"
        kwargs["model"] = url.rstrip("/") + route if url else self.model_name
        if request.stream:
            kwargs["stream"] = True
        if request.stop:
            kwargs["stop"] = request.stop
        if request.output is not None:
            kwargs["grammar"] = {"type": "json",
                                 "value": request.output.schema or {"type": "object"}}
        return kwargs

    def _handler(self) -> tuple[TGIStreamHandler, KeptLines]:
        """A stream's handler, and where its lines are kept for `raw` (see `lines`)."""
        from huggingface_hub import TextGenerationStreamOutput

        handler = TGIStreamHandler(StreamAccumulator(self.context, usage_mode="last"))
        return handler, KeptLines(handler.accumulator,
                                  TextGenerationStreamOutput.parse_obj_as_instance)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.arguments(request)
        output = call_sdk(lambda: self.client().text_generation(**kwargs), self.map_error)
        return parse_answer(parse_generation, output, self.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.arguments(request)
        output = await acall_sdk(lambda: self.aclient().text_generation(**kwargs),
                                 self.map_error)
        return parse_answer(parse_generation, output, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        kwargs = self.arguments(request)
        handler, lines = self._handler()
        open_ = lines.opening(lambda client: client.text_generation(**kwargs))
        return self.open_stream(open_, handler), handler.accumulator.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        kwargs = self.arguments(request)
        handler, lines = self._handler()
        open_ = lines.aopening(lambda client: client.text_generation(**kwargs))
        return await self.aopen_stream(open_, handler), handler.accumulator.response
