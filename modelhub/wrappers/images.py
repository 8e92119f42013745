"""`ImageWrapperBase`: a prompt in, image URLs out (`data:` URLs for images sent as
bytes). A provider implements `_generate` (and `_agenerate` for native async); the
base checks the prompt, merges generation arguments, retries, and checks the answer
holds at least one image."""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability, ModelWrapperBase

__all__ = ["ImageWrapperBase"]


class ImageWrapperBase(ModelWrapperBase):
    """Base of image generation wrappers: `model(prompt)` -> ModelResponse whose
    `image_urls` lists the images."""

    kind: ClassVar[str] = "image"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"images"})

    @staticmethod
    def _prompt(prompt: Any) -> str:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt must be a non-empty string")
        return prompt

    def _checked(self, response: ModelResponse) -> ModelResponse:
        if not response.image_urls:
            raise ResponseParseError("the answer holds no image", response=response.raw,
                                     config_name=self.config_name)
        response.config_name = self.config_name
        return response

    def __call__(self, prompt: str, /, **kwargs: Any) -> ModelResponse:
        """Generate images for a prompt; generation arguments (n, size, ...) as keywords."""
        text, params = self._prompt(prompt), self.merged_params(kwargs)
        return self._checked(self.with_retries(lambda: self._generate(text, params)))

    async def acall(self, prompt: str, /, **kwargs: Any) -> ModelResponse:
        """Async twin of `__call__`."""
        text, params = self._prompt(prompt), self.merged_params(kwargs)
        return self._checked(await self.awith_retries(lambda: self._agenerate(text, params)))

    # -- provider hooks ---------------------------------------------------------------
    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Generate images: a ModelResponse with `image_urls`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _generate")

    async def _agenerate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Async twin of `_generate`; by default `_generate` in a thread."""
        import asyncio

        return await asyncio.to_thread(self._generate, prompt, params)
