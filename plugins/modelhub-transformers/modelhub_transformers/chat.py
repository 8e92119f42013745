"""`transformers_chat`: a local chat model run with transformers' `generate()`.

- The prompt is the tokenizer's chat template; tools go through it where the template
  takes them, otherwise they are written into the system prompt and parsed back from
  the answer (`modelhub.plugin.ToolTextProtocol`, with `tool_name_key` and
  `tool_arguments_key`).
- `stop` strings end generation inside `generate()` (its `stop_strings`, which also
  stop a string that ends inside a token) and are cut from the text.
- `response_format`, and `tool_choice="required"` or a named tool, constrain decoding
  itself (`grammar.SchemaLogitsProcessor`): the answer is JSON that validates.
- Streams come from a `generate()` thread feeding transformers' text streamer, read
  with `for` or, from `acall`, with `async for`.
- LoRA adapters (`adapter`, `adapters`) are chosen per call: `adapter="name"`,
  `adapter=None` or `use_adapter=False` (the base model exactly, through PEFT's
  `disable_adapter()`), `use_adapter=True`; the config says the default.
- Usage is counted from the tokens: the prompt's and the generated ones.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, ClassVar

from modelhub.plugin import (
    AnswerFilter,
    AsyncStreamSource,
    Capability,
    ChatRequest,
    ChatWrapperBase,
    ErrorContext,
    ModelResponse,
    StreamSource,
    ToolCall,
    ToolTextProtocol,
    Usage,
    api_error,
    errors,
    template_messages,
    trim_at_stop,
)
from modelhub_transformers.config import TransformersChatConfig
from modelhub_transformers.generation import Plan, Run, generate
from modelhub_transformers.loading import (
    SharedModel,
    config_error,
    from_pretrained_kwargs,
    load_model,
    model_key,
)

__all__ = ["INSTALL", "REQUIRED", "TransformersChatWrapper", "generation_error"]

REQUIRED = ("torch", "transformers", "peft", "llguidance")
INSTALL = ("pip install modelhub-transformers (install the torch build for your machine "
           "first: see that plugin's README)")


def generation_error(exc: BaseException, context: ErrorContext) -> errors.ModelCallError:
    """What failed inside transformers, as a `modelhub.errors` class: arguments
    generate() refuses are a BadRequestError, anything else a ModelAPIError."""
    if isinstance(exc, errors.ModelCallError):
        return exc
    status = 400 if isinstance(exc, (ValueError, TypeError)) else None
    return api_error(status, f"{type(exc).__name__}: {exc}", context=context)


def load_causal_lm(config: TransformersChatConfig) -> tuple[Any, Any]:
    """(model, tokenizer) as `config` names them, GGUF files through the cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelhub_transformers.gguf_cache import load_gguf

    kwargs = from_pretrained_kwargs(config)
    try:
        if config.gguf_file:
            folder = os.path.expanduser(config.model_id)
            if not os.path.isdir(folder):  # a hub repository: fetch the file first
                from huggingface_hub import hf_hub_download

                folder = os.path.dirname(hf_hub_download(config.model_id, config.gguf_file))
            model, tokenizer = load_gguf(folder, config.gguf_file, kwargs,
                                         use_cache=config.gguf_cache)
        else:
            model = AutoModelForCausalLM.from_pretrained(config.model_id, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(
                config.model_id, trust_remote_code=config.trust_remote_code,
                **({"local_files_only": True} if kwargs.get("local_files_only") else {}))
    except (OSError, ValueError, ImportError, KeyError) as exc:
        where = config.model_id + (f" ({config.gguf_file})" if config.gguf_file else "")
        raise config_error(config, f"cannot load the model at {where}: "
                                   f"{type(exc).__name__}: {exc}") from exc
    model.eval()
    return model, tokenizer


class TransformersChatWrapper(ChatWrapperBase):
    """A local chat model through transformers (see the module docstring)."""

    model_type: ClassVar[str] = "transformers_chat"
    config_class: ClassVar[type[TransformersChatConfig]] = TransformersChatConfig
    required_modules: ClassVar[tuple[str, ...]] = REQUIRED
    install_hint: ClassVar[str | None] = INSTALL
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "stop", "tools", "response_format"})
    output_limit: ClassVar[str | None] = "max_new_tokens"

    config: TransformersChatConfig
    _shared: SharedModel

    def default_output_limit(self) -> int | None:
        """The config's `max_new_tokens`: what a call naming no limit may write."""
        return self.config.max_new_tokens

    def setup(self) -> None:
        """Load the model (or share one already loaded) and its adapters."""
        config = self.config
        self._shared = load_model(model_key("causal-lm", config),
                                  lambda: load_causal_lm(config))
        self._adapters: dict[str, str] = {}
        for name, path in config.adapter_paths().items():
            try:
                self._adapters[name] = self._shared.add_adapter(path)
            except (OSError, ValueError, KeyError) as exc:
                field = "adapter" if config.adapter is not None else f"adapters.{name}"
                raise config_error(config, f"cannot load the adapter at {path}: "
                                           f"{type(exc).__name__}: {exc}", field) from exc
        template = config.apply_chat_template_kwargs.get("chat_template") or \
            self._shared.tokenizer.chat_template
        if not template:
            raise config_error(config, f"the model at {config.model_id} has no chat template: "
                                       "give one in apply_chat_template_kwargs.chat_template",
                               "apply_chat_template_kwargs")
        takes_tools = "tools" in (template if isinstance(template, str) else json.dumps(template))
        self._template_tools = config.tool_protocol == "template" or (
            config.tool_protocol == "auto" and takes_tools)
        self._protocol = ToolTextProtocol(config.tool_name_key, config.tool_arguments_key)
        self._context = ErrorContext(provider="transformers", config_name=config.config_name)
        eos = self._shared.model.generation_config.eos_token_id
        eos_ids = eos if isinstance(eos, list) else [] if eos is None else [eos]
        if self._shared.tokenizer.eos_token_id is not None:
            eos_ids = [*eos_ids, self._shared.tokenizer.eos_token_id]
        self._eos = list(dict.fromkeys(int(i) for i in eos_ids))

    # -- what is shared ----------------------------------------------------------------
    @property
    def base_model(self) -> Any:
        """The loaded base model (shared with every config naming the same weights)."""
        return self._shared.model

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer."""
        return self._shared.tokenizer

    @property
    def adapters(self) -> list[str]:
        """The names of this config's adapters."""
        return list(self._adapters)

    # -- preparing a call --------------------------------------------------------------
    def _adapter_for(self, params: dict[str, Any]) -> str | None:
        """The PEFT name of the adapter a call asks for (taken out of `params`)."""
        named = "adapter" in params
        name = params.pop("adapter", None)
        use = params.pop("use_adapter", None)
        if (named and name is not None and use is False) or (named and name is None and use):
            raise errors.UnsupportedFeatureError(
                f"adapter={name!r} and use_adapter={use!r} contradict each other",
                config_name=self.config_name)
        if not named:
            name = self.config.default_adapter_name() if use is None else None
            if use:
                name = self.config.default_adapter or next(iter(self._adapters), None)
                if name is None:
                    raise errors.UnsupportedFeatureError(
                        f"use_adapter=True, but config {self.config_name!r} has no adapter",
                        config_name=self.config_name)
        if name is None:
            return None
        if name not in self._adapters:
            known = ", ".join(self._adapters) or "none"
            raise errors.UnsupportedFeatureError(
                f"config {self.config_name!r} has no adapter {name!r} loaded (its adapters: "
                f"{known})", config_name=self.config_name)
        return self._adapters[name]

    def encode(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
               tool_choice: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The prompt's input_ids and attention_mask (tensors on the model's device), from
        neutral messages and the tools offered."""
        extra: dict[str, Any] = {}
        if self._template_tools:
            chat = template_messages(messages)
            if tools:
                extra["tools"] = tools
        else:
            chat = self._protocol.render_messages(messages, tools, tool_choice)
        kwargs = {"add_generation_prompt": True, **self.config.apply_chat_template_kwargs,
                  **extra}
        encoded = self._shared.tokenizer.apply_chat_template(
            chat, tokenize=True, return_dict=True, return_tensors="pt", **kwargs)
        return {k: v.to(self._shared.model.device) for k, v in encoded.items()
                if k in ("input_ids", "attention_mask")}

    def _schema(self, request: ChatRequest, tools: list[dict[str, Any]] | None
                ) -> dict[str, Any] | None:
        """The JSON schema the answer is held to, if any."""
        from modelhub_transformers.grammar import closed_objects

        output = request.output
        wanted = None if output is None else {"type": "object"} if output.schema is None \
            else closed_objects(output.schema) if output.strict else output.schema
        if not tools:
            return wanted
        try:
            calls = closed_objects(self._protocol.call_schema(tools, request.tool_choice))
        except ValueError:  # tools whose $defs clash: calls are parsed, not enforced
            return None
        if request.tool_choice == "required" or isinstance(request.tool_choice, Mapping):
            return calls
        return {"anyOf": [calls, wanted]} if wanted is not None else None

    def _plan(self, request: ChatRequest) -> Plan:
        params = dict(request.params)
        adapter = self._adapter_for(params)
        limit = params.pop("max_new_tokens", None)
        limit = params.pop("max_tokens", None) if limit is None else limit
        if limit is None:
            limit = self.config.max_new_tokens
        if "temperature" in params:
            if not params["temperature"]:
                params.pop("temperature")
                params.setdefault("do_sample", False)
            else:
                params.setdefault("do_sample", True)
        tools = request.tools if request.tools and request.tool_choice != "none" else None
        inputs = self.encode(request.messages, tools, request.tool_choice)
        prompt_length = int(inputs["input_ids"].shape[1])
        plan = Plan(inputs, prompt_length, {**params, "max_new_tokens": int(limit)},
                    int(limit), adapter, list(request.stop or ()), tools)
        if plan.stops:
            plan.kwargs.update(stop_strings=plan.stops, tokenizer=self._shared.tokenizer)
        schema = self._schema(request, tools)
        if schema is not None:
            from modelhub_transformers.grammar import SchemaLogitsProcessor, grammar_tokenizer

            ll_tokenizer = self._shared.extra(
                "llguidance", lambda: grammar_tokenizer(self._shared.tokenizer, self._eos))
            try:
                plan.processors.append(SchemaLogitsProcessor(ll_tokenizer, schema, prompt_length))
            except ValueError as exc:
                raise errors.UnsupportedFeatureError(
                    f"config {self.config_name!r}: {exc}", config_name=self.config_name,
                    capability="response_format") from exc
        return plan

    def _answer(self, plan: Plan, new_ids: list[int] | None) -> ModelResponse:
        """The response for the generated token ids."""
        new_ids = new_ids or []
        raw_text = self._shared.tokenizer.decode(new_ids, skip_special_tokens=True)
        text = trim_at_stop(raw_text, plan.stops) if plan.stops else raw_text
        ended = bool(new_ids) and new_ids[-1] in self._eos
        finish = "length" if len(new_ids) >= plan.max_new_tokens and not ended \
            and text == raw_text else "stop"
        calls: list[ToolCall] = []
        if plan.tools:
            parsed, calls = self._protocol.parse(text, plan.tools)
            if calls:
                text, finish = parsed or "", "tool_calls"
        return ModelResponse(
            text=text if text or not calls else None, tool_calls=calls,
            usage=Usage(plan.prompt_length, len(new_ids), plan.prompt_length + len(new_ids)),
            finish_reason=finish, model=self.model_name,
            raw={"output_ids": new_ids, "text": raw_text})

    # -- the provider hooks ----------------------------------------------------------
    def _complete(self, request: ChatRequest) -> ModelResponse:
        plan = self._plan(request)
        try:
            new_ids = generate(self._shared, plan)
        except Exception as exc:
            raise generation_error(exc, self._context) from exc
        return self._answer(plan, new_ids)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        return await asyncio.to_thread(self._complete, request)

    def _streamer_kwargs(self) -> dict[str, Any]:
        return {"skip_prompt": True, "skip_special_tokens": True}

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        from transformers import TextIteratorStreamer

        plan = self._plan(request)
        streamer = TextIteratorStreamer(self._shared.tokenizer, **self._streamer_kwargs())
        run = Run(self._shared, plan, streamer)
        run.start()

        def deltas() -> Iterator[str]:
            shown, finished = AnswerFilter(plan.stops, self._protocol, plan.tools), False
            try:
                for delta in streamer:
                    if delta and (text := shown.feed(delta)):
                        yield text
                finished = True
            finally:
                if not finished:
                    run.cancel()
                run.join()
            self._raise_failure(run)
            if rest := shown.end():
                yield rest

        return deltas(), lambda: self._answer(plan, run.output)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        from transformers import AsyncTextIteratorStreamer

        plan = await asyncio.to_thread(self._plan, request)
        streamer = AsyncTextIteratorStreamer(self._shared.tokenizer, **self._streamer_kwargs())
        run = Run(self._shared, plan, streamer)
        run.start()

        async def deltas() -> AsyncIterator[str]:
            shown, finished = AnswerFilter(plan.stops, self._protocol, plan.tools), False
            try:
                async for delta in streamer:
                    if delta and (text := shown.feed(delta)):
                        yield text
                finished = True
            finally:
                if not finished:
                    run.cancel()
                await asyncio.to_thread(run.join)
            self._raise_failure(run)
            if rest := shown.end():
                yield rest

        return deltas(), lambda: self._answer(plan, run.output)

    def _raise_failure(self, run: Run) -> None:
        if run.error is not None:
            raise generation_error(run.error, self._context) from run.error

    # -- for checks and scoring --------------------------------------------------------
    def logits(self, messages: Any, **kwargs: Any) -> Any:
        """The next-token logits after `messages` (a float tensor of the vocabulary's
        size), with the adapter the call's `adapter=` / `use_adapter=` pick."""
        import torch

        request = self.build_request(messages, **kwargs)
        params = dict(request.params)
        adapter = self._adapter_for(params)
        inputs = self.encode(request.messages)
        with self._shared.lock, torch.inference_mode(), self._shared.use(adapter) as module:
            return module(**inputs).logits[0, -1].float().clone()
