"""The shared HTTP layer every networked wrapper builds on, whichever its provider.

- `pool`: pooled httpx clients, shared between wrappers whose transport settings match.
- `framing`: incremental decoders for SSE, NDJSON and streamed JSON arrays (bytes in,
  frames out), one decoder for sync and async reading alike.
- `errors`: `Retry-After` parsing and building the right `modelhub.errors` class from a
  status, a message, headers and a body, secrets redacted; transport failures mapped.
- `client`: `JSONEndpoint`, one configured base URL with its headers, query, timeout and
  error hook: JSON POST and GET, and streams decoded frame by frame.

Nothing here names a provider. httpx is imported on first use, never by `import
modelhub`.
"""
