"""`post_api_dall_e` (alias `post_api_dalle`): images from any HTTP endpoint.

The body is `{messages_key: prompt, **json_args, **generate_args}`; the image URLs are
read at `response_path` (default `data.response.data.*.url`, as AgentScope reads
them). An answer that carries an `error` object instead is raised as the API error it
names.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import parse_answer
from modelhub.providers.post_api.base import PostAPIWrapperBase
from modelhub.providers.post_api.config import PostAPIDallEConfig
from modelhub.providers.post_api.paths import MISSING
from modelhub.response import ModelResponse
from modelhub.wrappers.images import ImageWrapperBase

__all__ = ["PostAPIDallEWrapper"]


class PostAPIDallEWrapper(PostAPIWrapperBase, ImageWrapperBase):
    """`model(prompt)` -> ModelResponse whose `image_urls` lists the images."""

    model_type: ClassVar[str] = "post_api_dall_e"
    config_class: ClassVar[type[PostAPIDallEConfig]] = PostAPIDallEConfig
    config: PostAPIDallEConfig

    def parse(self, body: Any) -> ModelResponse:
        """A ModelResponse from an answer, read by the config's paths."""
        found = self.answer.find(body)
        if found is MISSING:
            self.error_in(body)
            raise self.no_match(self.answer, body, "the image URLs")
        urls = [found] if isinstance(found, str) else found
        if not isinstance(urls, list) or not all(isinstance(u, str) and u for u in urls):
            raise ResponseParseError(f"response_path {self.answer.text!r} leads to "
                                     "something other than URL strings")
        return ModelResponse(image_urls=list(urls), usage=self.parse_usage(body), raw=body)

    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        body = self.post(self.body(prompt, params))
        return parse_answer(self.parse, body, self.context)

    async def _agenerate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        body = await self.apost(self.body(prompt, params))
        return parse_answer(self.parse, body, self.context)
