"""ZhipuAI keys: sent only to Zhipu's own hosts, never redirected by the SDK's own
environment variables, never on a surface (errors, their chains, logs, reprs) even
when the SDK signs a JWT with them; configs as AgentScope writes them; a missing SDK."""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.providers.zhipuai.chat import ZhipuAIChatWrapper
from modelhub.providers.zhipuai.client import DEFAULT_BASE_URL
from modelhub.registry import Registry
from tests import zhipuai_server as zs
from tests.loopback import json_reply, raw_reply
from tests.zhipuai_server import ZhipuAIServer, sse_reply

# The Zhipu server fixtures (they live with the server).
zhipuai_server_session = zs.zhipuai_server_session
zhipuai_server = zs.zhipuai_server

KEY = "4f1a2b3c4d5e6f708192a3b4c5d6e7f8.AbCdEfGhIjKlMnOpQrStUvWxYz012345"
PARTS = (KEY[:9], KEY.split(".")[1][:9])


def build(config: dict[str, Any]) -> Any:
    reg = Registry()
    reg.init({"config_name": "c", "model_type": "zhipuai_chat", "model_name": "glm-4",
              "max_retries": 0, **config})
    return reg.get("c")


def leaks(*surfaces: Any, secrets: tuple[str, ...] = PARTS) -> list[str]:
    texts = [s if isinstance(s, str) else repr(s) for s in surfaces]
    return [t[:80] for t in texts if any(p in t for p in secrets)]


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def surfaces(error: BaseException) -> list[Any]:
    out: list[Any] = []
    for link in chain(error):
        out += [str(link), repr(link), link.args, *vars(link).values()]
    return out


# -- where a key goes -----------------------------------------------------------------------
def test_without_base_url_the_key_from_the_environment_goes_to_zhipu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", KEY)
    monkeypatch.setenv("ZAI_BASE_URL", "http://127.0.0.1:9/elsewhere")
    monkeypatch.setenv("ZAI_API_KEY", "zai-env-key-0000")
    wrapper = build({})
    assert str(wrapper.client.base_url) == DEFAULT_BASE_URL
    assert wrapper.client.api_key == KEY and wrapper.client.max_retries == 0
    assert wrapper.context.url == f"{DEFAULT_BASE_URL}/chat/completions"


def test_zais_host_takes_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", KEY)
    monkeypatch.setenv("ZAI_API_KEY", "zai-env-key-0000")
    assert build({"base_url": "https://api.z.ai/api/paas/v4"}).client.api_key == \
        "zai-env-key-0000"
    assert build({"base_url": "https://open.bigmodel.cn:443/api/paas/v4/"}).client.api_key == KEY


def test_an_environment_key_never_goes_elsewhere(zhipuai_server: ZhipuAIServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", KEY)
    monkeypatch.setenv("ZAI_API_KEY", KEY)
    monkeypatch.setenv("ZAI_BASE_URL", "http://127.0.0.1:9/elsewhere")
    assert build({"base_url": zhipuai_server.base_url})("hi").text == "echo: hi"
    assert "authorization" not in zhipuai_server.last.headers  # no key at all, not an empty one
    # http (not https) on Zhipu's host name is not Zhipu's host either
    assert build({"base_url": "http://open.bigmodel.cn/api/paas/v4"}).client.api_key == ""


def test_a_configured_key_goes_where_the_config_says(zhipuai_server: ZhipuAIServer) -> None:
    build({"base_url": zhipuai_server.base_url, "api_key": KEY,
           "headers": {"X-Trace": "t1"}})("hi")
    assert zhipuai_server.last.headers["authorization"] == f"Bearer {KEY}"
    assert zhipuai_server.last.headers["x-trace"] == "t1"
    assert zhipuai_server.last.headers["x-source-channel"] == "python-sdk"


# -- never on a surface -----------------------------------------------------------------------
@pytest.mark.parametrize("reply", [
    json_reply({"error": {"code": "1002", "message": f"Authorization Token非法 {KEY}"}}, 401),
    json_reply({"error": {"code": "1214", "message": "x" * 2990 + KEY}}, 400),
    raw_reply(500, ("y" * 495 + KEY).encode(), {"content-type": "text/plain"}),
    sse_reply([{"error": {"code": "1301", "message": f"bad {KEY[:20]}"}}]),
])
def test_an_answer_quoting_the_key_leaks_no_part_of_it(zhipuai_server: ZhipuAIServer,
                                                       reply: Any) -> None:
    zhipuai_server.enqueue(reply)
    wrapper = build({"base_url": zhipuai_server.base_url, "api_key": KEY})
    with pytest.raises(errors.ModelAPIError) as info:
        list(wrapper("hi", stream=True))
    assert not leaks(*surfaces(info.value))
    assert info.value.__context__ is None


def test_a_signed_token_is_redacted_like_the_key(zhipuai_server: ZhipuAIServer) -> None:
    wrapper = build({"base_url": zhipuai_server.base_url, "api_key": KEY,
                     "client_args": {"disable_token_cache": False}})
    assert wrapper("hi").text == "echo: hi"
    token = zhipuai_server.last.headers["authorization"].removeprefix("Bearer ")
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims["api_key"] == KEY.split(".")[0]  # the SDK's JWT, signed with the secret
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["sign_type"] == "SIGN"
    zhipuai_server.enqueue(json_reply({"error": {"code": "1004", "message": f"token {token} bad"}}, 401))
    with pytest.raises(errors.AuthenticationError) as info:
        wrapper("hi")
    assert not leaks(*surfaces(info.value), secrets=(*PARTS, token[:20], token[-20:]))


def test_a_key_unfit_for_signing_is_a_config_error() -> None:
    with pytest.raises(errors.ConfigError, match=r"id\.secret"):
        build({"api_key": "no-dot-key", "disable_token_cache": False})


def test_logs_hold_no_key(zhipuai_server: ZhipuAIServer, caplog: pytest.LogCaptureFixture) -> None:
    wrapper = build({"base_url": zhipuai_server.base_url, "api_key": KEY})
    with caplog.at_level(logging.DEBUG):
        wrapper("hi")
        zhipuai_server.enqueue(json_reply({"error": {"code": "1000", "message": f"bad {KEY}"}}, 401))
        with pytest.raises(errors.AuthenticationError):
            wrapper("hi")
    assert "HTTP Request: POST" in caplog.text
    assert not leaks(caplog.text)


def test_reprs_and_exports_hold_no_key(zhipuai_server: ZhipuAIServer) -> None:
    wrapper = build({"base_url": zhipuai_server.base_url, "client_args": {"api_key": KEY}})
    assert wrapper.client.api_key == KEY  # folded from client_args
    assert not leaks(repr(wrapper), repr(wrapper.config), wrapper.config.model_dump(),
                     wrapper.config.model_dump_json(), wrapper.context)


# -- configs ----------------------------------------------------------------------------------
AGENTSCOPE = Path("/work/ref/agentscope-v0.1.6/examples/model_configs_template")


def test_agentscopes_zhipuai_templates_load(tmp_path: Path) -> None:
    configs = [{"config_name": "zhipuai_chat-glm", "model_type": "zhipuai_chat",
                "model_name": "glm-4", "api_key": "{your_api_key}"},
               {"config_name": "zhipu-embedding", "model_type": "zhipuai_embedding",
                "model_name": "embedding-2", "api_key": "{your_api_key}"},
               {"config_name": "full", "model_type": "zhipuai_chat", "model_name": "glm-4",
                "api_key": "k", "stream": True, "budget": 1.0,
                "client_args": {"base_url": "https://open.bigmodel.cn/api/paas/v4",
                                "timeout": 30, "max_retries": 1,
                                "custom_headers": {"X-Trace": "1"}},
                "generate_args": {"temperature": 0.5, "top_p": 0.7}}]
    for name in ("zhipu_chat_template.json", "zhipu_embedding_template.json"):
        if (AGENTSCOPE / name).exists():  # the reference templates, verbatim
            configs += json.loads((AGENTSCOPE / name).read_text())
            configs[-1]["config_name"] += "-ref"
    f = tmp_path / "zhipu.json"
    f.write_text(json.dumps(configs))
    reg = Registry()
    assert len(reg.init(str(f))) == len(configs)
    full = reg.get("full").config
    assert (full.timeout, full.max_retries, full.stream) == (30, 1, True)
    assert full.wire_headers() == {"X-Trace": "1"}


def test_config_errors_are_caught_at_load() -> None:
    reg = Registry()
    with pytest.raises(errors.ConfigError) as info:
        reg.init([{"config_name": "a", "model_type": "zhipuai_chat",
                   "generate_args": {"temprature": 0.5}},
                  {"config_name": "b", "model_type": "zhipuai_chat", "api_key": "k1",
                   "client_args": {"api_key": "k2"}},
                  {"config_name": "c", "model_type": "zhipuai_embedding", "dimension": 256}])
    text = str(info.value)
    assert "did you mean 'temperature'?" in text and "both at top level" in text
    assert "field 'dimension'" in text and "dimensions'?" in text


def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    check = ZhipuAIChatWrapper.check_dependencies.__func__  # type: ignore[attr-defined]
    check.cache_clear()
    monkeypatch.setitem(sys.modules, "zai", None)
    try:
        with pytest.raises(errors.MissingDependencyError) as info:
            build({"api_key": "k"})
        assert "pip install 'modelhub[zhipuai]'" in str(info.value)
        assert info.value.extra == "zhipuai"
    finally:
        check.cache_clear()
