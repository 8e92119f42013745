"""`openai_dall_e`: the /images/generations endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import optional_str, parse_answer
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIDallEConfig
from modelhub.providers.openai.wire import parse_usage
from modelhub.response import ModelResponse
from modelhub.wrappers.images import ImageWrapperBase

__all__ = ["OpenAIDallEConfig", "OpenAIDallEWrapper", "parse_images"]

IMAGES_PATH = "/images/generations"


def parse_images(body: Any) -> ModelResponse:
    """A ModelResponse from an images answer; base64 images become `data:` URLs."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list) or not data:
        raise ResponseParseError("expected a non-empty 'data' list of images", response=body)
    urls = []
    for item in data:
        if not isinstance(item, Mapping):
            raise ResponseParseError("an image is not an object", response=body)
        if item.get("url"):
            urls.append(optional_str(item["url"], "an image url") or "")
        elif item.get("b64_json"):
            fmt = optional_str(body.get("output_format"), "output_format") or "png"
            encoded = optional_str(item["b64_json"], "an image's b64_json")
            urls.append(f"data:image/{fmt};base64,{encoded}")
        else:
            raise ResponseParseError("an image has neither 'url' nor 'b64_json'",
                                     response=body)
    revised = [str(d["revised_prompt"]) for d in data if d.get("revised_prompt")]
    return ModelResponse(image_urls=urls, text="\n".join(revised) or None,
                         usage=parse_usage(body.get("usage")), raw=body)


class OpenAIDallEWrapper(OpenAIWrapperBase, ImageWrapperBase):
    """`model(prompt)` -> ModelResponse whose `image_urls` lists the images.

    Images the server sends as base64 (`response_format="b64_json"`, or gpt-image
    models) come back as `data:image/png;base64,...` URLs.
    """

    model_type: ClassVar[str] = "openai_dall_e"
    config_class: ClassVar[type[OpenAIDallEConfig]] = OpenAIDallEConfig
    config: OpenAIDallEConfig
    path: ClassVar[str] = IMAGES_PATH

    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        body = {"model": self.model_name, "prompt": prompt, **params}
        return parse_answer(parse_images, self.endpoint.post(self.path, body),
                            self.endpoint.context)

    async def _agenerate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        body = {"model": self.model_name, "prompt": prompt, **params}
        return parse_answer(parse_images, await self.endpoint.apost(self.path, body),
                            self.endpoint.context)
