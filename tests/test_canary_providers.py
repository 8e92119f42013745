"""A canary key, given in the config or in the provider's own environment variable,
appears on no surface of any provider family: not in an error's message, repr,
attributes or chain, not in a log record (every logger at DEBUG, the SDKs' own
included), and, from the environment, not in any request to a host that is not the
provider's. Each family is run for a 401, a 400 whose body echoes the key, and an
error inside a 200 stream whose event echoes it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests import anthropic_server as anth
from tests import dashscope_server as dash
from tests import gemini_server as gem
from tests import hf_server as hf
from tests import ollama_server as oll
from tests import openai_server as oai
from tests import postapi_server as post
from tests import zhipuai_server as zhipu
from tests.loopback import LoopbackServer, Reply
from tests.test_secret_surfaces import chain

KEY = "sk-canary-7f3a9c1e5b2d8064"
PART = KEY[:9]  # what a key cut short would leave
MESSAGE = "Incorrect API key provided: {}. You can find your key in the console."


@dataclass(frozen=True)
class Family:
    """How to reach one provider family's wrapper on its loopback server, and its three
    error replies, each with a message of the test's (echoing the key it was sent)."""

    name: str
    server: type[LoopbackServer]
    config: Callable[[LoopbackServer], dict[str, Any]]  # without a key
    unauthorized: Callable[[str], Reply]
    bad_request: Callable[[str], Reply]
    stream_error: Callable[[str], Reply]
    key_field: str = "api_key"
    env: tuple[str, ...] = ()  # the variables the provider (or its SDK) reads a key from
    loggers: tuple[str, ...] = field(default=())  # the SDK's own loggers

    def __str__(self) -> str:
        return self.name


def _openai_like(server: LoopbackServer) -> dict[str, Any]:
    return {"model_type": "openai_chat", "model_name": "gpt-4o-mini",
            "base_url": server.base_url}


def _openai_stream(message: str) -> Reply:
    return oai.sse_reply([oai.chat_chunks(["par"])[1],
                          {"error": {"message": message, "type": "invalid_request_error"}}],
                         done=False)


FAMILIES = [
    Family("openai", oai.OpenAIServer, _openai_like,
           lambda m: oai.error_reply(401, m, code="invalid_api_key"),
           lambda m: oai.error_reply(400, m),
           _openai_stream,
           env=("OPENAI_API_KEY",), loggers=("httpx", "httpcore")),
    Family("litellm", oai.OpenAIServer,
           lambda s: {"model_type": "litellm_chat", "model_name": "openai/gpt-4o-mini",
                      "api_base": s.base_url},
           lambda m: oai.error_reply(401, m, code="invalid_api_key"),
           lambda m: oai.error_reply(400, m),
           _openai_stream,
           env=("OPENAI_API_KEY",), loggers=("LiteLLM", "openai", "httpx")),
    Family("anthropic", anth.AnthropicServer,
           lambda s: {"model_type": "anthropic_chat", "model_name": "claude-sonnet-4-5",
                      "base_url": s.url},
           lambda m: anth.error_reply(401, m),
           lambda m: anth.error_reply(400, m),
           lambda m: anth.stream_reply([*anth.stream_events([anth.text("partial")])[:4],
                                      anth.error_event("invalid_request_error", m)]),
           env=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"), loggers=("anthropic", "httpx")),
    Family("gemini", gem.GeminiServer,
           lambda s: {"model_type": "gemini_chat", "model_name": "gemini-2.5-flash",
                      "base_url": s.url},
           lambda m: gem.error_reply(401, m, "UNAUTHENTICATED"),
           lambda m: gem.error_reply(400, m, "INVALID_ARGUMENT"),
           lambda m: gem.sse_reply([gem.stream_chunks(["par"])[0],
                                  gem.error_body(400, m, "INVALID_ARGUMENT")]),
           env=("GOOGLE_API_KEY", "GEMINI_API_KEY"), loggers=("google_genai", "httpx")),
    Family("dashscope", dash.DashScopeServer,
           lambda s: {"model_type": "dashscope_chat", "model_name": "qwen-plus",
                      "base_url": s.base_url},
           lambda m: dash.error_reply(401, "InvalidApiKey", m),
           lambda m: dash.error_reply(400, "InvalidParameter", m),
           lambda m: dash.sse_reply([*dash.stream_events(["par"])[:1],
                                   dash.error_event("InvalidParameter", m)]),
           env=("DASHSCOPE_API_KEY",), loggers=("dashscope",)),
    Family("zhipuai", zhipu.ZhipuAIServer,
           lambda s: {"model_type": "zhipuai_chat", "model_name": "glm-4",
                      "base_url": s.base_url},
           lambda m: zhipu.error_reply("unauthorized", message=m),
           lambda m: zhipu.error_reply("bad_request", message=m),
           lambda m: zhipu.sse_reply([*zhipu.chat_chunks(["par"])[:1],
                                    {"error": {"code": "1214", "message": m}}]),
           env=("ZHIPUAI_API_KEY", "ZAI_API_KEY"), loggers=("zai", "httpx")),
    Family("ollama", oll.OllamaServer,
           lambda s: {"model_type": "ollama_chat", "model_name": "llama3.2", "base_url": s.url},
           lambda m: oll.error_reply(401, m),
           lambda m: oll.error_reply(400, m),
           lambda m: oll.stream_reply([*oll.chat_chunks(["Yes"])[:1], {"error": m}]),
           env=("OLLAMA_API_KEY",), loggers=("httpx",)),
    Family("huggingface", hf.HFServer,
           lambda s: {"model_type": "hf_inference_chat", "model_name": "tgi", "base_url": s.url},
           lambda m: hf.error_reply(401, m, nested=True),
           lambda m: hf.error_reply(400, m, error_type="validation"),
           lambda m: hf.sse([hf.chat_chunks(["par"])[0],
                           {"error": m, "error_type": "generation"}]),
           key_field="token", env=("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
           loggers=("huggingface_hub", "httpx")),
    Family("post_api", post.PostAPIServer,
           lambda s: {"model_type": "post_api_chat", "api_url": s.url + "/llm/"},
           lambda m: post.error_reply(401, m),
           lambda m: post.error_reply(400, m),
           lambda m: post.sse([post.chunk("par"),
                             {"error": {"message": m, "type": "invalid_request_error"}}],
                            done=False),
           key_field="headers", loggers=("httpx",)),
]

CASES = {"401": ("unauthorized", errors.AuthenticationError, False),
         "400": ("bad_request", errors.BadRequestError, False),
         "stream": ("stream_error", errors.ModelCallError, True)}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[type[LoopbackServer], LoopbackServer]]:
    started: dict[type[LoopbackServer], LoopbackServer] = {}
    yield started
    for server in started.values():
        server.stop()


def _server(servers: dict[type[LoopbackServer], LoopbackServer],
            cls: type[LoopbackServer]) -> LoopbackServer:
    server = servers.get(cls)
    if server is None:
        server = servers[cls] = cls().start()
    server.reset()
    return server


def _error_surfaces(error: BaseException) -> Iterator[str]:
    for link in chain(error):
        yield str(link)
        yield repr(link)
        yield repr(link.args)
        yield repr(getattr(link, "__dict__", {}))
        yield repr(getattr(link, "__notes__", ()))


def _log_surfaces(records: list[logging.LogRecord]) -> Iterator[str]:
    formatter = logging.Formatter()
    for record in records:
        yield formatter.format(record)
        yield repr(record.args)
        yield repr(record.__dict__)


def _request_surfaces(server: LoopbackServer) -> Iterator[str]:
    for request in server.requests:
        yield repr(request.headers)
        yield request.path + repr(request.query)
        yield request.body.decode("utf-8", "replace")


def _config(family: Family, server: LoopbackServer, via: str) -> dict[str, Any]:
    config = {"config_name": f"canary-{family.name}", "max_retries": 0,
              **family.config(server)}
    if via == "config":
        if family.key_field == "headers":
            config["headers"] = {"Authorization": f"Bearer {KEY}"}
        else:
            config[family.key_field] = KEY
    return config


PARAMS = [(f, via, case) for f in FAMILIES for via in ("config", "env")
          for case in CASES if via == "config" or f.env]


@pytest.mark.parametrize(("family", "via", "case"), PARAMS,
                         ids=[f"{f}-{via}-{case}" for f, via, case in PARAMS])
def test_a_canary_key_leaks_nowhere(family: Family, via: str, case: str,
                                    servers: dict[type[LoopbackServer], LoopbackServer],
                                    caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no saved Hugging Face login is read
    for name in {n for f in FAMILIES for n in f.env}:
        monkeypatch.delenv(name, raising=False)
    if via == "env":
        for name in family.env:
            monkeypatch.setenv(name, KEY)
    caplog.set_level(logging.DEBUG)
    for name in family.loggers:
        caplog.set_level(logging.DEBUG, logger=name)
    server = _server(servers, family.server)
    reply, expected, stream = CASES[case]
    # the server echoes the key it was sent (from the environment, it is sent none)
    server.enqueue(getattr(family, reply)(MESSAGE.format(KEY if via == "config" else "")))

    registry = Registry()
    registry.init(_config(family, server, via))
    model = registry.get(f"canary-{family.name}")
    with pytest.raises(expected) as info:
        if stream:
            for _ in model("hi", stream=True):
                pass
        else:
            model("hi")

    assert len(server.requests) == 1  # the error came from the server, not before
    sent = list(_request_surfaces(server))
    if via == "config":  # the key was used, so the surfaces below had it to hand
        assert any(KEY in s for s in sent)
    else:  # a key from the environment never goes to a host not the provider's
        assert not [s for s in sent if PART in s]
    surfaces = [*_error_surfaces(info.value), *_log_surfaces(caplog.records),
                repr(model), repr(model.config), str(model.config.model_dump())]
    leaked = [s[:120] for s in surfaces if PART in s]
    assert not leaked
    # the echo reached the error (masked), rather than being dropped on the way
    assert "Incorrect API key provided" in str(info.value)
