"""Throughput with 1, 2, ... worker processes: images per second through lpr.batch.recognize_paths.

Run from the repository root:  python bench/throughput.py  (options: --workers 1 2, --copies N, --rounds N)
Writes results/throughput.json and prints the figures.

The input is every 1280x720 scene frame, listed --copies times (paths repeated, no files copied).
Each worker count runs --rounds times, alternating, and its best round is kept: other work on a
shared machine only ever slows a round down. Rates are given over the whole run (pool start-up
included, what a user waits for) and in steady state (from the first result to the last).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import cv2
from common import DEFAULT_SCENES, frames_of_size, machine, process_tree_cpu_seconds, scene_paths, write_results

from lpr import Recognizer, load_model
from lpr.batch import available_cores, recognize_paths
from lpr.records import ImageResult


def comparable(result: ImageResult) -> str:
    """A result's JSON line without its timing, to check every worker count gives the same output."""
    record = result.to_dict()
    record.pop("processing_time_ms")
    return json.dumps(record, sort_keys=True)


def run(recognizer: Recognizer, paths: list[str], workers: int) -> tuple[dict, list[str]]:
    """One pass over paths with this many workers: (timings, comparable results) out."""
    load = os.getloadavg()[0]
    cpu = process_tree_cpu_seconds()
    start = time.perf_counter()
    first = None
    results = []
    busy = 0.0
    for result in recognize_paths(recognizer, paths, workers=workers):
        if first is None:
            first = time.perf_counter()
        busy += result.processing_time_ms / 1000
        results.append(comparable(result))
    end = time.perf_counter()
    cpu = process_tree_cpu_seconds() - cpu
    steady = (len(paths) - 1) / (end - first) if len(paths) > 1 and end > first else 0.0
    return {
        "workers": workers,
        "images": len(paths),
        "seconds": round(end - start, 3),
        "images_per_second": round(len(paths) / (end - start), 3),
        "steady_images_per_second": round(steady, 3),
        "first_result_seconds": round(first - start, 3),
        # Time the workers spent on images over the time they existed: 1.0 = never idle, never waiting on each other.
        "worker_occupancy": round(busy / ((end - start) * workers), 3),
        # CPU seconds of this process and its workers: cores obtained = cpu / wall. Below the worker
        # count means the machine was busy with other work (Linux shares CPU between sessions).
        "cpu_seconds": round(cpu, 2),
        "cores_obtained": round(cpu / (end - start), 2),
        "cpu_ms_per_image": round(1000 * cpu / len(paths), 1),
        "load_average_1min_before": round(load, 2),
    }, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES, help="folder of OpenALPR-format scenes")
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, 2, available_cores()}), help="worker counts to compare")
    parser.add_argument("--copies", type=int, default=2, help="times the frame list is repeated")
    parser.add_argument("--rounds", type=int, default=2, help="runs per worker count; the best is kept")
    args = parser.parse_args()

    cv2.setNumThreads(1)  # so that 1 worker means one core, as each pool worker uses
    paths = [str(p) for p in frames_of_size(scene_paths(args.scenes))] * max(1, args.copies)
    recognizer = Recognizer(load_model())
    for path in paths[:3]:  # warm-up: page cache and first-call costs, out of the first round
        recognizer.recognize(cv2.imread(path))

    rounds: dict[int, list[dict]] = {w: [] for w in args.workers}
    outputs: dict[int, list[str]] = {}
    for _ in range(max(1, args.rounds)):
        for workers in args.workers:
            figures, outputs[workers] = run(recognizer, paths, workers)
            rounds[workers].append(figures)
            print(
                f"workers={workers}: {figures['images_per_second']:.2f} images/s ({figures['steady_images_per_second']:.2f} steady), "
                f"occupancy {figures['worker_occupancy']}, cores obtained {figures['cores_obtained']}, "
                f"{figures['cpu_ms_per_image']} CPU ms/image, load {figures['load_average_1min_before']}"
            )
    best = {w: max(runs, key=lambda r: r["images_per_second"]) for w, runs in rounds.items()}
    base = best[min(best)]
    figures = {
        "benchmark": "throughput",
        "images": len(paths),
        "scenes": str(args.scenes),
        "best": [
            best[w] | {
                "speedup": round(best[w]["images_per_second"] / base["images_per_second"], 2),
                "steady_speedup": round(best[w]["steady_images_per_second"] / base["steady_images_per_second"], 2),
            }
            for w in sorted(best)
        ],
        "rounds": {str(w): runs for w, runs in rounds.items()},
        "identical_results": len({tuple(o) for o in outputs.values()}) == 1,
        "machine": machine(),
    }
    path = write_results("throughput", figures)
    for row in figures["best"]:
        print(
            f"best, {row['workers']} worker(s): {row['images_per_second']:.2f} images/s (x{row['speedup']}), "
            f"steady {row['steady_images_per_second']:.2f} images/s (x{row['steady_speedup']})"
        )
    print(f"identical results across worker counts: {figures['identical_results']}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
