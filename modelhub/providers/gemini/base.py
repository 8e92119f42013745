"""What both Gemini-family wrappers share: the SDK they need and their clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from modelhub.providers.gemini.config import GeminiConfig
from modelhub.wrappers.base import ModelWrapperBase

if TYPE_CHECKING:
    from modelhub.http.errors import ErrorContext

__all__ = ["GeminiWrapperBase"]


class GeminiWrapperBase(ModelWrapperBase):
    """Base of the Gemini-family wrappers: one set of SDK clients per wrapper."""

    required_modules: ClassVar[tuple[str, ...]] = ("google.genai",)
    extra: ClassVar[str | None] = "gemini"

    config: GeminiConfig

    def setup(self) -> None:
        """Build the SDK clients' settings (the clients are made on first use)."""
        from modelhub.providers.gemini.client import GeminiClients

        self.clients = GeminiClients(self.config,
                                     "vertexai" if self.config.vertexai else "gemini")


    def error_context(self) -> ErrorContext:
        """The clients' context: its secrets include a key read from the environment."""
        return self.clients.context
