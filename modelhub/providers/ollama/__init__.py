"""The Ollama family: `ollama_chat`, `ollama_generate`, `ollama_embedding`, on the
official `ollama` client (install with `pip install 'modelhub[ollama]'`), speaking
Ollama's native API (/api/chat, /api/generate, /api/embed) at `base_url`, the bare
server address (`http://127.0.0.1:11434` by default, or `OLLAMA_HOST`). For Ollama's
OpenAI-compatible /v1, use `openai_chat` with `provider: ollama`."""
