"""Speed on one core: end-to-end and per-stage time per 1280x720 scene frame, and cv2.imread for scale.

Run from the repository root:  python bench/speed.py  (options: --scenes FOLDER, --repeat N, --limit N)
Writes results/speed.json and prints the figures.

The headline is end to end: lpr.read_image (file read + decode) and Recognizer.recognize, exactly as
`lpr recognize` runs them, with no instrumentation. Stage times come from a second pass in which the
functions the pipeline (lpr.pipeline) and the segmentation driver (lpr.segmentation.plate) call, and
the methods of the classifier and verifier, are wrapped with timers: the real code path is measured,
whatever its internals become, and a new stage module the pipeline starts to call shows up as its own stage. Time in a nested timed call is charged
to the inner stage only, so the stages add up to the instrumented end-to-end time (the rest is "other").
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
from common import DEFAULT_SCENES, FRAME_SIZE, frames_of_size, machine, scene_paths, summary, write_results
from threadpoolctl import threadpool_limits

import lpr.classification
import lpr.pipeline
import lpr.segmentation.plate
from lpr import Recognizer, load_model, read_image

TARGET_MS = 40
# Stage names of the modules whose functions the pipeline calls; any other lpr module is its own stage.
STAGE_OF_MODULE = {
    "lpr.imageio": "decode",
    "lpr.localization": "localization",
    "lpr.verification": "verification",
    "lpr.segmentation.components": "segmentation",
    "lpr.segmentation.rows": "segmentation",
    "lpr.segmentation.plate": "segmentation",
    "lpr.features": "features",
    "lpr.classification": "classification",
    "lpr.decoding": "decoding",
    "lpr.scene": "scene",
}
# Classes whose public methods are stages of their own, wherever the pipeline reaches them from.
STAGE_CLASSES = {
    "lpr.classification:CharacterClassifier": "classification",
    "lpr.verification:PlateVerifier": "verification",
}
# Modules whose calls to stage functions are timed: the orchestrator and the segmentation driver.
CALLERS = (lpr.pipeline, lpr.segmentation.plate)
STAGE_ORDER = ("decode", "localization", "verification", "segmentation", "features", "classification", "decoding", "scene")


class StageClock:
    """Exclusive time per stage: a timed call's time minus the time of the timed calls nested in it.

    Wall time by default; with time.thread_time, CPU time, which other processes on a busy machine do not inflate.
    """

    def __init__(self, timer: Callable[[], float] = time.perf_counter) -> None:
        self.timer = timer
        self.totals: dict[str, float] = defaultdict(float)
        self._nested: list[float] = []

    def wrap(self, stage: str, function: Callable) -> Callable:
        """function in, the same function charging its own time to stage out."""

        @functools.wraps(function)
        def timed(*args, **kwargs):
            start = self.timer()
            self._nested.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = self.timer() - start
                self.totals[stage] += elapsed - self._nested.pop()
                if self._nested:
                    self._nested[-1] += elapsed

        return timed

    def take_ms(self) -> dict[str, float]:
        """The per-stage totals in ms since the last call, then reset."""
        totals = {stage: seconds * 1000 for stage, seconds in self.totals.items()}
        self.totals.clear()
        return totals


def stage_of(module: str) -> str | None:
    """The stage a function of this module belongs to; None for functions outside lpr."""
    if module in STAGE_OF_MODULE:
        return STAGE_OF_MODULE[module]
    # Geometry helpers (boxes, NMS) are the pipeline's own glue: left in "other".
    if module.startswith("lpr.") and module not in ("lpr.pipeline", "lpr.geometry", "lpr.records"):
        return module.removeprefix("lpr.")
    return None


@contextmanager
def instrumented(clock: StageClock) -> Iterator[list[str]]:
    """Within this block the pipeline's stage functions and methods report to clock; yields what was wrapped."""
    patches: list[tuple[object, str, object]] = []
    for caller in CALLERS:
        for name, value in vars(caller).items():
            stage = stage_of(getattr(value, "__module__", "") or "") if inspect.isfunction(value) else None
            if stage is not None:
                patches.append((caller, name, clock.wrap(stage, value)))
    # The classifier computes its features itself: they are the features stage.
    for name, value in vars(lpr.classification).items():
        if inspect.isfunction(value) and value.__module__ == "lpr.features":
            patches.append((lpr.classification, name, clock.wrap("features", value)))
    for spec, stage in STAGE_CLASSES.items():
        module_name, class_name = spec.split(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):  # that stage does not exist (yet)
            continue
        for name, value in vars(cls).items():
            if inspect.isfunction(value) and not name.startswith("_") and name != "fit":
                patches.append((cls, name, clock.wrap(stage, value)))
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, wrapper in patches:
            setattr(owner, name, wrapper)
        yield sorted(f"{getattr(owner, '__name__', owner)}.{name}" for owner, name, _ in patches)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def time_frame(recognizer: Recognizer, path: Path) -> tuple[float, float, float, int]:
    """One frame, uninstrumented: (end-to-end wall ms, end-to-end CPU ms, recognize-only wall ms, plates found)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    image = read_image(path)
    decoded = time.perf_counter()
    plates = recognizer.recognize(image)
    end = time.perf_counter()
    return (end - wall) * 1000, (time.thread_time() - cpu) * 1000, (end - decoded) * 1000, len(plates)


def time_imread(path: Path) -> tuple[float, float]:
    """cv2.imread of the frame: (wall ms, CPU ms), the floor any pipeline reading the file pays."""
    wall, cpu = time.perf_counter(), time.thread_time()
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    elapsed = (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000
    assert image is not None, path
    return elapsed


def time_stages(recognizer: Recognizer, path: Path, clock: StageClock) -> tuple[dict[str, float], float]:
    """One frame with the stages instrumented: (per-stage ms, instrumented end-to-end ms), in the clock's time."""
    start = clock.timer()
    with clock_stage(clock, "decode"):
        image = read_image(path)
    recognizer.recognize(image)
    total = (clock.timer() - start) * 1000
    return clock.take_ms(), total


@contextmanager
def clock_stage(clock: StageClock, stage: str) -> Iterator[None]:
    """Charge the time of the block to stage."""
    start = clock.timer()
    yield
    clock.totals[stage] += clock.timer() - start


def median_over_runs(runs: list[list[float]]) -> list[float]:
    """Per-frame values of several runs in, the per-frame median out (damps noise from other processes)."""
    return [statistics.median(values) for values in zip(*runs)]


# Stage times are taken twice: wall time, and CPU time of this thread (robust to a busy machine).
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def stage_times(recognizer: Recognizer, frames: list[Path], clock: StageClock, repeat: int) -> dict:
    """Instrumented passes over the frames in, per-stage and total summaries (per-frame medians over passes) out."""
    stage_runs: dict[str, list[list[float]]] = defaultdict(list)
    totals = []
    with instrumented(clock) as wrapped:
        for _ in range(max(1, repeat)):
            per_frame = [time_stages(recognizer, p, clock) for p in frames]
            for stage in sorted({s for stages, _ in per_frame for s in stages} | set(STAGE_ORDER)):
                stage_runs[stage].append([times.get(stage, 0.0) for times, _ in per_frame])
            stage_runs["other"].append([total - sum(times.values()) for times, total in per_frame])
            totals.append([total for _, total in per_frame])
    order = [s for s in STAGE_ORDER if s in stage_runs] + sorted(set(stage_runs) - set(STAGE_ORDER) - {"other"}) + ["other"]
    return {
        "stages": {stage: summary(median_over_runs(stage_runs[stage])) for stage in order},
        "total": summary(median_over_runs(totals)),
        "wrapped": wrapped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="folder of OpenALPR-format scenes")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the frames; per-frame medians are kept")
    parser.add_argument("--limit", type=int, default=0, help="use at most this many frames (0 = all)")
    args = parser.parse_args()

    # One core, the figure the 40 ms target is stated for: OpenCV's and BLAS's threads too.
    cv2.setNumThreads(1)
    threadpool_limits(1)
    frames = frames_of_size(scene_paths(args.scenes))
    frames = frames[: args.limit] if args.limit else frames
    if not frames:
        raise SystemExit(f"no {FRAME_SIZE[0]}x{FRAME_SIZE[1]} frames in {args.scenes}")
    recognizer = Recognizer(load_model())
    load_before = machine()["load_average_1min"]
    for path in frames[:3]:  # warm-up: page cache, lazy imports, first-call allocations
        recognizer.recognize(read_image(path))

    walls, cpus, recognizes, imreads, imread_cpus = [], [], [], [], []
    plates = 0
    for _ in range(max(1, args.repeat)):
        timed = [time_frame(recognizer, p) for p in frames]
        walls.append([t[0] for t in timed])
        cpus.append([t[1] for t in timed])
        recognizes.append([t[2] for t in timed])
        plates = sum(t[3] for t in timed)
        read = [time_imread(p) for p in frames]
        imreads.append([wall for wall, _ in read])
        imread_cpus.append([cpu for _, cpu in read])

    stage_figures = {kind: stage_times(recognizer, frames, StageClock(timer), args.repeat) for kind, timer in CLOCKS.items()}
    wrapped = stage_figures["wall"].pop("wrapped")
    stage_figures["cpu"].pop("wrapped")
    figures = {
        "benchmark": "speed",
        "frames": len(frames),
        "frame_size": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
        "scenes": str(args.scenes),
        "repeat": max(1, args.repeat),
        "opencv_threads": 1,
        "target_ms": TARGET_MS,
        "end_to_end_ms": summary(median_over_runs(walls)),
        "end_to_end_cpu_ms": summary(median_over_runs(cpus)),
        "recognize_only_ms": summary(median_over_runs(recognizes)),
        "imread_ms": summary(median_over_runs(imreads)),
        "imread_cpu_ms": summary(median_over_runs(imread_cpus)),
        "stages_ms": stage_figures["wall"]["stages"],
        "instrumented_end_to_end_ms": stage_figures["wall"]["total"],
        "stages_cpu_ms": stage_figures["cpu"]["stages"],
        "instrumented_end_to_end_cpu_ms": stage_figures["cpu"]["total"],
        "plates_reported": plates,
        "wrapped": wrapped,
        "machine": machine() | {"load_average_1min_before": load_before},
    }
    path = write_results("speed", figures)
    print_figures(figures)
    print(f"written to {path}")


def print_figures(figures: dict) -> None:
    """The figures as a small table."""
    print(f"{figures['frames']} frames of {figures['frame_size']}, 1 thread, per-frame median of {figures['repeat']} passes")
    rows = [("end to end (read+recognize)", figures["end_to_end_ms"]), ("  CPU time", figures["end_to_end_cpu_ms"])]
    rows += [("recognize only", figures["recognize_only_ms"]), ("cv2.imread, for scale", figures["imread_ms"])]
    rows += [("  CPU time", figures["imread_cpu_ms"])]
    rows += [(f"stage: {stage}", values) for stage, values in figures["stages_ms"].items()]
    rows += [("instrumented end to end", figures["instrumented_end_to_end_ms"])]
    cpu = {f"stage: {stage}": values for stage, values in figures["stages_cpu_ms"].items()}
    cpu["instrumented end to end"] = figures["instrumented_end_to_end_cpu_ms"]
    print(f"{'':28} {'median':>8} {'p90':>8} {'cpu med':>8} {'cpu p90':>8}  (ms)")
    for label, values in rows:
        extra = f" {cpu[label]['median']:8.1f} {cpu[label]['p90']:8.1f}" if label in cpu else ""
        print(f"{label:28} {values['median']:8.1f} {values['p90']:8.1f}{extra}")
    print(f"target: {figures['target_ms']} ms per frame; load average {figures['machine']['load_average_1min']} on {figures['machine']['cores_available']} cores")


if __name__ == "__main__":
    main()
