"""The Dask cluster mode: a real local scheduler and two workers (subprocesses) give the results of a local run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import comparable, few_images

from lpr.batch import recognize_paths
from lpr.cli import main
from lpr.errors import LprError
from lpr.model import load_model
from lpr.pipeline import Recognizer

# Seconds the scheduler and workers get to start; CI machines can be slow and busy.
START_TIMEOUT_S = 90


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate the processes started here, killing any that do not stop within a few seconds."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a local `dask scheduler` with two single-threaded `dask worker` processes joined to it."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    logs = (folder / "logs.txt").open("w")
    quiet = ["--no-dashboard"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info), *quiet],
            stdout=logs, stderr=subprocess.STDOUT,
        )
    ]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not info.exists() or not info.read_text().strip():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                pytest.fail(f"the dask scheduler did not start; log in {logs.name}")
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--death-timeout", "60", *quiet],
                    stdout=logs, stderr=subprocess.STDOUT,
                )
            )
        with distributed.Client(address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        stop(processes[::-1])
        logs.close()


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(load_model())


def test_cluster_results_equal_the_local_run(scheduler: str, recognizer: Recognizer, tmp_path: Path) -> None:
    from lpr.cluster import recognize_on_cluster

    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    images = [str(p) for p in few_images()]
    paths = images[:1] + [str(corrupt), str(tmp_path / "missing.jpg")] + images[1:]
    local = list(recognize_paths(recognizer, paths))
    remote = list(recognize_on_cluster(recognizer, paths, scheduler))
    assert [r.image for r in remote] == paths
    assert [comparable(r) for r in remote] == [comparable(r) for r in local]
    assert [r.error is not None for r in remote] == [False, True, True] + [False] * (len(images) - 1)


@pytest.mark.parametrize("reading", [[], ["--region", "us-va"], ["--state", "va"], ["--set", "scene.sure_confidence=0.9"]])
def test_cli_scheduler_output_equals_the_local_output(scheduler: str, capsys: pytest.CaptureFixture[str], reading: list[str]) -> None:
    images = [str(p) for p in few_images(3)]
    outputs = []
    for options in (["--workers", "1"], ["--scheduler", scheduler]):
        assert main(["recognize", *images, "--json", *reading, *options]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        outputs.append([{k: v for k, v in line.items() if k != "processing_time_ms"} for line in lines])
    assert outputs[0] == outputs[1]


def test_unreachable_scheduler_is_a_one_line_error(recognizer: Recognizer) -> None:
    pytest.importorskip("distributed")
    from lpr.cluster import recognize_on_cluster

    with pytest.raises(LprError, match="cannot reach the Dask scheduler"):
        next(recognize_on_cluster(recognizer, [], "tcp://127.0.0.1:9", timeout=2))


def test_missing_dask_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from lpr.cluster import import_distributed

    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(LprError, match=r"pip install 'lpr\[cluster\]'"):
        import_distributed()
