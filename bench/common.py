"""What the benchmarks share: the scene frames, summary statistics, machine facts and the results file."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

import lpr
from lpr.batch import available_cores
from lpr.imageio import header_size

REPO = Path(__file__).resolve().parent.parent
# The real scenes live beside the repository and are never copied into it.
DEFAULT_SCENES = REPO.parent / "shared" / "data" / "us-scenes"
RESULTS = REPO / "results"
# The frame size the speed target is stated for.
FRAME_SIZE = (1280, 720)
# Bytes read to find a JPEG's size in its header (the SOF marker comes after EXIF data).
HEADER_BYTES = 1 << 16


def scene_paths(folder: Path) -> list[Path]:
    """Every .jpg scene of an OpenALPR-format folder, sorted; exits with a message when there is none."""
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        sys.exit(f"no .jpg scenes in {folder} (pass --scenes FOLDER)")
    return paths


def frames_of_size(paths: Sequence[Path], size: tuple[int, int] = FRAME_SIZE) -> list[Path]:
    """The paths whose image header declares exactly size = (width, height)."""
    found = []
    for path in paths:
        with open(path, "rb") as stream:
            if header_size(stream.read(HEADER_BYTES)) == size:
                found.append(path)
    return found


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    """Per-frame times in ms in, their median, p90, mean, min and max (rounded to 0.01 ms) out."""
    values = np.asarray(values_ms, dtype=float)
    if values.size == 0:
        return {"median": 0.0, "p90": 0.0, "mean": 0.0, "min": 0.0, "max": 0.0}
    return {
        "median": round(float(np.median(values)), 2),
        "p90": round(float(np.percentile(values, 90)), 2),
        "mean": round(float(values.mean()), 2),
        "min": round(float(values.min()), 2),
        "max": round(float(values.max()), 2),
    }


def cpu_model() -> str:
    """The CPU's model name, as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Facts needed to compare figures between runs: CPU, cores, load, library versions."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": cpu_model(),
        "cores_available": available_cores(),
        # Other work on the machine slows every figure down: a load above the core count means contention.
        "load_average_1min": round(load[0], 2),
        "python": platform.python_version(),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "lpr": lpr.__version__,
    }


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB
    return round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1)


def write_results(name: str, figures: dict) -> Path:
    """Write figures as results/NAME.json (replacing the previous run's) and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path


def process_table() -> dict[int, tuple[int, float]]:
    """Every live process: pid -> (parent pid, CPU seconds including its reaped children), from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # After the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
        table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]) / ticks)
    return table


def descendants(table: dict[int, tuple[int, float]], root: int) -> list[int]:
    """The pids of table that descend from root (root excluded)."""

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = table.get(pid, (1, 0.0))[0]
            if pid == root:
                return True
        return False

    return sorted(pid for pid in table if descends(pid))


def process_tree_cpu_seconds() -> float:
    """CPU seconds used so far by this process and all its descendants, ended ones included.

    Ended children count through their parent's cutime/cstime once reaped, so pool workers that
    have exited still count, through the fork server that started them.
    """
    table = process_table()
    me = os.getpid()
    return sum(table[pid][1] for pid in [me, *descendants(table, me)] if pid in table)
