"""The Hugging Face Inference family: `hf_inference_chat` (chat_completion),
`hf_inference_generate` (a TGI endpoint's /generate, text_generation) and
`hf_inference_embedding` (feature_extraction), on huggingface_hub's `InferenceClient`
and `AsyncInferenceClient` (install with `pip install 'modelhub[huggingface]'`)."""
