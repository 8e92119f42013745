"""The Gemini family: `gemini_chat` and `gemini_embedding`, on Google's `google-genai`
SDK (install with `pip install 'modelhub[gemini]'`), for the Gemini API and, with
`vertexai: true`, Vertex AI. The SDK is imported when a wrapper is first built."""
