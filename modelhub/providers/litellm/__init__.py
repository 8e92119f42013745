"""The LiteLLM family: `litellm_chat`, any model LiteLLM reaches (`openai/...`,
`anthropic/...`, `ollama/...`, ...) through `litellm.completion` and `acompletion`
(install with `pip install 'modelhub[litellm]'`)."""
