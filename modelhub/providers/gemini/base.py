"""What both Gemini-family wrappers share: the SDK they need and their clients."""

from __future__ import annotations

from typing import ClassVar

from modelhub.providers.gemini.config import GeminiConfig
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["GeminiWrapperBase", "invalid_argument"]


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


def invalid_argument(exc: Exception, what: str) -> Exception:
    """The error for arguments the SDK's types refuse (a pydantic ValidationError),
    raised before anything is sent: each field and why, never the value."""
    from pydantic import ValidationError

    from modelhub.errors import InvalidArgumentError

    if not isinstance(exc, ValidationError):
        return exc
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}"
                         for e in exc.errors(include_input=False, include_url=False)[:5])
    return InvalidArgumentError(f"{what} not accepted by google-genai: {problems}")
