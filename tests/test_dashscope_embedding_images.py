"""dashscope_text_embedding and dashscope_image_synthesis on the real SDK against the
loopback DashScope server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.base import ModelWrapperBase
from tests.dashscope_server import (
    EMBEDDING,
    IMAGES,
    DashScopeServer,
    embedding_answer,
    error_reply,
    json_reply,
    task_answer,
)
from tests.loopback import delay_reply

KEY = "sk-embed-and-paint-key-42424242"


@pytest.fixture
def server(dashscope_server: DashScopeServer) -> DashScopeServer:
    return dashscope_server  # the session's DashScope server, reset (see conftest)


def build(server: DashScopeServer, model_type: str, model_name: str, **extra: Any
          ) -> ModelWrapperBase:
    reg = Registry()
    reg.init({"config_name": "m", "model_type": model_type, "model_name": model_name,
              "api_key": KEY, "base_url": server.base_url, **extra})
    return reg.get("m")


# -- text embedding ---------------------------------------------------------------------
def embedding_requests(server: DashScopeServer) -> list[list[str]]:
    return [r.json["input"]["texts"] for r in server.requests if r.path.endswith(EMBEDDING)]


@pytest.mark.parametrize(("model_name", "limit"), [("text-embedding-v1", 25),
                                                   ("text-embedding-v2", 25),
                                                   ("text-embedding-v3", 10),
                                                   ("text-embedding-v4", 10)])
def test_batches_split_to_the_models_limit_in_order(server: DashScopeServer, model_name: str,
                                                    limit: int) -> None:
    texts = [f"text {i}" for i in range(limit + 3)]
    resp = build(server, "dashscope_text_embedding", model_name)(texts)
    assert [len(b) for b in embedding_requests(server)] == [limit, 3]
    assert [t for batch in embedding_requests(server) for t in batch] == texts
    solo = [build(server, "dashscope_text_embedding", model_name)(t).embedding for t in texts[:2]]
    assert resp.embedding is not None and resp.embedding[:2] == [s[0] for s in solo if s]
    assert resp.usage is not None and resp.usage.input_tokens == 3 * len(texts)


def test_order_follows_text_index_and_dimension_is_sent(server: DashScopeServer) -> None:
    server.enqueue(json_reply(embedding_answer([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                                               reverse=True)))
    resp = build(server, "dashscope_text_embedding", "text-embedding-v4", dimension=2)(
        ["a", "b", "c"], text_type="query")
    assert resp.embedding == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    params = server.last.json["parameters"]
    assert params == {"dimension": 2, "text_type": "query"}
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


def test_batch_size_config_and_async(server: DashScopeServer) -> None:
    import asyncio

    m = build(server, "dashscope_text_embedding", "text-embedding-v4", batch_size=2)
    resp = asyncio.run(m.acall(["a", "b", "c"]))
    assert [len(b) for b in embedding_requests(server)] == [2, 1]
    assert resp.embedding is not None and len(resp.embedding) == 3


def test_embedding_errors(server: DashScopeServer) -> None:
    server.enqueue(error_reply(400, "InvalidParameter", "dimension must be one of ..."))
    with pytest.raises(errors.BadRequestError, match="dimension"):
        build(server, "dashscope_text_embedding", "text-embedding-v3")(["a"])
    server.enqueue(error_reply(429, "Throttling", "slow", headers={"Retry-After": "0.01"}))
    assert build(server, "dashscope_text_embedding", "text-embedding-v3")(["a"]).embedding
    with pytest.raises(errors.InvalidArgumentError, match="dimension"):
        build(server, "dashscope_text_embedding", "text-embedding-v3")(["a"], dimensions=3)


# -- image synthesis ------------------------------------------------------------------------
def paint(server: DashScopeServer, **extra: Any) -> ModelWrapperBase:
    return build(server, "dashscope_image_synthesis", "wanx-v1", poll_interval=0.01, **extra)


def test_task_created_then_polled_until_succeeded(server: DashScopeServer) -> None:
    resp = paint(server, generate_args={"size": "1024*1024", "n": 2})("a red bicycle",
                                                                       negative_prompt="blur")
    task = next(r for r in server.requests if r.path.endswith(IMAGES))
    assert task.headers["x-dashscope-async"] == "enable"
    assert task.json["input"] == {"prompt": "a red bicycle", "negative_prompt": "blur"}
    assert task.json["parameters"] == {"size": "1024*1024", "n": 2}
    polls = [r for r in server.requests if "/tasks/" in r.path]
    assert len(polls) == 2 and all(r.method == "GET" for r in polls)
    assert {r.headers["authorization"] for r in polls} == {f"Bearer {KEY}"}
    task_id = polls[0].path.split("/")[4]
    assert resp.image_urls == [f"https://img.test/{task_id}/0.png",
                               f"https://img.test/{task_id}/1.png"]
    assert resp.usage is not None and resp.usage.details == {"image_count": 2}


async def test_async_task(server: DashScopeServer, dashscope_aio_cleanup: None) -> None:
    server.task_steps = ["PENDING", "RUNNING", "SUCCEEDED"]
    resp = await paint(server).acall("a cat")
    assert resp.image_urls is not None and len(resp.image_urls) == 1
    assert len([r for r in server.requests if "/tasks/" in r.path]) == 3


def test_failed_task_raises_its_mapped_error(server: DashScopeServer) -> None:
    server.task_steps = ["FAILED"]
    with pytest.raises(errors.ServerError):  # FAILED with InternalError, not retried
        paint(server, max_retries=3)("x")
    assert len([r for r in server.requests if r.path.endswith(IMAGES)]) == 1
    server.reset()
    server.enqueue(json_reply(task_answer("t1", "PENDING")), path=IMAGES)
    server.enqueue(json_reply(task_answer("t1", "FAILED", code="DataInspectionFailed",
                                          message="unsafe prompt")), path="/tasks/t1/")
    with pytest.raises(errors.BadRequestError, match="unsafe prompt"):
        paint(server)("x")


def test_all_results_failed_is_an_error(server: DashScopeServer) -> None:
    server.enqueue(json_reply(task_answer("t2", "PENDING")), path=IMAGES)
    server.enqueue(json_reply(task_answer("t2", "SUCCEEDED", urls=[], failed=[
        {"code": "DataInspectionFailed", "message": "output unsafe"}])), path="/tasks/t2/")
    with pytest.raises(errors.BadRequestError, match="output unsafe"):
        paint(server)("x")


def test_timeout_bounds_the_whole_task_and_does_not_create_another(server: DashScopeServer
                                                                   ) -> None:
    server.task_steps = ["RUNNING"]
    with pytest.raises(errors.ModelTimeoutError, match="had not finished"):
        paint(server, timeout=0.3, max_retries=2)("x")
    assert len([r for r in server.requests if r.path.endswith(IMAGES)]) == 1


def test_polls_retry_transient_errors(server: DashScopeServer) -> None:
    server.enqueue(json_reply(task_answer("t3", "PENDING")), path=IMAGES)
    server.enqueue(error_reply(500, "InternalError", "blip"),
                   error_reply(429, "Throttling", "slow", headers={"Retry-After": "0.01"}),
                   json_reply(task_answer("t3", "SUCCEEDED", urls=["https://i/1.png"])),
                   path="/tasks/t3/")
    assert paint(server)("x").image_urls == ["https://i/1.png"]


def test_creation_errors_and_slow_creation(server: DashScopeServer) -> None:
    server.enqueue(error_reply(401, "InvalidApiKey", "Invalid API-key provided."))
    with pytest.raises(errors.AuthenticationError):
        paint(server)("x")
    server.enqueue(delay_reply(2, json_reply(task_answer("t4", "PENDING"))))
    with pytest.raises(errors.ModelTimeoutError):
        paint(server, timeout=0.3, max_retries=0)("x")


def test_local_reference_image_uploaded(server: DashScopeServer, tmp_path: Path) -> None:
    ref = tmp_path / "ref.png"
    ref.write_bytes(b"png ref")
    paint(server)("x", ref_img=str(ref))
    task = next(r for r in server.requests if r.path.endswith(IMAGES))
    assert task.json["input"]["ref_img"] == "oss://dashscope-instant/abc/2030-01-01/ref.png"
    assert task.headers["x-dashscope-ossresourceresolve"] == "enable"


def test_save_local_is_refused(server: DashScopeServer) -> None:
    with pytest.raises(errors.UnsupportedFeatureError, match="save_local"):
        paint(server)("x", save_local=True)
    assert server.requests == []
