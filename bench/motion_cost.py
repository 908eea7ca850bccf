"""Motion gate cost on one core: MotionDetector.update per 1280x720 frame, for an idle scene and one with a moving block.

Run from the repository root:  python bench/motion_cost.py  (options: --scenes FOLDER, --frames N)
Prints the figures; writes nothing. The frames are decoded before timing, so only update is measured.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from common import DEFAULT_SCENES, FRAME_SIZE, REPO, machine, summary

from lpr.motion import MotionDetector


def scene(folder: Path) -> np.ndarray:
    """The first scene of folder (else the project's synthetic sample) as a 1280x720 BGR frame."""
    paths = sorted(folder.glob("*.jpg")) or sorted((REPO / "datasets" / "samples" / "scenes").glob("*.jpg"))
    if not paths:
        raise SystemExit(f"no .jpg scenes in {folder} nor in datasets/samples/scenes")
    return cv2.resize(cv2.imread(str(paths[0])), FRAME_SIZE, interpolation=cv2.INTER_AREA)


def frames(still: np.ndarray, count: int, moving: bool) -> list[np.ndarray]:
    """count re-encoded copies of still (JPEG noise), with a 200x100 block crossing it when moving."""
    out = []
    for i in range(count):
        frame = still.copy()
        if moving:
            x = (i * 12) % (frame.shape[1] - 200)
            frame[400:500, x : x + 200] = (40, 40, 200)
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        out.append(cv2.imdecode(data, cv2.IMREAD_COLOR))
    return out


def cost_ms(sequence: list[np.ndarray]) -> list[float]:
    """Each frame's update time in ms through one fresh detector (the first frame, which only stores the background, excluded)."""
    detector, times = MotionDetector(), []
    for i, frame in enumerate(sequence):
        start = time.perf_counter()
        detector.update(frame, i / 25.0)
        times.append((time.perf_counter() - start) * 1e3)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    # One core, as the gate runs beside the recognizer on each camera's worker.
    cv2.setNumThreads(1)
    still = scene(args.scenes)
    facts = machine()
    print(f"{facts['cpu']}, load {facts['load_average_1min']}, opencv {facts['opencv']}")
    for name, moving in (("idle", False), ("moving", True)):
        figures = summary(cost_ms(frames(still, args.frames, moving)))
        print(f"{name:6s} 1280x720 update: median {figures['median']:.2f} ms, p90 {figures['p90']:.2f} ms, mean {figures['mean']:.2f} ms, max {figures['max']:.2f} ms")


if __name__ == "__main__":
    main()
