"""`dashscope_image_synthesis`: the ImageSynthesis API, an asynchronous task: created,
then polled until it SUCCEEDED or FAILED, the whole bounded by the config's `timeout`.

Creating the task and each poll are retried on their own under the config's policy; a
task that runs out of time is not created again (each one costs). Images given as
local files (`ref_img`, `images`, ...) are uploaded first, as for the multimodal
wrapper.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from modelhub.errors import ResponseParseError, UnsupportedFeatureError
from modelhub.http.errors import api_error, optional_str, timeout_error
from modelhub.providers.dashscope.base import DashScopeWrapperBase
from modelhub.providers.dashscope.config import DashScopeImageSynthesisConfig
from modelhub.providers.dashscope.errors import answer_error
from modelhub.providers.dashscope.messages import is_local
from modelhub.providers.dashscope.wire import check_answer
from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.images import ImageWrapperBase
from modelhub.wrappers.sdk import acall_sdk, call_sdk

__all__ = ["DashScopeImageSynthesisConfig", "DashScopeImageSynthesisWrapper", "parse_task"]

T = TypeVar("T")

# Generation arguments that may name an input image, and so a local file to upload.
_IMAGE_INPUTS = ("images", "sketch_image_url", "ref_img", "mask_image_url", "base_image_url")
_FINISHED = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
_MAX_POLL_INTERVAL = 5.0


class _Deadline:
    """When a call must be over (None: never)."""

    __slots__ = ("end",)

    def __init__(self, timeout: float | None) -> None:
        self.end = None if timeout is None else time.monotonic() + timeout

    def left(self) -> float | None:
        """Seconds left (None: no limit), never quite 0 (a timeout of 0 means none)."""
        return None if self.end is None else max(self.end - time.monotonic(), 0.001)

    def passed(self) -> bool:
        """Whether the time is up."""
        return self.end is not None and time.monotonic() >= self.end


def parse_task(answer: Mapping[str, Any]) -> ModelResponse:
    """A ModelResponse from a SUCCEEDED task: its images' URLs (results that failed on
    their own carry a code instead of a URL, and are left out), `image_count` usage."""
    output = answer.get("output")
    results = output.get("results") if isinstance(output, Mapping) else None
    if not isinstance(results, list):
        raise ResponseParseError("a finished task has no output.results")
    urls = [optional_str(r.get("url"), "an image url") or "" for r in results
            if isinstance(r, Mapping) and r.get("url")]
    usage = answer.get("usage")
    count = usage.get("image_count") if isinstance(usage, Mapping) else None
    return ModelResponse(image_urls=urls, raw=answer,
                         usage=Usage(details={"image_count": count}) if count else None)


class DashScopeImageSynthesisWrapper(DashScopeWrapperBase, ImageWrapperBase):
    """`model(prompt)` -> ModelResponse whose `image_urls` lists the images; size, n,
    negative_prompt, ... as generation arguments."""

    model_type: ClassVar[str] = "dashscope_image_synthesis"
    config_class: ClassVar[type[DashScopeImageSynthesisConfig]] = DashScopeImageSynthesisConfig
    config: DashScopeImageSynthesisConfig
    service_path: ClassVar[str] = "/services/aigc/text2image/image-synthesis"

    # -- the calls: creation and each poll retried on their own --------------------------
    def _generate_retried(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        return self._checked(self._run(prompt, params, self.with_retries))

    async def _agenerate_retried(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        # The SDK's AioImageSynthesis.
        return self._checked(await self._arun(prompt, params, self.awith_retries))

    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        return self._run(prompt, params, lambda attempt: attempt())

    async def _agenerate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        async def once(attempt: Callable[[], Awaitable[T]]) -> T:
            return await attempt()

        return await self._arun(prompt, params, once)

    def _image_params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.pop("save_local", False):
            raise UnsupportedFeatureError(
                f"config {self.config_name!r}: save_local is not supported; the images "
                "are at resp.image_urls (DashScope keeps them for 24 hours)",
                config_name=self.config_name, capability="images")
        params = self.merged_params(kwargs)
        self.check_reserved(params)
        return params

    def _with_uploads(self, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """`params` with local input images uploaded (the SDK would ask its module-wide
        address for the upload policy), and whether any was."""
        def values(key: str) -> list[Any]:
            value = params.get(key)
            return value if isinstance(value, list) else [value]

        if not any(is_local(v) for key in _IMAGE_INPUTS for v in values(key)):
            return params, False
        upload = self.uploader()
        out = dict(params)
        for key in _IMAGE_INPUTS:
            value = out.get(key)
            if isinstance(value, list):
                out[key] = [upload(v) if is_local(v) else v for v in value]
            elif is_local(value):
                out[key] = upload(value)
        return out, True

    def _create_kwargs(self, prompt: str, params: dict[str, Any], uploaded: bool,
                       deadline: _Deadline, **transport: Any) -> dict[str, Any]:
        kwargs = {"model": self.model_name, "prompt": prompt, **params,
                  **self.sdk_kwargs(deadline.left(), **transport)}
        if uploaded:  # has DashScope resolve the oss:// URLs
            kwargs["headers"]["X-DashScope-OssResourceResolve"] = "enable"
        return kwargs

    def _task_id(self, answer: Any) -> str:
        check_answer(answer, self.context)
        output = answer.get("output")
        task_id = output.get("task_id") if isinstance(output, Mapping) else None
        if not isinstance(task_id, str) or not task_id:
            raise ResponseParseError("the task was not created: no output.task_id",
                                     response=dict(answer), **self.context.fields())
        return task_id

    def _task_request(self, task_id: str, deadline: _Deadline, **transport: Any) -> Any:
        """The SDK's GET of a task at this config's address (its `fetch` takes none)."""
        from dashscope.api_entities.api_request_factory import _build_api_request
        from dashscope.common.constants import HTTPMethod

        kwargs = self.sdk_kwargs(deadline.left(), **transport)
        kwargs.pop("api_key")
        workspace = kwargs.pop("workspace", None)
        if workspace is not None:
            kwargs["headers"]["X-DashScope-WorkSpace"] = workspace
        kwargs.update(base_address=f"{self.base_address}/tasks/{task_id}",
                      api_key=self.sdk_key(), is_service=False, http_method=HTTPMethod.GET)
        return call_sdk(lambda: _build_api_request("", "", "", "", "", **kwargs), self.map_error)

    def _finished(self, task_id: str, answer: Any) -> ModelResponse | None:
        """The result of a finished task (an error for one that failed); None while it
        runs."""
        check_answer(answer, self.context)
        output = answer.get("output")
        status = output.get("task_status") if isinstance(output, Mapping) else None
        if status not in _FINISHED:
            return None
        assert isinstance(output, Mapping)
        if status == "SUCCEEDED":
            response = parse_task(answer)
            failed = [r for r in output.get("results") or () if isinstance(r, Mapping)
                      and not r.get("url") and r.get("code")]
            if not response.image_urls and failed:
                raise answer_error({**failed[0], "request_id": answer.get("request_id")},
                                   self.context)
            return response
        if status == "FAILED":
            raise answer_error({"code": output.get("code"), "message": output.get("message"),
                                "request_id": answer.get("request_id")}, self.context)
        raise api_error(None, f"task {task_id} ended {status}: {output.get('message') or ''}",
                        context=self.context, body=dict(output))

    def _next_wait(self, polls: int, deadline: _Deadline) -> float:
        interval = min(self.config.poll_interval * 2.0 ** (polls // 3), _MAX_POLL_INTERVAL)
        left = deadline.left()
        return interval if left is None else min(interval, left)

    def _in_time(self, task_id: str, deadline: _Deadline) -> None:
        if deadline.passed():
            raise timeout_error(self.context, f"task {task_id} had not finished")

    # -- sync ------------------------------------------------------------------------
    def _run(self, prompt: str, params: dict[str, Any],
             retry: Callable[[Callable[[], Any]], Any]) -> ModelResponse:
        from dashscope import ImageSynthesis

        deadline = _Deadline(self.config.timeout)
        params, uploaded = self._with_uploads(params)
        task_id: str = retry(lambda: self._task_id(call_sdk(lambda: ImageSynthesis.async_call(
            **self._create_kwargs(prompt, params, uploaded, deadline)), self.map_error)))
        polls = 0
        while True:
            time.sleep(self._next_wait(polls, deadline))
            self._in_time(task_id, deadline)
            polls += 1
            answer = retry(lambda: self._checked_poll(call_sdk(
                self._task_request(task_id, deadline).call, self.map_error)))
            done = self._finished(task_id, answer)
            if done is not None:
                return done

    def _checked_poll(self, answer: Any) -> Any:
        check_answer(answer, self.context)
        return answer

    # -- async -----------------------------------------------------------------------
    async def _arun(self, prompt: str, params: dict[str, Any],
                    retry: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
                    ) -> ModelResponse:
        import asyncio

        from dashscope.aigc.image_synthesis import AioImageSynthesis

        deadline = _Deadline(self.config.timeout)
        params, uploaded = await asyncio.to_thread(self._with_uploads, params)

        async def create() -> str:
            async with self.aio_session() as session:
                kwargs = self._create_kwargs(prompt, params, uploaded, deadline,
                                             aio_session=session, sync=False)
                return self._task_id(await acall_sdk(
                    lambda: AioImageSynthesis.async_call(**kwargs), self.map_error))

        async def poll(task_id: str) -> Any:
            async with self.aio_session() as session:
                request = self._task_request(task_id, deadline, aio_session=session,
                                             sync=False)
                return self._checked_poll(await acall_sdk(lambda: _one(request),
                                                          self.map_error))

        task_id: str = await retry(create)
        polls = 0
        while True:
            await asyncio.sleep(self._next_wait(polls, deadline))
            self._in_time(task_id, deadline)
            polls += 1
            done = self._finished(task_id, await retry(lambda: poll(task_id)))
            if done is not None:
                return done


async def _one(request: Any) -> Any:
    """The one answer of an SDK request's async call."""
    return await request.aio_call()
