"""`modelhub serve`: configured models over OpenAI's HTTP API (and AgentScope's POST
shape), on Starlette under uvicorn (`pip install "modelhub[serve]"`).

Imported only by the `serve` command (and by code that embeds the app), never by
`import modelhub`.
"""

from __future__ import annotations

from modelhub.serve.app import Limits, create_app
from modelhub.serve.server import Served, bind, is_loopback, run, served_models, url_of

__all__ = ["Limits", "Served", "bind", "create_app", "is_loopback", "run", "served_models",
           "url_of"]
