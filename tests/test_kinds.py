"""The kind bases: what a wrapper gets for free from the hooks it implements, stop
strings trimmed where an API cannot stop, clear errors for what it cannot do, and
embedding batches."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import modelhub
from modelhub import errors
from modelhub.plugin import (
    Capability,
    ChatRequest,
    ChatWrapperBase,
    EmbeddingWrapperBase,
    ImageWrapperBase,
    ModelConfig,
    ModelResponse,
    StreamSource,
    Usage,
    mean_pool,
)
from modelhub.retry import RetryPolicy
from modelhub.wrappers.stops import StopTrimmer, trim_at_stop


class CompleteOnly(ChatWrapperBase):
    """Implements `_complete` only, as the README's plugin example does."""

    model_type: ClassVar[str] = "complete_only"
    threads: ClassVar[set[str]] = set()

    def _complete(self, request: ChatRequest) -> ModelResponse:
        type(self).threads.add(threading.current_thread().name)
        return ModelResponse(text="one two. three", finish_reason="stop",
                             usage=Usage(1, 3, 4))


class StreamOnly(ChatWrapperBase):
    """Implements `_open_stream` only."""

    model_type: ClassVar[str] = "stream_only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"streaming"})

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        pieces = ["Thought: hm", "m\nAct", "ion: x\nObser", "vation: y"]

        def deltas() -> Iterator[str]:
            yield from pieces

        return deltas(), lambda: ModelResponse(text="".join(pieces), finish_reason="stop")


class Neither(ChatWrapperBase):
    model_type: ClassVar[str] = "neither"


def build(cls: type[ChatWrapperBase]) -> ChatWrapperBase:
    return cls(config_name="x")


def test_complete_only_gets_async_in_a_thread_and_a_one_chunk_stream() -> None:
    import asyncio

    model = build(CompleteOnly)
    stream = model("hi", stream=True)
    assert list(stream) == ["one two. three"] and stream.usage == Usage(1, 3, 4)
    CompleteOnly.threads.clear()
    resp = asyncio.run(model.acall("hi"))
    assert resp.text == "one two. three" and CompleteOnly.threads != {"MainThread"}

    async def astream() -> list[str]:
        s = await model.acall("hi", stream=True)
        return [d async for d in s]

    assert asyncio.run(astream()) == ["one two. three"]


def test_stream_only_gets_a_plain_call_and_async_streaming() -> None:
    import asyncio

    model = build(StreamOnly)
    assert model("hi", stream=False).text == "Thought: hmm\nAction: x\nObservation: y"

    async def astream() -> list[str]:
        s = await model.acall("hi", stream=True)
        return [d async for d in s]

    assert "".join(asyncio.run(astream())) == "Thought: hmm\nAction: x\nObservation: y"
    assert asyncio.run(model.acall("hi", stream=False)).finish_reason == "stop"


def test_a_wrapper_with_no_hook_is_refused_when_built() -> None:
    with pytest.raises(TypeError, match="neither _complete nor _open_stream"):
        build(Neither)


def test_stop_is_trimmed_for_an_api_that_cannot_stop() -> None:
    model = build(StreamOnly)
    assert model("hi", stream=False, stop=["\nObservation:"]).text == \
        "Thought: hmm\nAction: x"
    stream = model("hi", stream=True, stop=["\nObservation:", "zzz"])
    assert "".join(stream) == "Thought: hmm\nAction: x"  # the stop string was split
    assert stream.text == "Thought: hmm\nAction: x" and stream.finish_reason == "stop"
    assert build(CompleteOnly)("hi", stop=".").text == "one two"


def test_stop_trimmer_holds_back_only_what_may_begin_a_stop() -> None:
    trimmer = StopTrimmer(["END"])
    assert trimmer.feed("abc E") == "abc "
    assert trimmer.feed("x") == "Ex"
    assert trimmer.feed("EN") == ""
    assert trimmer.feed("D more") == "" and trimmer.flush() == ""
    assert trim_at_stop("a STOP b END", ["END", "STOP"]) == "a "


@pytest.mark.parametrize(("kwargs", "capability"), [
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}]}, "vision"),
    ({"messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}]}, "audio"),
])
def test_asking_for_what_a_wrapper_cannot_do_fails_before_any_call(
        kwargs: dict[str, Any], capability: str) -> None:
    model = build(CompleteOnly)
    CompleteOnly.threads.clear()
    messages = kwargs.pop("messages", "hi")
    with pytest.raises(errors.UnsupportedFeatureError) as info:
        model(messages, **kwargs)
    assert info.value.capability == capability and info.value.config_name == "x"
    assert "complete_only" in str(info.value) and CompleteOnly.threads == set()


def test_the_readme_plugin_example_works_with_chat_and_acall() -> None:
    import asyncio

    class EchoConfig(modelhub.ModelConfig):
        prefix: str = "echo: "

    class EchoChatWrapper(modelhub.ChatWrapperBase):
        model_type = "readme_echo"
        config_class = EchoConfig
        required_modules = ()

        def _complete(self, request: modelhub.ChatRequest) -> modelhub.ModelResponse:
            return modelhub.ModelResponse(
                text=self.config.prefix + request.messages[-1]["content"])  # type: ignore[attr-defined]

    modelhub.register("readme_echo", EchoChatWrapper)
    try:
        from modelhub.registry import Registry

        reg = Registry()
        reg.init({"config_name": "e", "model_type": "readme_echo"})
        model = reg.get("e", modelhub.ChatWrapperBase)
        assert model("hi").text == "echo: hi"
        assert "".join(model("hi", stream=True)) == "echo: hi"
        assert asyncio.run(model.acall("hi", stream=False)).text == "echo: hi"
        with pytest.raises(TypeError, match="chat model"):
            reg.get("e", modelhub.EmbeddingWrapperBase)
    finally:
        modelhub.unregister("readme_echo")


# -- embeddings -----------------------------------------------------------------------------
class Embedder(EmbeddingWrapperBase):
    """Embeds each text as [len, index-in-batch]; at most 3 texts a request."""

    model_type: ClassVar[str] = "toy_embedding"
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    max_batch_size: ClassVar[int | None] = 3
    batches: ClassVar[list[list[str]]] = []

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        type(self).batches.append(texts)
        if params.get("drop"):
            texts = texts[1:]
        return ModelResponse(embedding=[[float(len(t)), float(i)] for i, t in enumerate(texts)],
                             usage=Usage(len(texts), 0, len(texts)), model="toy")


def test_embeddings_are_batched_in_order_with_usage_summed() -> None:
    Embedder.batches.clear()
    model = Embedder(config_name="emb")
    texts = ["a", "bb", "ccc", "dddd", "eeeee", "f", "gg"]
    resp = model(texts)
    assert Embedder.batches == [texts[:3], texts[3:6], texts[6:]]
    assert [v[0] for v in resp.embedding or []] == [1, 2, 3, 4, 5, 1, 2]
    assert resp.usage == Usage(7, 0, 7) and resp.config_name == "emb"
    assert model("one").embedding == [[3.0, 0.0]]


def test_a_batch_answered_with_too_few_vectors_is_a_parse_error() -> None:
    with pytest.raises(errors.ResponseParseError, match="expected 3 embeddings, got 2"):
        Embedder(config_name="emb")(["a", "b", "c"], drop=True)


@pytest.mark.parametrize("texts", [[], [1], "", ["a", None]])
def test_bad_embedding_input(texts: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        Embedder(config_name="emb")(texts if texts != "" else [])


def test_mean_pool() -> None:
    assert mean_pool([[1.0, 2.0], [3.0, 6.0]]) == [2.0, 4.0]
    with pytest.raises(errors.ResponseParseError):
        mean_pool([[1.0], [1.0, 2.0]])
    from modelhub.wrappers.embedding import as_vector

    assert as_vector([[[1, 3], [3, 5]]]) == [2.0, 4.0]  # a batch of one, token-level
    assert as_vector([1, 2]) == [1.0, 2.0]


# -- images ---------------------------------------------------------------------------------
class Painter(ImageWrapperBase):
    model_type: ClassVar[str] = "toy_painter"

    def _generate(self, prompt: str, params: dict[str, Any]) -> ModelResponse:
        n = int(params.get("n", 1))
        return ModelResponse(image_urls=[f"https://img/{prompt}/{i}" for i in range(n)])


def test_images_merge_generate_args_and_check_the_answer() -> None:
    import asyncio

    painter = Painter(config_name="p", generate_args={"n": 2})
    assert painter("cat").image_urls == ["https://img/cat/0", "https://img/cat/1"]
    assert asyncio.run(painter.acall("dog", n=1)).image_urls == ["https://img/dog/0"]
    with pytest.raises(ValueError):
        painter("  ")
    with pytest.raises(errors.ResponseParseError, match="no image"):
        painter("x", n=0)


class PatientRetry(CompleteOnly):
    """Overrides `retry_policy` to wait its own base delay between attempts."""

    model_type: ClassVar[str] = "patient_retry"
    attempts: ClassVar[list[int]] = []

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(3, base_delay=0.0)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        type(self).attempts.append(1)
        if len(type(self).attempts) < 3:
            raise errors.ServerError("busy", status_code=503)
        return super()._complete(request)


def test_a_wrapper_may_give_its_retry_policy_another_backoff() -> None:
    model = build(PatientRetry)
    assert model._retry.base_delay == 0.0 and model._retry.max_retries == 3
    assert model("hi").text == "one two. three" and len(PatientRetry.attempts) == 3
    default = build(CompleteOnly)
    assert default._retry.base_delay == RetryPolicy().base_delay
    assert default._retry.max_retries == 0  # a ModelConfig has no max_retries
