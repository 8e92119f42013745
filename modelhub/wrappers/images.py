"""`ImageWrapperBase`: a prompt in, image URLs out (`data:` URLs for images sent as
bytes). A provider implements `_generate` (and `_agenerate` for native async); the
base checks the prompt, merges generation arguments, retries, and checks the answer
holds at least one image."""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability, ModelWrapperBase
from modelhub.wrappers.engine_ref import call_engine

__all__ = ["ImageOperation", "ImageWrapperBase"]


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
        """Generate images for a prompt; generation arguments (n, size, ...) as keywords,
        besides the call's own `timeout` and `max_retries`."""
        return call_engine().call(self, (prompt,), kwargs)  # type: ignore[no-any-return]

    async def acall(self, prompt: str, /, **kwargs: Any) -> ModelResponse:
        """Async twin of `__call__`."""
        return await call_engine().acall(self, (prompt,), kwargs)  # type: ignore[no-any-return]

    def _operation(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ImageOperation:
        (prompt,) = args
        return ImageOperation(self, self._prompt(prompt), self._image_params(kwargs))

    def _image_params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """A call's generation arguments over the config's (override to check more)."""
        return self.merged_params(kwargs)

    def _generate_retried(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Generate images, retried by the config's policy, and check the answer
        (override where a call is several requests, each retried on its own)."""
        return self._checked(self.with_retries(lambda: self._generate(prompt, params)))

    async def _agenerate_retried(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Async twin of `_generate_retried`."""
        return self._checked(await self.awith_retries(lambda: self._agenerate(prompt, params)))

    # -- provider hooks ---------------------------------------------------------------
    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Generate images: a ModelResponse with `image_urls`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _generate")

    async def _agenerate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        """Async twin of `_generate`; by default `_generate` in a thread."""
        import asyncio

        return await asyncio.to_thread(self._generate, prompt, params)


class ImageOperation:
    """One image generation call, ready to run (see `modelhub.calls.engine`)."""

    kind = "image"
    stream = False
    __slots__ = ("input", "params", "wrapper")

    def __init__(self, wrapper: ImageWrapperBase, prompt: str, params: dict[str, Any]) -> None:
        self.wrapper = wrapper
        self.input = prompt
        self.params = params

    def run(self) -> ModelResponse:
        """Make the call."""
        return self.wrapper._generate_retried(self.input, self.params)

    async def arun(self) -> ModelResponse:
        """Make the call (async)."""
        return await self.wrapper._agenerate_retried(self.input, self.params)
