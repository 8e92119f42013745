"""A batch job on a Ray cluster (`modelhub batch ... --ray ADDRESS`), through Ray Data.

The driver (this process) reads the input and the output as the local run does, and
hands the pending lines to Ray Data: `map_batches` over them with `ModelCaller`, a
callable class of which each worker actor builds one wrapper from the same config as
written in its file (`${VAR}` references expanded on the worker, from the worker's
environment), and asks each batch's lines `concurrency` at a time. Answers come back
to the driver batch by batch, as they are done, and are appended to the output there
(`pip install "modelhub[ray]"`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelhub.batch.job import BatchJob, BatchResult, pending, start
from modelhub.batch.lines import answer
from modelhub.errors import ConfigError, ModelhubError

if TYPE_CHECKING:
    from modelhub.registry import ConfigEntry
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["ModelCaller", "forwarded_env", "run_ray", "worker_config"]


def worker_config(entry: ConfigEntry) -> dict[str, Any]:
    """The config a worker builds its wrapper from: as written in its file, `${VAR}`
    references unexpanded, so that no key read from this machine's environment is
    sent to the cluster."""
    location = entry.location
    if location is None:
        raise ConfigError(f"config {entry.config_name!r} was given in memory; a Ray job "
                          "needs it in a config file")
    from modelhub.config.sources import read_configs

    for raw in read_configs(location.path):
        if raw.location is not None and raw.location.line == location.line:
            return dict(raw.data)
    raise ConfigError(f"config {entry.config_name!r} is no longer in {location.path}")


class ModelCaller:
    """The `map_batches` function of a Ray job: one per worker actor, holding the
    wrapper built there; each batch's lines are asked `concurrency` at a time (across
    the batches the actor runs at once)."""

    def __init__(self, config: Mapping[str, Any], concurrency: int) -> None:
        from modelhub.registry import Registry

        registry = Registry()
        [name] = registry.init([dict(config)])
        self.model: ModelWrapperBase = registry.get(name)
        self.concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Answer a batch of lines: columns `line` and `request` in, `line` and
        `record` (the output record as JSON) out."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots

        async def one(number: int, text: str) -> dict[str, Any]:
            async with slots:
                return await answer(self.model, number, text)

        numbers = [int(n) for n in batch["line"]]
        records = await asyncio.gather(*(one(n, str(t))
                                         for n, t in zip(numbers, batch["request"])))
        return {"line": numbers,
                "record": [json.dumps(r, ensure_ascii=False) for r in records]}


def run_ray(address: str, config: Mapping[str, Any], job: BatchJob, *,
            workers: int | None = None, env: Mapping[str, str] | None = None) -> BatchResult:
    """Run the job on the Ray cluster at `address` (`auto`: the one running on this
    machine; `local`: a new one for this job alone). `workers` actors (default: one per
    CPU of the cluster) each build the model from `config`; `env` is set in their
    environment."""
    import ray
    import ray.data  # before quieting its loggers: importing it sets them up

    name = str(config.get("config_name", "batch"))
    run = start(job, name)
    try:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False,
                     configure_logging=False, ignore_reinit_error=True)
        except ConnectionError as error:
            raise ModelhubError(f"no Ray cluster at {address!r}: {error}") from None
        # Ray Data's own bars and notes would scroll over the job's progress bar.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        items = [{"line": n, "request": text} for n, text in pending(job, run.answered)]
        if items:
            size = max(1, -(-job.concurrency // 2))
            batches = -(-len(items) // size)
            cpus = int(ray.cluster_resources().get("CPU", 1))
            actors = max(1, min(workers or cpus, batches))
            dataset = ray.data.from_items(items, override_num_blocks=min(batches, 10_000))
            answered = dataset.map_batches(
                ModelCaller, fn_constructor_kwargs={"config": dict(config),
                                                    "concurrency": job.concurrency},
                batch_size=size, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors),
                runtime_env={"env_vars": dict(env)} if env else None)
            for batch in answered.iter_batches(batch_size=None, batch_format="numpy"):
                for text in batch["record"]:
                    run.output.write_line(str(text))
                    run.progress.advance(json.loads(str(text)).get("error") is None)
    except BaseException:
        run.progress.close()
        run.output.close()
        raise
    finally:
        if ray.is_initialized():
            ray.shutdown()
    return run.finish()


def forwarded_env(names: tuple[str, ...]) -> dict[str, str]:
    """The values of the named environment variables that are set, for the workers."""
    return {n: os.environ[n] for n in names if n in os.environ}
