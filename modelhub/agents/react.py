"""`ReActAgent`: thought, action, pause, observation, until an answer.

Each turn the model reasons; if it acts, the agent validates and runs the tool calls
(`modelhub.tools`) and shows it the results; a bad call (an unknown tool, arguments
that do not validate, a tool that raises, arguments that are not JSON) comes back as an
observation, never as an exception. Three ways to act:

- **native**: the model's wrapper declares `tools`; calls come back as `tool_calls`
  (an `Action: {json}` written in the text is read too, as small models write it);
- **text**: any other chat model; it is told the tools and the ReAct format, and
  stops at `Observation:` (`modelhub.agents.prompts`);
- **split**: with `call_model`, the model reasons in text and names a tool, and
  `call_model` (say the same local base model with a function-calling LoRA adapter
  on) makes the call with `tool_choice` set, which on a local model constrains
  decoding to the tools' call schema. `reasoning_args` and `call_args` are each step's
  own call arguments (`{"use_adapter": False}`).

The loop is written once, as a generator of what it needs (a model call, a tool run)
and of the steps it records; `run` / `stream` drive it synchronously, `arun` /
`astream` with `acall` and awaited tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from modelhub.agents import prompts
from modelhub.agents.steps import AgentResult, Delta, Step
from modelhub.errors import ResponseParseError
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.tools import Tool, Toolbox, ToolResult
from modelhub.tools_text import ToolTextProtocol
from modelhub.wrappers.stream import ModelStream

if TYPE_CHECKING:
    from modelhub.registry import Registry
    from modelhub.wrappers.chat import ChatWrapperBase

__all__ = ["AgentRun", "ReActAgent"]

Mode = Literal["auto", "native", "text"]
Event = Step | Delta


@dataclass(slots=True)
class _Ask:
    """A model call the loop needs made."""

    model: ChatWrapperBase
    messages: list[dict[str, Any]]
    kwargs: dict[str, Any]
    role: Literal["reason", "call", "answer"]
    iteration: int


@dataclass(slots=True)
class _Run:
    """A tool call the loop needs run."""

    call: ToolCall


Need = _Ask | _Run | Step
Loop = Generator[Need, Any, AgentResult]


@dataclass(slots=True)
class _State:
    system: str
    history: list[dict[str, Any]]
    steps: list[Step] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    calls: int = 0

    def count(self, response: ModelResponse) -> None:
        if response.usage is not None:
            self.usage = self.usage + response.usage


def _resolve(model: str | ChatWrapperBase, registry: Registry | None) -> ChatWrapperBase:
    from modelhub.wrappers.chat import ChatWrapperBase

    if isinstance(model, ChatWrapperBase):
        return model
    if not isinstance(model, str):
        raise TypeError(f"model must be a config name or a chat wrapper, got "
                        f"{type(model).__name__}")
    if registry is None:
        from modelhub.registry import default_registry

        registry = default_registry
    return registry.get(model, ChatWrapperBase)


class ReActAgent:
    """A ReAct agent over any configured chat model (see the module docstring).

    `model` and `call_model` are config names (found in `registry`, by default the one
    `modelhub.init` fills) or chat wrappers; `tools` functions, callables or
    `modelhub.tools.Tool`s; `max_iterations` the most reasoning turns (after the last,
    the model is asked for its answer with no tools); `mode` picks native tool calling
    or the text protocol (`auto`: native when the wrapper declares `tools`; with
    `call_model` the agent splits the steps); `system_prompt` what the model is told
    first (a system message leading the question's messages replaces it);
    `reasoning_args` and `call_args` the call arguments of the reasoning and the call
    steps; `protocol` the keys of calls written as text.
    """

    def __init__(self, model: str | ChatWrapperBase,
                 tools: Iterable[Tool | Callable[..., Any]] = (), *,
                 max_iterations: int = 10, call_model: str | ChatWrapperBase | None = None,
                 mode: Mode = "auto", system_prompt: str | None = None,
                 reasoning_args: dict[str, Any] | None = None,
                 call_args: dict[str, Any] | None = None,
                 protocol: ToolTextProtocol | None = None,
                 registry: Registry | None = None) -> None:
        if max_iterations < 1:
            raise ValueError("max_iterations must be at least 1")
        if mode not in ("auto", "native", "text"):
            raise ValueError(f"mode must be 'auto', 'native' or 'text', got {mode!r}")
        self.model = _resolve(model, registry)
        self.call_model = None if call_model is None else _resolve(call_model, registry)
        self.toolbox = Toolbox(tools)
        if prompts.FINAL_ANSWER in self.toolbox and self.call_model is not None:
            raise ValueError(f"the tool name {prompts.FINAL_ANSWER!r} is the agent's own "
                             "when a call_model makes the calls")
        self.max_iterations = max_iterations
        self.system_prompt = system_prompt or prompts.DEFAULT_SYSTEM
        self.reasoning_args = dict(reasoning_args or {})
        self.call_args = dict(call_args or {})
        self.protocol = protocol or ToolTextProtocol()
        native = "tools" in self.model.capabilities
        if mode == "native" and not native:
            self.model.require("tools", "native tool calling (mode='native')")
        self.mode: Literal["native", "text", "split"] = (
            "split" if self.call_model is not None
            else "native" if mode == "native" or (mode == "auto" and native) else "text")

    # -- running ------------------------------------------------------------------------
    def run(self, question: str | Sequence[dict[str, Any]]) -> AgentResult:
        """Run to the answer; every step is in the result."""
        return self.stream(question, deltas=False).consume()

    async def arun(self, question: str | Sequence[dict[str, Any]]) -> AgentResult:
        """Async twin of `run`: models through `acall`, async tools awaited, sync
        tools in worker threads."""
        return await self.astream(question, deltas=False).aconsume()

    def stream(self, question: str | Sequence[dict[str, Any]], *,
               deltas: bool = True) -> AgentRun:
        """The run as it happens: iterate it for each `Step` (and, with `deltas`, the
        model's text as it streams, as `Delta`s); `result` once it is done."""
        return AgentRun(self, _messages(question), deltas=deltas, is_async=False)

    def astream(self, question: str | Sequence[dict[str, Any]], *,
                deltas: bool = True) -> AgentRun:
        """Async twin of `stream` (iterate it with `async for`)."""
        return AgentRun(self, _messages(question), deltas=deltas, is_async=True)

    # -- the loop -----------------------------------------------------------------------
    def _loop(self, history: list[dict[str, Any]]) -> Loop:
        system = self.system_prompt
        if history and history[0].get("role") == "system":  # the caller's own
            from modelhub.wrappers.formatting import to_text

            system = to_text(history.pop(0).get("content"))
        state = _State(system, history)
        turn = {"native": self._native_turn, "text": self._text_turn,
                "split": self._split_turn}[self.mode]
        for iteration in range(1, self.max_iterations + 1):
            answer = yield from turn(state, iteration)
            if answer is not None:
                yield from self._record(state, Step("answer", answer, iteration,
                                                   config_name=self.model.config_name))
                state.history.append({"role": "assistant", "content": answer})
                return AgentResult(answer, state.steps, state.history, iteration, "answer",
                                   state.usage)
        answer = yield from self._last_answer(state)
        yield from self._record(state, Step("answer", answer, self.max_iterations,
                                           config_name=self.model.config_name))
        state.history.append({"role": "assistant", "content": answer})
        return AgentResult(answer, state.steps, state.history, self.max_iterations,
                           "max_iterations", state.usage)

    @staticmethod
    def _record(state: _State, step: Step) -> Generator[Need, Any, None]:
        state.steps.append(step)
        yield step

    def _ask(self, state: _State, ask: _Ask) -> Generator[Need, Any, ModelResponse | None]:
        """Make a model call; None (and an error step telling the model) when its tool
        call could not be read."""
        response = yield ask
        if isinstance(response, ResponseParseError):
            message = (f"Your tool call could not be read ({response.message}). Call the "
                       "tool again, its arguments a JSON object.")
            yield from self._record(state, Step("error", message, ask.iteration,
                                               config_name=ask.model.config_name))
            state.history.append({"role": "user", "content": message})
            return None
        state.count(response)
        return response  # type: ignore[no-any-return]

    def _act(self, state: _State, thought: str | None, calls: list[ToolCall],
             iteration: int) -> Generator[Need, Any, None]:
        """Record the thought and the calls, run them, record what they gave."""
        if thought:
            yield from self._record(state, Step("thought", thought, iteration,
                                               config_name=self.model.config_name))
        named = []
        for call in calls:
            state.calls += 1
            named.append(ToolCall(call.id or f"call_{state.calls}", call.name,
                                  dict(call.arguments), call.type, dict(call.extra)))
        state.history.append(ModelResponse(text=thought, tool_calls=named).as_message())
        for call in named:
            yield from self._record(state, Step("action", _shown(call), iteration, call,
                                               config_name=self._caller().config_name))
            result: ToolResult = yield _Run(call)
            yield from self._record(state, Step("observation", result.content, iteration,
                                               call, result))
            state.history.append({"role": "tool", "tool_call_id": call.id,
                                  "content": result.content})

    def _stops(self, ours: list[str]) -> list[str]:
        """The format's stop strings and those the caller gave in `reasoning_args`."""
        given = self.reasoning_args.get("stop") or []
        return list(dict.fromkeys([*ours, *([given] if isinstance(given, str) else given)]))

    def _caller(self) -> ChatWrapperBase:
        return self.call_model if self.call_model is not None else self.model

    def _native_turn(self, state: _State, iteration: int
                     ) -> Generator[Need, Any, str | None]:
        messages = [{"role": "system", "content": state.system}, *state.history]
        kwargs = {**self.reasoning_args, "tools": self.toolbox.specs or None}
        if self.toolbox:
            kwargs["tool_choice"] = "auto"
        response = yield from self._ask(state, _Ask(self.model, messages, kwargs, "reason",
                                                    iteration))
        if response is None:
            return None
        calls, thought = list(response.tool_calls), response.text
        if not calls and response.text and self.toolbox:
            rest, calls = self.protocol.parse(response.text, self.toolbox.specs)
            thought = prompts.strip_labels(rest) or None
        if response.reasoning:
            yield from self._record(state, Step("thought", response.reasoning, iteration,
                                               config_name=self.model.config_name))
        if not calls:
            return prompts.strip_labels(response.text)
        yield from self._act(state, thought, calls, iteration)
        return None

    def _text_turn(self, state: _State, iteration: int) -> Generator[Need, Any, str | None]:
        specs = self.toolbox.specs
        messages = prompts.react_messages(state.system, state.history, specs, self.protocol)
        kwargs = {**self.reasoning_args, "stop": self._stops(prompts.REACT_STOPS)}
        response = yield from self._ask(state, _Ask(self.model, messages, kwargs, "reason",
                                                    iteration))
        if response is None:
            return None
        turn = prompts.read_turn(response.text, specs, self.protocol)
        if turn.answer is not None:
            return turn.answer
        if turn.calls:
            yield from self._act(state, turn.thought, turn.calls, iteration)
            return None
        yield from self._turn_error(state, response.text, turn.error or "", iteration)
        return None

    def _turn_error(self, state: _State, text: str | None, message: str,
                    iteration: int) -> Generator[Need, Any, None]:
        yield from self._record(state, Step("error", message, iteration,
                                           config_name=self.model.config_name))
        state.history += [{"role": "assistant", "content": text or ""},
                          {"role": "user", "content": message}]

    def _split_turn(self, state: _State, iteration: int) -> Generator[Need, Any, str | None]:
        specs = self.toolbox.specs
        messages = prompts.react_messages(state.system, state.history, specs, self.protocol,
                                          names_only=True)
        kwargs = {**self.reasoning_args, "stop": self._stops(prompts.SPLIT_STOPS)}
        response = yield from self._ask(state, _Ask(self.model, messages, kwargs, "reason",
                                                    iteration))
        if response is None:
            return None
        turn = prompts.read_turn(response.text, specs, self.protocol, names_only=True)
        if turn.answer is not None:
            return turn.answer
        offered = specs
        choice: str | dict[str, Any] = "required"
        if turn.tool_name in self.toolbox:
            choice = {"type": "function", "function": {"name": turn.tool_name}}
        else:
            offered = [*specs, prompts.final_answer_spec()]
        calls = yield from self._call_step(state, turn.thought, offered, choice, iteration)
        if calls is None:
            return None
        final = next((c for c in calls if c.name == prompts.FINAL_ANSWER), None)
        if final is not None:
            if turn.thought:
                yield from self._record(state, Step("thought", turn.thought, iteration,
                                                   config_name=self.model.config_name))
            return str(final.arguments.get("answer", ""))
        yield from self._act(state, turn.thought, calls, iteration)
        return None

    def _call_step(self, state: _State, thought: str | None, offered: list[dict[str, Any]],
                   choice: str | dict[str, Any], iteration: int
                   ) -> Generator[Need, Any, list[ToolCall] | None]:
        """The call model's call: natively with `tool_choice`, else through the text
        protocol (decoding held to the call schema where the model takes a schema)."""
        assert self.call_model is not None
        model = self.call_model
        messages = prompts.call_step_messages(state.history, thought)
        kwargs = dict(self.call_args)
        native = "tools" in model.capabilities
        if native:
            kwargs.update(tools=offered, tool_choice=choice)
        else:
            messages = self.protocol.render_messages(messages, offered, choice)
            if "response_format" in model.capabilities:
                kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": "tool_call", "schema": self.protocol.call_schema(offered, choice)}}
        response = yield from self._ask(state, _Ask(model, messages, kwargs, "call", iteration))
        if response is None:
            return None
        calls = list(response.tool_calls) if native else []
        if not calls and response.text:
            calls = self.protocol.parse(response.text, offered)[1]
        if not calls:
            yield from self._turn_error(
                state, thought, "No tool call was made. Name one tool in an Action line, "
                                "or write Final Answer: and the answer.", iteration)
            return None
        return calls

    def _last_answer(self, state: _State) -> Generator[Need, Any, str]:
        """The answer asked for once the iterations have run out (no tools)."""
        ask = {"role": "user", "content": prompts.OUT_OF_STEPS}
        if self.mode == "native":
            messages = [{"role": "system", "content": state.system}, *state.history, ask]
            kwargs = {**self.reasoning_args}
            if self.toolbox:
                kwargs.update(tools=self.toolbox.specs, tool_choice="none")
        else:
            messages = [*prompts.react_messages(state.system, state.history,
                                                self.toolbox.specs, self.protocol,
                                                names_only=self.mode == "split"), ask]
            kwargs = {**self.reasoning_args, "stop": self._stops(prompts.REACT_STOPS)}
        response = yield _Ask(self.model, messages, kwargs, "answer", self.max_iterations)
        if isinstance(response, ResponseParseError):
            return response.text or ""
        state.count(response)
        return prompts.answer_text(response.text)


def _send(needs: Generator[Need, Any, None], value: Any) -> Need | None:
    """The loop's next need (None once it has ended)."""
    try:
        return needs.send(value)
    except StopIteration:
        return None


def _messages(question: str | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(question, str):
        return [{"role": "user", "content": question}]
    return [dict(m) for m in question]


def _shown(call: ToolCall) -> str:
    import json

    return f"{call.name}({json.dumps(call.arguments, ensure_ascii=False, default=str)})"


class AgentRun:
    """One run as it happens: iterate it (`for`, or `async for` from `astream`) for
    its events; `result` once it has ended."""

    __slots__ = ("_agent", "_deltas", "_is_async", "_messages", "_result", "_started")

    def __init__(self, agent: ReActAgent, messages: list[dict[str, Any]], *, deltas: bool,
                 is_async: bool) -> None:
        self._agent, self._messages = agent, messages
        self._deltas, self._is_async = deltas, is_async
        self._result: AgentResult | None = None
        self._started = False

    @property
    def result(self) -> AgentResult:
        """The finished run (RuntimeError before it has ended)."""
        if self._result is None:
            raise RuntimeError("the run has not ended: iterate it to its end first")
        return self._result

    def _needs(self, is_async: bool) -> Generator[Need, Any, None]:
        """The loop's needs, each answered by what is sent back; the result kept."""
        if is_async != self._is_async:
            raise TypeError("this run came from astream(): iterate it with `async for`"
                            if self._is_async else
                            "this run came from stream(): iterate it with `for`")
        if self._started:
            raise RuntimeError("an agent run can be iterated once")
        self._started = True
        self._result = yield from self._agent._loop(list(self._messages))

    def _streams(self, need: _Ask) -> bool:
        return self._deltas and need.role != "call"

    @staticmethod
    def _delta(need: _Ask, text: str) -> Delta:
        return Delta(text, "answer" if need.role == "answer" else "reason", need.iteration,
                     need.model.config_name)

    def __iter__(self) -> Iterator[Event]:
        needs = self._needs(is_async=False)
        value: Any = None
        while (need := _send(needs, value)) is not None:
            value = None
            if isinstance(need, Step):
                yield need
            elif isinstance(need, _Run):
                value = self._agent.toolbox.run(need.call)
            else:
                try:
                    value = yield from self._call(need)
                except ResponseParseError as error:
                    value = error

    def _call(self, need: _Ask) -> Generator[Event, None, ModelResponse]:
        if not self._streams(need):
            return need.model(need.messages, stream=False, **need.kwargs)
        stream = need.model(need.messages, stream=True, **need.kwargs)
        for text in stream:
            yield self._delta(need, text)
        return stream.response

    def consume(self) -> AgentResult:
        """Run to the end; the result."""
        for _ in self:
            pass
        return self.result

    async def __aiter__(self) -> AsyncIterator[Event]:
        needs = self._needs(is_async=True)
        value: Any = None
        while (need := _send(needs, value)) is not None:
            value = None
            if isinstance(need, Step):
                yield need
            elif isinstance(need, _Run):
                value = await self._agent.toolbox.arun(need.call)
            else:
                try:
                    answer: ModelResponse | ModelStream = await (
                        need.model.acall(need.messages, stream=True, **need.kwargs)
                        if self._streams(need) else
                        need.model.acall(need.messages, stream=False, **need.kwargs))
                    if isinstance(answer, ModelStream):
                        async for text in answer:
                            yield self._delta(need, text)
                        answer = answer.response
                    value = answer
                except ResponseParseError as error:
                    value = error

    async def aconsume(self) -> AgentResult:
        """Run to the end (async); the result."""
        async for _ in self:
            pass
        return self.result
