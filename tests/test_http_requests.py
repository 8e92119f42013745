"""The requests `JSONEndpoint` sends: built once per path where httpx's own building
would merge nothing but the headers, and then the same request as `build_request`
builds; with a query or the client's cookies, built by httpx as before."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from modelhub.http import pool
from modelhub.http.client import JSONEndpoint
from tests.openai_server import OpenAIServer, json_reply


def endpoint(server: OpenAIServer, **kwargs: object) -> JSONEndpoint:
    options: dict = {"base_url": server.base_url + "/v1", "provider": "acme",
                     "headers": {"Authorization": "Bearer k", "X-Team": "a"}}
    return JSONEndpoint(**{**options, **kwargs})


@pytest.mark.parametrize("accept", [None, "text/event-stream"])
def test_a_prepared_request_is_the_one_httpx_builds(openai_server: OpenAIServer,
                                                    accept: str | None) -> None:
    ep = endpoint(openai_server)
    client = httpx.Client()
    try:
        for _ in range(2):  # built, then taken from what was prepared
            ours = ep._request(client, "POST", "/chat", {"a": [1, "é"]}, None, 12.5, accept)
            httpx_own = client.build_request(
                "POST", ep.base_url + "/chat", headers=ep._headers_for(accept),
                content=b'{"a":[1,"\xc3\xa9"]}', timeout=12.5)
            assert ours.headers.raw == httpx_own.headers.raw
            assert (ours.method, ours.url, ours.content, ours.extensions) == (
                httpx_own.method, httpx_own.url, httpx_own.content, httpx_own.extensions)
    finally:
        client.close()


def test_a_header_named_in_any_case_is_sent_once(openai_server: OpenAIServer) -> None:
    ep = endpoint(openai_server, headers={"accept": "text/plain", "user-agent": "mine/1"})
    client = pool.sync_client(ep._key)
    request = ep._request(client, "POST", "/chat", {}, None, 5.0)
    assert request.headers.get_list("accept") == ["text/plain"]
    assert request.headers.get_list("user-agent") == ["mine/1"]
    streamed = ep._request(client, "POST", "/chat", {}, None, 5.0, "text/event-stream")
    assert streamed.headers.get_list("accept") == ["text/event-stream"]
    openai_server.enqueue(json_reply({"ok": 1}))
    assert ep.post("/chat", {}) == {"ok": 1}
    assert openai_server.last.headers["accept"] == "text/plain"


def test_each_call_has_its_own_timeout_and_body(openai_server: OpenAIServer) -> None:
    ep = endpoint(openai_server)
    client = pool.sync_client(ep._key)
    first = ep._request(client, "POST", "/chat", {"n": 1}, None, 3.0)
    second = ep._request(client, "POST", "/chat", {"n": 2}, None, None)
    assert first.extensions["timeout"] == {"connect": 3.0, "read": 3.0, "write": 3.0,
                                           "pool": 3.0}
    assert set(second.extensions["timeout"].values()) == {None}
    assert (first.content, second.content) == (b'{"n":1}', b'{"n":2}')
    assert first.headers["content-length"] == "7"
    first.headers["x-changed"] = "1"  # a request's headers are its own
    assert "x-changed" not in ep._request(client, "POST", "/chat", {}, None, 3.0).headers


def test_a_query_and_the_clients_cookies_still_go(openai_server: OpenAIServer) -> None:
    ep = endpoint(openai_server, query={"api-version": "2024-10-21"})
    openai_server.enqueue(json_reply({"ok": 1}))
    assert ep.post("/chat", {}, params={"x": "y"}) == {"ok": 1}
    assert openai_server.last.query == {"api-version": "2024-10-21", "x": "y"}
    plain = endpoint(openai_server)
    client = httpx.Client()
    try:
        client.cookies.set("session", "s1", domain="127.0.0.1")
        request = plain._request(client, "POST", "/chat", {}, None, 5.0)
        assert request.headers["cookie"] == "session=s1"
    finally:
        client.close()


def test_a_new_client_gets_its_own_prepared_request(openai_server: OpenAIServer) -> None:
    ep = endpoint(openai_server)
    first = httpx.Client(headers={"X-Client": "one"})
    second = httpx.Client(headers={"X-Client": "two"})
    try:
        assert ep._request(first, "GET", "/m", None, None, 1.0).headers["x-client"] == "one"
        assert ep._request(second, "GET", "/m", None, None, 1.0).headers["x-client"] == "two"
    finally:
        first.close()
        second.close()


def test_async_calls_on_each_event_loop(openai_server: OpenAIServer) -> None:
    ep = endpoint(openai_server)

    async def one(n: int) -> object:
        return await ep.apost("/chat", {"n": n})

    for n in range(3):  # a client per event loop
        openai_server.enqueue(json_reply({"n": n}))
        assert asyncio.run(one(n)) == {"n": n}
        assert openai_server.last.json == {"n": n}
        assert openai_server.last.headers["authorization"] == "Bearer k"
