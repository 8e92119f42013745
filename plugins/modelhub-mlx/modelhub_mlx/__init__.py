"""modelhub-mlx: local chat models on Apple silicon through mlx-lm, as a modelhub plugin
(entry point `mlx_chat`). Importing it imports no mlx: that happens when a wrapper is
built, on Apple silicon only."""

__version__ = "0.1.0"
