"""Memory: resident memory over a run of thousands of images, and one 4K (3840x2160) frame.

Run from the repository root:  python bench/memory.py  (options: --images 2000, --workers N, --every 100)
Writes results/memory.json and prints the figures.

The run lists the scene files over and over (paths repeated, no files copied) and consumes the
results the way `lpr recognize --json` does. Every --every images the resident set (RSS) of this
process and of each worker process is sampled: flat means no result, image or model piles up.
The 4K frame is a 1280x720 scene enlarged in memory, recognized in a fresh process whose peak
RSS is measured from just before the frame is decoded to the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
from common import DEFAULT_SCENES, descendants, frames_of_size, machine, process_table, rss_mb, scene_paths, write_results

from lpr import Recognizer, load_model
from lpr.batch import START_METHOD, available_cores, recognize_paths
from lpr.imageio import decode_image

FOUR_K = (3840, 2160)


def sample(done: int) -> dict:
    """RSS of this process and of every process it started, now."""
    table = process_table()
    children = {}
    for pid in descendants(table, os.getpid()):
        try:
            children[pid] = rss_mb(pid)[0]
        except OSError:  # ended meanwhile
            continue
    # multiprocessing's helpers do no recognition and are listed apart: the fork server (the
    # parent of the workers, whose command line they inherit) and the resource tracker.
    parents = {table[pid][0] for pid in children}
    helpers = [pid for pid in children if pid in parents or is_resource_tracker(pid)]
    return {
        "images": done,
        "main_rss_mb": rss_mb()[0],
        "worker_rss_mb": [mb for pid, mb in children.items() if pid not in helpers],
        "helper_rss_mb": [children[pid] for pid in helpers],
    }


def is_resource_tracker(pid: int) -> bool:
    """Whether a process is multiprocessing's resource tracker."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def long_run(paths: list[str], workers: int, every: int) -> tuple[list[dict], float]:
    """Recognize paths, sampling RSS every `every` images: (samples, seconds) out."""
    recognizer = Recognizer(load_model())
    samples = [sample(0)]
    start = time.perf_counter()
    for done, result in enumerate(recognize_paths(recognizer, paths, workers=workers), 1):
        json.dumps(result.to_dict())  # what --json does with each result before forgetting it
        if done % every == 0 or done == len(paths):
            samples.append(sample(done))
            print(f"{done} images: main {samples[-1]['main_rss_mb']} MiB, workers {samples[-1]['worker_rss_mb']} MiB", flush=True)
    return samples, time.perf_counter() - start


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def frame_in_4k(paths: list[str]) -> dict:
    """In a fresh process: the first scene with a plate read, enlarged to 4K and as it is: time, plates, peak RSS."""
    cv2.setNumThreads(1)
    recognizer = Recognizer(load_model())
    # A frame whose plate is read at its own size shows whether enlarging it loses the plate.
    path = next((p for p in paths if recognizer.recognize(decode_image(Path(p).read_bytes(), p))), paths[0])
    data = Path(path).read_bytes()
    native = decode_image(data, path)
    ok, encoded = cv2.imencode(".jpg", cv2.resize(native, FOUR_K, interpolation=cv2.INTER_CUBIC), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    recognizer.recognize(native)  # warm-up, so first-call costs are not charged to either frame
    figures: dict = {"scene": path}
    for name, encoded_frame in (("native", data), ("4k", encoded.tobytes())):
        exact_peak = reset_peak_rss()
        before = rss_mb()[0]
        start = time.perf_counter()
        image = decode_image(encoded_frame, name)
        plates = recognizer.recognize(image)
        elapsed = (time.perf_counter() - start) * 1000
        del image
        figures[name] = {
            "size": f"{native.shape[1]}x{native.shape[0]}" if name == "native" else f"{FOUR_K[0]}x{FOUR_K[1]}",
            "ms": round(elapsed, 1),
            "plates": [p.text for p in plates],
            "rss_before_mb": before,
            "peak_rss_mb": rss_mb()[1],
            "peak_is_for_this_frame": exact_peak,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="folder of OpenALPR-format scenes")
    parser.add_argument("--images", type=int, default=2000, help="images in the long run (the scenes repeated)")
    parser.add_argument("--workers", type=int, default=available_cores(), help="worker processes of the long run")
    parser.add_argument("--every", type=int, default=100, help="sample RSS every this many images")
    args = parser.parse_args()

    scenes = scene_paths(args.scenes)
    frames = [str(p) for p in frames_of_size(scenes)[:20]]
    context = multiprocessing.get_context(START_METHOD)
    with ProcessPoolExecutor(1, mp_context=context) as fresh:
        four_k = fresh.submit(frame_in_4k, frames).result()
    print(f"4K frame: {four_k['4k']['ms']} ms, peak RSS {four_k['4k']['peak_rss_mb']} MiB (from {four_k['4k']['rss_before_mb']}), plates {four_k['4k']['plates']}")
    print(f"same frame at {four_k['native']['size']}: {four_k['native']['ms']} ms, peak RSS {four_k['native']['peak_rss_mb']} MiB, plates {four_k['native']['plates']}")

    paths = [str(p) for p in itertools.islice(itertools.cycle(scenes), args.images)]
    samples, seconds = long_run(paths, args.workers, args.every)
    # The first samples include start-up growth (allocator pools, caches); flat is judged after them.
    settled = [s for s in samples if s["images"] >= min(200, args.images)]
    worker_peaks = [max(s["worker_rss_mb"], default=0.0) for s in settled]
    figures = {
        "benchmark": "memory",
        "images": len(paths),
        "distinct_images": len(scenes),
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "main_rss_mb": {"first": settled[0]["main_rss_mb"], "last": settled[-1]["main_rss_mb"], "max": max(s["main_rss_mb"] for s in settled)},
        "worker_rss_mb": {"first": worker_peaks[0], "last": worker_peaks[-1], "max": max(worker_peaks)},
        "main_peak_rss_mb": rss_mb()[1],
        "samples": samples,
        "frame_4k": four_k,
        "machine": machine(),
    }
    path = write_results("memory", figures)
    main_rss, worker_rss = figures["main_rss_mb"], figures["worker_rss_mb"]
    print(f"{len(paths)} images with {args.workers} worker(s) in {seconds:.0f} s")
    print(f"main process RSS after {settled[0]['images']} images {main_rss['first']} MiB, at the end {main_rss['last']} MiB, max {main_rss['max']} MiB")
    print(f"largest worker RSS after {settled[0]['images']} images {worker_rss['first']} MiB, at the end {worker_rss['last']} MiB, max {worker_rss['max']} MiB")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
