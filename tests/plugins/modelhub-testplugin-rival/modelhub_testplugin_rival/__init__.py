"""A rival plugin: claims `dup_chat`, which modelhub-testplugin claims too."""

from modelhub_testplugin.echo import EchoChatWrapper as RivalWrapper

__all__ = ["RivalWrapper"]
