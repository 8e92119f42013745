"""The DashScope family (Alibaba Cloud Model Studio's native API), on the official
`dashscope` SDK (install with `pip install 'modelhub[dashscope]'`): `dashscope_chat`
(alias `tongyi_chat`), `dashscope_multimodal`, `dashscope_text_embedding` and
`dashscope_image_synthesis`.

Every call passes the SDK its base address, key, timeout and headers itself; nothing
here sets the SDK's module-wide settings (`dashscope.base_http_api_url`,
`dashscope.api_key`), so configs with different hosts or keys work side by side.
DashScope's OpenAI-compatible mode is another API: `openai_chat` with
`provider: dashscope`.
"""
