"""lpr against OpenALPR's `alpr`, side by side: per-frame wall and CPU time of whole processes on the same frames.

Run from the repository root:  python bench/versus_openalpr.py  (options: --alpr PATH, --config FILE, --frames N, --rounds N)
Writes results/versus_openalpr.json and prints the figures. Not part of CI.

Build OpenALPR 2.3 first (about 6 minutes on 2 cores; the figures use an optimized build):
    OPENALPR_CXXFLAGS=-O2 bash ../shared/anchors/openalpr/build.sh /tmp/openalpr
Without the binary the OpenALPR rows are skipped and lpr is timed alone.

Each command runs as its own process pinned to one core (taskset), with every thread pool held
to one thread, over N frames and over 1 frame; the per-frame cost is (time of N - time of 1) /
(N - 1), so start-up and model loading cancel out. The two programs alternate round by round and
the median round is kept. Wall time is the process's elapsed time; CPU time is user + system
of the process and its children (os.wait4). Frame sets: 1280x720 scenes of ../shared/data/us-scenes,
plate-free frames of ../shared/data/negatives, and the scenes upscaled to 3840x2160 (written to a
temporary folder). The same run also times lpr's stages in process (bench/speed.py's
instrumentation), so README's speed table comes from one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from common import DEFAULT_SCENES, REPO, frames_of_size, machine, scene_paths, summary, write_results
from speed import CLOCKS, StageClock, stage_times, time_frame
from threadpoolctl import threadpool_limits

from lpr import Recognizer, load_model, read_image

DEFAULT_ALPR = Path("/tmp/openalpr/src/build/alpr")
DEFAULT_NEGATIVES = REPO.parent / "shared" / "data" / "negatives"
# Every thread pool a process might start, held to one thread: the comparison is one core each.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")}
TARGETS = {"lpr_ms_per_frame": 40.0, "ratio_to_openalpr": 5.0, "plate_free_ms": 10.0, "uhd_over_hd": 4.0}


def run_process(command: list[str], core: int) -> tuple[float, float]:
    """A command run to its end on one core in, (wall seconds, CPU seconds of it and its children) out; SystemExit when it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(["taskset", "-c", str(core), *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ | ONE_THREAD)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{command[0]} failed: {process.stderr.read().decode(errors='replace').strip()[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime


def per_frame_ms(command: list[str], frames: list[Path], core: int) -> tuple[float, float]:
    """A command taking image paths and N frames in, (wall ms, CPU ms) per frame out: (time of N - time of 1) / (N - 1)."""
    many = run_process([*command, *map(str, frames)], core)
    one = run_process([*command, str(frames[0])], core)
    count = len(frames) - 1
    return (many[0] - one[0]) * 1000 / count, (many[1] - one[1]) * 1000 / count


def commands(alpr: Path | None, config: Path | None) -> dict[str, list[str]]:
    """The programs compared: name -> command line that reads the image paths appended to it."""
    found = {"lpr": [sys.executable, "-m", "lpr", "recognize", "--json", "--workers", "1"]}
    if alpr is not None:
        found["openalpr"] = [str(alpr), *(["--config", str(config)] if config else []), "-c", "us", "-j"]
    return found


def paired(programs: dict[str, list[str]], frames: list[Path], rounds: int, core: int) -> dict[str, dict[str, float]]:
    """The programs and one frame set in, per program the median over alternating rounds of wall and CPU ms per frame out."""
    taken: dict[str, list[tuple[float, float]]] = {name: [] for name in programs}
    for round_index in range(rounds):
        # Alternate who goes first, so a slow spell on the machine does not always hit one program.
        order = list(programs) if round_index % 2 == 0 else list(reversed(programs))
        for name in order:
            taken[name].append(per_frame_ms(programs[name], frames, core))
    return {
        name: {"wall_ms": round(statistics.median(w for w, _ in runs), 2), "cpu_ms": round(statistics.median(c for _, c in runs), 2), "rounds": [list(map(lambda v: round(v, 2), r)) for r in runs]}
        for name, runs in taken.items()
    }


def upscaled(frames: list[Path], folder: Path, size: tuple[int, int] = (3840, 2160)) -> list[Path]:
    """1280x720 frames in, the same frames resized to size and written as JPEG (quality 90) into folder out."""
    written = []
    for path in frames:
        target = folder / path.name
        cv2.imwrite(str(target), cv2.resize(cv2.imread(str(path)), size, interpolation=cv2.INTER_CUBIC), [cv2.IMWRITE_JPEG_QUALITY, 90])
        written.append(target)
    return written


def in_process(frames: dict[str, list[Path]], repeat: int) -> dict:
    """Frame sets in, lpr's in-process figures out: end-to-end median per set and per-stage times on the scenes."""
    cv2.setNumThreads(1)
    threadpool_limits(1)
    recognizer = Recognizer(load_model())
    for path in frames["scenes"][:3]:
        recognizer.recognize(read_image(path))
    figures: dict = {}
    for name, paths in frames.items():
        runs = [[time_frame(recognizer, p)[:2] for p in paths] for _ in range(repeat)]
        per_frame = [statistics.median(values) for values in zip(*runs)]
        figures[f"{name}_ms"] = summary([wall for wall, _ in per_frame])
        figures[f"{name}_cpu_ms"] = summary([cpu for _, cpu in per_frame])
    stage_figures = stage_times(recognizer, frames["scenes"], StageClock(CLOCKS["cpu"]), repeat)
    figures["stages_cpu_ms"] = {stage: values["median"] for stage, values in stage_figures["stages"].items()}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpr", type=Path, default=DEFAULT_ALPR, help="OpenALPR's alpr binary (skipped when absent)")
    parser.add_argument("--config", type=Path, default=Path("/tmp/openalpr/openalpr.conf"), help="OpenALPR's openalpr.conf")
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES)
    parser.add_argument("--negatives", type=Path, default=DEFAULT_NEGATIVES)
    parser.add_argument("--frames", type=int, default=40, help="frames per set")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is kept")
    parser.add_argument("--core", type=int, default=0, help="the core every timed process is pinned to")
    args = parser.parse_args()
    if shutil.which("taskset") is None:
        sys.exit("versus_openalpr: taskset (util-linux) is needed to pin each process to one core")
    alpr = args.alpr if args.alpr.is_file() and os.access(args.alpr, os.X_OK) else None
    if alpr is None:
        print(f"OpenALPR not found at {args.alpr}: timing lpr alone (build it with ../shared/anchors/openalpr/build.sh)")
    programs = commands(alpr, args.config if alpr else None)
    scenes = frames_of_size(scene_paths(args.scenes))[: args.frames]
    negatives = sorted(args.negatives.glob("*.jpg"))[: args.frames]
    with tempfile.TemporaryDirectory(prefix="lpr-uhd-") as folder:
        frames = {"scenes": scenes, "plate_free": negatives, "uhd": upscaled(scenes, Path(folder))}
        load_before = machine()["load_average_1min"]
        processes = {name: paired(programs, paths, args.rounds, args.core) for name, paths in frames.items()}
        lpr_alone = in_process(frames, args.rounds)
    figures = {
        "benchmark": "versus_openalpr",
        "frames": {name: len(paths) for name, paths in frames.items()},
        "method": "whole processes, one core each (taskset), one thread; per frame = (time of N frames - time of 1) / (N - 1); median of alternating rounds",
        "programs": {name: " ".join(command) for name, command in programs.items()},
        "processes": processes,
        "ratio_wall": {name: round(rows["openalpr"]["wall_ms"] / rows["lpr"]["wall_ms"], 2) for name, rows in processes.items() if "openalpr" in rows},
        "ratio_cpu": {name: round(rows["openalpr"]["cpu_ms"] / rows["lpr"]["cpu_ms"], 2) for name, rows in processes.items() if "openalpr" in rows},
        "uhd_over_hd": round(processes["uhd"]["lpr"]["wall_ms"] / processes["scenes"]["lpr"]["wall_ms"], 2),
        "lpr_in_process": lpr_alone,
        "targets": TARGETS,
        "machine": machine() | {"load_average_1min_before": load_before},
    }
    path = write_results("versus_openalpr", figures)
    print_figures(figures)
    print(f"written to {path}")


def print_figures(figures: dict) -> None:
    """The figures as a small table."""
    print(f"{'frames':12} {'program':10} {'wall ms':>9} {'CPU ms':>9}  (per frame, one core)")
    for name, rows in figures["processes"].items():
        for program, values in rows.items():
            print(f"{name:12} {program:10} {values['wall_ms']:9.1f} {values['cpu_ms']:9.1f}")
    for name, ratio in figures["ratio_wall"].items():
        print(f"OpenALPR / lpr on {name}: {ratio}x wall, {figures['ratio_cpu'][name]}x CPU")
    print(f"lpr 3840x2160 / 1280x720: {figures['uhd_over_hd']}x")
    stages = figures["lpr_in_process"]["stages_cpu_ms"]
    print("lpr stages (CPU ms, median per scene frame): " + ", ".join(f"{stage} {ms:.1f}" for stage, ms in stages.items()))


if __name__ == "__main__":
    main()
