"""The Gemini loopback server's fixtures, read by the real `google-genai` SDK (pointed at
the server, as a user would point it at Google): proof that they are faithful to the
wire protocol the SDK, and so Gemini, speaks."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from modelhub.http.framing import JSONArrayDecoder
from tests.gemini_server import (  # noqa: F401 - the fixtures
    SIGNATURE,
    GeminiServer,
    array_reply,
    batch_embed_response,
    call_part,
    error_body,
    error_reply,
    gemini_server_fixture,
    gemini_server_session_fixture,
    generate_response,
    max_tokens_without_text,
    predict_response,
    prompt_blocked,
    rate_limit_reply,
    safety_blocked,
    sse_reply,
    stream_chunks,
    thought_part,
    usage,
)
from tests.loopback import json_reply

CALLS = [{"name": "get_weather", "args": {"city": "Paris"}},
         {"name": "get_time", "args": {"tz": "CET"}}]



@pytest.fixture
def client(gemini_server: GeminiServer) -> genai.Client:
    return genai.Client(api_key="AIza-test-key", http_options=types.HttpOptions(
        base_url=gemini_server.url, api_version="v1beta"))


def test_generate_content_parses_and_the_request_is_googles(client: genai.Client,
                                                            gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(generate_response("Hi!", usage_metadata=usage(8, 3))))
    done = client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert done.text == "Hi!" and done.model_version == "gemini-2.5-flash"
    assert done.candidates and done.candidates[0].finish_reason == types.FinishReason.STOP
    assert done.usage_metadata is not None
    assert (done.usage_metadata.prompt_token_count, done.usage_metadata.candidates_token_count,
            done.usage_metadata.total_token_count) == (8, 3, 11)
    req = gemini_server.last
    assert req.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert req.headers["x-goog-api-key"] == "AIza-test-key"
    assert req.json["contents"] == [{"parts": [{"text": "Hello"}], "role": "user"}]


def test_thoughts_signatures_and_parallel_calls_parse(client: genai.Client,
                                                      gemini_server: GeminiServer) -> None:
    parts = [thought_part("Two lookups."), call_part("get_weather", {"city": "Paris"},
                                                     id="fc-1", signature=SIGNATURE),
             call_part("get_time", {"tz": "CET"}, id="fc-2")]
    gemini_server.enqueue(json_reply(generate_response(parts=parts, usage_metadata=usage(
        8, 6, thoughts=40))))
    done = client.models.generate_content(model="m", contents="x")
    got = done.candidates[0].content.parts  # type: ignore[index, union-attr]
    assert got is not None and got[0].thought is True and got[0].text == "Two lookups."
    assert got[1].thought_signature == base64.b64decode(SIGNATURE)
    assert got[2].thought_signature is None
    assert [(c.id, c.name, c.args) for c in done.function_calls or []] == [
        ("fc-1", "get_weather", {"city": "Paris"}), ("fc-2", "get_time", {"tz": "CET"})]
    assert done.usage_metadata is not None and done.usage_metadata.thoughts_token_count == 40


@pytest.mark.parametrize("framing", [{}, {"split_bytes": 7}, {"line_ending": "\n"}])
def test_sse_stream_usage_in_every_chunk_and_an_empty_last_part(
        client: genai.Client, gemini_server: GeminiServer, framing: dict) -> None:
    gemini_server.enqueue(sse_reply(stream_chunks(["Hel", "lo"], thoughts=["Greet."]), **framing))
    chunks = list(client.models.generate_content_stream(model="m", contents="x"))
    assert gemini_server.last.path == "/v1beta/models/m:streamGenerateContent"
    assert gemini_server.last.query == {"alt": "sse"}
    assert len(chunks) == 4 and all(c.usage_metadata is not None for c in chunks)
    prompts = [c.usage_metadata.prompt_token_count for c in chunks]  # type: ignore[union-attr]
    assert prompts[0] != prompts[-1]  # the prompt count changes between chunks
    assert chunks[0].candidates[0].content.parts[0].thought is True  # type: ignore[index, union-attr]
    assert chunks[0].candidates[0].content.parts[0].thought_signature  # type: ignore[index, union-attr]
    last = chunks[-1].candidates[0]  # type: ignore[index]
    assert last.finish_reason == types.FinishReason.STOP
    assert last.content.parts[0].text == ""  # type: ignore[index, union-attr]


def test_stream_with_whole_function_calls(client: genai.Client, gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply(stream_chunks(["Checking."], calls=CALLS)))
    chunks = list(client.models.generate_content_stream(model="m", contents="x"))
    calls = [c for chunk in chunks for c in chunk.function_calls or []]
    assert [(c.name, c.args) for c in calls] == [(c["name"], c["args"]) for c in CALLS]


def test_blocked_and_truncated_answers_parse(client: genai.Client, gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(safety_blocked()), json_reply(max_tokens_without_text()),
                   json_reply(prompt_blocked()))
    safety = client.models.generate_content(model="m", contents="x")
    assert safety.candidates[0].finish_reason == types.FinishReason.SAFETY  # type: ignore[index]
    assert safety.candidates[0].content.parts is None  # type: ignore[index, union-attr]
    cut = client.models.generate_content(model="m", contents="x")
    assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS  # type: ignore[index]
    assert cut.usage_metadata.candidates_token_count is None  # type: ignore[union-attr]
    assert cut.usage_metadata.thoughts_token_count == 99  # type: ignore[union-attr]
    assert cut.text is None
    blocked = client.models.generate_content(model="m", contents="x")
    assert not blocked.candidates
    assert blocked.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT  # type: ignore[union-attr]


@pytest.mark.parametrize(("code", "status", "cls"), [
    (400, "INVALID_ARGUMENT", genai_errors.ClientError),
    (401, "UNAUTHENTICATED", genai_errors.ClientError),
    (403, "PERMISSION_DENIED", genai_errors.ClientError),
    (404, "NOT_FOUND", genai_errors.ClientError),
    (500, "INTERNAL", genai_errors.ServerError),
    (503, "UNAVAILABLE", genai_errors.ServerError)])
def test_error_bodies_parse(client: genai.Client, gemini_server: GeminiServer, code: int, status: str,
                            cls: type) -> None:
    gemini_server.enqueue(error_reply(code, f"failed with {code}", status))
    with pytest.raises(cls) as info:
        client.models.generate_content(model="m", contents="x")
    assert (info.value.code, info.value.status, info.value.message) == (
        code, status, f"failed with {code}")


def test_rate_limit_carries_retry_info(client: genai.Client, gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(rate_limit_reply("17s", retry_after="3"))
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="m", contents="x")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    details = info.value.details["error"]["details"]
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"} in details
    assert info.value.response.headers["retry-after"] == "3"


def test_error_inside_a_200_stream_raises(client: genai.Client, gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(sse_reply([stream_chunks(["par"])[0],
                              error_body(500, "Internal error encountered.", "INTERNAL")]))
    got = []
    with pytest.raises(genai_errors.ServerError) as info:
        for chunk in client.models.generate_content_stream(model="m", contents="x"):
            got.append(chunk.text)
    assert got == ["par"] and info.value.code == 500 and info.value.status == "INTERNAL"


@pytest.mark.parametrize("split", [None, 1, 13])
def test_stream_without_alt_sse_is_one_json_array(gemini_server: GeminiServer,
                                                  split: int | None) -> None:
    """The SDK always asks for `alt=sse`; without it Gemini streams one JSON array. The
    shared JSONArrayDecoder frames it, and each element is what the SDK's types read."""
    chunks = stream_chunks(["Hel", "lo"], thoughts=["Greet."], calls=CALLS[:1])
    gemini_server.enqueue(array_reply(chunks, split_bytes=split))
    decoder, frames = JSONArrayDecoder(), []
    with httpx.stream("POST", gemini_server.url + "/v1beta/models/m:streamGenerateContent",
                      json={"contents": []}) as answer:
        assert answer.headers["content-type"].startswith("application/json")
        for piece in answer.iter_bytes():
            frames += decoder.feed(piece)
    frames += decoder.close()
    assert [json.loads(f.data) for f in frames] == chunks
    parsed = [types.GenerateContentResponse.model_validate(json.loads(f.data)) for f in frames]
    assert parsed[0].candidates[0].content.parts[0].thought is True  # type: ignore[index, union-attr]
    assert parsed[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]


def test_embeddings_parse(client: genai.Client, gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(batch_embed_response([[0.1, 0.2], [0.3, 0.4]])))
    done = client.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b"],
        config=types.EmbedContentConfig(task_type="RETRIEVAL_QUERY", output_dimensionality=2))
    assert [e.values for e in done.embeddings or []] == [[0.1, 0.2], [0.3, 0.4]]
    req = gemini_server.last
    assert req.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert [r["taskType"] for r in req.json["requests"]] == ["RETRIEVAL_QUERY"] * 2
    assert req.json["requests"][0]["outputDimensionality"] == 2


def test_vertex_predict_embeddings_parse(gemini_server: GeminiServer) -> None:
    vertex = genai.Client(vertexai=True, api_key="vertex-key", http_options=types.HttpOptions(
        base_url=gemini_server.url, api_version="v1beta1"))
    gemini_server.enqueue(json_reply(predict_response([[0.5], [0.6]], tokens=4)))
    done = vertex.models.embed_content(model="text-embedding-005", contents=["a", "b"])
    assert [e.values for e in done.embeddings or []] == [[0.5], [0.6]]
    assert [e.statistics.token_count for e in done.embeddings or []] == [4, 4]  # type: ignore[union-attr]
    assert gemini_server.last.path == "/v1beta1/publishers/google/models/text-embedding-005:predict"


def test_default_replies_speak_the_protocol(client: genai.Client) -> None:
    assert client.models.generate_content(model="m", contents="ping").text == "echo: ping"
    streamed = "".join(c.text or "" for c in client.models.generate_content_stream(
        model="m", contents="a b"))
    assert streamed == "echo: a b"
    done = client.models.embed_content(model="gemini-embedding-001", contents=["a", "b"],
                                       config={"output_dimensionality": 3})
    assert [len(e.values or []) for e in done.embeddings or []] == [3, 3]
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.list()
    assert info.value.code == 404
