"""Any callable as a chat model: `model_type: callable`, and `modelhub.register_callable`.

The callable follows smolagents' custom-model contract: it takes the message list (the
neutral OpenAI shape) and `stop_sequences`, optionally `tools` (or
`tools_to_call_from`), `tool_choice`, `response_format` (or `grammar`) and generation
arguments by name, and returns a str, or an object (or dict) with `.content` and
optionally `.tool_calls`, `.token_usage` / `.usage`, `.reasoning` and
`.finish_reason`. An OpenAI-style completion (`.choices[0].message`) and a
`ModelResponse` work too. It may be `async def`: `acall` awaits it, a plain call runs
it on an event loop of its own.

What the callable does not take by name is not a capability of the wrapper: asking for
tools or a response format it has no parameter for is an `UnsupportedFeatureError`, a
generation argument it cannot take an `InvalidArgumentError`. Stop strings are always
trimmed from its answer (passing them is only a hint it may honour), streaming is the
answer as one chunk, and retries follow the config's `max_retries` for the errors the
callable raises: a `modelhub.errors` class, an exception carrying an HTTP
`status_code` (an SDK's), `TimeoutError` or `ConnectionError` (mapped in
`map_error`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NoReturn

from modelhub.config.schema import ModelConfig
from modelhub.errors import (
    InvalidArgumentError,
    ModelCallError,
    ModelhubError,
    PluginLoadError,
    ResponseParseError,
)
from modelhub.http.errors import ErrorContext, api_error, connection_error, timeout_error
from modelhub.providers.callable_config import CallableConfig
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import ChatRequest, ChatWrapperBase

__all__ = ["CallableChatWrapper", "CallableConfig", "map_error", "register_callable",
           "to_response"]

# The parameter names each feature may arrive under, in order of preference.
_STOP_NAMES = ("stop_sequences", "stop")
_TOOL_NAMES = ("tools", "tools_to_call_from")
_FORMAT_NAMES = ("response_format", "grammar")
_MEDIA: frozenset[Capability] = frozenset({"vision", "audio", "video"})


def _import(path: str, config_name: str) -> Callable[..., Any]:
    import importlib

    module_name, _, attr = path.partition(":")
    where = f"config {config_name!r}: callable {path!r}"
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise PluginLoadError(f"{where} could not be imported: {type(exc).__name__}: {exc}",
                              model_type="callable") from exc
    if isinstance(obj, type) or not callable(obj):
        raise PluginLoadError(f"{where} names {type(obj).__name__} {obj!r}, not a function or "
                              "a callable instance", model_type="callable")
    return obj  # type: ignore[no-any-return]


def map_error(exc: BaseException, context: ErrorContext) -> BaseException:
    """The `modelhub.errors` class for what a callable raised (others unchanged)."""
    if isinstance(exc, ModelhubError):
        if isinstance(exc, ModelCallError) and exc.config_name is None:
            exc.config_name = context.config_name
        return exc
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    if isinstance(status, int) and 400 <= status < 600:
        headers = getattr(exc, "headers", None) or getattr(response, "headers", None)
        return api_error(status, str(exc) or type(exc).__name__, context=context,
                         headers=dict(headers) if isinstance(headers, Mapping) else None,
                         body=getattr(exc, "body", None))
    if isinstance(exc, TimeoutError):
        return timeout_error(context, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, ConnectionError):
        return connection_error(context, f"{type(exc).__name__}: {exc}")
    return exc


# -- reading what the callable returned ----------------------------------------------------
def _get(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _usage(value: Any) -> Usage | None:
    if value is None or isinstance(value, Usage):
        return value
    inp = _get(value, "input_tokens", "prompt_tokens")
    out = _get(value, "output_tokens", "completion_tokens")
    if inp is None and out is None:
        return None
    inp, out = int(inp or 0), int(out or 0)
    total = _get(value, "total_tokens")
    return Usage(inp, out, int(total) if total is not None else inp + out)


def _tool_call(value: Any, index: int) -> ToolCall:
    from modelhub.wrappers.tools import parse_arguments

    if isinstance(value, ToolCall):
        return value
    function = _get(value, "function") or value
    name = _get(function, "name")
    if not isinstance(name, str) or not name:
        raise ResponseParseError(f"tool call {index} has no function name")
    arguments = _get(function, "arguments")
    call_id = _get(value, "id")
    return ToolCall(id=str(call_id) if call_id else f"call_{index}", name=name,
                    arguments=parse_arguments(arguments, tool_name=name))


def to_response(result: Any) -> ModelResponse:
    """A `ModelResponse` from what a callable returned (see the module docstring)."""
    from modelhub.wrappers.formatting import to_text

    if isinstance(result, ModelResponse):
        return result
    if isinstance(result, str):
        return ModelResponse(text=result, raw=result)
    if result is None:
        raise ResponseParseError("the callable returned None, not an answer")
    message, usage = result, _get(result, "token_usage", "usage")
    choices = _get(result, "choices")
    if choices and not hasattr(result, "content"):  # an OpenAI-style completion
        message = _get(choices[0], "message")
        if message is None:
            raise ResponseParseError("the callable's answer has choices but no message")
    content = _get(message, "content")
    if content is None and not _get(message, "tool_calls") and not (
            isinstance(message, Mapping) or hasattr(message, "content")):
        raise ResponseParseError(
            f"the callable returned {type(result).__name__}, which has no 'content': return a "
            "str, or an object with .content (and optionally .tool_calls)")
    calls = [_tool_call(c, i) for i, c in enumerate(_get(message, "tool_calls") or ())]
    reasoning = _get(message, "reasoning", "reasoning_content")
    finish = _get(message, "finish_reason") or (_get(choices[0], "finish_reason")
                                                 if choices else None)
    return ModelResponse(
        text=None if content is None else to_text(content), tool_calls=calls,
        usage=_usage(usage), reasoning=str(reasoning) if reasoning else None,
        finish_reason=str(finish) if finish else None, raw=result)


# -- the wrapper ----------------------------------------------------------------------------
class CallableChatWrapper(ChatWrapperBase):
    """A chat model that is a Python callable (see the module docstring)."""

    model_type: ClassVar[str] = "callable"
    config_class: ClassVar[type[ModelConfig]] = CallableConfig
    # What a callable can take at most; each instance narrows it to its signature.
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"tools", "response_format", *_MEDIA})

    config: CallableConfig

    def setup(self) -> None:
        """Resolve the callable and read what its signature takes."""
        target = self.config.callable
        fn = _import(target, self.config_name) if isinstance(target, str) else target
        self.fn = fn
        try:
            parameters = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # a builtin without a signature: messages only
            parameters = {}  # type: ignore[assignment]
        self._named = {n for n, p in parameters.items()
                       if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        self._any_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
        self._async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            type(fn).__dict__.get("__call__"))
        caps = set(_MEDIA)
        if self._name_for(_TOOL_NAMES):
            caps.add("tools")
        if self._name_for(_FORMAT_NAMES):
            caps.add("response_format")
        # This instance's own capabilities shadow the class's: the base reads them.
        object.__setattr__(self, "capabilities", frozenset(caps))
        self._context = ErrorContext(provider="callable", config_name=self.config_name)

    def _name_for(self, names: tuple[str, ...]) -> str | None:
        return next((n for n in names if n in self._named), None)

    def _arguments(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of one call of the callable."""
        kwargs: dict[str, Any] = {}
        stop_name = self._name_for(_STOP_NAMES)
        if stop_name:
            kwargs[stop_name] = request.trim_stop
        elif request.trim_stop and self._any_keyword:
            kwargs["stop_sequences"] = request.trim_stop
        if request.tools:
            kwargs[self._name_for(_TOOL_NAMES) or "tools"] = request.tools
        if request.tool_choice not in (None, "auto"):
            if "tool_choice" not in self._named and not self._any_keyword:
                from modelhub.errors import UnsupportedFeatureError

                raise UnsupportedFeatureError(
                    f"config {self.config_name!r}: the callable takes no tool_choice, so "
                    f"tool_choice={request.tool_choice!r} cannot be honoured",
                    config_name=self.config_name, capability="tools")
            kwargs["tool_choice"] = request.tool_choice
        if request.output is not None:
            kwargs.update(self._format_argument(request))
        for key, value in request.params.items():
            if key not in self._named and not self._any_keyword:
                raise InvalidArgumentError(
                    f"config {self.config_name!r}: the callable takes no argument {key!r}")
            kwargs[key] = value
        return kwargs

    def _format_argument(self, request: ChatRequest) -> dict[str, Any]:
        spec = request.output
        assert spec is not None
        if spec.kind == "json_object":
            fmt: dict[str, Any] = {"type": "json_object"}
        else:
            fmt = {"type": "json_schema", "json_schema": {
                "name": spec.name, "schema": spec.schema, "strict": spec.strict}}
        if "response_format" in self._named:
            return {"response_format": fmt}
        # smolagents' older `grammar` argument, in TGI's shape.
        return {"grammar": {"type": "json", "value": spec.schema or {"type": "object"}}}

    def _finish(self, result: Any) -> ModelResponse:
        try:
            response = to_response(result)
        except ResponseParseError as error:
            error.config_name, error.provider = self.config_name, "callable"
            raise
        if response.model is None:
            response.model = self.model_name
        return response

    def _reraise(self, exc: Exception) -> NoReturn:
        """Raise what the callable raised, as its `modelhub.errors` class if it has one."""
        mapped = map_error(exc, self._context)
        if mapped is exc:
            raise exc
        raise mapped from exc

    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self._arguments(request)
        try:
            result = self.fn(request.messages, **kwargs)
            if inspect.isawaitable(result):
                result = _run(result)
        except Exception as exc:
            self._reraise(exc)
        return self._finish(result)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self._arguments(request)
        try:
            if self._async:
                result = await self.fn(request.messages, **kwargs)
            else:
                import asyncio

                result = await asyncio.to_thread(self.fn, request.messages, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self._reraise(exc)
        return self._finish(result)


def _run(awaitable: Any) -> Any:
    """Run a coroutine to its end from sync code, in a thread of its own when this
    thread already runs an event loop."""
    import asyncio

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wait()).result()


def register_callable(config_name: str, fn: Callable[..., Any], *, replace: bool = False,
                      **config: Any) -> None:
    """Make `fn` the chat model of config `config_name`, usable with `modelhub.get`.

    `config` takes the other keys of a `callable` config (`model_name`,
    `generate_args`, `max_retries`, ...). A name already loaded is a ValueError unless
    `replace=True` (registering the same function again changes nothing).
    """
    from modelhub.config.validate import validate_mapping
    from modelhub.registry import default_registry

    if not callable(fn):
        raise TypeError(f"register_callable({config_name!r}, ...) needs a callable, "
                        f"got {type(fn).__name__}")
    data = {"config_name": config_name, "model_type": "callable", "callable": fn, **config}
    validate_mapping(CallableConfig, data)  # every problem raised before anything changes
    if config_name in default_registry.list_configs():
        entry = default_registry.entry(config_name)
        if entry.location is None and dict(entry.data) == data:
            return
        if not replace:
            raise ValueError(f"config {config_name!r} is already loaded (from "
                             f"{entry.where()}); pass replace=True to replace it")
        default_registry.remove(config_name)
    default_registry.init(data)
