"""lpr.motion: a still camera with JPEG noise is idle, a moving vehicle is motion where it is, the hold, clouds, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import SAMPLES, SHARED_DATA

from lpr.geometry import Box
from lpr.motion import MotionConfig, MotionDetector, shrink

FPS = 25.0


def scenes() -> list[np.ndarray]:
    """Two different 1280x720 scenes: real photos from ../shared/data/us-scenes when present, else the synthetic samples."""
    paths = sorted((SHARED_DATA / "us-scenes").glob("*.jpg"))[:2] or sorted((SAMPLES / "scenes").glob("*.jpg"))[:2]
    if len(paths) < 2:
        pytest.skip("no scenes: neither ../shared/data/us-scenes nor datasets/samples/scenes")
    return [cv2.resize(cv2.imread(str(p)), (1280, 720), interpolation=cv2.INTER_AREA) for p in paths]


@pytest.fixture(scope="module")
def still() -> np.ndarray:
    return scenes()[0]


@pytest.fixture(scope="module")
def vehicle() -> np.ndarray:
    """A 260x160 patch of another scene: something that is not the background, pasted where a vehicle would be."""
    return scenes()[1][300:460, 500:760].copy()


def camera(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """frame as a camera delivers it again and again: a small brightness jitter and a JPEG re-encode at quality 70-90."""
    jittered = cv2.convertScaleAbs(frame, alpha=1.0, beta=float(rng.integers(-3, 4)))
    ok, data = cv2.imencode(".jpg", jittered, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 91))])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def pasted(scene: np.ndarray, patch: np.ndarray, x: int, y: int) -> np.ndarray:
    frame = scene.copy()
    frame[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    return frame


def test_still_scene_with_camera_noise_is_idle_after_the_first_frame(still):
    rng = np.random.default_rng(0)
    detector = MotionDetector()
    states = [detector.update(camera(still, rng), i / FPS) for i in range(40)]
    assert states[0].moving and states[0].box == Box(0, 0, 1280, 720)  # nothing known yet
    assert not any(s.moving for s in states[1:])
    assert all(s.box is None and s.changed_fraction < MotionConfig().min_changed_fraction for s in states[1:])


def test_a_moving_vehicle_is_motion_around_where_it_is(still, vehicle):
    rng = np.random.default_rng(1)
    detector = MotionDetector()
    detector.update(camera(still, rng), 0.0)
    for i in range(1, 20):
        x, y = 80 + 40 * i, 420
        state = detector.update(camera(pasted(still, vehicle, x, y), rng), i / FPS)
        assert state.moving and state.box is not None
        where = Box(x, y, vehicle.shape[1], vehicle.shape[0])
        # The region covers the vehicle (most of it: parts may match the scene behind) and not much else: its trail behind, not the frame.
        covered = where.iou(state.box) * (where.area + state.box.area) / (1 + where.iou(state.box))
        assert covered >= 0.8 * where.area
        assert state.box.area <= 3 * where.area
        assert state.box.y >= y - 20 and state.box.y + state.box.h <= y + vehicle.shape[0] + 20


def test_the_hold_keeps_reading_a_vehicle_stopped_at_a_gate_then_lets_go(still, vehicle):
    rng = np.random.default_rng(2)
    hold = 5
    detector = MotionDetector(MotionConfig(hold_frames=hold, hold_s=0.0))
    detector.update(camera(still, rng), 0.0)
    for i in range(1, 8):
        assert detector.update(camera(pasted(still, vehicle, 100 + 30 * i, 420), rng), i / FPS).moving
    # It stops: the background takes it in within some frames, then the hold runs out.
    stopped = pasted(still, vehicle, 100 + 30 * 7, 420)
    states = [detector.update(camera(stopped, rng), (8 + i) / FPS) for i in range(80)]
    last_motion = max(i for i, s in enumerate(states) if s.box is not None)
    assert last_motion < 60, "the background never took the stopped vehicle in"
    assert all(s.moving for s in states[: last_motion + hold + 1])
    assert not any(s.moving for s in states[last_motion + hold + 1 :])


def test_the_hold_in_seconds(still, vehicle):
    rng = np.random.default_rng(3)
    detector = MotionDetector(MotionConfig(hold_frames=0, hold_s=0.5))
    detector.update(camera(still, rng), 0.0)
    assert detector.update(camera(pasted(still, vehicle, 300, 420), rng), 0.1).moving
    # The vehicle leaves at once: the scene is back (its trail in the background may still differ for a frame or two).
    times = [0.2 + 0.1 * i for i in range(40)]
    states = [detector.update(camera(still, rng), t) for t in times]
    last_motion = max((t for t, s in zip(times, states) if s.box is not None), default=0.1)
    assert all(s.moving for t, s in zip(times, states) if t <= last_motion + 0.5 - 1e-9)
    assert not any(s.moving for t, s in zip(times, states) if t > last_motion + 0.5 + 1e-9)


@pytest.mark.parametrize("gain", [0.7, 1.15])
def test_a_cloud_or_exposure_change_is_not_motion(still, gain):
    """Decision: a uniform brightness change is no motion (matched away); only local change is."""
    rng = np.random.default_rng(4)
    detector = MotionDetector()
    for i in range(5):
        detector.update(camera(still, rng), i / FPS)
    changed = cv2.convertScaleAbs(still, alpha=gain)
    # Without the gain matching this change would be motion: far more pixels differ by the pixel threshold than motion needs.
    config = MotionConfig()
    assert np.mean(np.abs(shrink(changed, 160) - shrink(still, 160)) > config.pixel_threshold) > 20 * config.min_changed_fraction
    states = [detector.update(camera(changed, rng), (5 + i) / FPS) for i in range(10)]
    assert not any(s.moving for s in states)


def test_a_vehicle_during_a_brightness_change_is_still_motion(still, vehicle):
    rng = np.random.default_rng(5)
    detector = MotionDetector()
    detector.update(camera(still, rng), 0.0)
    state = detector.update(camera(cv2.convertScaleAbs(pasted(still, vehicle, 400, 420), alpha=0.75), rng), 1 / FPS)
    assert state.moving and state.box is not None and state.box.contains((530, 500))


def test_a_stream_reconnected_at_another_size_starts_over(still):
    detector = MotionDetector()
    detector.update(still, 0.0)
    assert not detector.update(still, 0.04).moving
    state = detector.update(cv2.resize(still, (640, 360)), 0.08)
    assert state.moving and state.box == Box(0, 0, 640, 360)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((72, 128, 3), np.float32), "uint8"),
        (np.zeros((72, 128), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((72, 128, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((0, 128, 3), np.uint8), "pixels"),
        ([[0, 0, 0]], "list"),
    ],
)
def test_bad_frames_raise(frame, message):
    with pytest.raises(ValueError, match=message):
        MotionDetector().update(frame, 0.0)


def test_bad_times_and_config_raise():
    detector = MotionDetector()
    frame = np.zeros((72, 128, 3), np.uint8)
    detector.update(frame, 1.0)
    with pytest.raises(ValueError, match="never go back"):
        detector.update(frame, 0.5)
    with pytest.raises(ValueError, match="finite"):
        detector.update(frame, float("nan"))
    for bad in ({"width": 4}, {"blur": 4}, {"pixel_threshold": 0}, {"min_changed_fraction": 0.0}, {"background_weight": 0.0}, {"hold_frames": -1}):
        with pytest.raises(ValueError, match="motion"):
            MotionConfig(**bad)
