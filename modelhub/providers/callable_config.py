"""The config class of the `callable` model type, apart from its wrapper
(`modelhub.providers.callable`): `init()` imports only this module."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Union

from pydantic import Field, field_serializer, field_validator

from modelhub.config.schema import ModelConfig

__all__ = ["CallableConfig"]

_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


class CallableConfig(ModelConfig):
    """A config whose model is a Python callable."""

    callable: Union[str, Callable[..., Any]] = Field(  # noqa: UP007  (pydantic reads it at run time)
        description="'package.module:function' (imported when the model is first built), "
                    "or the function itself.")
    max_retries: int = Field(default=2, ge=0, le=20,
                             description="Retries on 429, 5xx, timeouts and connection errors.")
    stream: bool = Field(default=False, description="Stream (as one chunk) by default.")

    @field_validator("callable")
    @classmethod
    def _check_path(cls, value: Any) -> Any:
        if isinstance(value, str) and not _PATH.match(value.strip()):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value.strip() if isinstance(value, str) else value

    @field_serializer("callable")
    def _path_of(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return f"{getattr(value, '__module__', '?')}:{getattr(value, '__qualname__', repr(value))}"
