"""`modelhub batch`: one request per line of a JSON Lines file, answers to another, in
input order, resumable; on this machine (asyncio, `pip install "modelhub[batch]"`) or
on a Ray cluster through Ray Data (`modelhub.batch.ray_job`, `modelhub[ray]`).

Imported only by the `batch` command (and by code that runs jobs itself), never by
`import modelhub`.
"""

from __future__ import annotations

from modelhub.batch.job import BatchJob, BatchResult, check_kind, run_local
from modelhub.batch.output import OutputFile

__all__ = ["BatchJob", "BatchResult", "OutputFile", "check_kind", "run_local"]
