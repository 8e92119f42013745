"""Registry.remove: one config and its wrapper forgotten, the others untouched."""

from __future__ import annotations

import pytest

from modelhub import errors
from modelhub.registry import Registry


def test_remove_forgets_one_config_and_its_wrapper() -> None:
    reg = Registry()
    reg.init([{"config_name": "a", "model_type": "openai_chat", "base_url": "http://127.0.0.1:1/v1"},
              {"config_name": "b", "model_type": "openai_chat", "base_url": "http://127.0.0.1:1/v1"}])
    a, b = reg.get("a"), reg.get("b")
    assert reg.remove("a") is True
    assert reg.list_configs() == ["b"] and reg.get("b") is b
    with pytest.raises(errors.ConfigNotFoundError):
        reg.get("a")
    assert reg.remove("a") is False
    reg.init({"config_name": "a", "model_type": "openai_chat", "base_url": "http://127.0.0.1:2/v1"})
    assert reg.get("a") is not a
