"""GGUF weights, dequantized once: transformers reads a GGUF file by dequantizing every
tensor, which takes about 40 s for a 135M model. The result is kept as safetensors in
the modelhub cache (`$MODELHUB_CACHE_DIR/transformers-gguf`, default
`~/.cache/modelhub`), so the next load takes a second or two.

An entry is keyed by the source file (real path, size, modification time, and a digest
of its first and last MiB), the dtype and the transformers version: a changed file is
converted again, and the entries of its earlier versions are removed. An entry is
written to a temporary folder and renamed into place, so a half-written one is never
read. With the cache off (`MODELHUB_CACHE_DIR=`, or `gguf_cache: false`), every load
converts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from typing import Any

from modelhub.plugin import cache_folder

__all__ = ["cache_entry", "load_gguf"]

log = logging.getLogger("modelhub.transformers")

FORMAT = 1
CACHE_NAME = "transformers-gguf"
_SAMPLE = 1 << 20


def _file_digest(path: str) -> str:
    """A digest of what identifies a file's version: real path, size, mtime, and its
    first and last MiB."""
    info = os.stat(path)
    digest = hashlib.sha256(f"{os.path.realpath(path)}\n{info.st_size}\n"
                            f"{info.st_mtime_ns}\n".encode())
    with open(path, "rb") as f:
        digest.update(f.read(_SAMPLE))
        if info.st_size > 2 * _SAMPLE:
            f.seek(-_SAMPLE, os.SEEK_END)
            digest.update(f.read(_SAMPLE))
    return digest.hexdigest()


def cache_entry(gguf_path: str, dtype: str | None) -> tuple[str, str] | None:
    """(cache folder, entry name) for the converted weights of `gguf_path` in `dtype`;
    None when the cache is off."""
    import transformers

    folder = cache_folder(CACHE_NAME)
    if folder is None:
        return None
    key = hashlib.sha256(json.dumps([FORMAT, _file_digest(gguf_path), dtype,
                                     transformers.__version__]).encode()).hexdigest()
    stem = os.path.basename(gguf_path).removesuffix(".gguf")
    return folder, f"{stem}-{key[:20]}"


def _remove_older_versions(folder: str, keep: str, source: str) -> None:
    """Remove the entries converted from earlier versions of `source`."""
    for name in os.listdir(folder):
        entry = os.path.join(folder, name)
        if name == keep or name.startswith(".") or not os.path.isdir(entry):
            continue
        try:
            with open(os.path.join(entry, "source.json"), encoding="utf-8") as f:
                same = json.load(f).get("source") == source
        except (OSError, ValueError):
            continue
        if same:
            shutil.rmtree(entry, ignore_errors=True)


def _save(model: Any, tokenizer: Any, target: str, source: str) -> None:
    """Write a dequantized model and its tokenizer to `target`, atomically."""
    from safetensors.torch import save_model

    parent = os.path.dirname(target)
    tmp = tempfile.mkdtemp(prefix=".converting-", dir=parent)
    try:
        config = model.config.to_dict()
        config.pop("quantization_config", None)  # the weights are plain tensors now
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        save_model(model, os.path.join(tmp, "model.safetensors"))
        model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        with open(os.path.join(tmp, "source.json"), "w", encoding="utf-8") as f:
            json.dump({"source": source}, f)
        os.rename(tmp, target)
    except OSError as exc:  # a full disk, or another process was first
        log.info("not caching the converted weights at %s: %s", target, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _plain(model: Any) -> bool:
    """Whether every weight is a plain floating-point tensor (nothing left packed)."""
    return all(p.is_floating_point() for p in model.parameters())


def load_gguf(folder: str, gguf_file: str, kwargs: dict[str, Any], *,
              use_cache: bool = True) -> tuple[Any, Any]:
    """(model, tokenizer) from `gguf_file` in `folder`, from the cache when it holds
    this version of the file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelhub_transformers.loading import quiet_progress

    path = os.path.join(folder, gguf_file)
    tokenizer_kwargs = {k: kwargs[k] for k in ("trust_remote_code", "local_files_only")
                        if k in kwargs}
    where = cache_entry(path, kwargs.get("dtype")) if use_cache else None
    if where is not None:
        entry = os.path.join(*where)
        if os.path.isdir(entry):
            with quiet_progress():
                model = AutoModelForCausalLM.from_pretrained(
                    entry, **{**kwargs, "local_files_only": True})
                tokenizer = AutoTokenizer.from_pretrained(entry, local_files_only=True)
            return model, tokenizer
    log.warning("converting %s to plain weights: once, about 40 s for a 135M model%s",
                os.path.basename(path),
                f"; kept in {where[0]}" if where else " (the cache is off)")
    started = time.monotonic()
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its advice to install GGUF kernels needs a hub
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file,
                                                  **tokenizer_kwargs)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
    if where is not None and _plain(model):
        _save(model, tokenizer, os.path.join(*where), os.path.realpath(path))
        _remove_older_versions(where[0], where[1], os.path.realpath(path))
    log.warning("converted %s in %.0f s", os.path.basename(path), time.monotonic() - started)
    return model, tokenizer
