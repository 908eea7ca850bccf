"""What `lpr watch` delivers on a video of real scenes: one read per vehicle pass, against the per-frame reading it is built from.

Run from the repository root:  python bench/watch_passes.py  (options: --scenes FOLDER, --negatives FOLDER, --passes N, --pass-s S, --gap-s S, --workers N)
Writes results/watch_passes.json and prints the figures.

A 1280x720 MJPG video at 10 fps is built in a temporary folder from the first N 1280x720 scenes (by name):
for each scene a pass of --pass-s seconds in which the camera zooms and pans from the whole scene to a
tighter view near the plate (the plate moves and grows), then --gap-s seconds of a plate-free negative held
still. The watcher runs on it as `lpr watch` does (lpr.watch: open_sources, Watcher.run, a temporary SQLite
store, no media), pinned to one core with one OpenCV and BLAS thread. The watcher records every frame's
readings as it hands them to the tracker, so the per-frame baseline comes from the very frames the watcher
recognized, in the same timed run (the recording costs a list append per frame).

A read belongs to the pass its source offsets overlap most; a read overlapping no pass is a false read in a
plate-free stretch. With --workers N (N > 1) the video is watched a second time with WatchConfig(workers=N),
pinned to N cores (the main process and its N workers share them), and that run's speed is reported beside
the one-core run's, with whether its reads are the same.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from common import DEFAULT_SCENES, FRAME_SIZE, frames_of_size, machine, scene_paths, write_results
from threadpoolctl import threadpool_limits

from lpr import Recognizer, load_model
from lpr.records import VehicleRead
from lpr.store import open_store
from lpr.watch import WatchConfig, Watcher, open_sources

DEFAULT_NEGATIVES = DEFAULT_SCENES.parent / "negatives"
FPS = 10
# The tightest view shows the plate this many pixels wide (never zooming in more than MAX_ZOOM): large enough to read, as a camera close to a car sees it.
TIGHT_PLATE_PX = 260
MAX_ZOOM = 3.0
# The tight view is centred this fraction of the plate's width beside the plate, so the plate is near the centre but not on it.
OFF_CENTRE = 0.5


@dataclass(frozen=True)
class Scene:
    """One labelled scene: its image file, plate box (x, y, w, h) and plate text."""

    path: Path
    box: tuple[int, int, int, int]
    label: str


@dataclass(frozen=True)
class Pass:
    """One pass in the video: its scene's label and its time span [start_s, end_s) in seconds into the file."""

    label: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class FrameReading:
    """What the recognizer read in one recognized frame: its offset in seconds and its plates (text, confidence), best first."""

    offset_s: float
    plates: tuple[tuple[str, float], ...]


def load_scenes(folder: Path, count: int) -> list[Scene]:
    """A folder of OpenALPR-format scenes and a count in, the first count 1280x720 labelled scenes (by name) out."""
    scenes = []
    for path in frames_of_size(scene_paths(folder)):
        label_file = path.with_suffix(".txt")
        if not label_file.is_file():
            continue
        # X.txt: X.jpg<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE
        _, x, y, w, h, label = label_file.read_text().split()[:6]
        scenes.append(Scene(path, (int(x), int(y), int(w), int(h)), label.upper()))
        if len(scenes) == count:
            break
    return scenes


def crop_window(size: tuple[int, int], centre: tuple[float, float], zoom: float) -> tuple[int, int, int, int]:
    """An image size, a wanted centre and a zoom (>= 1) in, the (x, y, w, h) window of the frame's aspect ratio out, shifted to lie inside the image."""
    width, height = size
    w, h = width / zoom, height / zoom
    x = min(max(centre[0] - w / 2, 0.0), width - w)
    y = min(max(centre[1] - h / 2, 0.0), height - h)
    return round(x), round(y), round(w), round(h)


def pass_frames(image: np.ndarray, box: tuple[int, int, int, int], count: int) -> list[np.ndarray]:
    """A scene and its plate box in, count frames out: crop windows interpolated from the whole scene to a tight view near the plate, each resized to FRAME_SIZE."""
    height, width = image.shape[:2]
    x, y, w, h = box
    tight_zoom = min(max(TIGHT_PLATE_PX / w, 1.0), MAX_ZOOM)
    start, end = (width / 2, height / 2), (x + w / 2 + OFF_CENTRE * w, y + h / 2)
    frames = []
    for i in range(count):
        k = i / max(count - 1, 1)
        # Zoom grows geometrically so the apparent speed of the zoom is even, as a vehicle nearing a camera looks.
        zoom = tight_zoom**k
        centre = (start[0] + (end[0] - start[0]) * k, start[1] + (end[1] - start[1]) * k)
        cx, cy, cw, ch = crop_window((width, height), centre, zoom)
        frames.append(cv2.resize(image[cy : cy + ch, cx : cx + cw], FRAME_SIZE, interpolation=cv2.INTER_AREA if zoom < 1.01 else cv2.INTER_LINEAR))
    return frames


def negative_frames(folder: Path) -> list[np.ndarray]:
    """A folder of plate-free images in, them resized to FRAME_SIZE out (a flat gray road with a lane mark when there is none)."""
    frames = [cv2.resize(image, FRAME_SIZE, interpolation=cv2.INTER_AREA) for image in (cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg"))[:50]) if image is not None]
    if frames:
        return frames
    road = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 110, np.uint8)
    cv2.rectangle(road, (600, 400), (680, 720), (230, 230, 230), -1)
    return [road]


def build_video(path: Path, scenes: Sequence[Scene], negatives: Sequence[np.ndarray], pass_count: int, gap_count: int) -> tuple[list[Pass], int]:
    """Scenes, plate-free images and frame counts in; the video written (gap, then each pass followed by a gap) and (passes, frames written) out."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, FRAME_SIZE)
    if not writer.isOpened():
        raise SystemExit(f"cannot write an MJPG video to {path}")
    written = 0
    passes = []

    def gap(number: int) -> None:
        nonlocal written
        # One negative held still for the whole stretch: a camera looking at an empty road, which motion gating can skip.
        still = negatives[number % len(negatives)]
        for _ in range(gap_count):
            writer.write(still)
        written += gap_count

    gap(0)
    for number, scene in enumerate(scenes):
        image = cv2.imread(str(scene.path))
        start = written / FPS
        for frame in pass_frames(image, scene.box, pass_count):
            writer.write(frame)
        written += pass_count
        passes.append(Pass(scene.label, start, written / FPS))
        gap(number + 1)
    writer.release()
    return passes, written


class RecordingWatcher(Watcher):
    """A Watcher recording each recognized frame's readings, in frame order, as the tracker gets them (in this process, whatever the workers)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.readings: list[FrameReading] = []

    def _advance(self, step, plates) -> list[VehicleRead]:  # type: ignore[no-untyped-def]
        """A gated frame and its plates in, Watcher._advance's reads out (the plates recorded when the frame was recognized)."""
        if step.moving:
            offset = step.frame.offset_s if step.frame.offset_s is not None else 0.0
            self.readings.append(FrameReading(offset, tuple((p.text, p.confidence) for p in plates)))
        return super()._advance(step, plates)


def pass_of(span: tuple[float, float], passes: Sequence[Pass]) -> int | None:
    """A time span (first, last frame offset) in, the index of the pass sharing the most frames with it (None for none) out."""
    best, best_overlap = None, 0.0
    for index, item in enumerate(passes):
        # Frame offsets are index / FPS exactly: a pass's frames lie in [start_s, end_s - 1 / FPS], and frames shared = overlap * FPS + 1.
        overlap = min(span[1], item.end_s - 1.0 / FPS) - max(span[0], item.start_s) + 1.0 / FPS
        if overlap > max(best_overlap, 1e-6):
            best, best_overlap = index, overlap
    return best


def watch(video: Path, folder: Path, recognizer: Recognizer, workers: int = 1) -> tuple[list[VehicleRead], list[FrameReading], dict]:
    """A video, a scratch folder, a recognizer and the workers in; the video watched with a temporary SQLite store and no media; (reads, per-frame readings, timing and counts) out."""
    store = open_store(f"sqlite:///{folder / f'reads-{workers}.db'}")
    reads: list[VehicleRead] = []
    reported: list[str] = []
    config = WatchConfig(workers=workers)
    watcher = RecordingWatcher(recognizer, store, config, emit=reads.append, report=reported.append)
    sources, failed = open_sources([str(video)], [], config.source_config(), reported.append)
    if failed:
        raise SystemExit(f"cannot open {video}: {reported}")
    wall, cpu = time.perf_counter(), time.process_time()
    report = watcher.run(sources, failed_sources=failed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    camera = report.cameras[0]
    return (
        reads,
        watcher.readings,
        {
            "seconds_wall": round(wall, 3),
            "seconds_cpu": round(cpu, 3),
            "frames_read": camera.frames_read,
            "frames_recognized": camera.recognized,
            "frames_skipped_no_motion": camera.skipped,
            "frames_dropped": camera.dropped,
            "reported": reported,
        },
    )


def score(passes: Sequence[Pass], reads: Sequence[VehicleRead], readings: Sequence[FrameReading]) -> dict:
    """The passes, the watcher's reads and the per-frame readings in, the accuracy figures (and per-pass detail) out."""
    reads_of: list[list[VehicleRead]] = [[] for _ in passes]
    false_reads = []
    for read in reads:
        span = read.source_offset_s
        index = pass_of(span, passes) if span is not None else None
        if index is None:
            false_reads.append(read)
        else:
            reads_of[index].append(read)
    frames_of: list[list[FrameReading]] = [[] for _ in passes]
    free_frames_read = 0
    for reading in readings:
        index = pass_of((reading.offset_s, reading.offset_s), passes)
        if index is not None:
            frames_of[index].append(reading)
        elif reading.plates:
            free_frames_read += 1
    detail = []
    for item, found, frames in zip(passes, reads_of, frames_of):
        read_frames = [f for f in frames if f.plates]
        best = max((plate for f in frames for plate in f.plates), key=lambda plate: plate[1], default=None)
        detail.append({
            "label": item.label,
            "span_s": [item.start_s, item.end_s],
            "reads": [{"plate": r.plate, "confidence": round(r.confidence, 3), "frames_seen": r.frames_seen, "offsets_s": r.source_offset_s} for r in found],
            "voted_right": any(r.plate == item.label for r in found),
            "best_frame": {"plate": best[0], "confidence": round(best[1], 3)} if best else None,
            "best_frame_right": best is not None and best[0] == item.label,
            "frames_recognized": len(frames),
            "frames_with_reading": len(read_frames),
            "frames_right": sum(f.plates[0][0] == item.label for f in read_frames),
        })  # fmt: skip
    with_reading = sum(d["frames_with_reading"] for d in detail)
    right = sum(d["frames_right"] for d in detail)
    return {
        "passes": len(passes),
        "passes_with_0_reads": sum(not d["reads"] for d in detail),
        "passes_with_1_read": sum(len(d["reads"]) == 1 for d in detail),
        "passes_with_more_reads": sum(len(d["reads"]) > 1 for d in detail),
        "passes_voted_right": sum(d["voted_right"] for d in detail),
        "passes_best_frame_right": sum(d["best_frame_right"] for d in detail),
        "pass_frames_with_reading": with_reading,
        "pass_frames_right": right,
        "per_frame_right_share": round(right / with_reading, 3) if with_reading else 0.0,
        "false_reads_plate_free": len(false_reads),
        "false_reads": [{"plate": r.plate, "confidence": round(r.confidence, 3), "offsets_s": r.source_offset_s} for r in false_reads],
        "plate_free_frames_with_reading": free_frames_read,
        "per_pass": detail,
    }


def pin_one_core() -> int:
    """Nothing in; this process pinned to one of its allowed cores, OpenCV and BLAS to one thread; the core out."""
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    cv2.setNumThreads(1)
    threadpool_limits(1)
    return core


def pin_cores(allowed: Sequence[int], count: int) -> list[int]:
    """The cores this process may use and a count in; this process pinned to the last count of them (its workers, started after, inherit it); those cores out."""
    cores = sorted(allowed)[-count:]
    if len(cores) < count:
        raise SystemExit(f"--workers {count} needs {count} cores, {len(cores)} available")
    os.sched_setaffinity(0, set(cores))
    return cores


def read_key(read: VehicleRead) -> tuple:
    """A read in, what must not depend on the workers out: everything but its id and wall-clock times."""
    return (read.plate, read.confidence, read.candidates, read.box, read.source_offset_s, read.frames_seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="folder of OpenALPR-format scenes")
    parser.add_argument("--negatives", type=Path, default=DEFAULT_NEGATIVES, help="folder of plate-free images for the stretches between passes")
    parser.add_argument("--passes", type=int, default=20, help="scenes to pass by (the first N 1280x720 ones, by name)")
    parser.add_argument("--pass-s", type=float, default=2.0, help="seconds of each pass")
    parser.add_argument("--gap-s", type=float, default=1.5, help="seconds of plate-free road between passes")
    parser.add_argument("--workers", type=int, default=1, help="also watch with WatchConfig(workers=N) pinned to N cores (N > 1)")
    args = parser.parse_args()
    if args.workers < 1:
        raise SystemExit("--workers must be at least 1")

    # The machine's facts before pinning: after it, this process sees one core.
    facts = machine()
    allowed = sorted(os.sched_getaffinity(0))
    core = pin_one_core()
    scenes = load_scenes(args.scenes, args.passes)
    if not scenes:
        raise SystemExit(f"no labelled {FRAME_SIZE[0]}x{FRAME_SIZE[1]} scenes in {args.scenes}")
    pass_count, gap_count = max(2, round(args.pass_s * FPS)), max(1, round(args.gap_s * FPS))
    recognizer = Recognizer(load_model())
    with tempfile.TemporaryDirectory(prefix="lpr-watch-passes-") as scratch:
        folder = Path(scratch)
        built = time.perf_counter()
        passes, frames = build_video(folder / "lane1.avi", scenes, negative_frames(args.negatives), pass_count, gap_count)
        built = time.perf_counter() - built
        recognizer.recognize(cv2.imread(str(scenes[0].path)))  # warm-up: lazy imports, first-call allocations
        reads, readings, run = watch(folder / "lane1.avi", folder, recognizer)
        multi = None
        if args.workers > 1:
            # Pinned only now: the fork server and its workers start with this run and inherit these cores.
            cores = pin_cores(allowed, args.workers)
            multi_reads, multi_readings, multi_run = watch(folder / "lane1.avi", folder, recognizer, args.workers)
            wall_s = multi_run["seconds_wall"]
            multi = {
                "workers": args.workers,
                "cores": len(cores),
                "pinned_cores": cores,
                "seconds_wall": wall_s,
                # The main process's CPU only (decoding, the motion gate, tracking): the workers' is not counted.
                "seconds_cpu_main_process": multi_run["seconds_cpu"],
                "frames_per_second_wall": round(multi_run["frames_read"] / wall_s, 2) if wall_s else 0.0,
                "speedup_over_1_core": round(run["seconds_wall"] / wall_s, 2) if wall_s else 0.0,
                "reads_same_as_1_worker": [read_key(r) for r in multi_reads] == [read_key(r) for r in reads],
                "frame_readings_same_as_1_worker": multi_readings == readings,
                "reported": multi_run["reported"],
            }
    accuracy = score(passes, reads, readings)
    fps_wall = run["frames_read"] / run["seconds_wall"] if run["seconds_wall"] else 0.0
    fps_cpu = run["frames_read"] / run["seconds_cpu"] if run["seconds_cpu"] else 0.0
    figures = {
        "benchmark": "watch_passes",
        "scenes": str(args.scenes),
        "negatives": str(args.negatives),
        "video": {
            "frame_size": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
            "fps": FPS,
            "codec": "MJPG",
            "frames": frames,
            "seconds": frames / FPS,
            "pass_frames": pass_count,
            "gap_frames": gap_count,
            "build_seconds": round(built, 2),
        },
        "config": "WatchConfig() defaults: every frame, motion gate on, no media, temporary SQLite store",
        **accuracy,
        **{k: v for k, v in run.items() if k != "reported"},
        "frames_per_second_wall": round(fps_wall, 2),
        "frames_per_second_cpu": round(fps_cpu, 2),
        "keeps_up_with_real_time": fps_wall >= FPS,
        "cores": 1,
        "pinned_core": core,
        "opencv_threads": 1,
        "multi_core": multi or "not measured: run with --workers N (N > 1) to watch with N workers on N cores",
        "reported": run["reported"],
        "machine": facts | {"load_average_1min_after": machine()["load_average_1min"]},
    }
    path = write_results("watch_passes", figures)
    print_figures(figures)
    print(f"written to {path}")


def print_figures(figures: dict) -> None:
    """The figures as a small table."""
    video = figures["video"]
    passes = figures["passes"]
    print(
        f"{passes} passes of {video['pass_frames']} frames, {video['gap_frames']} plate-free frames between; {video['frames']} frames of {video['frame_size']} at {video['fps']} fps"
    )
    rows = [
        ("passes with exactly 1 read", f"{figures['passes_with_1_read']} / {passes}"),
        ("passes with 0 reads", f"{figures['passes_with_0_reads']}"),
        ("passes with >1 reads", f"{figures['passes_with_more_reads']}"),
        ("passes read right (vote)", f"{figures['passes_voted_right']} / {passes}"),
        ("passes, best frame right", f"{figures['passes_best_frame_right']} / {passes}"),
        ("per-frame readings right", f"{figures['pass_frames_right']} / {figures['pass_frames_with_reading']} ({figures['per_frame_right_share']:.1%})"),
        ("false reads, plate-free", f"{figures['false_reads_plate_free']}"),
        ("frames read / recognized / skipped", f"{figures['frames_read']} / {figures['frames_recognized']} / {figures['frames_skipped_no_motion']}"),
        ("frames/s, 1 core (wall / CPU)", f"{figures['frames_per_second_wall']:.1f} / {figures['frames_per_second_cpu']:.1f}"),
        (f"keeps up with {video['fps']} fps", "yes" if figures["keeps_up_with_real_time"] else "no"),
    ]
    for label, value in rows:
        print(f"{label:36} {value}")
    multi = figures["multi_core"]
    if isinstance(multi, dict):
        label = f"frames/s, {multi['cores']} cores, {multi['workers']} workers (wall)"
        print(f"{label:36} {multi['frames_per_second_wall']:.1f} ({multi['speedup_over_1_core']:.2f}x 1 core)")
        print(f"{'reads same as 1 worker':36} {'yes' if multi['reads_same_as_1_worker'] else 'NO'} (per-frame readings: {'same' if multi['frame_readings_same_as_1_worker'] else 'DIFFERENT'})")
    else:
        print(f"multi-core: {multi}")
    print(f"load average {figures['machine']['load_average_1min']} on {figures['machine']['cores_available']} cores")


if __name__ == "__main__":
    main()
