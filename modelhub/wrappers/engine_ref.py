"""`call_engine()`: the call engine (`modelhub.calls.engine`), which makes every call of
every kind of wrapper, looked up once. The engine sits above the wrappers, so it is
imported on the first call; an import statement in `__call__` would cost most of a
microsecond on every call."""

from __future__ import annotations

import functools
from types import ModuleType

__all__ = ["call_engine"]


@functools.cache
def call_engine() -> ModuleType:
    """`modelhub.calls.engine`."""
    from modelhub.calls import engine

    return engine
