"""The ASGI application of `modelhub serve` (Starlette): configured models behind
OpenAI's HTTP API and AgentScope's POST shape.

Routes: `GET /v1/models`, `POST /v1/chat/completions` (JSON or SSE), `POST
/v1/embeddings`, `POST /llm/` (AgentScope's `post_api_chat` body and answer,
`{"data": {"response": <chat.completion>}}`; `/llm/NAME` picks a model), and `GET
/health` (no key needed). Every request is bounded: its body by size and by the time
it takes to arrive, its model call (a whole stream included) by time. A failed call
is answered with OpenAI's error shape and the server goes on serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from modelhub.serve import shapes
from modelhub.serve.errors import ServeError, from_exception
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.chat import ChatWrapperBase
from modelhub.wrappers.embedding import EmbeddingWrapperBase
from modelhub.wrappers.stream import ModelStream

__all__ = ["Limits", "create_app"]

T = TypeVar("T")
_END = object()
_DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class Limits:
    """What bounds one request: the body's size and the time it takes to arrive, and
    the time its model call may take (a stream from its start to its last event)."""

    max_body: int = 16 * 1024 * 1024
    body_timeout: float = 30.0
    timeout: float = 600.0


def _sse(event: Any) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"


def _error_response(error: ServeError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


class BearerAuth:
    """ASGI middleware: every request but `GET /health` must carry
    `Authorization: Bearer <key>`. Only the key's SHA-256 is kept, and the comparison
    of digests takes the same time whatever the key given."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._digest = hashlib.sha256(api_key.encode()).digest()

    def _allowed(self, scope: Scope) -> bool:
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    given = token.strip()
        return hmac.compare_digest(hashlib.sha256(given).digest(), self._digest)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health" \
                or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        error = ServeError(401, "a valid API key is needed: send it as "
                                "'Authorization: Bearer <key>'", code="invalid_api_key")
        await _error_response(error)(scope, receive, send)


class Service:
    """The request handlers, over a table of served models (config name -> wrapper)."""

    def __init__(self, models: Mapping[str, ModelWrapperBase], limits: Limits) -> None:
        self.models = dict(models)
        self.limits = limits
        self.created = int(time.time())
        self.default_chat = next((n for n, m in self.models.items()
                                  if isinstance(m, ChatWrapperBase)), None)

    # -- reading a request ---------------------------------------------------------------
    async def read_json(self, request: Request) -> Any:
        """The request body as JSON, refused when too large (413), too slow (408) or not
        JSON (400)."""
        limit = self.limits.max_body
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise ServeError(413, f"the request body is larger than {limit} bytes",
                             code="request_too_large")
        pieces: list[bytes] = []

        async def read() -> None:
            size = 0
            async for piece in request.stream():
                size += len(piece)
                if size > limit:
                    raise ServeError(413, f"the request body is larger than {limit} bytes",
                                     code="request_too_large")
                pieces.append(piece)

        try:
            await asyncio.wait_for(read(), self.limits.body_timeout)
        except asyncio.TimeoutError:
            raise ServeError(408, "the request body did not arrive within "
                                  f"{self.limits.body_timeout:g} s",
                             code="request_timeout") from None
        try:
            return json.loads(b"".join(pieces))
        except ValueError:
            raise ServeError(400, "the request body is not valid JSON",
                             code="invalid_json") from None

    def model(self, name: str | None, kind: type[T], path_name: str | None = None) -> T:
        """The served model `name` (the first chat model when none is named), which must
        be of `kind`."""
        name = path_name or name or (self.default_chat if kind is ChatWrapperBase else None)
        if name is None:
            raise ServeError(400, "name the model: 'model' is required", param="model",
                             code="invalid_request")
        model = self.models.get(name)
        if model is None:
            served = ", ".join(self.models) or "none"
            raise ServeError(404, f"the model {name!r} is not served here (served: {served})",
                             param="model", code="model_not_found")
        if not isinstance(model, kind):
            raise ServeError(400, f"the model {name!r} is of kind {model.kind!r}, which "
                                  "cannot answer this request", param="model",
                             code="invalid_request")
        return model

    async def bounded(self, call: Awaitable[T], timeout: float | None = None) -> T:
        """`call`, given at most `timeout` (the request limit) seconds."""
        limit = self.limits.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(call, max(limit, 0.0))
        except asyncio.TimeoutError:
            raise ServeError(504, f"the model did not answer within {self.limits.timeout:g} s",
                             code="timeout") from None

    # -- routes --------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        """`GET /health`: the server is up (no key needed)."""
        return JSONResponse({"status": "ok", "models": len(self.models)})

    async def list_models(self, request: Request) -> Response:
        """`GET /v1/models` (and `/v1/models/NAME`)."""
        def card(name: str) -> dict[str, Any]:
            return {"id": name, "object": "model", "created": self.created,
                    "owned_by": "modelhub"}

        name = request.path_params.get("name")
        if name is not None:
            if name not in self.models:
                raise ServeError(404, f"the model {name!r} is not served here",
                                 code="model_not_found")
            return JSONResponse(card(name))
        return JSONResponse({"object": "list", "data": [card(n) for n in self.models]})

    async def chat_completions(self, request: Request) -> Response:
        """`POST /v1/chat/completions`."""
        call = shapes.chat_call(await self.read_json(request))
        return await self.chat(call, self.model(call.model, ChatWrapperBase), None)

    async def agentscope_post(self, request: Request) -> Response:
        """`POST /llm/` (and `/llm/NAME`): AgentScope's POST body, its answer under
        `data.response`."""
        call = shapes.chat_call(await self.read_json(request))
        call.include_usage = True  # its streams end with the usage, as its answers do
        model = self.model(call.model, ChatWrapperBase, request.path_params.get("name"))
        return await self.chat(call, model, lambda body: {"data": {"response": body}})

    async def embeddings(self, request: Request) -> Response:
        """`POST /v1/embeddings`."""
        call = shapes.embedding_call(await self.read_json(request))
        model = self.model(call.model, EmbeddingWrapperBase)
        response = await self.bounded(model.acall(call.texts, **call.kwargs))
        return JSONResponse(shapes.embeddings_body(response, model.config_name, call.base64))

    # -- chat ----------------------------------------------------------------------------
    async def chat(self, call: shapes.ChatCall, model: ChatWrapperBase,
                   wrap: Callable[[dict[str, Any]], Any] | None) -> Response:
        """Answer a chat call, whole or as an event stream; `wrap` puts each body in
        the route's envelope."""
        ids = shapes.ResponseIds.new(model.config_name)
        wrap = wrap or (lambda body: body)
        if not call.stream:
            response = await self.bounded(model.acall(call.messages, stream=False,
                                                      **call.kwargs))
            return JSONResponse(wrap(shapes.completion(response, ids)))
        deadline = asyncio.get_running_loop().time() + self.limits.timeout
        stream = await self.bounded(model.acall(call.messages, stream=True, **call.kwargs))
        deltas = stream.__aiter__()
        try:  # the first piece before answering 200, so an early error keeps its status
            first = await self.bounded(anext(deltas, _END), self._left(deadline))
        except BaseException:
            await stream.aclose()
            raise
        return StreamingResponse(
            self.events(stream, deltas, first, ids, call.include_usage, deadline, wrap),
            media_type="text/event-stream", headers={"cache-control": "no-cache"})

    @staticmethod
    def _left(deadline: float) -> float:
        return deadline - asyncio.get_running_loop().time()

    async def events(self, stream: ModelStream, deltas: AsyncIterator[str], first: Any,
                     ids: shapes.ResponseIds, with_usage: bool, deadline: float,
                     wrap: Callable[[dict[str, Any]], Any]) -> AsyncIterator[bytes]:
        """The SSE events of one streamed answer; an error on the way is sent as an
        error event (OpenAI's shape), and the stream ends there."""
        def event(delta: dict[str, Any] | None, **kw: Any) -> bytes:
            return _sse(wrap(shapes.chunk(ids, delta, with_usage=with_usage, **kw)))

        try:
            yield event({"role": "assistant", "content": ""})
            piece = first
            while piece is not _END:
                yield event({"content": piece})
                piece = await self.bounded(anext(deltas, _END), self._left(deadline))
            response = stream.response
            if response.reasoning:
                yield event({"reasoning_content": response.reasoning})
            if response.tool_calls:
                yield event({"tool_calls": shapes.tool_call_deltas(response.tool_calls)})
            yield event({}, finish=shapes.finish_reason(response))
            if with_usage:
                yield event(None, usage=shapes.usage_body(response.usage))
            yield _DONE
        except Exception as error:
            yield _sse(from_exception(error).body())
        finally:
            # Also when the client went away and this task is being cancelled.
            with anyio.CancelScope(shield=True):
                await stream.aclose()


def _handler(method: Callable[[Request], Awaitable[Response]]
             ) -> Callable[[Request], Awaitable[Response]]:
    """A route handler whose errors become OpenAI error answers."""
    async def handle(request: Request) -> Response:
        try:
            return await method(request)
        except Exception as error:
            return _error_response(from_exception(error))

    return handle


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "unknown_url", 405: "method_not_allowed"}.get(exc.status_code)
    message = (f"unknown URL: {request.method} {request.url.path}" if exc.status_code == 404
               else f"{request.method} is not allowed on {request.url.path}"
               if exc.status_code == 405 else str(exc.detail))
    return _error_response(ServeError(exc.status_code, message, code=code))


def create_app(models: Mapping[str, ModelWrapperBase], *, api_key: str | None = None,
               limits: Limits | None = None) -> ASGIApp:
    """The ASGI app serving `models` (config name -> chat or embedding wrapper); with
    `api_key`, every request but `/health` must carry it as a bearer token."""
    service = Service(models, limits or Limits())
    chat, post = _handler(service.chat_completions), _handler(service.agentscope_post)
    routes = [
        Route("/health", service.health, methods=["GET"]),
        Route("/v1/models", _handler(service.list_models), methods=["GET"]),
        Route("/v1/models/{name:path}", _handler(service.list_models), methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/chat/completions", chat, methods=["POST"]),
        Route("/v1/embeddings", _handler(service.embeddings), methods=["POST"]),
        Route("/llm", post, methods=["POST"]),
        Route("/llm/", post, methods=["POST"]),
        Route("/llm/{name:path}", post, methods=["POST"]),
    ]
    app: ASGIApp = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    if api_key:
        app = BearerAuth(app, api_key)
    return app
