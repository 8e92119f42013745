"""The ZhipuAI family: `zhipuai_chat` and `zhipuai_embedding`, on Zhipu's official SDK
`zai-sdk` (`from zai import ZhipuAiClient`, the successor of the `zhipuai` package that
Zhipu's current documentation names). Install with `pip install 'modelhub[zhipuai]'`.

- `config`: the config models (AgentScope's `client_args` and every argument of its
  ZhipuAI wrappers accepted);
- `client`: the SDK client built from a config (explicit base URL and key, the SDK's
  retries off, the shared connection pool) and the one function that maps the SDK's
  exceptions to `modelhub.errors`;
- `wire`: neutral requests in Zhipu's v4 shape, the SDK's answers and stream chunks
  into `ModelResponse`;
- `chat`, `embedding`: the wrappers.
"""
