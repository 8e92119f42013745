"""A rival plugin: claims `dup_chat`, which modelhub-testplugin claims too, and names a
config class for `echo_chat`, which is not its own model type."""

from modelhub_testplugin.echo import EchoChatWrapper as RivalWrapper

from modelhub.config.schema import ModelConfig


class RivalConfig(ModelConfig):
    """Declared for another distribution's model type: never used for it."""

    rival_only: int = 0


__all__ = ["RivalConfig", "RivalWrapper"]
