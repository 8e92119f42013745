"""A canary key must appear on no surface: repr, str, errors, logs, exports."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from modelhub import errors
from modelhub._secrets import MASK, mask_secrets
from modelhub.registry import Registry

CANARY = "sk-canary-7f3a9c1e5b"


def chat_config(**extra: object) -> dict[str, object]:
    return {"config_name": "c", "model_type": "openai_chat", "model_name": "m",
            "api_key": CANARY, "base_url": "http://127.0.0.1:9/v1", **extra}


def test_config_and_wrapper_reprs_hold_no_key() -> None:
    reg = Registry()
    reg.init(chat_config())
    entry = reg.entry("c")
    wrapper = reg.get("c")
    surfaces = (repr(entry), str(entry), repr(entry.config), str(entry.config),
                entry.config.model_dump_json(), repr(wrapper), str(vars(wrapper)),
                repr(wrapper.endpoint), repr(wrapper.endpoint.context))
    for text in surfaces:
        assert CANARY not in text
    # ...while the endpoint does hold the key it must send
    assert CANARY in wrapper.endpoint.secrets


def test_export_masks_keys_and_secret_headers() -> None:
    reg = Registry()
    reg.init(chat_config(headers={"X-Api-Key": CANARY, "X-Trace": "t1"},
                         client_args={"default_headers": {"Authorization": f"Bearer {CANARY}"}}))
    [exported] = reg.export("c")
    assert CANARY not in repr(exported)
    assert exported["api_key"] == MASK and exported["headers"]["X-Trace"] == "t1"


def test_config_errors_never_echo_values(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(f"- config_name: c\n  model_type: openai_chat\n  api_key: [{CANARY}]\n"
                 f"  timeout: {CANARY}\n  bogus_key: {CANARY}\n"
                 f"- config_name: d\n  model_type: nope\n  api_key: {CANARY}\n")
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(f)
    assert len(info.value.issues) >= 3
    assert CANARY not in str(info.value) and CANARY not in repr(info.value.issues)


def test_malformed_file_error_holds_no_value(tmp_path: Path) -> None:
    f = tmp_path / "m.json"
    f.write_text('[{"config_name": "c", "api_key": "' + CANARY + '" "x": 1}]')
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(f)
    assert CANARY not in str(info.value)


def test_retry_and_connection_logs_hold_no_key(caplog: pytest.LogCaptureFixture) -> None:
    reg = Registry()
    reg.init(chat_config(max_retries=1, base_url="http://127.0.0.1:1/v1",
                         headers={"Authorization": f"Bearer {CANARY}"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.ModelConnectionError) as info:
        reg.get("c")("hi")
    assert CANARY not in caplog.text and CANARY not in str(info.value)
    assert "retry 1/1" in caplog.text


def test_mask_secrets_walks_nested_values() -> None:
    from pydantic import SecretStr

    masked = mask_secrets({"a": [{"token": "t0ken"}], "b": SecretStr("x"), "c": "plain"})
    assert masked == {"a": [{"token": MASK}], "b": MASK, "c": "plain"}


def test_mask_call_masks_a_call_s_secrets_wherever_they_appear() -> None:
    from pydantic import SecretStr

    from modelhub._secrets import mask_call

    token = "tok-0123456789"
    messages = [{"role": "user", "content": f"use {token} and cfg-secret-99 and sk-pw-77"}]
    params = {"api_key": "sk-pw-77", "temperature": 0.5, "max_tokens": 9,
              "extra_headers": {"authorization": f"Bearer {token}", "X-Req-Id": "r1"},
              "extra_query": {"sig": "s1g-value", "page": "2"}, "seed": SecretStr("hidden"),
              "tags": ("a", "b")}
    shown_input, shown_params, found = mask_call(messages, params, ["cfg-secret-99", None])
    assert shown_input == [{"role": "user", "content": f"use {MASK} and {MASK} and {MASK}"}]
    assert shown_params == {"api_key": MASK, "temperature": 0.5, "max_tokens": 9,
                            "extra_headers": {"authorization": MASK, "X-Req-Id": "r1"},
                            "extra_query": {"sig": MASK, "page": "2"}, "seed": MASK,
                            "tags": ["a", "b"]}
    assert {token, "cfg-secret-99", "sk-pw-77", "hidden", f"Bearer {token}"} <= set(found)
    # The originals are untouched.
    assert params["api_key"] == "sk-pw-77" and token in messages[0]["content"]
    # Nothing secret: the copies as they were.
    assert mask_call("hi", {"n": 1})[:2] == ("hi", {"n": 1})


def test_key_echoed_by_the_provider_is_redacted(openai_server: object,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from tests.openai_server import OpenAIServer, error_reply, sse_reply

    assert isinstance(openai_server, OpenAIServer)
    reg = Registry()
    reg.init(chat_config(base_url=openai_server.base_url, max_retries=0))
    model = reg.get("c")
    openai_server.enqueue(error_reply(401, f"Incorrect API key provided: {CANARY}.",
                                      code="invalid_api_key"))
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.AuthenticationError) as info:
        model("hi")
    assert CANARY not in str(info.value) and CANARY not in repr(info.value.body)
    assert MASK in str(info.value)
    openai_server.enqueue(sse_reply([{"error": {"message": f"bad key {CANARY}",
                                                "type": "invalid_request_error"}}], done=False))
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.BadRequestError) as stream_info:
        list(model("hi", stream=True))
    assert CANARY not in str(stream_info.value)
    with caplog.at_level(logging.DEBUG):
        model("a normal call")  # httpx and httpcore log requests at DEBUG
    assert openai_server.last.headers["authorization"] == f"Bearer {CANARY}"  # it was sent
    assert CANARY not in caplog.text


def test_the_log_filter_may_run_while_the_known_secrets_are_being_read() -> None:
    """A garbage collection while the owners' secrets are read can finalize an object
    that logs; the filter then reads them again on the same thread: no deadlock."""
    import threading

    from modelhub import _secrets

    class Owner:
        pass

    owner = Owner()
    _secrets.remember(owner, ["sk-reentrant-0123456789"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "k=sk-reentrant-0123456789",
                               None, None)
    done: list[str] = []

    def nested() -> None:
        with _secrets._known._lock:  # as if inside all(), when a finalizer logs
            _secrets.RedactingFilter().filter(record)
            done.append(record.getMessage())

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done == [f"k={_secrets.MASK}"]
    del owner
