"""The output file of a batch job: answers appended (and flushed) as they land, so none
that arrived is lost, read back to resume, and put in input order when the job ends.

While a job runs, the file holds one JSON record per line in the order answers
arrived, each carrying its input `line`. A rerun skips the lines it already holds an
answer for (a line that failed is tried again). When every line has been tried, the
file is rewritten in input order, one record per line: the answer, else the last
error. The rewrite goes to a temporary file that replaces the output at once, so an
interruption leaves the old file whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

__all__ = ["OutputFile"]


def _record_of(raw: bytes) -> tuple[int, bool] | None:
    """(line, answered) of one output record; None for what is not one (a record cut
    short when a run was killed mid-write)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    line = record.get("line")
    if not isinstance(line, int) or isinstance(line, bool):
        return None
    return line, record.get("error") is None


class OutputFile:
    """A batch job's JSON Lines output."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] | None = None

    def _index(self) -> dict[int, tuple[int, int, bool]]:
        """line -> (offset, length, answered) of the record kept for it: the last
        answer, else the last error."""
        index: dict[int, tuple[int, int, bool]] = {}
        if not self.path.exists():
            return index
        offset = 0
        with open(self.path, "rb") as f:
            for raw in f:
                found = _record_of(raw)
                if found is not None:
                    line, ok = found
                    kept = index.get(line)
                    if kept is None or ok or not kept[2]:
                        index[line] = (offset, len(raw), ok)
                offset += len(raw)
        return index

    def answered(self) -> set[int]:
        """The input lines the file already holds an answer for."""
        return {line for line, (_, _, ok) in self._index().items() if ok}

    def open(self) -> None:
        """Open for appending (a record cut short by a killed run is left on its own
        line, and ignored)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "ab")  # noqa: SIM115 - open until close()
        if f.tell() > 0:
            with open(self.path, "rb") as tail:
                tail.seek(-1, os.SEEK_END)
                if tail.read(1) != b"\n":
                    f.write(b"\n")
        self._file = f

    def write(self, record: dict[str, Any]) -> None:
        """Append one record and flush it to the operating system."""
        self.write_line(json.dumps(record, ensure_ascii=False))

    def write_line(self, text: str) -> None:
        """Append one record already encoded as JSON, and flush it."""
        assert self._file is not None, "open() the output first"
        self._file.write(text.encode("utf-8") + b"\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (its data synced to disk)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> OutputFile:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def put_in_order(self) -> tuple[int, int]:
        """Rewrite the file in input order, one record per line; returns (answered,
        failed) counts."""
        index = self._index()
        tmp = self.path.with_name(self.path.name + ".sorting")
        with open(self.path, "rb") as src, open(tmp, "wb") as dst:
            for line in sorted(index):
                offset, length, _ = index[line]
                src.seek(offset)
                data = src.read(length)
                dst.write(data if data.endswith(b"\n") else data + b"\n")
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, self.path)
        answered = sum(1 for _, _, ok in index.values() if ok)
        return answered, len(index) - answered
