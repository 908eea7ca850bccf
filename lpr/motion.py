"""A cheap "did anything move" gate for video: an idle camera costs a shrink and a difference per frame, not a recognition.

Each frame is shrunk to a small gray copy and compared with a running-average background.
A uniform brightness change (a cloud over the sun, the camera's auto exposure) is not
motion: the frame's gain is matched to the background's before differencing, so only
local change counts. After motion stops the gate stays open for a hold, so a vehicle
that stops at a gate (and fades into the background) is still read for a while.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .geometry import Box

# Opening the changed mask with this kernel drops isolated pixels (sensor noise, rain) that would stretch the changed region's box.
_OPEN = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class MotionConfig:
    """How the motion gate shrinks, compares and holds (lpr.motion)."""

    # Width in pixels frames are judged at: 160 px keeps a 1280x720 frame's cost well under 1 ms and averages away sensor and JPEG noise.
    width: int = 160
    # Odd Gaussian kernel size at the working width, smoothing what the shrink leaves of noise and block edges; 1 for none.
    blur: int = 5
    # Gray levels a working pixel must differ from the background by to count as changed; re-encoding noise stays under about 4.
    pixel_threshold: float = 18.0
    # Fraction of working pixels that must change for motion: 0.002 of 160x90 is about 29 pixels, a car far off, not a leaf.
    min_changed_fraction: float = 0.002
    # Weight of each frame in the running-average background: higher forgets a parked car sooner, lower keeps a slow one visible longer.
    background_weight: float = 0.1
    # Frames after the last motion that still count as moving, so a vehicle stopped at a gate is still read (whichever hold is longer wins).
    hold_frames: int = 10
    # Seconds after the last motion that still count as moving; the frame hold covers sources whose timestamps are coarse.
    hold_s: float = 2.0

    def __post_init__(self) -> None:
        if self.width < 8:
            raise ValueError(f"motion width must be at least 8 pixels, got {self.width}")
        if self.blur < 1 or self.blur % 2 == 0:
            raise ValueError(f"motion blur must be an odd kernel size of at least 1, got {self.blur}")
        if not 0.0 < self.pixel_threshold < 255.0:
            raise ValueError(f"motion pixel_threshold must be in (0, 255), got {self.pixel_threshold}")
        if not 0.0 < self.min_changed_fraction < 1.0:
            raise ValueError(f"motion min_changed_fraction must be in (0, 1), got {self.min_changed_fraction}")
        if not 0.0 < self.background_weight <= 1.0:
            raise ValueError(f"motion background_weight must be in (0, 1], got {self.background_weight}")
        if self.hold_frames < 0 or not self.hold_s >= 0.0:
            raise ValueError(f"motion holds must be at least 0, got {self.hold_frames} frames and {self.hold_s} s")


@dataclass(frozen=True)
class MotionState:
    """One frame's verdict: whether to read it (motion now or within the hold), the fraction of working pixels that changed, and the changed region in frame pixels (None without motion now)."""

    moving: bool
    changed_fraction: float
    box: Box | None


def shrink(frame: np.ndarray, width: int) -> np.ndarray:
    """(H, W, 3) uint8 BGR frame and a working width in, (h, width) float32 gray out, h keeping the aspect."""
    small = frame
    # Halving with INTER_AREA takes OpenCV's integer-factor path, twice as fast as one INTER_AREA resize by 8 and the same box average.
    while small.shape[1] >= 4 * width:
        h, w = small.shape[0] // 2, small.shape[1] // 2
        small = cv2.resize(small[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    small = cv2.resize(small, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)


class MotionDetector:
    """The motion gate of one camera: feed it every frame in order with update."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._background: np.ndarray | None = None
        self._frame_shape: tuple[int, ...] | None = None
        self._frames = 0
        self._last_motion: tuple[int, float] | None = None
        self._last_timestamp = -math.inf

    def update(self, frame: np.ndarray, timestamp_s: float) -> MotionState:
        """(H, W, 3) uint8 BGR frame and its monotonic time in seconds in, the frame's MotionState out; ValueError for another array or a time going back."""
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            described = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise ValueError(f"a motion frame is an (H, W, 3) uint8 BGR array, got a {described}")
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(f"a motion frame must have pixels, got shape {frame.shape}")
        if not math.isfinite(timestamp_s) or timestamp_s < self._last_timestamp:
            raise ValueError(f"frame times must be finite and never go back, got {timestamp_s} after {self._last_timestamp}")
        self._last_timestamp = timestamp_s
        self._frames += 1
        config = self.config
        gray = shrink(frame, config.width)
        if config.blur > 1:
            gray = cv2.GaussianBlur(gray, (config.blur, config.blur), 0)
        if self._background is None or frame.shape != self._frame_shape:
            # Nothing is known of a first frame (or of a stream reconnected at another size): read it, but start no hold, as nothing was seen to move.
            self._background, self._frame_shape, self._last_motion = gray, frame.shape, None
            return MotionState(True, 1.0, Box(0, 0, frame.shape[1], frame.shape[0]))
        # Matching the median brightness (of every 4th pixel: robust to a vehicle, and cheap) makes a cloud or exposure change no motion.
        level = float(np.median(gray[::4, ::4]))
        if level >= 1.0:
            gray *= float(np.median(self._background[::4, ::4])) / level
        changed = cv2.morphologyEx((cv2.absdiff(gray, self._background) > config.pixel_threshold).astype(np.uint8), cv2.MORPH_OPEN, _OPEN)
        cv2.accumulateWeighted(gray, self._background, config.background_weight)
        fraction = float(np.count_nonzero(changed)) / changed.size
        if fraction < config.min_changed_fraction:
            held = self._last_motion is not None and (self._frames - self._last_motion[0] <= config.hold_frames or timestamp_s - self._last_motion[1] <= config.hold_s)
            return MotionState(held, fraction, None)
        self._last_motion = (self._frames, timestamp_s)
        x, y, w, h = cv2.boundingRect(changed)
        sx, sy = frame.shape[1] / changed.shape[1], frame.shape[0] / changed.shape[0]
        x0, y0 = int(x * sx), int(y * sy)
        return MotionState(True, fraction, Box(x0, y0, min(frame.shape[1], math.ceil((x + w) * sx)) - x0, min(frame.shape[0], math.ceil((y + h) * sy)) - y0))
