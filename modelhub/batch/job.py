"""A batch job: every pending line of the input asked of one model, `concurrency` at a
time, each answer appended to the output as it lands; then the output put in input
order. This module runs it on this machine (asyncio); `modelhub.batch.ray_job` runs the
same job on a Ray cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modelhub.batch.lines import answer, read_input
from modelhub.batch.output import OutputFile
from modelhub.batch.progress import Progress
from modelhub.errors import UnsupportedFeatureError
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["BATCH_KINDS", "BatchJob", "BatchResult", "Run", "check_kind", "pending", "run_local",
           "start"]

# The kinds of model a batch job can ask.
BATCH_KINDS = ("chat", "embedding")


@dataclass(frozen=True, slots=True)
class BatchJob:
    """What to run: input and output files, requests in flight, whether to show a bar."""

    input: Path
    output: Path
    concurrency: int = 16
    progress: bool = True


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How a job ended: input lines, lines answered by an earlier run (skipped), and,
    once the output is in order, lines answered and lines failed in all."""

    total: int
    skipped: int
    answered: int
    failed: int


def pending(job: BatchJob, answered: set[int]) -> Iterator[tuple[int, str]]:
    """The input lines (number, text) the output holds no answer for."""
    return ((n, text) for n, text in read_input(job.input) if n not in answered)


@dataclass(slots=True)
class Run:
    """One run of a job under way: its output, its input's size, the lines an earlier
    run answered, and its progress."""

    output: OutputFile
    total: int
    answered: set[int]
    progress: Progress

    def finish(self) -> BatchResult:
        """Close the output and put it in input order."""
        self.progress.close()
        self.output.close()
        answered, failed = self.output.put_in_order()
        return BatchResult(total=self.total, skipped=len(self.answered), answered=answered,
                           failed=failed)


def start(job: BatchJob, desc: str) -> Run:
    """Open the output for a run (the lines it already answers are skipped)."""
    if job.input.resolve() == job.output.resolve():
        raise ValueError("the output file must not be the input file")
    numbers = {n for n, _ in read_input(job.input)}
    output = OutputFile(job.output)
    answered = output.answered() & numbers
    output.open()
    return Run(output, len(numbers), answered,
               Progress(len(numbers), len(answered), desc=desc, enabled=job.progress))


async def _run(model: ModelWrapperBase, job: BatchJob, run: Run) -> None:
    lines = pending(job, run.answered)

    async def worker() -> None:
        for number, text in lines:  # one shared iterator: each line taken once
            record = await answer(model, number, text)
            run.output.write(record)
            run.progress.advance(record["error"] is None)

    await asyncio.gather(*(worker() for _ in range(job.concurrency)))


def check_kind(config_name: str, kind: str) -> None:
    """An UnsupportedFeatureError unless a batch job can ask a model of `kind`."""
    if kind not in BATCH_KINDS:
        raise UnsupportedFeatureError(f"config {config_name!r} is of kind {kind!r}; a batch "
                                      "job asks chat or embedding models",
                                      config_name=config_name)


def run_local(model: ModelWrapperBase, job: BatchJob) -> BatchResult:
    """Run the job on this machine. On KeyboardInterrupt every answer that arrived is
    in the output already (a rerun goes on from there)."""
    check_kind(model.config_name, model.kind)
    run = start(job, model.config_name)
    try:
        asyncio.run(_run(model, job, run))
    except BaseException:
        run.progress.close()
        run.output.close()
        raise
    return run.finish()
