"""Where recognition spends its time: a pyinstrument call-tree profile of Recognizer.recognize over frames, on one core.

Run from the repository root:  pip install pyinstrument && python bench/profile_frames.py  (options: --frames-of scenes|negatives, --limit N)
Writes results/profile-SET.txt (the call tree, calls under 1% hidden) and prints the per-frame median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
from common import DEFAULT_SCENES, REPO, RESULTS, frames_of_size, scene_paths
from threadpoolctl import threadpool_limits

from lpr import Recognizer, load_model, read_image

FOLDERS = {"scenes": DEFAULT_SCENES, "negatives": REPO.parent / "shared" / "data" / "negatives"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames-of", choices=sorted(FOLDERS), default="scenes", help="1280x720 US scenes or plate-free photos")
    parser.add_argument("--limit", type=int, default=40, help="frames profiled")
    args = parser.parse_args()
    try:
        import pyinstrument
    except ImportError:
        sys.exit("profile_frames: pip install pyinstrument")
    cv2.setNumThreads(1)
    threadpool_limits(1)
    folder = FOLDERS[args.frames_of]
    paths = frames_of_size(scene_paths(folder)) if args.frames_of == "scenes" else sorted(folder.glob("*.jpg"))
    images = [read_image(p) for p in paths[: args.limit]]
    recognizer = Recognizer(load_model())
    for image in images[:3]:  # warm-up: lazy imports and first-call allocations stay out of the profile
        recognizer.recognize(image)
    profiler = pyinstrument.Profiler(interval=0.0005)
    times = []
    profiler.start()
    for image in images:
        start = time.thread_time()
        recognizer.recognize(image)
        times.append((time.thread_time() - start) * 1000)
    profiler.stop()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"profile-{args.frames_of}.txt"
    path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    print(f"{len(images)} {args.frames_of} frames: median {statistics.median(times):.1f} ms CPU per frame under the profiler; call tree in {path}")


if __name__ == "__main__":
    main()
