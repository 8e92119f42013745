"""Loading a model once per process: configs that name the same weights (same path,
GGUF file, dtype, device map, ...) share one `SharedModel`, whatever adapters each
puts on it.

PEFT adds LoRA layers to the base model in place, so every adapter of every sharing
config lives in one `PeftModel` over the one base; `SharedModel.use(adapter)` picks one
for a call, or runs the base exactly as loaded (`disable_adapter()`). Calls on one
shared model run one at a time (`lock`): the active adapter is state of the model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from modelhub.plugin import errors
from modelhub_transformers.config import LocalModelConfig

__all__ = ["ModelKey", "SharedModel", "config_error", "from_pretrained_kwargs", "load_model",
           "model_key", "quiet_progress"]

log = logging.getLogger("modelhub.transformers")


@dataclass(frozen=True, slots=True)
class ModelKey:
    """What makes two loads the same weights in memory."""

    kind: str  # "causal-lm" or "encoder"
    source: str  # model_id; a local path made absolute and real
    gguf_file: str | None
    dtype: str | None
    device_map: str
    trust_remote_code: bool
    model_kwargs: str


def _source(model_id: str) -> str:
    expanded = os.path.expanduser(model_id)
    return os.path.realpath(expanded) if os.path.exists(expanded) else model_id


def model_key(kind: str, config: LocalModelConfig) -> ModelKey:
    """The key of the weights `config` names."""
    return ModelKey(kind, _source(config.model_id), getattr(config, "gguf_file", None),
                    config.torch_dtype,
                    json.dumps(config.device_map, sort_keys=True),
                    config.trust_remote_code,
                    json.dumps(config.model_kwargs, sort_keys=True, default=str))


@dataclass(eq=False)
class SharedModel:
    """One loaded copy of a model and its tokenizer, with the adapters put on it."""

    key: ModelKey
    model: Any  # the base model (a transformers PreTrainedModel)
    tokenizer: Any
    lock: threading.RLock = field(default_factory=threading.RLock)
    peft: Any = None  # the PeftModel over `model`, once an adapter is loaded
    adapters: dict[str, str] = field(default_factory=dict)  # real path -> PEFT name
    extras: dict[str, Any] = field(default_factory=dict)  # per-model helpers, built once

    def add_adapter(self, path: str) -> str:
        """Load the PEFT adapter in folder `path` (once per model); its PEFT name."""
        real = os.path.realpath(os.path.expanduser(path)) if os.path.exists(
            os.path.expanduser(path)) else path
        with self.lock:
            name = self.adapters.get(real)
            if name is not None:
                return name
            name = "adapter_" + hashlib.sha256(real.encode()).hexdigest()[:12]
            with warnings.catch_warnings():  # PEFT calls an API transformers deprecates
                warnings.simplefilter("ignore", FutureWarning)
                if self.peft is None:
                    from peft import PeftModel

                    self.peft = PeftModel.from_pretrained(self.model, real, adapter_name=name)
                    self.peft.eval()
                else:
                    self.peft.load_adapter(real, adapter_name=name)
            self.adapters[real] = name
            return name

    @contextlib.contextmanager
    def use(self, adapter: str | None) -> Iterator[Any]:
        """The module to run with `adapter` on (its PEFT name), or with none: the base
        exactly as loaded. The caller holds `lock`."""
        if self.peft is None:
            yield self.model
        elif adapter is None:
            with self.peft.disable_adapter():
                yield self.peft
        else:
            self.peft.set_adapter(adapter)
            yield self.peft

    def extra(self, name: str, build: Callable[[], Any]) -> Any:
        """A helper of this model built once (the grammar tokenizer, say)."""
        with self.lock:
            if name not in self.extras:
                self.extras[name] = build()
            return self.extras[name]


_shared: weakref.WeakValueDictionary[ModelKey, SharedModel] = weakref.WeakValueDictionary()
_loading = threading.Lock()


def load_model(key: ModelKey, load: Callable[[], tuple[Any, Any]]) -> SharedModel:
    """The shared model for `key`, loaded by `load()` -> (model, tokenizer) if no wrapper
    holds it yet. It lives while a wrapper holds it."""
    found = _shared.get(key)
    if found is not None:
        return found
    with _loading:
        found = _shared.get(key)
        if found is None:
            model, tokenizer = load()
            found = SharedModel(key, model, tokenizer)
            _shared[key] = found
        return found


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """transformers' progress bars off for a load that takes no time."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


def from_pretrained_kwargs(config: LocalModelConfig) -> dict[str, Any]:
    """The from_pretrained() arguments a config asks for."""
    kwargs: dict[str, Any] = {"trust_remote_code": config.trust_remote_code,
                              **config.model_kwargs}
    if config.torch_dtype is not None:
        kwargs["dtype"] = config.torch_dtype
    if config.device_map is not None:
        kwargs["device_map"] = config.device_map
    if os.path.isdir(os.path.expanduser(config.model_id)):
        kwargs["local_files_only"] = True  # a folder: never ask a hub
    return kwargs


def config_error(config: LocalModelConfig, message: str, field: str = "model_id"
                 ) -> errors.ConfigError:
    """A wrapper that cannot be built from `config`, as the config error it is."""
    return errors.ConfigError(errors.ConfigIssue(message, config_name=config.config_name,
                                                 field=field))
