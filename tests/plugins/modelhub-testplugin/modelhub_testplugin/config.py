"""The test plugin's config classes, in a module of their own (what init() imports)."""

from __future__ import annotations

from modelhub.config.schema import ModelConfig


class EchoConfig(ModelConfig):
    """Config of `echo_chat`."""

    prefix: str = "echo: "


class OtherConfig(ModelConfig):
    """Declared for `mismatch_chat` by mistake: not the config class its wrapper takes."""
