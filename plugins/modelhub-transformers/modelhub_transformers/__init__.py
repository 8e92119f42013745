"""modelhub-transformers: local models through Hugging Face transformers, as a modelhub
plugin (entry points `transformers_chat` and `transformers_embedding`).

Importing this package (or its config classes, as `modelhub.init()` does) imports
neither torch nor transformers: they are imported when a wrapper is first built.
"""

__version__ = "0.1.0"
