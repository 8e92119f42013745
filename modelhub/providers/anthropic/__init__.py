"""The Anthropic family: `anthropic_chat`, the Messages API through the official
`anthropic` SDK (install with `pip install 'modelhub[anthropic]'`)."""
