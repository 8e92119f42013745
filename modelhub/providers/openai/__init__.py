"""The OpenAI family: `openai_chat`, `openai_embedding`, `openai_dall_e`,
`azure_openai_chat`, `azure_openai_embedding`. It speaks the OpenAI wire protocol over
httpx directly (install with `pip install 'modelhub[openai]'`), so any
OpenAI-compatible server works through `base_url`."""
