"""`openai_dall_e`: the /images/generations endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIConfig
from modelhub.providers.openai.wire import parse_usage
from modelhub.response import ModelResponse

__all__ = ["OpenAIDallEConfig", "OpenAIDallEWrapper"]

IMAGES_PATH = "/images/generations"


class OpenAIDallEConfig(OpenAIConfig):
    """`openai_dall_e`: the /images/generations endpoint."""


class OpenAIDallEWrapper(OpenAIWrapperBase):
    """`model(prompt)` -> ModelResponse whose `image_urls` lists the images.

    Images the server sends as base64 (`response_format="b64_json"`, or gpt-image
    models) come back as `data:image/png;base64,...` URLs.
    """

    model_type: ClassVar[str] = "openai_dall_e"
    config_class: ClassVar[type[OpenAIDallEConfig]] = OpenAIDallEConfig
    config: OpenAIDallEConfig
    path: ClassVar[str] = IMAGES_PATH

    def payload(self, prompt: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of an image generation request."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt must be a non-empty string")
        return {"model": self.model_name, "prompt": prompt, **self.config.generate_args,
                **kwargs}

    @staticmethod
    def parse(body: Any) -> ModelResponse:
        """A ModelResponse from an images answer."""
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list) or not data:
            raise ResponseParseError("expected a non-empty 'data' list of images", response=body)
        urls = []
        for item in data:
            if item.get("url"):
                urls.append(item["url"])
            elif item.get("b64_json"):
                fmt = body.get("output_format") or "png"
                urls.append(f"data:image/{fmt};base64,{item['b64_json']}")
            else:
                raise ResponseParseError("an image has neither 'url' nor 'b64_json'",
                                         response=body)
        revised = [d["revised_prompt"] for d in data if d.get("revised_prompt")]
        return ModelResponse(image_urls=urls, text="\n".join(revised) or None,
                             usage=parse_usage(body.get("usage")), raw=body)

    def __call__(self, prompt: str, /, **kwargs: Any) -> ModelResponse:
        """Generate images for a prompt; generation arguments (n, size, ...) as keywords."""
        body = self.payload(prompt, kwargs)
        return self.parse(self._retry.call(lambda: self.endpoint.post(self.path, body)))

    async def acall(self, prompt: str, /, **kwargs: Any) -> ModelResponse:
        """Async twin of `__call__`."""
        body = self.payload(prompt, kwargs)
        return self.parse(await self._retry.acall(lambda: self.endpoint.apost(self.path, body)))
