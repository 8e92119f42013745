"""`modelhub batch --ray ADDRESS`: the same job through Ray Data on a local Ray instance
this test starts (on 127.0.0.1 only, no dashboard, no usage reporting) and stops."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch_fixtures import BatchServer, write_configs, write_lines
from tests.serving import modelhub_command, run_command

# Read when ray is first imported: keep every Ray process on the loopback address
# (Ray's single-machine mode) and report nothing anywhere.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A Ray instance of this test's own: its GCS address."""
    os.environ.update(RAY_ENV)
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'modelhub[ray]'")
    from ray._private import ray_constants

    # Read when ray was first imported, maybe by another test of this process: loopback only.
    ray_constants.ENABLE_RAY_CLUSTER = False
    folder = tempfile.mkdtemp(prefix="mhray-")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=folder,
             logging_level=logging.WARNING, configure_logging=False)
    try:
        address = ray.get_runtime_context().gcs_address
        assert address.startswith("127.0.0.1:")
        yield address
    finally:
        ray.shutdown()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_batch_on_ray(ray_address: str, tmp_path: Path) -> None:
    with BatchServer() as server:
        configs = write_configs(tmp_path / "models.yaml", server)
        prompts = [f"ray {i}" + (" FAIL" if i == 7 else "") for i in range(24)]
        source = write_lines(tmp_path / "in.jsonl",
                             [{"id": i, "prompt": p} for i, p in enumerate(prompts)])
        out = tmp_path / "out.jsonl"
        # Two lines answered by an earlier run: the cluster is not asked them again.
        write_lines(out, [{"line": 3, "id": 2, "text": "earlier", "error": None},
                          {"line": 1, "id": 0, "text": "earlier", "error": None}])
        with run_command(modelhub_command(
                "--config", str(configs), "batch", "up", str(source), "-o", str(out),
                "--ray", ray_address, "--concurrency", "4", "--ray-workers", "2",
                "--ray-env", "BATCH_TEST_KEY"),
                env={**RAY_ENV, "BATCH_TEST_KEY": "sk-forwarded"}) as child:
            code = child.process.wait(240)
            log = child.stderr()
        assert code == 1, log
        assert "23 of 24 lines answered (2 by an earlier run)" in log
        assert "1 lines failed" in log
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["line"] for r in records] == list(range(1, 25))
        assert [r["id"] for r in records] == list(range(24))
        assert records[0]["text"] == records[2]["text"] == "earlier"
        assert records[5]["text"] == "echo: ray 5" and records[5]["usage"]["total_tokens"] == 21
        assert records[7]["error"]["type"] == "ServerError"
        asked = sorted(server.asked())
        assert asked == sorted(p for i, p in enumerate(prompts) if i not in (0, 2))
        # The workers built the model from the config as written, expanding the key from
        # their own environment (forwarded with --ray-env).
        assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-forwarded"}
