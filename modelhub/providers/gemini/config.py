"""Config models of the Gemini family (importing this never imports the SDK).

They accept AgentScope v0.1.x's gemini keys unchanged (`config_name`, `model_name`,
`api_key`, and `stream` for chat) and add the `google-genai` client's own options:
`vertexai`, `project`, `location` and `api_version`. `base_url` is the bare host
(`https://generativelanguage.googleapis.com`): the SDK adds `/{api_version}/models/...`.
Vertex AI settings are checked at load, so a config that cannot reach Vertex fails at
`init()`, not at its first call.
"""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import Field, model_validator

from modelhub.config.schema import RemoteModelConfig

__all__ = ["CHAT_PARAMS", "EMBEDDING_PARAMS", "KEY_ENV", "LOCATION_ENV", "MAX_BATCH",
           "PROJECT_ENV", "GeminiChatConfig", "GeminiConfig", "GeminiEmbeddingConfig"]

# The variables a key is read from (the SDK's order), and only for Google's own hosts.
KEY_ENV = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
LOCATION_ENV = "GOOGLE_CLOUD_LOCATION"

# GenerateContentConfig's fields (google-genai), and the spellings we translate
# (`max_tokens`, google-generativeai's `generation_config`).
CHAT_PARAMS = frozenset({
    "audio_timestamp", "automatic_function_calling", "cached_content", "candidate_count",
    "frequency_penalty", "image_config", "labels", "logprobs", "max_output_tokens",
    "media_resolution", "model_selection_config", "presence_penalty",
    "response_json_schema", "response_logprobs", "response_mime_type",
    "response_modalities", "response_schema", "routing_config", "safety_settings", "seed",
    "service_tier", "speech_config", "stop_sequences", "system_instruction", "temperature",
    "thinking_config", "tool_config", "top_k", "top_p",
    "generation_config", "max_tokens",
})
# EmbedContentConfig's fields.
EMBEDDING_PARAMS = frozenset({"auto_truncate", "mime_type", "output_dimensionality",
                              "task_type", "title"})


class GeminiConfig(RemoteModelConfig):
    """What every Gemini-family config has: the Gemini API by default, Vertex AI with
    `vertexai: true` (a `project` with Application Default Credentials, or an `api_key`
    in express mode)."""

    vertexai: bool = Field(default=False, description="Use Vertex AI, not the Gemini API.")
    project: str | None = Field(
        default=None, description=f"Vertex AI: the Google Cloud project (else {PROJECT_ENV}).")
    location: str | None = Field(
        default=None, description=f"Vertex AI: the region (else {LOCATION_ENV}, else global).")
    api_version: str | None = Field(
        default=None, description="API version (default v1beta; v1beta1 on Vertex AI).")

    @model_validator(mode="after")
    def _reachable(self) -> GeminiConfig:
        if not self.vertexai:
            if self.project or self.location:
                raise ValueError("'project' and 'location' are Vertex AI settings: set "
                                 "'vertexai: true', or remove them for the Gemini API")
            return self
        keyed = bool(self.api_key and self.api_key.get_secret_value())
        if keyed and self.project:
            raise ValueError("on Vertex AI give either 'project' (with Application Default "
                             "Credentials) or 'api_key' (express mode), not both")
        env_key = self.base_url is None and any(os.environ.get(n) for n in KEY_ENV)
        if not (keyed or self.project or os.environ.get(PROJECT_ENV) or env_key):
            raise ValueError(f"Vertex AI needs a project: set 'project' (or {PROJECT_ENV}) "
                             "and use Application Default Credentials, or set 'api_key' for "
                             "express mode")
        return self


class GeminiChatConfig(GeminiConfig):
    """`gemini_chat`: generateContent and streamGenerateContent."""

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")


# The most requests one batchEmbedContents call takes (the API refuses more).
MAX_BATCH = 100


class GeminiEmbeddingConfig(GeminiConfig):
    """`gemini_embedding`: embeddings of texts."""

    known_params: ClassVar[frozenset[str]] = EMBEDDING_PARAMS

    task_type: str | None = Field(
        default=None, description="RETRIEVAL_QUERY, RETRIEVAL_DOCUMENT, SEMANTIC_SIMILARITY, "
                                  "CLASSIFICATION, CLUSTERING, ...")
    output_dimensionality: int | None = Field(
        default=None, gt=0, description="Truncate each vector to this many dimensions.")
    batch_size: int = Field(default=MAX_BATCH, ge=1, le=MAX_BATCH,
                            description="Texts per request (the API takes at most 100).")
