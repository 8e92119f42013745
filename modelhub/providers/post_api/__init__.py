"""The POST family: `post_api_chat` (alias `post_api`), `post_api_embedding` and
`post_api_dall_e` (alias `post_api_dalle`), AgentScope's wrappers for any HTTP
endpoint. Requests go through the shared httpx layer (install with
`pip install 'modelhub[post_api]'`); answers are read by dotted paths."""
