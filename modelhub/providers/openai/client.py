"""`OpenAIEndpoint`: JSON and SSE over the shared httpx pools, for one wrapper.

It knows the base URL, the auth headers and the timeout of one config, and turns every
failure into a `modelhub.errors` class through `wire` (the one place that maps them).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from modelhub import transport
from modelhub._secrets import redact
from modelhub.errors import ModelhubError, ResponseParseError
from modelhub.providers.openai import wire

__all__ = ["OpenAIEndpoint"]

USER_AGENT = "modelhub/0.1"


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class OpenAIEndpoint:
    """One configured OpenAI-protocol endpoint (base URL, headers, timeout)."""

    __slots__ = ("_headers", "_key", "_query", "_stream_headers", "_timeout", "base_url",
                 "provider", "secrets")

    def __init__(self, *, base_url: str, headers: Mapping[str, str], timeout: float | None,
                 secrets: list[str], provider: str, query: Mapping[str, str] | None = None,
                 verify: Any = True, proxy: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.provider = provider
        self.secrets = secrets
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": USER_AGENT, **headers}
        self._stream_headers = {**self._headers, "Accept": "text/event-stream"}
        self._query = dict(query or {}) or None
        self._timeout = timeout
        self._key = transport.transport_key(self.base_url, verify, proxy)

    def url(self, path: str) -> str:
        """The full URL of an API path such as '/chat/completions'."""
        return self.base_url + path

    # -- error handling ----------------------------------------------------------------
    def _check(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        if status >= 400:
            raise wire.error_from_response(status, headers, content, self.provider,
                                           self.secrets)

    def _decode(self, content: bytes) -> Any:
        try:
            return json.loads(content)
        except ValueError as exc:
            snippet = content[:200].decode("utf-8", "replace")
            raise ResponseParseError(
                f"{self.provider}: the answer is not JSON: "
                f"{redact(snippet, self.secrets)!r}") from exc

    def _transport_error(self, exc: BaseException) -> ModelhubError:
        return wire.map_transport_error(exc, self.provider, self.secrets)

    # -- JSON --------------------------------------------------------------------------
    def post(self, path: str, payload: Any) -> Any:
        """POST JSON, return the decoded JSON answer."""
        import httpx

        client = transport.sync_client(self._key)
        try:
            r = client.post(self.base_url + path, content=_dumps(payload),
                            headers=self._headers, params=self._query,
                            timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        self._check(r.status_code, r.headers, r.content)
        return self._decode(r.content)

    async def apost(self, path: str, payload: Any) -> Any:
        """POST JSON from async code, return the decoded JSON answer."""
        import httpx

        client = transport.async_client(self._key)
        try:
            r = await client.post(self.base_url + path, content=_dumps(payload),
                                  headers=self._headers, params=self._query,
                                  timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        self._check(r.status_code, r.headers, r.content)
        return self._decode(r.content)

    # -- SSE ---------------------------------------------------------------------------
    def open_stream(self, path: str, payload: Any,
                    on_event: Callable[[str | None, str], str | None],
                    on_end: Callable[[], str | None]) -> Iterator[str]:
        """POST and open an SSE answer now (HTTP errors raise here); return its deltas.

        Each event goes to `on_event`, which returns the text delta to yield (or None);
        `on_end` may release a last delta when the stream ends.
        """
        import httpx

        client = transport.sync_client(self._key)
        request = client.build_request("POST", self.base_url + path, content=_dumps(payload),
                                       headers=self._stream_headers, params=self._query,
                                       timeout=self._timeout)
        try:
            r = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if r.status_code >= 400:
            try:
                content = r.read()
            finally:
                r.close()
            self._check(r.status_code, r.headers, content)

        def deltas() -> Iterator[str]:
            try:
                for event, data in wire.iter_sse(r.iter_lines()):
                    if data == "[DONE]":
                        break
                    delta = on_event(event, data)
                    if delta:
                        yield delta
                last = on_end()
                if last:
                    yield last
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from None
            finally:
                r.close()

        return deltas()

    async def aopen_stream(self, path: str, payload: Any,
                           on_event: Callable[[str | None, str], str | None],
                           on_end: Callable[[], str | None]) -> AsyncIterator[str]:
        """Async twin of `open_stream`."""
        import httpx

        client = transport.async_client(self._key)
        request = client.build_request("POST", self.base_url + path, content=_dumps(payload),
                                       headers=self._stream_headers, params=self._query,
                                       timeout=self._timeout)
        try:
            r = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if r.status_code >= 400:
            try:
                content = await r.aread()
            finally:
                await r.aclose()
            self._check(r.status_code, r.headers, content)

        async def deltas() -> AsyncIterator[str]:
            decoder = wire.SSEDecoder()
            try:
                async for line in r.aiter_lines():
                    sse = decoder.line(line)
                    if sse is None:
                        continue
                    if sse[1] == "[DONE]":
                        break
                    delta = on_event(*sse)
                    if delta:
                        yield delta
                else:
                    sse = decoder.flush()
                    if sse is not None and sse[1] != "[DONE]":
                        delta = on_event(*sse)
                        if delta:
                            yield delta
                last = on_end()
                if last:
                    yield last
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from None
            finally:
                await r.aclose()

        return deltas()
