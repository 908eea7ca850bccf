"""lpr.sources against real media: video files, an RTSP server on 127.0.0.1 that goes away and stalls, an upload folder, and several sources at once."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import media
import numpy as np
import pytest

from lpr.imageio import read_image
from lpr.sources import FileSource, FolderSource, Frame, FrameSource, LiveSource, SourceConfig, Sources, open_source

# Short waits everywhere, so failures and recoveries happen within a test's few seconds; the
# first frame may take 3 s (FFmpeg probes the stream before it returns one).
FAST = SourceConfig(reconnect_first_s=0.2, reconnect_max_s=1.0, stall_timeout_s=1.0, first_frame_timeout_s=6.0, poll_interval_s=0.1, upload_timeout_s=0.5)
needs_ffmpeg = pytest.mark.skipif(not media.has_ffmpeg(), reason="the ffmpeg program is not on PATH (apt-get install ffmpeg): it makes the H.264 clips")


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll condition until it is true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class Collector:
    """Reads a source's frames in a thread into a list, so a test can act while frames arrive."""

    def __init__(self, source: FrameSource) -> None:
        self.frames: list[Frame] = []
        iterator = source.frames()
        self.thread = threading.Thread(target=lambda: [self.frames.append(f) for f in iterator], daemon=True)
        self.thread.start()


def source_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages lpr.sources logged, each checked to be one line."""
    messages = [r.getMessage() for r in caplog.records if r.name == "lpr.sources"]
    assert all("\n" not in m for m in messages), messages
    return messages


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return media.clip(30)


@pytest.fixture(scope="module")
def h264(clip: list[np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The clip as an Annex B H.264 stream."""
    if not media.has_ffmpeg():
        pytest.skip("the ffmpeg program is not on PATH (apt-get install ffmpeg): it makes the H.264 clips")
    return media.write_h264(tmp_path_factory.mktemp("h264") / "clip.h264", clip).read_bytes()


@pytest.fixture
def rtsp(h264: bytes):
    server = media.RtspServer(h264).start()
    yield server
    server.stop()


def video(kind: str, folder: Path, clip: list[np.ndarray]) -> Path:
    """The clip written as an MJPG .avi (by OpenCV) or an H.264 .mp4 (by ffmpeg)."""
    if kind == "avi":
        return media.write_avi(folder / "lane1.avi", clip)
    if not media.has_ffmpeg():
        pytest.skip("the ffmpeg program is not on PATH (apt-get install ffmpeg): it makes the H.264 clips")
    return media.write_h264(folder / "lane1.mp4", clip)


# --- specs -------------------------------------------------------------------------------


def test_open_source_picks_the_kind_and_names_the_camera(tmp_path: Path, clip: list[np.ndarray]):
    path = media.write_avi(tmp_path / "gate.avi", clip[:3])
    assert isinstance(open_source(str(path)), FileSource) and open_source(str(path)).camera == "gate"
    assert isinstance(open_source(str(tmp_path)), FolderSource) and open_source(str(tmp_path)).camera == tmp_path.name
    live = open_source("rtsp://admin:secret@127.0.0.1:8554/lane/1/")
    assert isinstance(live, LiveSource) and live.camera == "127.0.0.1:8554/lane/1"
    assert live.source == "rtsp://admin:***@127.0.0.1:8554/lane/1/"
    assert open_source("http://127.0.0.1/mjpg", camera="north").camera == "north"


@pytest.mark.parametrize("spec", ["/no/such/clip.mp4", "/dev/video99", "ftp://127.0.0.1/cam", "rtsp://127.0.0.1:port/cam"])
def test_a_spec_that_is_no_source_raises_one_line(spec: str):
    with pytest.raises(ValueError) as error:
        open_source(spec)
    assert spec in str(error.value) and "\n" not in str(error.value)


def test_config_rejects_a_sample_below_one():
    with pytest.raises(ValueError, match="sample"):
        SourceConfig(sample=0)


# --- video files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["avi", "mp4"])
def test_a_video_file_gives_every_frame_in_order(kind: str, tmp_path: Path, clip: list[np.ndarray]):
    source = open_source(str(video(kind, tmp_path, clip)), config=FAST)
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(30))
    assert [media.nearest(f.image, clip) for f in frames] == list(range(30))
    assert [f.offset_s for f in frames] == pytest.approx([i / 10 for i in range(30)])
    first = frames[0]
    assert first.camera == "lane1" and first.source.endswith(f"lane1.{kind}") and first.image.shape == (180, 320, 3) and first.image.dtype == np.uint8
    assert first.timestamp.utcoffset().total_seconds() == 0 and frames[-1].monotonic_s >= first.monotonic_s
    state = source.state()
    assert state.frames_read == 30 and not state.connected and state.last_error is None and state.last_frame_at == frames[-1].timestamp


def test_sample_keeps_every_third_frame(tmp_path: Path, clip: list[np.ndarray]):
    source = open_source(str(media.write_avi(tmp_path / "lane1.avi", clip)), config=SourceConfig(sample=3))
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(0, 30, 3))
    assert [media.nearest(f.image, clip) for f in frames] == list(range(0, 30, 3))


def test_a_truncated_avi_gives_its_frames_and_one_error_line(tmp_path: Path, clip: list[np.ndarray], caplog: pytest.LogCaptureFixture):
    data = media.write_avi(tmp_path / "full.avi", clip).read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    source = open_source(str(tmp_path / "cut.avi"))
    frames = list(source.frames())
    assert 0 < len(frames) < 30
    error = source.state().last_error
    assert error == f"{tmp_path / 'cut.avi'}: ended after {len(frames)} of 30 frames (truncated or corrupt)"
    assert any(error in m for m in source_records(caplog))


@pytest.mark.parametrize("content", [b"", os.urandom(4000)], ids=["empty", "noise"])
def test_a_file_that_is_no_video_gives_one_error_line(content: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    (tmp_path / "bad.mp4").write_bytes(content)
    source = open_source(str(tmp_path / "bad.mp4"))
    assert list(source.frames()) == []
    assert "not a video FFmpeg can read" in source.state().last_error
    assert len([m for m in source_records(caplog) if "not a video" in m]) == 1


# --- RTSP --------------------------------------------------------------------------------


@needs_ffmpeg
def test_rtsp_frames_flow_and_come_back_after_the_server_restarts(rtsp: media.RtspServer, clip: list[np.ndarray], caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="lpr.sources")
    with open_source(rtsp.url, config=FAST) as source:
        frames = source.frames()
        first = [next(frames) for _ in range(5)]
        assert [f.index for f in first] == sorted({f.index for f in first})
        # A frame may be replaced by a newer one before it is taken (newest frame wins), so the first taken is not always 0.
        assert media.nearest(first[0].image, clip) == first[0].index % len(clip) and first[0].offset_s is None and first[0].camera == f"127.0.0.1:{rtsp.port}/cam"
        assert source.state().connected and source.state().reconnects == 0
        rtsp.stop()
        wait_until(lambda: not source.state().connected, timeout=5)
        assert source.state().last_error.startswith(rtsp.url)
        rtsp.start()
        read_before = source.state().frames_read
        wait_until(lambda: source.state().connected and source.state().frames_read > read_before + 3)
        assert next(frames).index > first[-1].index
        assert source.state().reconnects >= 1
    messages = source_records(caplog)
    for expected in ("connected to", "disconnected", "reconnecting in"):
        assert any(expected in m for m in messages), (expected, messages)


@needs_ffmpeg
def test_a_slow_consumer_gets_the_newest_frame_and_drops_are_counted(rtsp: media.RtspServer):
    with open_source(rtsp.url, config=FAST) as source:
        frames = source.frames()
        next(frames)
        for _ in range(2):
            time.sleep(0.6)
            before = source.state()
            assert next(frames).index >= before.frames_read - 1
        state = source.state()
        assert state.frames_dropped >= 8 and state.frames_dropped <= state.frames_read


@needs_ffmpeg
def test_a_stalled_stream_is_abandoned_and_reopened(rtsp: media.RtspServer, caplog: pytest.LogCaptureFixture):
    with open_source(rtsp.url, config=FAST) as source:
        frames = source.frames()
        next(frames)
        rtsp.paused.set()
        wait_until(lambda: "stalled" in (source.state().last_error or ""), timeout=4)
        rtsp.paused.clear()
        read_before = source.state().frames_read
        wait_until(lambda: source.state().frames_read > read_before)
        assert source.state().reconnects >= 1 and source.state().connected
    assert any("stalled: no frame for 1 s" in m for m in source_records(caplog))


def test_an_http_mjpeg_stream_gives_frames(clip: list[np.ndarray]):
    server = media.MjpegServer(clip)
    try:
        with open_source(server.url, config=FAST) as source:
            frames = source.frames()
            first = [next(frames) for _ in range(3)]
        assert media.nearest(first[0].image, clip) == first[0].index and first[0].camera == server.url.removeprefix("http://")
    finally:
        server.stop()


def test_a_closed_port_is_reported_and_retried_with_backoff():
    port = media.free_port()
    config = SourceConfig(reconnect_first_s=0.1, reconnect_factor=2.0, reconnect_max_s=1.0)
    with open_source(f"rtsp://127.0.0.1:{port}/cam", config=config) as source:
        source.frames()
        time.sleep(1.6)
        state = source.state()
    assert state.last_error == f"rtsp://127.0.0.1:{port}/cam: cannot connect to 127.0.0.1:{port} (Connection refused)"
    # Waits of 0.1, 0.2, 0.4, 0.8 s: about four tries in 1.6 s, not a tight loop.
    assert 2 <= state.reconnects <= 5 and not state.connected and state.frames_read == 0


def test_close_returns_promptly_while_the_capture_is_blocked():
    server = media.SilentServer()
    try:
        source = open_source(server.url, config=SourceConfig(first_frame_timeout_s=30.0))
        frames = source.frames()
        ended = threading.Event()
        threading.Thread(target=lambda: (list(frames), ended.set()), daemon=True).start()
        time.sleep(0.5)
        started = time.monotonic()
        source.close()
        assert time.monotonic() - started < 1.0
        assert ended.wait(1.0)
    finally:
        server.stop()


# --- a watched folder --------------------------------------------------------------------


def scene_files(tmp_path: Path) -> list[Path]:
    """Three distinct real images (a JPEG, a PNG, a JPEG) in a staging folder."""
    staging = tmp_path / "staging"
    staging.mkdir()
    image = media.scene()
    paths = [staging / "a.jpg", staging / "b.png", staging / "c.jpg"]
    for shift, path in enumerate(paths):
        cv2.imwrite(str(path), np.roll(image, 40 * shift, axis=1))
    return paths


def test_a_folder_reads_images_copied_in_after_start_once_each_in_arrival_order(tmp_path: Path):
    uploads = tmp_path / "gate-ftp"
    uploads.mkdir()
    images = scene_files(tmp_path)
    shutil.copy(images[0], uploads / "before-start.jpg")
    source = open_source(str(uploads), config=FAST)
    collector = Collector(source)
    for path in reversed(images):  # c, b, a: arrival order is not name order
        shutil.copy(path, uploads / path.name)
        time.sleep(0.25)
    wait_until(lambda: len(collector.frames) == 3, timeout=5)
    time.sleep(0.4)
    source.close()
    collector.thread.join(1.0)
    frames = collector.frames
    assert [Path(f.source).name for f in frames] == ["c.jpg", "b.png", "a.jpg"] and [f.index for f in frames] == [0, 1, 2]
    assert all(np.array_equal(f.image, read_image(uploads / Path(f.source).name)) for f in frames)
    assert frames[0].camera == "gate-ftp" and frames[0].offset_s is None and source.state().frames_read == 3


def test_a_half_written_image_is_read_only_when_complete(tmp_path: Path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    data = scene_files(tmp_path)[0].read_bytes()
    source = open_source(str(uploads), config=FAST)
    collector = Collector(source)
    with open(uploads / "car.jpg", "wb") as upload:
        upload.write(data[: len(data) // 2])
        upload.flush()
        time.sleep(0.45)  # four polls with the size unchanged, still under the upload timeout
        assert collector.frames == []
        upload.write(data[len(data) // 2 :])
    wait_until(lambda: collector.frames, timeout=3)
    source.close()
    assert np.array_equal(collector.frames[0].image, read_image(uploads / "car.jpg"))
    assert len(collector.frames) == 1 and source.state().last_error is None


def test_a_corrupt_or_abandoned_image_is_reported_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    good = scene_files(tmp_path)[0]
    source = open_source(str(uploads), config=FAST)
    collector = Collector(source)
    (uploads / "noise.jpg").write_bytes(os.urandom(3000))
    (uploads / "cut.jpg").write_bytes(good.read_bytes()[:2000])
    time.sleep(0.3)
    shutil.copy(good, uploads / "good.jpg")
    wait_until(lambda: collector.frames and len(source_records(caplog)) >= 2, timeout=4)
    source.close()
    assert [Path(f.source).name for f in collector.frames] == ["good.jpg"]
    errors = [m for m in source_records(caplog) if "skipped" in m]
    assert any(f"{uploads / 'noise.jpg'}: not a readable image" in m for m in errors)
    assert any(f"{uploads / 'cut.jpg'}: incomplete image" in m for m in errors)
    assert len(errors) == 2


# --- several sources ---------------------------------------------------------------------


def test_sources_yield_the_frames_of_a_file_and_a_folder(tmp_path: Path, clip: list[np.ndarray]):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    file = open_source(str(media.write_avi(tmp_path / "lane1.avi", clip)), config=FAST)
    folder = open_source(str(uploads), config=FAST)
    seen: dict[str, int] = {}
    with Sources([file, folder]) as sources:
        wait_until(lambda: folder.state().connected)
        shutil.copy(scene_files(tmp_path)[0], uploads / "car.jpg")
        for frame in sources.frames():
            seen[frame.camera] = seen.get(frame.camera, 0) + 1
            if seen.get("lane1") == 30 and seen.get("uploads"):
                break
        assert set(sources.states()) == {"lane1", "uploads"}
    assert seen == {"lane1": 30, "uploads": 1}


def test_a_dead_source_does_not_stop_the_others(tmp_path: Path, clip: list[np.ndarray]):
    dead = open_source(f"rtsp://127.0.0.1:{media.free_port()}/cam", config=FAST)
    file = open_source(str(media.write_avi(tmp_path / "lane1.avi", clip)), config=FAST)
    sources = Sources([dead, file])
    frames = []
    for frame in sources.frames():
        frames.append(frame)
        if len(frames) == 30:
            break
    assert {f.camera for f in frames} == {"lane1"}
    wait_until(lambda: "Connection refused" in (sources.states()[dead.camera].last_error or ""), timeout=2)
    started = time.monotonic()
    sources.close()
    assert time.monotonic() - started < 1.5
