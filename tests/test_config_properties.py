"""The config loader under generated input: every input loads or raises ConfigError
(never anything else), and a failed init() leaves the registry exactly as it was;
YAML that asks for Python objects is refused; 32 threads calling and re-initialising
one registry at once finish cleanly with a consistent registry."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelhub import errors
from modelhub.registry import Registry

EXAMPLES = settings(max_examples=2000, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
BASE = {"config_name": "base", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
        "fallbacks": [], "budget": 5}

MODEL_TYPES = ["openai_chat", "openai", "openai_embedding", "openai_dall_e", "dashscope_chat",
               "ollama_chat", "post_api_chat", "anthropic_chat", "gemini_chat",
               "zhipuai_chat", "litellm_chat", "no_such_type", "", "OPENAI_CHAT"]
FIELDS = ["config_name", "model_type", "model_name", "api_key", "base_url", "timeout",
          "max_retries", "retry", "fallbacks", "fallback_on", "rpm", "tpm", "pricing",
          "budget", "log", "generate_args", "headers", "stream", "client_args", "host",
          "api_url", "organization", "proxy", "verify_ssl", "parse_retries", "typo_field"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["base", "a", "b", "${UNSET_VAR}", "${X:-7}", "http://127.0.0.1:9/v1",
                     "ftp://x", "sk-\u00e9\u0000key", "rate_limit", "server_error"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from([*FIELDS, "attempts", "backoff_base", "usd", "tokens",
                                     "input", "output", "base_url"]), inner, max_size=4)),
    max_leaves=12)


# Values a field may well hold (most of them valid), so that many inputs load.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "model_name": st.sampled_from(["gpt-4o-mini", "qwen-max", "m"]),
    "api_key": st.sampled_from(["sk-abc123456789", "${X}", "${UNSET_VAR:-k}"]),
    "base_url": st.sampled_from(["http://127.0.0.1:9/v1", "https://api.example.com/v1"]),
    "timeout": st.one_of(st.none(), st.floats(0.01, 600)),
    "max_retries": st.integers(0, 20),
    "retry": st.fixed_dictionaries({}, optional={
        "attempts": st.integers(1, 21), "backoff_base": st.floats(0, 60),
        "backoff_max": st.floats(0, 600), "jitter": st.floats(0, 1),
        "max_retry_after": st.floats(0, 600)}),
    "fallbacks": st.lists(st.sampled_from(["a", "b", "c", "base", "zz"]), max_size=3,
                          unique=True),
    "fallback_on": st.lists(st.sampled_from(["rate_limit", "server_error", "timeout",
                                             "connection", "auth", "budget"]), max_size=3),
    "rpm": st.integers(1, 10_000), "tpm": st.integers(1, 10**7),
    "pricing": st.fixed_dictionaries({}, optional={"input": st.floats(0, 100),
                                                   "output": st.floats(0, 100)}),
    "budget": st.one_of(st.floats(0, 100), st.fixed_dictionaries(
        {"tokens": st.integers(0, 10**9)}, optional={"usd": st.floats(0, 100)})),
    "log": st.sampled_from(["calls.db", "logs/calls.db"]),
    "generate_args": st.dictionaries(st.sampled_from(["temperature", "top_p", "seed"]),
                                     st.floats(0, 1), max_size=2),
    "stream": st.booleans(), "parse_retries": st.integers(0, 10),
}


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if draw(st.integers(0, 9)) > 0:
        config["config_name"] = draw(st.sampled_from(["a", "b", "c", "base", "", "x y"]))
    if draw(st.integers(0, 9)) > 0:
        config["model_type"] = draw(st.sampled_from(MODEL_TYPES[:4] if draw(st.booleans())
                                                    else MODEL_TYPES))
    fields = st.sampled_from(FIELDS if draw(st.integers(0, 3)) == 0 else list(PLAUSIBLE))
    for field in draw(st.lists(fields, max_size=5, unique=True)):
        plausible = PLAUSIBLE.get(field)
        if plausible is not None and draw(st.integers(0, 9)) > 0:
            config[field] = draw(plausible)
        else:
            config[field] = draw(values)
    return config


sources = st.one_of(configs(), configs(), st.lists(configs(), max_size=3), values)


def snapshot(reg: Registry) -> list[tuple[str, Any]]:
    return [(name, reg.entry(name).config) for name in reg.list_configs()]


@EXAMPLES
@given(source=sources, clear=st.booleans())
def test_every_input_loads_or_is_a_config_error(source: Any, clear: bool) -> None:
    reg = Registry()
    reg.init(BASE)
    before = snapshot(reg)
    try:
        names = reg.init(source, clear_existing=clear, environ={"X": "1"})
    except errors.ConfigError as error:
        after = snapshot(reg)
        assert [n for n, _ in after] == [n for n, _ in before]
        assert all(a is b for (_, a), (_, b) in zip(after, before))  # the same objects
        assert str(error)  # renders
        return
    assert set(names) <= set(reg.list_configs())
    for name in names:  # what loaded is whole and valid
        config = reg.entry(name).config
        assert config.config_name == name
        timeout = getattr(config, "timeout", None)
        assert timeout is None or math.isfinite(timeout)
        for target in config.fallbacks:
            assert target in reg.list_configs()


yaml_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from([
        "- config_name: a\n", "  model_type: openai_chat\n", "  fallbacks: [b]\n",
        "- config_name: b\n", "  model_type: ollama_chat\n", "  timeout: .inf\n",
        "  budget: {usd: -1}\n", "  retry: {attempts: 3}\n", "  rpm: 0\n", "x: &a [*a]\n",
        "  api_key: !!binary aGk=\n", "---\n", "  <<: {model_type: x}\n", "\t- bad\n",
        "  log: ''\n", "models:\n", "  - {config_name: c, model_type: openai}\n",
    ]), max_size=8).map("".join))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=yaml_texts)
def test_every_yaml_file_loads_or_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    reg = Registry()
    reg.init(BASE)
    before = snapshot(reg)
    try:
        reg.init(str(path))
    except errors.ConfigError:
        assert snapshot(reg) == before


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/module:os",
])
def test_yaml_asking_for_python_objects_is_refused(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text("config_name: evil\nmodel_type: openai_chat\ngenerate_args:\n"
                    f"  x: {tag.format(marker=marker)}\n", encoding="utf-8")
    reg = Registry()
    with pytest.raises(errors.ConfigError) as info:
        reg.init(str(path))
    assert info.value.issues[0].path == str(path) and info.value.issues[0].line == 4
    assert not marker.exists() and reg.list_configs() == []


def test_32_threads_calling_and_reinitialising_at_once(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump([
        {"config_name": f"echo{i}", "model_type": "echo_chat", "fallbacks": [f"echo{i + 1}"]}
        for i in range(3)] + [{"config_name": "echo3", "model_type": "echo_chat"}]))
    reg = Registry()
    reg.init(str(path))
    barrier = threading.Barrier(32)
    failures: list[BaseException] = []
    calls = [0]
    lock = threading.Lock()

    def caller(n: int) -> None:
        barrier.wait()
        for i in range(20):
            text = reg.get(f"echo{(n + i) % 4}")(f"t{n}-{i}").text
            assert text is not None and f"t{n}-{i}" in text
            with lock:
                calls[0] += 1

    def reloader(n: int) -> None:
        barrier.wait()
        for i in range(10):
            if i % 3 == 2:
                with pytest.raises(errors.ConfigError):  # a bad reload changes nothing
                    reg.init({"config_name": "echo0", "model_type": "echo_chat",
                              "fallbacks": ["missing"]})
            else:
                reg.init(str(path), clear_existing=(n + i) % 2 == 0)

    def run(target: Any, n: int) -> None:
        try:
            target(n)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(caller if n % 2 else reloader, n))
               for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == [] and not any(t.is_alive() for t in threads)
    assert reg.list_configs() == ["echo0", "echo1", "echo2", "echo3"]
    assert [reg.entry(n).config.fallbacks for n in reg.list_configs()] == \
        [["echo1"], ["echo2"], ["echo3"], []]
    assert sum(t.calls for t in reg.usage().values()) == calls[0] == 16 * 20
