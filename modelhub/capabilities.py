"""What a wrapper can be asked for: the capability names, in the order modelhub lists
them. Here, apart from the wrapper base class, so that a config class can name them
without importing wrapper code."""

from __future__ import annotations

from typing import Literal

__all__ = ["CAPABILITIES", "Capability"]

# A chat wrapper declares what its API does natively; the base class emulates `stop`
# (trimming) and streaming (one chunk) where it cannot.
Capability = Literal["streaming", "tools", "vision", "audio", "video", "stop",
                     "response_format", "embeddings", "images"]
CAPABILITIES: tuple[Capability, ...] = ("streaming", "tools", "vision", "audio", "video",
                                        "stop", "response_format", "embeddings", "images")
