"""Where frames come from: video files, RTSP and HTTP streams, V4L2 webcams and upload folders, one Frame iterator each, and Sources to read several at once.

A file is read at the consumer's pace and ends at its end. A live stream (URL or webcam) is
read by its own thread that keeps only the newest frame: a frame the consumer did not take
before the next one arrived is dropped and counted, so a slow consumer always gets a recent
frame and memory never grows. A live source reconnects with backoff on error, end of stream
or stall, and ends only at close(). A folder yields the images that appear in it after the
source starts (what a plate camera uploads by FTP); the files already there are left alone,
so a restarted watcher does not read a day of uploads again.

Every failure is a one-line message in the source's state and its log ("lpr.sources"), never
an exception out of frames().
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

# FFmpeg's own messages are multi-line noise next to ours (set it before cv2 opens a stream;
# a user's own setting wins).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
# RTSP over TCP: over UDP a busy network loses packets and smears the plates, and a firewall
# dropping UDP makes FFmpeg wait before it falls back.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402

from .errors import ImageReadError  # noqa: E402
from .imageio import read_image  # noqa: E402

# OpenCV adds a cryptic warning line of its own whenever a stream fails to open; ours says why
# (an OPENCV_LOG_LEVEL the user set wins).
if "OPENCV_LOG_LEVEL" not in os.environ:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

logger = logging.getLogger("lpr.sources")

LIVE_SCHEMES = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
# Some containers (mkv, webm) only estimate their frame count from the duration; a shortfall
# within this fraction is rounding, not a truncated file.
FRAME_COUNT_SLACK = 0.02
# How often the watchdog looks at a live capture; it bounds how late a stall or close() is noticed.
WATCH_INTERVAL_S = 0.05


@dataclass(frozen=True)
class SourceConfig:
    """How sources reconnect, detect stalls, sample files and watch folders."""

    # First wait after a live source fails: short, so a camera that rebooted is back soon.
    reconnect_first_s: float = 1.0
    # Each further failure multiplies the wait, so a dead camera is not hammered.
    reconnect_factor: float = 2.0
    # The longest wait, so a camera that comes back after an hour is picked up within it.
    reconnect_max_s: float = 30.0
    # A live read taking longer than this is a stall (VideoCapture.read() can hang after a reconnect): the capture is abandoned and reopened.
    stall_timeout_s: float = 10.0
    # An opened stream that gives no first frame within this is dead (a camera can accept the connection and send nothing).
    first_frame_timeout_s: float = 15.0
    # Files: keep every Nth frame; consecutive frames of a passing car mostly repeat the same plate.
    sample: int = 1
    # Folders: how often to look for new files; a file is read once its size held for one poll.
    poll_interval_s: float = 1.0
    # Folders: a JPEG or PNG whose size stopped changing but that still lacks its end after this long is a failed upload.
    upload_timeout_s: float = 30.0
    # Folders: the files read as images; anything else (an FTP server's .part files) is ignored.
    image_extensions: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

    def __post_init__(self) -> None:
        if self.sample < 1:
            raise ValueError(f"sample must be a whole number of at least 1, got {self.sample}")
        for name in ("reconnect_first_s", "reconnect_max_s", "stall_timeout_s", "first_frame_timeout_s", "poll_interval_s", "upload_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be more than 0, got {getattr(self, name)}")
        if self.reconnect_factor < 1:
            raise ValueError(f"reconnect_factor must be at least 1, got {self.reconnect_factor}")


@dataclass(frozen=True, eq=False)
class Frame:
    """One picture from a source: (H, W, 3) uint8 BGR image, which camera, where from, its number there and when it was read."""

    image: np.ndarray = field(repr=False)
    camera: str
    # The file or URL (without its password) it came from; for a folder, the image file.
    source: str
    # The frame's number in its file, or in the order a live source read it (across reconnects).
    index: int
    # When it was read (UTC, timezone-aware).
    timestamp: datetime
    # time.monotonic() when it was read, for intervals that must not jump with the clock.
    monotonic_s: float
    # Seconds into a video file; None for live streams and folders.
    offset_s: float | None


@dataclass(frozen=True)
class SourceState:
    """A snapshot of a source: whether it delivers, how many frames it read and dropped, reconnects, its last error and last frame time."""

    connected: bool = False
    frames_read: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_frame_at: datetime | None = None


def one_line(text: object) -> str:
    """Any message (OpenCV's span lines) in, the same on one line out."""
    return " ".join(str(text).split())


def redact(url: str) -> str:
    """A URL in, the same without its password out, fit for logs and records."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def camera_name(spec: str) -> str:
    """A source spec in, its default camera name out: a file's stem, a URL's host[:port]/path, a folder's or video device's name."""
    if "://" in spec:
        parts = urlsplit(spec)
        return parts.netloc.rpartition("@")[2] + parts.path.rstrip("/")
    path = Path(spec)
    return path.name if path.is_dir() or spec.startswith("/dev/") else path.stem


def _now() -> datetime:
    return datetime.now(timezone.utc)


class FrameSource:
    """The interface: frames() yields Frames, state() snapshots the source, close() stops it; state changes are logged one line each."""

    def __init__(self, spec: str, camera: str, config: SourceConfig) -> None:
        self.spec = spec
        self.camera = camera
        self.config = config
        self.source = redact(spec)
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._state = SourceState()

    def frames(self) -> Iterator[Frame]:
        """Nothing in, this source's frames out until it ends or is closed."""
        raise NotImplementedError

    def state(self) -> SourceState:
        """Nothing in, a snapshot of this source's state out."""
        with self._lock:
            return self._state

    def close(self) -> None:
        """Stop the source: frames() ends soon after; safe to call twice and from another thread."""
        self._closing.set()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _update(self, **changes: object) -> SourceState:
        """Replace the given state fields; the new snapshot out."""
        with self._lock:
            self._state = replace(self._state, **changes)
            return self._state

    def _fail(self, message: str) -> None:
        """Record and log an error that ends or interrupts the source."""
        self._update(connected=False, last_error=message)
        logger.error("%s: %s", self.camera, message)

    def _frame(self, image: np.ndarray, index: int, offset_s: float | None, source: str | None = None) -> Frame:
        """A read image in, its Frame out; counts it as read."""
        frame = Frame(image, self.camera, source or self.source, index, _now(), time.monotonic(), offset_s)
        with self._lock:
            self._state = replace(self._state, frames_read=self._state.frames_read + 1, last_frame_at=frame.timestamp)
        return frame


class FileSource(FrameSource):
    """A video file FFmpeg reads (mp4, mkv, avi, mjpeg...): every frame, or every Nth, at the consumer's pace; ends at the end of the file."""

    def frames(self) -> Iterator[Frame]:
        """Nothing in, the file's frames in order out; a file that cannot be read or breaks off is reported in one line and ends."""
        capture = cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG)
        try:
            if not capture.isOpened():
                self._fail(f"{self.source}: not a video FFmpeg can read (corrupt, truncated or unsupported format)")
                return
            expected = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
            self._update(connected=True)
            logger.info("%s: opened %s (%s frames)", self.camera, self.source, expected or "unknown")
            index = 0
            while not self._closing.is_set() and capture.grab():
                if index % self.config.sample == 0:
                    ok, image = capture.retrieve()
                    if ok and image is not None:
                        yield self._frame(image, index, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
                index += 1
            if self._closing.is_set():
                self._update(connected=False)
            elif expected and expected - index > max(1, expected * FRAME_COUNT_SLACK):
                self._fail(f"{self.source}: ended after {index} of {expected} frames (truncated or corrupt)")
            else:
                self._update(connected=False)
                logger.info("%s: finished after %d frames", self.camera, index)
        except cv2.error as error:
            self._fail(f"{self.source}: {one_line(error)}")
        finally:
            capture.release()


class _Capture:
    """One connection of a live source: a daemon thread that opens the stream and hands over each frame until stopped or the stream fails.

    It alone touches its VideoCapture, so a capture stuck in read() can be abandoned (stop())
    without a cross-thread release; it releases itself whenever read() returns.
    """

    def __init__(self, open_capture: Callable[[], cv2.VideoCapture], on_image: Callable[[np.ndarray], None]) -> None:
        self._open_capture = open_capture
        self._on_image = on_image
        self.stopped = threading.Event()
        self.done = threading.Event()
        self.error: str | None = None
        self.images = 0
        self.last_progress_s = time.monotonic()
        threading.Thread(target=self._run, name="lpr-capture", daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        capture = None
        try:
            capture = self._open_capture()
            if not capture.isOpened():
                self.error = "could not open the stream (wrong path or credentials, or not a stream FFmpeg reads)"
                return
            while not self.stopped.is_set():
                ok, image = capture.read()
                if self.stopped.is_set():
                    return
                if not ok or image is None:
                    self.error = "the stream ended or broke off"
                    return
                self.images += 1
                self.last_progress_s = time.monotonic()
                self._on_image(image)
        except (cv2.error, OSError) as error:
            self.error = one_line(error)
        finally:
            if capture is not None:
                capture.release()
            self.done.set()


class LiveSource(FrameSource):
    """An RTSP or HTTP(S) stream or a V4L2 webcam: a reader thread keeps only the newest frame, reconnects with backoff, and ends only at close()."""

    def __init__(self, spec: str, camera: str, config: SourceConfig) -> None:
        super().__init__(spec, camera, config)
        self._newest: Frame | None = None
        self._arrived = threading.Condition(self._lock)
        self._index = 0
        self._thread: threading.Thread | None = None

    def frames(self) -> Iterator[Frame]:
        """Nothing in (starts the reader thread at once), the newest frame each time the consumer asks out, until close()."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._supervise, name=f"lpr-source-{self.camera}", daemon=True)
            self._thread.start()
        return self._take_all()

    def close(self) -> None:
        """Stop reading; returns within about a second even while a capture is stuck (it is abandoned)."""
        super().close()
        with self._arrived:
            self._arrived.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _take_all(self) -> Iterator[Frame]:
        while True:
            with self._arrived:
                while self._newest is None and not self._closing.is_set():
                    self._arrived.wait()
                if self._closing.is_set():
                    return
                frame, self._newest = self._newest, None
            yield frame

    def _keep(self, image: np.ndarray) -> None:
        """Called by the capture thread with each image: it replaces the frame waiting, which then counts as dropped."""
        if not self.state().connected:
            self._update(connected=True, last_error=None)
            logger.info("%s: connected to %s", self.camera, self.source)
        frame = self._frame(image, self._index, None)
        self._index += 1
        with self._arrived:
            if self._newest is not None:
                self._state = replace(self._state, frames_dropped=self._state.frames_dropped + 1)
            self._newest = frame
            self._arrived.notify()

    def _open(self) -> cv2.VideoCapture:
        """Open the stream; a URL's host is tried first, so a refused or unreachable port says so in plain words."""
        if self.spec.startswith("/dev/"):
            return cv2.VideoCapture(self.spec, cv2.CAP_V4L2)
        parts = urlsplit(self.spec)
        address = (parts.hostname or "", parts.port or LIVE_SCHEMES[parts.scheme])
        try:
            socket.create_connection(address, timeout=self.config.first_frame_timeout_s).close()
        except OSError as error:
            raise OSError(f"cannot connect to {address[0]}:{address[1]} ({error.strerror or one_line(error)})") from None
        # FFmpeg gives up on its own a little after the watchdog, so an abandoned capture's thread ends soon too.
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.config.first_frame_timeout_s * 1000), cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.config.stall_timeout_s * 2000)]
        return cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG, timeouts)

    def _watch(self, capture: _Capture) -> str | None:
        """Wait while the capture delivers; why it stopped out (its error or a stall), or None at close()."""
        while not self._closing.wait(WATCH_INTERVAL_S):
            if capture.done.is_set():
                return capture.error or "the stream ended"
            if capture.images:
                if time.monotonic() - capture.last_progress_s > self.config.stall_timeout_s:
                    return f"stalled: no frame for {self.config.stall_timeout_s:g} s"
            elif time.monotonic() - capture.last_progress_s > self.config.first_frame_timeout_s:
                return f"no frame within {self.config.first_frame_timeout_s:g} s of connecting"
        return None

    def _supervise(self) -> None:
        """The reader thread: connect, watch, and on failure wait with backoff and connect again, until close()."""
        delay = self.config.reconnect_first_s
        while True:
            capture = _Capture(self._open, self._keep)
            reason = self._watch(capture)
            capture.stop()
            if reason is None:
                break
            was_connected = self.state().connected
            self._update(connected=False, last_error=f"{self.source}: {reason}")
            if was_connected:
                logger.warning("%s: disconnected: %s", self.camera, reason)
            else:
                logger.error("%s: %s: %s", self.camera, self.source, reason)
            if capture.images:
                # It worked for a while: this is a new outage, so the backoff starts over.
                delay = self.config.reconnect_first_s
            logger.info("%s: reconnecting in %.1f s", self.camera, delay)
            if self._closing.wait(delay):
                break
            delay = min(delay * self.config.reconnect_factor, self.config.reconnect_max_s)
            self._update(reconnects=self.state().reconnects + 1)
        self._update(connected=False)


def _is_complete(path: Path) -> bool:
    """Whether a JPEG or PNG file ends as one must (other formats cannot tell, so they count as complete)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(8)
            stream.seek(max(path.stat().st_size - 1024, 0))
            tail = stream.read()
    except OSError:
        return False
    if head[:2] == b"\xff\xd8":
        return tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    if head == b"\x89PNG\r\n\x1a\n":
        return tail[-8:-4] == b"IEND"
    return True


@dataclass(frozen=True)
class _Seen:
    """A file's size at a poll, and since when (monotonic s) it has had that size."""

    size: int
    since_s: float


class FolderSource(FrameSource):
    """A folder a camera uploads images to: each image that appears after start is read once, in arrival order, when fully written; until close()."""

    def __init__(self, spec: str, camera: str, config: SourceConfig) -> None:
        super().__init__(spec, camera, config)
        # Whether the last listing worked, so a folder that goes away is reported once, not at every poll.
        self._listable = True

    def frames(self) -> Iterator[Frame]:
        """Nothing in (the files there now are left alone), the images that appear later as Frames out (source: the image's path), until close()."""
        folder = Path(self.spec)
        done = set(self._listing(folder) or ())
        self._update(connected=self._listable)
        logger.info("%s: watching %s for new images", self.camera, folder)
        return self._poll(folder, done)

    def _poll(self, folder: Path, done: set[str]) -> Iterator[Frame]:
        pending: dict[str, _Seen] = {}
        index = 0
        while not self._closing.wait(self.config.poll_interval_s):
            listing = self._listing(folder)
            if listing is None:
                continue
            # Forget what was deleted, so memory follows the folder and a file uploaded again is read again.
            done &= listing.keys()
            ready = []
            for name, (size, mtime_ns) in listing.items():
                if name in done:
                    continue
                seen = pending.get(name)
                if seen is None or seen.size != size or size == 0:
                    pending[name] = _Seen(size, time.monotonic())
                elif _is_complete(folder / name):
                    ready.append((mtime_ns, name))
                elif time.monotonic() - seen.since_s > self.config.upload_timeout_s:
                    self._skip(f"{folder / name}: incomplete image (no end marker after {self.config.upload_timeout_s:g} s; failed upload?)")
                    done.add(name)
            pending = {name: seen for name, seen in pending.items() if name in listing and name not in done}
            for _, name in sorted(ready):
                if self._closing.is_set():
                    break
                done.add(name)
                pending.pop(name)
                try:
                    image = read_image(folder / name)
                except ImageReadError as error:
                    self._skip(str(error))
                    continue
                yield self._frame(image, index, None, str(folder / name))
                index += 1
        self._update(connected=False)

    def _skip(self, message: str) -> None:
        """Report an image that will not be read; the folder stays watched."""
        self._update(last_error=message)
        logger.error("%s: skipped %s", self.camera, message)

    def _listing(self, folder: Path) -> dict[str, tuple[int, int]] | None:
        """The folder's image files as name -> (size, mtime ns), or None while it cannot be listed (reported once)."""
        try:
            with os.scandir(folder) as entries:
                listing = {
                    e.name: (e.stat().st_size, e.stat().st_mtime_ns) for e in entries if e.is_file() and Path(e.name).suffix.lower() in self.config.image_extensions
                }
        except OSError as error:
            if self._listable:
                self._listable = False
                self._fail(f"{folder}: cannot list the folder ({error.strerror or one_line(error)})")
            return None
        if not self._listable:
            self._listable = True
            self._update(connected=True, last_error=None)
            logger.info("%s: %s is readable again", self.camera, folder)
        return listing


def open_source(spec: str, camera: str | None = None, config: SourceConfig = SourceConfig()) -> FrameSource:
    """A spec (video file, folder, /dev/videoN, rtsp:// or http(s):// URL) and an optional camera name in, its FrameSource out; ValueError (one line) when it is none of these."""
    name = camera or camera_name(spec)
    if "://" in spec:
        scheme = spec.partition("://")[0].lower()
        if scheme not in LIVE_SCHEMES:
            raise ValueError(f"{redact(spec)}: unsupported URL scheme {scheme!r} (use {', '.join(LIVE_SCHEMES)})")
        try:
            # .port raises ValueError itself for a port that is not a number.
            if urlsplit(spec).port == 0 or not urlsplit(spec).hostname:
                raise ValueError("no host or port 0")
        except ValueError as error:
            raise ValueError(f"{redact(spec)}: not a valid URL ({error})") from None
        return LiveSource(spec, name, config)
    path = Path(spec)
    if spec.startswith("/dev/"):
        if not path.exists():
            raise ValueError(f"{spec}: no such video device")
        return LiveSource(spec, name, config)
    if path.is_dir():
        return FolderSource(spec, name, config)
    if path.is_file():
        return FileSource(spec, name, config)
    raise ValueError(f"{spec}: no such file or folder (a source is a video file, a folder, /dev/videoN or an rtsp:// or http(s):// URL)")


@dataclass(frozen=True)
class _Ended:
    """Put on the queue by a source's thread when its source has no more frames."""

    camera: str


class Sources:
    """Several sources read at once: one thread per source feeds a queue holding at most one frame per source, and frames() yields them as they come.

    A full queue holds a file back (it is read at the consumer's pace) while a live source
    keeps only its newest frame meanwhile, so nothing waits long in the queue. A source that
    ends or fails is logged and the others go on; frames() ends when all have ended or at close().
    """

    def __init__(self, sources: list[FrameSource]) -> None:
        self.sources = list(sources)
        self._queue: queue.Queue[Frame | _Ended] = queue.Queue(maxsize=max(len(self.sources), 1))
        self._closing = threading.Event()
        self._threads = [threading.Thread(target=self._feed, args=(s,), name=f"lpr-feed-{s.camera}", daemon=True) for s in self.sources]
        for thread in self._threads:
            thread.start()

    def frames(self) -> Iterator[Frame]:
        """Nothing in, every source's frames out as they arrive, until all sources ended or close()."""
        running = len(self.sources)
        while running and not self._closing.is_set():
            try:
                item = self._queue.get(timeout=WATCH_INTERVAL_S)
            except queue.Empty:
                continue
            if isinstance(item, _Ended):
                running -= 1
            else:
                yield item

    def states(self) -> dict[str, SourceState]:
        """Nothing in, each source's state by camera name out."""
        return {source.camera: source.state() for source in self.sources}

    def close(self) -> None:
        """Close every source and stop their threads; returns within about a second."""
        self._closing.set()
        for source in self.sources:
            source.close()
        deadline = time.monotonic() + 1.0
        for thread in self._threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0))

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: Frame | _Ended) -> bool:
        """Queue an item, waiting while the queue is full; False once closing."""
        while not self._closing.is_set():
            try:
                self._queue.put(item, timeout=WATCH_INTERVAL_S)
                return True
            except queue.Full:
                continue
        return False

    def _feed(self, source: FrameSource) -> None:
        """One source's thread: its frames onto the queue, then an end marker; an unexpected error is logged in one line."""
        try:
            for frame in source.frames():
                if not self._put(frame):
                    return
        except Exception as error:  # a bug in one source must not stop the others
            logger.error("%s: stopped: %s: %s", source.camera, type(error).__name__, one_line(error))
        if self._put(_Ended(source.camera)):
            logger.info("%s: source ended; the others go on", source.camera)
