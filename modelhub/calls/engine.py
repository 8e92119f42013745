"""One call of a wrapper, made and accounted for the same way for every kind and
every provider: the call's own options (`timeout`, `max_retries`), its config's budget
and rate limits, the hooks, an OpenTelemetry span, the retries (inside the wrapper's
operation), the fallbacks, and at its end the usage totals and the invocation log.

A kind's base class turns `model(...)` into an operation (`_operation(args, kwargs)`:
something with `kind`, `input`, `params`, `stream`, `run()` and `arun()`) and hands it
here. A stream is accounted for when it ends (finished, broke or closed), through the
`on_end` callback of `ModelStream`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from modelhub.calls import otel
from modelhub.calls.hooks import CallEvent
from modelhub.calls.options import CallOptions
from modelhub.errors import ModelCallError, ModelhubError
from modelhub.retry import call_retries
from modelhub.wrappers.stream import ModelStream, StreamStart

if TYPE_CHECKING:
    from modelhub.calls.ledger import Reservation
    from modelhub.calls.ratelimit import Ticket
    from modelhub.calls.runtime import CallRuntime, ConfigState
    from modelhub.retry import CallRetries
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["Operation", "acall", "call", "runtime_of"]


class Operation(Protocol):
    """One call of one wrapper, ready to run (see the kinds' base classes)."""

    kind: str

    @property
    def input(self) -> Any:
        """What is sent: chat messages, texts or a prompt."""

    @property
    def params(self) -> dict[str, Any]:
        """The generation arguments."""

    @property
    def stream(self) -> bool:
        """Whether the answer is streamed."""

    def run(self) -> Any:
        """Make the call (retried): a response, or a `StreamStart`."""

    async def arun(self) -> Any:
        """Async twin of `run`."""


def runtime_of(wrapper: ModelWrapperBase) -> CallRuntime:
    """The call-time state of the registry the wrapper belongs to (the default
    registry's for a wrapper built directly)."""
    registry = wrapper._registry
    if registry is None:
        from modelhub.registry import default_registry

        registry = default_registry
    return registry.calls


def _chain(wrapper: ModelWrapperBase) -> list[str]:
    """The config names a call of `wrapper` may try, in order."""
    if not wrapper.config.fallbacks:
        return [wrapper.config_name]
    from modelhub.calls.fallbacks import chain

    registry = _registry_of(wrapper)

    def fallbacks_of(name: str) -> list[str]:
        if name == wrapper.config_name:
            return wrapper.config.fallbacks
        names: list[str] = registry.entry(name).config.fallbacks
        return names

    return chain(wrapper.config_name, fallbacks_of)


def _registry_of(wrapper: ModelWrapperBase) -> Any:
    if wrapper._registry is not None:
        return wrapper._registry
    from modelhub.registry import default_registry

    return default_registry


def _moves_on(wrapper: ModelWrapperBase, error: BaseException) -> bool:
    from modelhub.calls.fallbacks import falls_back

    return falls_back(wrapper.config, error)


# -- one config's call: before and after ---------------------------------------------
class _Call:
    """The bookkeeping of one call of one config. Its `CallEvent` is made only for a
    call that hooks, a span or the log will see."""

    __slots__ = ("_event", "attempts", "fallback_from", "input_estimate", "is_async",
                 "masked", "op", "requested", "reservation", "runtime", "secrets", "span",
                 "started", "state", "ticket", "tokens", "wall_started", "wrapper")

    def __init__(self, runtime: CallRuntime, wrapper: ModelWrapperBase, op: Operation,
                 requested: str, fallback_from: str | None, is_async: bool) -> None:
        self.runtime = runtime
        self.wrapper = wrapper
        self.state: ConfigState = runtime.state(wrapper.config)
        self.op = op
        self.requested = requested
        self.fallback_from = fallback_from
        self.is_async = is_async
        self.wall_started = time.time()
        self.started = time.perf_counter()
        self._event: CallEvent | None = None
        self.attempts = 0
        self.masked = False
        self.secrets: tuple[str, ...] | list[str] = self.state.secrets
        self.reservation: Reservation | None = None
        self.ticket: Ticket | None = None
        self.span: Any = None
        self.tokens = 0
        self.input_estimate = 0

    @property
    def event(self) -> CallEvent:
        """The call as hooks, spans and the log see it (made on first use)."""
        if self._event is None:
            wrapper, config, op = self.wrapper, self.wrapper.config, self.op
            self._event = CallEvent(
                config_name=config.config_name,
                model_type=wrapper.model_type or config.model_type, model=wrapper.model_name,
                kind=op.kind, stream=op.stream, is_async=self.is_async,
                requested=self.requested, fallback_from=self.fallback_from,
                started=self.wall_started)
        return self._event

    def reserve(self) -> None:
        """Hold the call's share of the config's budget (BudgetExceededError if it
        does not fit: nothing is sent)."""
        state, op = self.state, self.op
        budget = state.config.budget
        if budget is None and state.config.tpm is None:
            return  # nothing to hold, nor to count
        from modelhub.calls.estimate import input_tokens, output_tokens

        asked_in, asked_out = input_tokens(op.input), output_tokens(op.params)
        self.tokens = asked_in + asked_out
        self.input_estimate = asked_in
        if budget is None:
            return  # counted for the rate limiter's tpm; no budget to hold
        price = state.price if budget.usd is not None else None
        ceiling = getattr(op, "output_ceiling", None)
        # Only a budget that counts output (tokens, or USD at a price of output) gives
        # a call that names no limit one.
        bounded = budget.tokens is not None or (price is not None and price.output > 0)
        most = ceiling() if bounded and not asked_out and ceiling else None
        try:
            if most is not None:
                # No limit named: the call holds, and is limited to, what is left.
                from modelhub.calls.estimate import choices

                self.reservation, fits = self.runtime.ledger.reserve_fitting(
                    state.config.config_name, budget, asked_in, most, price,
                    choices(op.params))
                op.limit_output(fits)  # type: ignore[attr-defined]
            else:
                usd = price.estimate(asked_in, asked_out) if price is not None else None
                self.reservation = self.runtime.ledger.reserve(
                    state.config.config_name, budget, self.tokens, usd)
        except ModelhubError as error:
            self.end(None, error)
            raise
        self._hold_asks_again()

    def _hold_asks_again(self) -> None:
        """Have each ask again of a structured answer (parse_retries) hold its worst
        case too, before it is sent (BudgetExceededError: it is not)."""
        if not hasattr(self.op, "on_ask_again"):
            return

        def hold(request: Any) -> None:
            from modelhub.calls.estimate import input_tokens, output_tokens
            from modelhub.calls.ledger import Reservation

            state = self.state
            budget = state.config.budget
            asked_in, asked_out = input_tokens(request.messages), output_tokens(request.params)
            price = state.price if budget is not None and budget.usd is not None else None
            usd = price.estimate(asked_in, asked_out) if price is not None else None
            more = self.runtime.ledger.reserve(state.config.config_name, budget,
                                               asked_in + asked_out, usd)
            held = self.reservation
            self.reservation = more if held is None else Reservation(
                held.config_name, held.tokens + more.tokens, held.usd + more.usd)

        self.op.on_ask_again = hold

    def mask(self) -> None:
        """Give the event the call's input and arguments, secrets masked (once: only a
        call that hooks, a span or the log will see pays for the copy)."""
        if self.masked:
            return
        from modelhub._secrets import MASK, mask_call

        self.masked = True
        try:
            self.event.input, self.event.params, self.secrets = mask_call(
                self.op.input, self.op.params, self.state.secrets)
        except ValueError:  # nested too deep, or holding itself: not shown at all
            self.event.input, self.event.params = MASK, {}

    def start(self) -> None:
        """Run the before_call hooks (one that raises refuses the call) and open the
        span."""
        runtime = self.runtime
        tracing = otel.tracing(runtime.tracer_provider)
        if not (tracing or runtime.hooks.any()):
            return
        self.mask()
        try:
            runtime.hooks.before(self.event)
        except BaseException as error:
            self.end(None, error)
            raise
        if tracing:
            self.span = otel.start_span(self.event, self.wrapper.model_type,
                                        getattr(self.wrapper.config, "base_url", None),
                                        runtime.tracer_provider)

    def end(self, response: Any, error: BaseException | None, *, closed: bool = False,
            partial_text: str | None = None) -> None:
        """Account for the call's end: totals, limiter, hooks, span and log."""
        state = self.state
        if isinstance(error, ModelCallError) and error.config_name is None:
            from modelhub.http.errors import with_context

            with_context(error, self.wrapper.error_context())  # name the config, redact
        latency = time.perf_counter() - self.started
        usage = getattr(response, "usage", None)
        used_in = usage.input_tokens if usage is not None else 0
        used_out = usage.output_tokens if usage is not None else 0
        price = state.price if response is not None else None
        cost = price.cost(usage) if price is not None else None
        before = getattr(self.op, "asked_before", None)
        if before is not None:  # answers asked for again: spent too
            used_in += before.input_tokens
            used_out += before.output_tokens
            known = state.price
            if known is not None:
                cost = (cost or 0.0) + known.cost(before, succeeded=False)
        held = self.reservation
        if usage is None and (closed or partial_text is not None) and held is not None \
                and state.config.budget is not None:
            # A stream that broke or was closed before its usage came: the provider
            # counts what it sent, unknown here, so a budget counts what the call held.
            used_in, used_out = self.input_estimate, max(held.tokens - self.input_estimate, 0)
            known = state.price
            cost = known.estimate(used_in, used_out) if known is not None else None
        self.runtime.ledger.settle(held, state.config.config_name, failed=error is not None,
                                   input_tokens=used_in, output_tokens=used_out,
                                   latency=latency, cost=cost)
        if self.ticket is not None and state.limiter is not None:
            state.limiter.settle(self.ticket, used_in + used_out if usage is not None
                                 else self.tokens)
        if not (self.runtime.hooks.any() or state.log is not None or self.span is not None):
            return
        event = self.event
        event.attempts = self.attempts
        event.latency = latency
        event.response = response
        event.error = error
        event.partial_text = partial_text or None
        event.status = ("closed" if closed else "ok" if error is None
                        else "broken" if partial_text else "error")
        event.cost = cost
        self.mask()
        if isinstance(error, ModelCallError):
            _scrub(error, self.secrets)  # a key given to the call, quoted back
        self.runtime.hooks.after(event)
        if self.span is not None:
            from modelhub.calls.otel import end_span

            end_span(self.span, event)
        if state.log is not None:
            try:
                state.log.write(event, self.secrets)
            except Exception:  # a full disk must not fail a call that succeeded
                import logging

                logging.getLogger("modelhub").exception(
                    "modelhub: could not record a call of %r in %s", event.config_name,
                    state.log.path)

    def streamed(self, start: StreamStart[Any], is_async: bool) -> ModelStream:
        """The caller's stream, accounted for when it ends."""
        def on_end(response: Any, error: BaseException | None, text: str) -> None:
            self.end(response, error, closed=response is None and error is None,
                     partial_text=text if response is None else None)

        if is_async:
            return ModelStream(adeltas=start.deltas, finalize=start.finalize, on_end=on_end)
        return ModelStream(deltas=start.deltas, finalize=start.finalize, on_end=on_end)


def _scrub(error: ModelCallError, secrets: Any) -> None:
    """Remove `secrets` from an error's message and body (the config's own are removed
    when it is made; a call's own arguments may hold others)."""
    from modelhub._secrets import redact, redact_any

    error.message = redact(error.message, secrets)
    error.args = (error.message,)
    body = getattr(error, "body", None)
    if body is not None:
        error.body = redact_any(body, secrets)  # type: ignore[attr-defined]


class _Settings:
    """The call's own timeout and retries, and its span as the current one, for the
    duration of one config's attempt(s)."""

    __slots__ = ("_options", "_span", "_stack")

    def __init__(self, options: CallOptions, span: Any) -> None:
        self._options = options
        self._span = span
        self._stack: list[Any] = []

    def __enter__(self) -> CallRetries:
        options, stack = self._options, self._stack
        if not options.timeout_given and self._span is None:  # the common case
            scope = call_retries(options.max_retries)
            stack.append(scope)
            return scope.__enter__()
        if options.timeout_given:
            from modelhub.http.deadline import call_timeout

            stack.append(call_timeout(options.timeout))
        if self._span is not None:
            from modelhub.calls.otel import current

            stack.append(current(self._span))
        scope = call_retries(options.max_retries)
        stack.append(scope)
        for manager in stack[:-1]:
            manager.__enter__()
        retries: CallRetries = scope.__enter__()
        return retries

    def __exit__(self, *exc: Any) -> None:
        for manager in reversed(self._stack):
            manager.__exit__(*exc)


def _one(runtime: CallRuntime, wrapper: ModelWrapperBase, op: Operation,
         options: CallOptions, requested: str, fallback_from: str | None) -> Any:
    record = _Call(runtime, wrapper, op, requested, fallback_from, False)
    record.reserve()
    limiter = record.state.limiter
    if limiter is not None:
        try:
            record.ticket = limiter.acquire(record.tokens)
        except BaseException as error:  # interrupted while waiting: release the hold
            record.end(None, error)
            raise
    record.start()
    with _Settings(options, record.span) as retries:
        try:
            result = op.run()
        except BaseException as error:
            record.attempts = retries.attempts
            record.end(None, error)
            raise
    record.attempts = retries.attempts
    if isinstance(result, StreamStart):
        return record.streamed(result, False)
    record.end(result, None)
    return result


async def _aone(runtime: CallRuntime, wrapper: ModelWrapperBase, op: Operation,
                options: CallOptions, requested: str, fallback_from: str | None) -> Any:
    record = _Call(runtime, wrapper, op, requested, fallback_from, True)
    record.reserve()
    limiter = record.state.limiter
    if limiter is not None:
        try:
            record.ticket = await limiter.aacquire(record.tokens)
        except BaseException as error:  # cancelled while waiting: release the hold
            record.end(None, error)
            raise
    record.start()
    with _Settings(options, record.span) as retries:
        try:
            result = await op.arun()
        except BaseException as error:
            record.attempts = retries.attempts
            record.end(None, error)
            raise
    record.attempts = retries.attempts
    if isinstance(result, StreamStart):
        return record.streamed(result, True)
    record.end(result, None)
    return result


# -- the public entry points -----------------------------------------------------------
class _Chain:
    """The configs one call may try, in order (itself, then its fallbacks), each as an
    operation built from the call's arguments; `failed` decides whether a failure moves
    the call on (else it raises, chained to the first failure)."""

    __slots__ = ("args", "failure", "kwargs", "names", "wrapper")

    def __init__(self, wrapper: ModelWrapperBase, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.wrapper = wrapper
        self.args = args
        self.kwargs = kwargs
        self.names = _chain(wrapper)
        self.failure: ModelhubError | None = None

    def steps(self) -> Iterator[tuple[ModelWrapperBase, Operation, str | None]]:
        """Each config to try: its wrapper, its operation, the config tried before."""
        wrapper, kwargs = self.wrapper, self.kwargs
        if len(self.names) == 1:  # the common case: the arguments are used once
            yield wrapper, wrapper._operation(self.args, kwargs), None
            return
        registry = _registry_of(wrapper)
        previous = None
        for name in self.names:
            current = wrapper if name == wrapper.config_name else registry.get(name)
            yield current, current._operation(self.args, dict(kwargs)), previous
            previous = name

    def failed(self, current: ModelWrapperBase, error: ModelhubError) -> None:
        """Go on to the next config, or raise `error` (after the first failure, with it
        as the cause)."""
        last = current.config_name == self.names[-1]
        if last or not _moves_on(current, error):
            if self.failure is None:
                raise error
            raise error from self.failure
        if self.failure is None:
            self.failure = error


def call(wrapper: ModelWrapperBase, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Make `wrapper(*args, **kwargs)`: a response, or a stream."""
    options = CallOptions.take(kwargs)
    if not wrapper.config.fallbacks:  # the common case: one config, its error as it is
        return _one(runtime_of(wrapper), wrapper, wrapper._operation(args, kwargs), options,
                    wrapper.config_name, None)
    chain = _Chain(wrapper, args, kwargs)
    for current, op, previous in chain.steps():
        try:
            return _one(runtime_of(current), current, op, options, wrapper.config_name,
                        previous)
        except ModelhubError as error:
            chain.failed(current, error)
    raise AssertionError("unreachable: the last config returns or raises")


async def acall(wrapper: ModelWrapperBase, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """Async twin of `call`."""
    options = CallOptions.take(kwargs)
    if not wrapper.config.fallbacks:
        return await _aone(runtime_of(wrapper), wrapper, wrapper._operation(args, kwargs),
                           options, wrapper.config_name, None)
    chain = _Chain(wrapper, args, kwargs)
    for current, op, previous in chain.steps():
        try:
            return await _aone(runtime_of(current), current, op, options,
                               wrapper.config_name, previous)
        except ModelhubError as error:
            chain.failed(current, error)
    raise AssertionError("unreachable: the last config returns or raises")
