"""Determinism: the same images give byte-identical JSON (apart from timings) across runs and --workers values."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "datasets" / "samples"


def run_lpr(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m lpr ARGS` and capture its output."""
    return subprocess.run([sys.executable, "-m", "lpr", *args], capture_output=True, text=True, timeout=300)


def without_timings(stdout: str) -> list[str]:
    """JSON Lines in, each line re-serialized without processing_time_ms out (key order and values kept)."""
    lines = []
    for line in stdout.splitlines():
        record = json.loads(line)
        assert isinstance(record.pop("processing_time_ms"), float)
        lines.append(json.dumps(record))
    return lines


@functools.cache
def has_workers_flag() -> bool:
    """Whether `lpr recognize` takes --workers (added by the parallel-workers change)."""
    return "--workers" in run_lpr("recognize", "--help").stdout


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """Sample scenes and crops plus one unreadable file, so error records are covered too."""
    broken = tmp_path_factory.mktemp("determinism") / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    return [str(SAMPLES / "scenes"), str(SAMPLES / "crops"), str(broken)]


@pytest.fixture(scope="module")
def reference(inputs) -> list[str]:
    result = run_lpr("recognize", *inputs, "--json", *(["--workers", "1"] if has_workers_flag() else []))
    assert result.returncode == 1, result.stderr  # the broken file fails, the rest are read
    lines = without_timings(result.stdout)
    assert len(lines) == 7 and any('"plates": [{' in line for line in lines)
    return lines


def test_same_output_on_a_second_run(inputs, reference):
    result = run_lpr("recognize", *inputs, "--json", *(["--workers", "1"] if has_workers_flag() else []))
    assert without_timings(result.stdout) == reference


@pytest.mark.parametrize("workers", ["2", "3"])
def test_same_output_with_several_workers(inputs, reference, workers):
    if not has_workers_flag():
        pytest.skip("lpr recognize has no --workers option yet")
    result = run_lpr("recognize", *inputs, "--json", "--workers", workers)
    assert result.returncode == 1, result.stderr
    assert without_timings(result.stdout) == reference

