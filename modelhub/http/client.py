"""`JSONEndpoint`: one configured HTTP API (base URL, headers, query, timeout, secrets,
error hook) spoken as JSON requests and JSON or streamed answers, over the shared pools.

A stream is read as bytes and fed through one framing decoder (`framing`) into the
provider's `StreamHandler`, which turns frames into text deltas; the sync and async
readers differ only in how they wait for bytes. Every failure comes out as a
`modelhub.errors` class naming the config and the URL, with secrets redacted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from modelhub._secrets import LOGGERS, protect_logger, redact, remember
from modelhub.errors import ModelCallError, ModelTimeoutError, ResponseParseError
from modelhub.http import pool
from modelhub.http.deadline import Gap, timeout_for, within
from modelhub.http.errors import (
    SHAPE_ERRORS,
    ErrorContext,
    ErrorFields,
    api_error,
    decode_json,
    error_fields,
    public_url,
    summarize_text,
    timeout_error,
    transport_error,
    unexpected_shape,
    with_context,
)
from modelhub.http.framing import Frame, Framing, FramingError, make_decoder
from modelhub.http.jsonload import loads

if TYPE_CHECKING:
    import httpx

__all__ = ["JSONEndpoint", "StreamHandler", "StreamReader", "dumps"]

USER_AGENT = "modelhub/0.1"

# The content types a stream may come with, per framing.
_STREAM_TYPES: dict[str, tuple[str, ...]] = {
    "sse": ("text/event-stream",),
    "ndjson": ("application/x-ndjson", "application/json", "application/jsonl",
               "application/ndjson", "text/plain"),
    "json_array": ("application/json", "text/plain"),
}
_ACCEPT = {"sse": "text/event-stream", "ndjson": "application/x-ndjson",
           "json_array": "application/json"}


# What `json.dumps(payload, ensure_ascii=False, separators=(",", ":"))` builds on every
# call, built once (an encoder keeps no state between calls).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(payload: Any) -> bytes:
    """A request body: compact UTF-8 JSON."""
    return _ENCODER.encode(payload).encode("utf-8")


# After a stream's terminator, what is left of its body (normally nothing but the end of
# the chunked encoding) is read, so that the connection goes back to the pool rather than
# being closed; a server that sends more than this, or (async) takes longer, loses it.
_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 0.1


def _drain(chunks: Iterator[bytes]) -> None:
    """Read the rest of a finished stream's body, a little at most (errors ignored: the
    answer is complete)."""
    left = _DRAIN_BYTES
    try:
        for chunk in chunks:
            left -= len(chunk)
            if left < 0:
                return
    except Exception:  # the connection is then closed; nothing is lost
        return


async def _adrain(chunks: AsyncIterator[bytes]) -> None:
    """Async twin of `_drain`, bounded in time as well."""
    import asyncio

    async def read() -> None:
        left = _DRAIN_BYTES
        async for chunk in chunks:
            left -= len(chunk)
            if left < 0:
                return

    try:
        await asyncio.wait_for(read(), _DRAIN_SECONDS)
    except Exception:  # a timeout included: the connection is then closed
        return


class StreamHandler(Protocol):
    """What a provider supplies to read its stream: frames in, text deltas out."""

    @property
    def finished(self) -> bool:
        """Whether the stream's own terminator was seen (reading stops there)."""

    def feed(self, frame: Frame) -> str | None:
        """Take one frame; return the text delta it carries, if any. Raises a
        `modelhub.errors` class for an error event."""

    def end(self) -> str | None:
        """The stream ended (or was terminated): return text held back, if any."""


class StreamReader:
    """Bytes in, deltas out: one decoder and one handler, shared by sync and async
    reading. It enforces the stream timeout: no delta for `timeout` seconds (`gap`;
    a frame that adds no text, reasoning, tool call or usage to the handler's
    `accumulator`, a keep-alive, does not count), as `read_sdk_stream` does."""

    __slots__ = ("_accumulator", "_decoder", "_endpoint", "_handler", "_path", "_timeout",
                 "done", "gap")

    def __init__(self, framing: Framing, handler: StreamHandler, endpoint: JSONEndpoint,
                 path: str, *, lenient_sse: bool = False) -> None:
        self._decoder = make_decoder(framing, lenient_sse=lenient_sse)
        self._handler = handler
        self._endpoint = endpoint
        self._path = path
        self._timeout = timeout = timeout_for(endpoint.context.timeout)  # a call's own
        self._accumulator = getattr(handler, "accumulator", None)
        # The time allowed until the next delta (None: no limit); the readers below put
        # it on each pull's socket waits too.
        self.gap = Gap(timeout) if timeout is not None else None
        self.done = False

    @property
    def _context(self) -> ErrorContext:
        context = self._endpoint.context_for(self._path)
        if context.timeout == self._timeout:
            return context
        from dataclasses import replace

        return replace(context, timeout=self._timeout)  # the timeout of the call that opened it

    def broken(self, exc: BaseException) -> ModelCallError:
        """The error for a transport failure while the stream is read (a wait cut at
        the deadline of the next delta says so)."""
        failure = transport_error(exc, self._context)
        assert isinstance(failure, ModelCallError)
        if isinstance(failure, ModelTimeoutError) and self.gap is not None \
                and self.gap.expired():
            acc = self._accumulator
            return timeout_error(self._context, "no stream delta arrived",
                                 partial_text=acc.text if acc is not None else None)
        return failure

    def _frames(self, frames: list[Frame], out: list[str]) -> None:
        handler = self._handler
        feed, keep = handler.feed, out.append
        frame = None
        try:
            for frame in frames:
                delta = feed(frame)
                if delta:
                    keep(delta)
                if handler.finished:
                    self.done = True
                    return
            return
        except ModelCallError as error:
            failure = with_context(error, self._context)
        except SHAPE_ERRORS as exc:
            assert frame is not None
            failure = unexpected_shape(exc, frame.data, self._context, "a stream event")
        raise failure  # raised here: no parser exception is kept as context

    def feed(self, chunk: bytes) -> list[str]:
        """The deltas completed by the next bytes."""
        out: list[str] = []
        gap = self.gap
        acc = self._accumulator
        before = acc.progress if acc is not None else 0
        frames = self._decode(self._decoder.feed, chunk)
        if frames:
            self._frames(frames, out)
        if gap is not None:
            if out or (acc is not None and acc.progress != before):
                gap.progress()
            elif gap.expired():
                raise timeout_error(self._context, "no stream delta arrived",
                                    partial_text=acc.text if acc is not None else None)
        return out

    def end(self) -> list[str]:
        """The deltas released when the body has ended (or the terminator was seen)."""
        out: list[str] = []
        if not self.done:
            self._frames(self._decode(lambda _: self._decoder.close(), b""), out)
        last = self._handler.end()
        if last:
            out.append(last)
        return out

    def _decode(self, step: Callable[[bytes], list[Frame]], chunk: bytes) -> list[Frame]:
        message = None
        try:
            return step(chunk)
        except FramingError as exc:
            message = str(exc)
        raise ResponseParseError(message, **self._context.fields())


class JSONEndpoint:
    """One configured JSON API: `post`, `get` and `open_stream`, sync and async."""

    __slots__ = ("__weakref__", "_error_fields", "_headers", "_key", "_prepared", "_query",
                 "_timeout", "base_url", "context")

    def __init__(self, *, base_url: str, provider: str, headers: Mapping[str, str] | None = None,
                 timeout: float | None = 60.0, secrets: tuple[str, ...] | list[str] = (),
                 config_name: str | None = None, query: Mapping[str, str] | None = None,
                 verify: Any = True, proxy: str | None = None,
                 error_fields: ErrorFields = error_fields) -> None:
        self.base_url = base_url.rstrip("/")
        self.context = ErrorContext(provider=provider, config_name=config_name,
                                    url=public_url(self.base_url),
                                    secrets=tuple(s for s in secrets if s), timeout=timeout)
        given = dict(headers or {})
        named = {name.lower() for name in given}  # a header is named in any case
        self._headers = {**{name: value for name, value in (
            ("Content-Type", "application/json"), ("Accept", "application/json"),
            ("User-Agent", USER_AGENT)) if name.lower() not in named}, **given}
        self._query = dict(query or {}) or None
        self._prepared: dict[tuple[int, str, str | None], tuple[Any, Any, Any]] = {}
        self._timeout = timeout
        self._error_fields = error_fields
        self._key = pool.transport_key(self.base_url, verify, proxy)
        protect_logger(*LOGGERS)  # the HTTP library logs URLs (and so query keys)
        remember(self, self.context.secrets)

    def __repr__(self) -> str:
        return f"JSONEndpoint({self.context.url!r}, provider={self.context.provider!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets redacted from everything this endpoint reports."""
        return self.context.secrets

    def context_for(self, path: str) -> ErrorContext:
        """The error context of a request to `path` (built only when an error is),
        with the timeout of the call in flight."""
        context = self.context.at(public_url(self.base_url + path))
        timeout = timeout_for(context.timeout)
        if timeout != context.timeout:
            from dataclasses import replace

            context = replace(context, timeout=timeout)
        return context

    # -- answers -------------------------------------------------------------------------
    def _raise_for_status(self, status: int, headers: Mapping[str, str], content: bytes,
                          path: str) -> None:
        if status < 400:
            return
        text = content.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text) if text.strip() else None
        except ValueError:
            body = text
        try:
            message, code = self._error_fields(body)
        except Exception:  # a provider's hook that fails must not hide the status
            message, code = None, None
        raise api_error(status, message, context=self.context_for(path), headers=headers,
                        body=body, code=code)

    def _decode(self, content: bytes, path: str) -> Any:
        try:
            return loads(content)
        except ValueError:
            pass  # decoded again below, outside this handler, to raise a clean error
        return decode_json(content, self.context_for(path))

    def _unexpected_type(self, response: httpx.Response, framing: Framing) -> str | None:
        """The content type of a streamed answer when it is not one `framing` reads."""
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return kind if kind and kind not in _STREAM_TYPES[framing] else None

    def _stream_type_error(self, kind: str, content: bytes, path: str) -> ResponseParseError:
        text = redact(content.decode("utf-8", "replace"), self.secrets)
        return ResponseParseError(
            f"a stream was asked for, but the answer is {kind}: {summarize_text(text)!r}",
            response=text[:2000], **self.context_for(path).fields())

    def _headers_for(self, accept: str | None) -> dict[str, str]:
        """The request headers, with `accept` (a stream's type) as the only Accept."""
        if accept is None:
            return self._headers
        return {**{name: value for name, value in self._headers.items()
                   if name.lower() != "accept"}, "Accept": accept}

    def _request(self, client: httpx.Client | httpx.AsyncClient, method: str, path: str,
                 payload: Any, params: Mapping[str, str] | None, timeout: float | None,
                 accept: str | None = None) -> httpx.Request:
        import httpx

        content = dumps(payload) if payload is not None else None
        if params or self._query or client.cookies:
            query = {**self._query, **params} if self._query and params \
                else (params or self._query)
            return client.build_request(method, self.base_url + path,
                                        headers=self._headers_for(accept),
                                        content=content, params=query, timeout=timeout)
        # With no query and no cookies, the request `client.build_request` builds, from
        # the URL and headers merged with the client's once per path and client (that
        # merging is most of what building a request costs). The shared clients'
        # headers are never changed in place; a client given new ones is a new key.
        source = client.headers
        key = (id(source), path, accept)
        prepared = self._prepared.get(key)
        if prepared is None or prepared[0] is not source:  # an id is reused once freed
            merged = httpx.Headers(source)
            merged.update(self._headers_for(accept))
            if len(self._prepared) >= 16:  # a client per event loop: keep the newest
                self._prepared.clear()
            prepared = (source, httpx.URL(self.base_url + path), merged)
            self._prepared[key] = prepared
        _, url, headers = prepared
        return httpx.Request(method, url, content=content, headers=headers, extensions={
            "timeout": {"connect": timeout, "read": timeout, "write": timeout,
                        "pool": timeout}})

    # -- JSON, sync --------------------------------------------------------------------
    def request(self, method: str, path: str, payload: Any = None,
                params: Mapping[str, str] | None = None) -> Any:
        """Send a request, return the decoded JSON answer. `timeout` bounds the whole
        call (connecting, sending, the status line, headers and body together), not
        each read."""
        import httpx

        client = pool.sync_client(self._key)
        timeout = timeout_for(self._timeout)
        failure = None
        try:
            with within(timeout):
                response = client.send(
                    self._request(client, method, path, payload, params, timeout), stream=True)
                try:
                    content = response.read()
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            failure = transport_error(exc, self.context_for(path))
        if failure is not None:  # raised here, so httpx's exception is not its context
            raise failure
        self._raise_for_status(response.status_code, response.headers, content, path)
        return self._decode(content, path)

    def post(self, path: str, payload: Any, params: Mapping[str, str] | None = None) -> Any:
        """POST JSON, return the decoded JSON answer."""
        return self.request("POST", path, payload, params)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET, return the decoded JSON answer."""
        return self.request("GET", path, None, params)

    # -- JSON, async -------------------------------------------------------------------
    async def arequest(self, method: str, path: str, payload: Any = None,
                       params: Mapping[str, str] | None = None) -> Any:
        """Async twin of `request`."""
        import httpx

        client = pool.async_client(self._key)
        timeout = timeout_for(self._timeout)
        failure = None
        try:
            with within(timeout):
                response = await client.send(
                    self._request(client, method, path, payload, params, timeout),
                    stream=True)
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            failure = transport_error(exc, self.context_for(path))
        if failure is not None:
            raise failure
        self._raise_for_status(response.status_code, response.headers, content, path)
        return self._decode(content, path)

    async def apost(self, path: str, payload: Any,
                    params: Mapping[str, str] | None = None) -> Any:
        """Async twin of `post`."""
        return await self.arequest("POST", path, payload, params)

    async def aget(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """Async twin of `get`."""
        return await self.arequest("GET", path, None, params)

    # -- streams -----------------------------------------------------------------------
    def open_stream(self, path: str, payload: Any, handler: StreamHandler, *,
                    framing: Framing = "sse", method: str = "POST",
                    params: Mapping[str, str] | None = None,
                    lenient_sse: bool = False) -> Iterator[str]:
        """Send the request and open its streamed answer now (an error status raises
        here); return the text deltas, read as they are iterated."""
        import httpx

        client = pool.sync_client(self._key)
        failure = None
        try:
            timeout = timeout_for(self._timeout)
            request = self._request(client, method, path, payload, params, timeout,
                                    _ACCEPT[framing])
            with within(timeout):  # opening it; then no event may take longer
                response = client.send(request, stream=True)
                if response.status_code >= 400:
                    try:
                        content = response.read()
                    finally:
                        response.close()
                    self._raise_for_status(response.status_code, response.headers, content,
                                           path)
                kind = self._unexpected_type(response, framing)
                if kind is not None:
                    try:
                        content = response.read()
                    finally:
                        response.close()
                    raise self._stream_type_error(kind, content, path)
        except httpx.HTTPError as exc:
            failure = transport_error(exc, self.context_for(path))
        if failure is not None:
            raise failure
        reader = StreamReader(framing, handler, self, path, lenient_sse=lenient_sse)

        def deltas() -> Iterator[str]:
            broken = None
            gap = reader.gap
            chunks = response.iter_bytes() if gap is None else gap.paced(response.iter_bytes())
            try:
                for chunk in chunks:
                    yield from reader.feed(chunk)
                    if reader.done:
                        break
                yield from reader.end()
                if reader.done:
                    _drain(chunks)
            except httpx.HTTPError as exc:
                broken = reader.broken(exc)
            finally:
                response.close()
            if broken is not None:
                raise broken

        return deltas()

    async def aopen_stream(self, path: str, payload: Any, handler: StreamHandler, *,
                           framing: Framing = "sse", method: str = "POST",
                           params: Mapping[str, str] | None = None,
                           lenient_sse: bool = False) -> AsyncIterator[str]:
        """Async twin of `open_stream`."""
        import httpx

        client = pool.async_client(self._key)
        failure = None
        try:
            timeout = timeout_for(self._timeout)
            request = self._request(client, method, path, payload, params, timeout,
                                    _ACCEPT[framing])
            with within(timeout):  # opening it; then no event may take longer
                response = await client.send(request, stream=True)
                if response.status_code >= 400:
                    try:
                        content = await response.aread()
                    finally:
                        await response.aclose()
                    self._raise_for_status(response.status_code, response.headers, content,
                                           path)
                kind = self._unexpected_type(response, framing)
                if kind is not None:
                    try:
                        content = await response.aread()
                    finally:
                        await response.aclose()
                    raise self._stream_type_error(kind, content, path)
        except httpx.HTTPError as exc:
            failure = transport_error(exc, self.context_for(path))
        if failure is not None:
            raise failure
        reader = StreamReader(framing, handler, self, path, lenient_sse=lenient_sse)

        async def deltas() -> AsyncIterator[str]:
            broken = None
            gap = reader.gap
            chunks = (response.aiter_bytes() if gap is None
                      else gap.apaced(response.aiter_bytes()))
            try:
                async for chunk in chunks:
                    for delta in reader.feed(chunk):
                        yield delta
                    if reader.done:
                        break
                for delta in reader.end():
                    yield delta
                if reader.done:
                    await _adrain(chunks)
            except httpx.HTTPError as exc:
                broken = reader.broken(exc)
            finally:
                await response.aclose()
            if broken is not None:
                raise broken

        return deltas()
