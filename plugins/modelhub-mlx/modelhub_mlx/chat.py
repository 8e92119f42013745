"""`mlx_chat`: a local chat model on Apple silicon through mlx-lm, with smolagents'
`MLXModel` options.

The prompt is the tokenizer's chat template; tools go through it where it takes them,
otherwise they are written into the system prompt and parsed back from the answer
(`tool_name_key`, `tool_arguments_key`). A stop string ends generation as soon as it
appears and is cut from the text. Streams are mlx-lm's own token stream; `acall` reads
it in one worker thread. The parts that need no mlx are in `modelhub_mlx.generation`.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from modelhub.plugin import (
    AsyncStreamSource,
    Capability,
    ChatRequest,
    ChatWrapperBase,
    StreamSource,
    ToolTextProtocol,
    errors,
    template_messages,
)
from modelhub_mlx.config import MLXChatConfig
from modelhub_mlx.generation import Generation, sampling_options

__all__ = ["MLXChatWrapper", "on_apple_silicon"]


def on_apple_silicon() -> bool:
    """Whether this machine can run MLX: macOS on arm64."""
    return sys.platform == "darwin" and platform.machine() == "arm64"


class MLXChatWrapper(ChatWrapperBase):
    """A local chat model through mlx-lm (see the module docstring)."""

    model_type: ClassVar[str] = "mlx_chat"
    config_class: ClassVar[type[MLXChatConfig]] = MLXChatConfig
    # No required_modules: off Apple silicon mlx-lm is never installed, and the error
    # to give there is not "install it" (see `check_platform`).
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"streaming", "stop", "tools"})

    config: MLXChatConfig

    def check_platform(self) -> None:
        """Raise PluginLoadError off Apple silicon, MissingDependencyError without
        mlx-lm."""
        import importlib.util

        if not on_apple_silicon():
            raise errors.PluginLoadError(
                f"model type 'mlx_chat' runs only on Apple silicon (macOS on arm64); this "
                f"machine is {platform.system()} {platform.machine()}: use "
                "'transformers_chat' with the same model_id here",
                distribution="modelhub-mlx", model_type=self.model_type)
        missing = [m for m in ("mlx", "mlx_lm") if importlib.util.find_spec(m) is None]
        if missing:
            raise errors.MissingDependencyError(
                f"model type 'mlx_chat' needs {', '.join(map(repr, missing))}, which is not "
                "installed: pip install modelhub-mlx", model_type=self.model_type)

    def setup(self) -> None:
        """Check the platform, then load the model and tokenizer with mlx_lm.load()."""
        self.check_platform()
        import mlx_lm

        config = self.config
        load_kwargs = dict(config.load_kwargs)
        tokenizer_config = dict(load_kwargs.pop("tokenizer_config", None) or {})
        tokenizer_config.setdefault("trust_remote_code", config.trust_remote_code)
        try:
            self._model, self._tokenizer = mlx_lm.load(
                config.model_id, tokenizer_config=tokenizer_config, **load_kwargs)
        except (OSError, ValueError) as exc:
            raise errors.ConfigError(errors.ConfigIssue(
                f"cannot load the model at {config.model_id}: {type(exc).__name__}: {exc}",
                config_name=config.config_name, field="model_id")) from exc
        template = config.apply_chat_template_kwargs.get("chat_template") or getattr(
            self._tokenizer, "chat_template", None)
        text = template if isinstance(template, str) else json.dumps(template)
        self._template_tools = bool(template) and "tools" in text
        self._protocol = ToolTextProtocol(config.tool_name_key, config.tool_arguments_key)
        self._lock = threading.Lock()

    def _prompt(self, request: ChatRequest, tools: list[dict[str, Any]] | None) -> list[int]:
        extra: dict[str, Any] = {}
        if self._template_tools:
            messages = template_messages(request.messages)
            if tools:
                extra["tools"] = tools
        else:
            messages = self._protocol.render_messages(request.messages, tools,
                                                      request.tool_choice)
        kwargs = {"add_generation_prompt": True, **self.config.apply_chat_template_kwargs,
                  **extra}
        return list(self._tokenizer.apply_chat_template(messages, **kwargs))

    def _generation(self, request: ChatRequest) -> Generation:
        import mlx_lm
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        tools = request.tools if request.tools and request.tool_choice != "none" else None
        max_tokens, sampler, processors, rest = sampling_options(request.params,
                                                                 self.config.max_tokens)
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, **rest}
        if sampler:
            kwargs["sampler"] = make_sampler(**sampler)
        if processors:
            kwargs["logits_processors"] = make_logits_processors(**processors)
        events = mlx_lm.stream_generate(self._model, self._tokenizer,
                                        prompt=self._prompt(request, tools), **kwargs)
        return Generation(events, stops=request.stop, protocol=self._protocol, tools=tools,
                          model=self.model_name)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        generation = self._generation(request)

        def deltas() -> Iterator[str]:
            with self._lock:  # one generation at a time on this model
                yield from generation.deltas()

        return deltas(), generation.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        # MLX runs each generation on one thread: read the whole stream in one worker.
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        deltas, finalize = await asyncio.to_thread(self._open_stream, request)
        stop = threading.Event()

        def work() -> None:
            try:
                for delta in deltas:
                    if stop.is_set():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, ("delta", delta))
                loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
            except BaseException as exc:  # handed to the reader, which raises it
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
            finally:
                close = getattr(deltas, "close", None)
                if close is not None:
                    close()

        threading.Thread(target=work, name="modelhub-mlx-generate", daemon=True).start()

        async def read() -> AsyncIterator[str]:
            try:
                while True:
                    kind, value = await queue.get()
                    if kind == "end":
                        return
                    if kind == "error":
                        raise value
                    yield value
            finally:
                stop.set()

        return read(), finalize
