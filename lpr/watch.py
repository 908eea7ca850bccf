"""`lpr watch`: cameras and videos in, one committed read per vehicle pass out, matched against hotlists and alerted on.

Each frame passes a motion gate; a moving frame is recognized, and every frame (read or not)
advances its camera's tracker, so tracks end on time. Only the best frame of each live track
is kept in memory. When a track ends, its read is matched against the hotlists, its best
frame and plate crop are written (atomically) under the media folder, the read and its
alerts are committed in one transaction, and only then is it printed: whatever a user or a
receiver is told of is already on disk, and a crash loses at most the passes still in view.

With workers > 1 only the recognition of moving frames goes to a pool of processes (each builds
the same recognizer from its RecognizerSpec); the motion gate, the trackers and everything after
stay in this process and take the results in frame order, so the reads are those of one worker.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from . import batch
from .errors import LprError, OutputWriteError
from .files import write_atomically
from .hotlist import Hotlist, HotlistWatcher
from .motion import MotionConfig, MotionDetector
from .pipeline import Recognizer, RecognizerSpec
from .records import MATCH_KINDS, CameraStatus, HotlistMatch, PlateRead, VehicleRead
from .sources import Frame, FrameSource, SourceConfig, Sources, camera_name, one_line, open_source
from .store import Store, StoreError
from .tracking import FinishedTrack, Tracker, TrackingConfig

logger = logging.getLogger("lpr.watch")

# Recognitions in flight per worker: one computing and one queued keeps every worker busy,
# and the frames waiting in the main process stay a handful of images.
IN_FLIGHT_PER_WORKER = 2
# Frames (moving or not) waiting per worker for an earlier recognition: still frames behind a slow
# one wait too, since every frame advances the tracker in order; this bounds their memory.
QUEUED_PER_WORKER = 8

# A camera name becomes a folder name: anything but these (a URL's "/" and ":") is replaced.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Columns of `lpr reads --csv`, in order.
CSV_COLUMNS = (
    "id", "plate", "confidence", "camera", "source", "first_seen", "last_seen", "offset_start_s", "offset_end_s", "frames_seen",
    "box", "crop_path", "frame_path", "hotlist", "hotlist_plate", "match_kind", "note", "candidates",
)  # fmt: skip


@dataclass(frozen=True)
class WatchConfig:
    """What `lpr watch` does besides reading: sampling, the motion gate, media, retention, output and the settings of each stage."""

    # Files: recognize every Nth frame; neighbouring frames of a pass mostly repeat the same plate, so N > 1 trades reads per pass for speed.
    sample: int = 1
    # Recognize only frames with motion: an idle camera then costs a shrink per frame instead of a recognition.
    motion: bool = True
    # Where best frames and plate crops go (DIR/<camera>/<date>/<id>-frame.jpg); None keeps no pictures.
    media_dir: Path | None = None
    # Reads (and their pictures) first seen longer ago than this many days are deleted at start and every prune_interval_s; None keeps everything.
    keep_days: float | None = None
    # Hourly pruning keeps the database bounded on a watcher that runs for months, at a negligible cost.
    prune_interval_s: float = 3600.0
    # Imported hotlists (`lpr hotlist import`) are looked at this often, so an import reaches a running watcher within a minute.
    hotlist_refresh_s: float = 60.0
    # Print one JSON object per read (JSON Lines) for programs, instead of one human line.
    json: bool = False
    # JPEG quality of saved pictures: 90 keeps a plate's characters legible at a tenth of a PNG's size.
    jpeg_quality: int = 90
    # The crop is the plate box grown by this fraction of its size on each side, so a slightly off box still shows the whole plate.
    crop_margin: float = 0.15
    # The wait after a failed commit doubles up to this; the read is retried until the database is back, never dropped.
    commit_retry_max_s: float = 30.0
    # Processes recognizing moving frames; 1 recognizes in this process. The reads are the same for any number.
    workers: int = 1
    # Each camera's status (connected, fps, drops, last error) is written to the database this often, for `lpr serve` and its page.
    status_interval_s: float = 5.0
    motion_config: MotionConfig = field(default_factory=MotionConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    sources: SourceConfig = field(default_factory=SourceConfig)

    def __post_init__(self) -> None:
        if self.sample < 1:
            raise ValueError(f"sample must be a whole number of at least 1, got {self.sample}")
        if self.workers < 1:
            raise ValueError(f"workers must be a whole number of at least 1, got {self.workers}")
        if self.keep_days is not None and not self.keep_days >= 0:
            raise ValueError(f"keep_days must be at least 0, got {self.keep_days}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")
        if not all(value > 0 for value in (self.prune_interval_s, self.hotlist_refresh_s, self.commit_retry_max_s, self.status_interval_s)):
            raise ValueError("prune_interval_s, hotlist_refresh_s, commit_retry_max_s and status_interval_s must be more than 0")

    def source_config(self) -> SourceConfig:
        """Nothing in, the sources' settings with this config's sample out."""
        return replace(self.sources, sample=self.sample)


@dataclass(frozen=True)
class CameraReport:
    """What one camera's frames came to: read, recognized, skipped for no motion, dropped by a live source, reads made, seconds spent, its last error."""

    camera: str
    frames_read: int
    recognized: int
    skipped: int
    dropped: int
    reads: int
    seconds: float
    error: str | None

    def line(self) -> str:
        """Nothing in, the report as one line out."""
        rate = f", {self.frames_read / self.seconds:.1f} frames/s" if self.seconds > 0 else ""
        error = f"; last error: {self.error}" if self.error else ""
        return (
            f"{self.camera}: {self.frames_read} frames read, {self.recognized} recognized, {self.skipped} skipped for no motion, "
            f"{self.dropped} dropped, {self.reads} reads{rate}{error}"
        )


@dataclass(frozen=True)
class WatchReport:
    """What a watch came to: one CameraReport per camera, whether it was interrupted, and the sources that could not be opened."""

    cameras: tuple[CameraReport, ...]
    interrupted: bool
    failed_sources: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """Whether any source failed to open or ended with an error."""
        return bool(self.failed_sources) or any(c.error for c in self.cameras)


class _Camera:
    """One camera's state: its motion gate, tracker, the best frames of its live tracks, the wall-clock anchor of its times, and counts."""

    def __init__(self, config: WatchConfig) -> None:
        self.motion = MotionDetector(config.motion_config) if config.motion else None
        self.tracker = Tracker(config.tracking)
        self.frames: dict[int, Frame] = {}
        # (wall-clock time, track time) of the first frame: track times are file offsets or monotonic seconds, and map to wall clock from here.
        self.anchor: tuple[datetime, float] | None = None
        self.last_time_s = -math.inf
        self.read = self.recognized = self.skipped = self.reads = 0
        self.started_s: float | None = None
        self.last_s = 0.0

    def time_s(self, frame: Frame) -> float:
        """A frame in, its track time out: seconds into a file (processing speed must not stretch a pass), else monotonic seconds; never going back."""
        value = frame.offset_s if frame.offset_s is not None else frame.monotonic_s
        if self.anchor is None:
            self.anchor = (frame.timestamp, value)
        # A file's reported position can repeat at its very end; the tracker refuses time going back.
        self.last_time_s = max(self.last_time_s, value)
        return self.last_time_s

    def wall(self, time_s: float) -> datetime:
        """A track time in, the UTC time it stands for out."""
        assert self.anchor is not None
        start, origin = self.anchor
        return start + timedelta(seconds=time_s - origin)


@dataclass
class _Step:
    """One frame between its motion gate and its tracker update: its camera, track time, whether it moved and its recognition still running (if sent to a worker)."""

    frame: Frame
    camera: _Camera
    time_s: float
    moving: bool
    pending: Future | None = None


def recognize_in_worker(image: np.ndarray) -> tuple[tuple[PlateRead, ...], str | None]:
    """Process-pool task: a frame's image in, (its plates as plain records, None) out, or ((), the one-line error) when it cannot be recognized."""
    recognizer = batch.worker_recognizer()
    try:
        # Plain records: a PlateReading's segmentation pictures would only cost pickling; the tracker keeps record()s anyway.
        return tuple(plate.record() for plate in recognizer.recognize(image)), None
    except (ValueError, cv2.error) as error:
        return (), one_line(error)


def start_worker(spec: RecognizerSpec) -> None:
    """Process-pool initializer: signals ignored, then lpr.batch's worker set-up (one BLAS and OpenCV thread, the recognizer built from its spec)."""
    # A Ctrl-C reaches the terminal's whole process group, and systemd's SIGTERM the whole service: the main
    # process stops the watch cleanly and shuts the pool down, so a worker must not die first and lose the frames queued.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    batch.start_worker(spec)


def start_pool(recognizer: Recognizer, workers: int) -> ProcessPoolExecutor:
    """A recognizer and a number of workers in, a process pool whose workers each built the same recognizer (one BLAS and OpenCV thread each) out."""
    return ProcessPoolExecutor(workers, mp_context=batch.worker_context(__name__), initializer=start_worker, initargs=(recognizer.spec,))


def safe_name(camera: str) -> str:
    """A camera name in, a name fit for one folder out (no "/", "..", or empty)."""
    name = _UNSAFE.sub("_", camera).strip("._") or "camera"
    return name


def media_paths(media_dir: Path, camera: str, first_seen: datetime, read_id: str) -> tuple[Path, Path]:
    """The media folder, a camera, when the vehicle was first seen and the read's id in, (crop path, frame path) out."""
    folder = media_dir / safe_name(camera) / first_seen.astimezone(timezone.utc).date().isoformat()
    return folder / f"{read_id}-crop.jpg", folder / f"{read_id}-frame.jpg"


def best_match(hotlists: Sequence[Hotlist], texts: Sequence[str]) -> HotlistMatch | None:
    """Hotlists and a read's texts (plate first, then candidates) in, the strongest match over all the lists out (the same order as Hotlist.match)."""
    found = [m for m in (h.match(texts) for h in hotlists) if m is not None]
    if not found:
        return None
    return min(found, key=lambda m: (MATCH_KINDS.index(m.kind), texts.index(m.read_text) if m.read_text in texts else len(texts), m.distance))


def read_texts(track: FinishedTrack) -> list[str]:
    """A finished track in, its texts to match out: the voted text, then the other voted candidates, best first, without repeats."""
    return list(dict.fromkeys([track.text, *(c.plate for c in track.candidates)]))


def human_line(read: VehicleRead) -> str:
    """A read in, the one line `lpr watch` and `lpr reads` print for people out."""
    when = read.first_seen.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    offset = f" at {read.source_offset_s[0]:.1f}s" if read.source_offset_s else ""
    match = ""
    if read.match is not None:
        note = f": {read.match.note}" if read.match.note else ""
        match = f"  HOTLIST {read.match.list} {read.match.plate} ({read.match.kind}){note}"
    return f"{when} {read.camera}{offset} {read.plate} {read.confidence:.2f} ({read.frames_seen} frames) {read.id}{match}"


def output_line(read: VehicleRead, as_json: bool) -> str:
    """A read and whether JSON is wanted in, the line `lpr watch` prints for it out: its JSON object (VehicleRead.to_dict) or human_line."""
    return json.dumps(read.to_dict()) if as_json else human_line(read)


def csv_text(reads: Iterable[VehicleRead]) -> str:
    """Reads in, CSV with a header row (CSV_COLUMNS) out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for read in reads:
        row = read.to_dict()
        offsets = read.source_offset_s or (None, None)
        match = read.match
        writer.writerow([
            read.id, read.plate, row["confidence"], read.camera, read.source, row["first_seen"], row["last_seen"],
            "" if offsets[0] is None else offsets[0], "" if offsets[1] is None else offsets[1], read.frames_seen,
            " ".join(map(str, read.box.to_list())), read.crop_path or "", read.frame_path or "",
            match.list if match else "", match.plate if match else "", match.kind if match else "", match.note if match else "",
            " ".join(c.plate for c in read.candidates),
        ])  # fmt: skip
    return buffer.getvalue()


def parse_time(text: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or datetime in (naive means UTC; a bare date means its midnight, or the next midnight with end_of_day), an aware UTC datetime out; ValueError with one line."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1 if end_of_day else 0)
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" and value else value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T08:30:00Z)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def delete_media(paths: Iterable[tuple[str | None, str | None]], report: Callable[[str], None]) -> int:
    """(crop_path, frame_path) pairs of pruned reads in, the files deleted out; a file that cannot be deleted is one reported line."""
    deleted = 0
    for path in (p for pair in paths for p in pair if p):
        try:
            Path(path).unlink()
            deleted += 1
        except FileNotFoundError:
            pass
        except OSError as error:
            report(f"{path}: cannot delete ({error.strerror or error})")
    return deleted


def start_delivery(store: Store, stop: threading.Event) -> threading.Thread:
    """The store and a stop event in, a started daemon thread delivering the outbox's alerts until stop is set out."""
    from .alerts import AlertDeliverer

    thread = threading.Thread(target=AlertDeliverer(store).run, args=(stop,), name="lpr-alerts", daemon=True)
    thread.start()
    return thread


def read_camera_file(path: str | Path) -> list[tuple[str, str]]:
    """A cameras file (one `NAME SOURCE` a line; blank lines and # comments skipped) in, its (name, source) pairs out; LprError naming a malformed line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise LprError(f"cannot read cameras file {path} ({getattr(error, 'strerror', None) or error})") from None
    cameras = []
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 2:
            raise LprError(f"{path}, line {number}: expected NAME SOURCE (a camera name, then its URL, file or folder)")
        cameras.append((fields[0], fields[1]))
    if not cameras:
        raise LprError(f"{path}: no camera in it")
    return cameras


def open_sources(specs: Sequence[str], cameras: Sequence[str], config: SourceConfig, report: Callable[[str], None]) -> tuple[list[FrameSource], list[str]]:
    """Source specs and camera names (matched in order; the rest get their default names) in, the opened sources and the specs that failed out; LprError for clashing names."""
    if len(cameras) > len(specs):
        raise LprError(f"{len(cameras)} camera names for {len(specs)} sources (--camera names the sources in order)")
    names = [cameras[i] if i < len(cameras) else camera_name(spec) for i, spec in enumerate(specs)]
    for name in names:
        if names.count(name) > 1:
            raise LprError(f"two sources would both be camera {name!r}: name them with --camera")
    opened, failed = [], []
    for spec, name in zip(specs, names):
        try:
            opened.append(open_source(spec, name, config))
        except ValueError as error:
            report(str(error))
            failed.append(spec)
    return opened, failed


class Watcher:
    """Reads sources into committed vehicle reads: make it with a recognizer, an open store and what to match and alert, then run(sources)."""

    def __init__(
        self,
        recognizer: Recognizer,
        store: Store,
        config: WatchConfig = WatchConfig(),
        hotlists: Sequence[HotlistWatcher] = (),
        alerts_to: Sequence[str] = (),
        emit: Callable[[VehicleRead], None] | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.store = store
        self.config = config
        self.hotlists = list(hotlists)
        self.alerts_to = list(alerts_to)
        self.emit = emit or (lambda read: None)
        self.report = report or (lambda line: logger.error("%s", line))
        self._cameras: dict[str, _Camera] = {}
        self._imported: Hotlist = Hotlist(())
        self._imported_at = -math.inf
        self._pruned_at = -math.inf
        self._stop = threading.Event()
        self._sources: list[FrameSource] = []
        self._status_at = -math.inf
        # Per camera: (frames read, monotonic time) at its previous status, for its frame rate.
        self._status_counts: dict[str, tuple[int, float]] = {}

    def run(self, sources: Sequence[FrameSource], stop: threading.Event | None = None, failed_sources: Sequence[str] = ()) -> WatchReport:
        """Sources in (closed when done) and a stop event (Ctrl-C, SIGTERM), the WatchReport out once every source ended or stop was set; every track is flushed and committed."""
        stop = self._stop = stop or threading.Event()
        self._sources = list(sources)
        multiplexer = Sources(list(sources))
        done = threading.Event()

        def close_on_stop() -> None:
            # frames() waits on the sources; closing them is what makes it end promptly when stop is set.
            while not stop.wait(0.05):
                if done.is_set():
                    return
            multiplexer.close()

        threading.Thread(target=close_on_stop, name="lpr-watch-stop", daemon=True).start()
        pool: ProcessPoolExecutor | None = None
        queue: deque[_Step] = deque()
        try:
            # Inside the try: a pool that cannot start still has the sources closed.
            pool = start_pool(self.recognizer, self.config.workers) if self.config.workers > 1 else None
            # One BLAS thread here as in the workers: a multi-threaded product's sums depend on the split, and reads must not depend on workers.
            with threadpool_limits(1):
                self.maintain()
                for frame in multiplexer.frames():
                    if stop.is_set():
                        break
                    if pool is None:
                        self.process(frame)
                    else:
                        self._submit(pool, queue, frame)
                    self.maintain()
                # The frames already read are part of their passes: their recognitions are awaited, not dropped.
                while queue:
                    self._complete(queue.popleft())
        finally:
            done.set()
            multiplexer.close()
            if pool is not None:
                # Ended by an error: the queued recognitions are of no use now.
                pool.shutdown(wait=True, cancel_futures=True)
            # Whatever was in view when the sources ended or stop came is a pass too.
            for name, camera in self._cameras.items():
                for track in camera.tracker.flush():
                    self._finish(name, camera, track, stop_retrying=True)
                camera.frames.clear()
            self.publish_status()
        states = multiplexer.states()
        reports = []
        for name, state in states.items():
            camera = self._cameras.get(name) or _Camera(self.config)
            seconds = camera.last_s - camera.started_s if camera.started_s is not None else 0.0
            reports.append(CameraReport(name, camera.read, camera.recognized, camera.skipped, state.frames_dropped, camera.reads, seconds, state.last_error))
        return WatchReport(tuple(reports), stop.is_set(), tuple(failed_sources))

    def maintain(self) -> None:
        """Nothing in; prunes old reads and refreshes the imported hotlists when their time has come."""
        now_s = time.monotonic()
        if now_s - self._imported_at >= self.config.hotlist_refresh_s:
            self._imported_at = now_s
            try:
                self._imported = Hotlist(self.store.hotlist_entries())
            except StoreError as error:
                self.report(f"cannot refresh the imported hotlists, keeping the previous ones: {error}")
        if self.config.keep_days is not None and now_s - self._pruned_at >= self.config.prune_interval_s:
            self._pruned_at = now_s
            self.prune()
        if now_s - self._status_at >= self.config.status_interval_s:
            self.publish_status()

    def publish_status(self) -> None:
        """Nothing in; each watched camera's status written to the database (a failing database is one reported line)."""
        now, now_s = datetime.now(timezone.utc), time.monotonic()
        self._status_at = now_s
        for source in self._sources:
            state = source.state()
            previous = self._status_counts.get(source.camera)
            fps = None if previous is None or now_s <= previous[1] else (state.frames_read - previous[0]) / (now_s - previous[1])
            self._status_counts[source.camera] = (state.frames_read, now_s)
            status = CameraStatus(
                source.camera, source.source, state.connected, fps, state.frames_read, state.frames_dropped, state.reconnects, state.last_error, state.last_frame_at, now
            )
            try:
                self.store.put_camera_status(status)
            except StoreError as error:
                self.report(f"cannot store the status of camera {source.camera}: {error}")
                return

    def prune(self) -> int:
        """Nothing in; reads older than keep_days deleted with their pictures; the number of reads deleted out (0 when the database fails, reported)."""
        if self.config.keep_days is None:
            return 0
        try:
            media = self.store.prune(self.config.keep_days, datetime.now(timezone.utc))
        except StoreError as error:
            self.report(f"cannot prune old reads: {error}")
            return 0
        delete_media(media, self.report)
        return len(media)

    def process(self, frame: Frame) -> list[VehicleRead]:
        """One frame in (any camera, in order per camera), recognized in this process; the reads of the tracks it ended out, each committed then emitted."""
        step = self._gate(frame)
        plates: Sequence[PlateRead] = []
        if step.moving:
            try:
                plates = self.recognizer.recognize(frame.image)
            except (ValueError, cv2.error) as error:
                self._not_recognized(frame, one_line(error))
        return self._advance(step, plates)

    def _submit(self, pool: ProcessPoolExecutor, queue: deque[_Step], frame: Frame) -> None:
        """The pool, the queue of frames awaiting their turn and one more frame in; it is gated and queued (recognition sent to the pool when moving), and the queue's head taken while done or full."""
        step = self._gate(frame)
        if step.moving:
            step.pending = pool.submit(recognize_in_worker, frame.image)
        queue.append(step)
        limit = self.config.workers * IN_FLIGHT_PER_WORKER
        while queue:
            head = queue[0]
            # A full queue blocks on its oldest frame: bounded memory, and the frame order kept.
            full = len(queue) > self.config.workers * QUEUED_PER_WORKER or sum(s.pending is not None for s in queue) > limit
            if not full and head.pending is not None and not head.pending.done():
                return
            self._complete(queue.popleft())

    def _complete(self, step: _Step) -> list[VehicleRead]:
        """A queued frame in, its recognition awaited and the tracker advanced; the reads it ended out; LprError when a worker died."""
        plates: Sequence[PlateRead] = []
        if step.pending is not None:
            try:
                plates, error = step.pending.result()
            except BrokenProcessPool:
                raise LprError("a worker process died unexpectedly (killed, or out of memory); the watch was stopped") from None
            if error is not None:
                self._not_recognized(step.frame, error)
        return self._advance(step, plates)

    def _not_recognized(self, frame: Frame, error: str) -> None:
        """A frame and why its recognition failed in; one reported line."""
        self.report(f"{frame.camera}: frame {frame.index} not recognized: {error}")

    def _gate(self, frame: Frame) -> _Step:
        """One frame in (in order per camera), its motion gate run and counted; its _Step out."""
        camera = self._cameras.setdefault(frame.camera, _Camera(self.config))
        now_s = time.monotonic()
        if camera.started_s is None:
            camera.started_s = now_s
        camera.read += 1
        time_s = camera.time_s(frame)
        moving = True
        if camera.motion is not None:
            try:
                moving = camera.motion.update(frame.image, time_s).moving
            except ValueError as error:
                self.report(f"{frame.camera}: frame {frame.index} skipped: {error}")
                moving = False
        if moving:
            camera.recognized += 1
        else:
            camera.skipped += 1
        return _Step(frame, camera, time_s, moving)

    def _advance(self, step: _Step, plates: Sequence[PlateRead]) -> list[VehicleRead]:
        """A gated frame and its plates (none when still) in, in frame order; the tracker advanced, finished tracks committed; their reads out."""
        frame, camera = step.frame, step.camera
        camera.frames[frame.index] = frame
        finished = camera.tracker.update(plates, step.time_s, frame.index, frame.offset_s)
        made = [self._finish(frame.camera, camera, track) for track in finished]
        # Only the best frame of each live track is ever saved: every other picture can go now.
        keep = camera.tracker.best_frame_indices()
        camera.frames = {index: kept for index, kept in camera.frames.items() if index in keep}
        camera.last_s = time.monotonic()
        return [read for read in made if read is not None]

    def vehicle_read(self, name: str, camera: _Camera, track: FinishedTrack, frame: Frame | None) -> VehicleRead:
        """A camera, one of its finished tracks and the track's best frame (None when lost) in, its VehicleRead with hotlist match (no pictures yet) out."""
        hotlists = [w.current() for w in self.hotlists] + [self._imported]
        offsets = None if track.first_offset_s is None or track.last_offset_s is None else (round(track.first_offset_s, 3), round(track.last_offset_s, 3))
        return VehicleRead(
            id=uuid.uuid4().hex,
            plate=track.text,
            confidence=track.confidence,
            candidates=track.candidates,
            camera=name,
            source=frame.source if frame is not None else name,
            first_seen=camera.wall(track.first_timestamp_s),
            last_seen=camera.wall(track.last_timestamp_s),
            source_offset_s=offsets,
            frames_seen=track.frames_seen,
            box=track.best.read.box,
            crop_path=None,
            frame_path=None,
            match=best_match(hotlists, read_texts(track)),
        )

    def save_media(self, read: VehicleRead, image: np.ndarray) -> VehicleRead:
        """A read and its best frame in, the read with the paths of its saved frame and crop out; a failed write is one reported line and no path."""
        if self.config.media_dir is None:
            return read
        return save_read_media(read, image, self.config.media_dir, self.config, self.report)

    def commit(self, read: VehicleRead, stop_retrying: bool = False) -> bool:
        """A read in; committed with its alerts (retried with backoff while the database fails, until stopped; once only when stop_retrying); whether it was stored out."""
        delay = 1.0
        while True:
            try:
                # A retry after an error that hid a commit cannot store the read twice: add_read ignores an id it has.
                self.store.add_read(read, alerts_to=self.alerts_to if read.match is not None else ())
                return True
            except StoreError as error:
                if stop_retrying or self._stop.is_set():
                    self.report(f"{read.camera}: read {read.id} of {read.plate} NOT stored: {error}; the read was {json.dumps(read.to_dict())}")
                    return False
                self.report(f"{read.camera}: cannot store read {read.id} of {read.plate} yet (retrying in {delay:g} s): {error}")
                self._stop.wait(delay)
                delay = min(delay * 2, self.config.commit_retry_max_s)

    def _finish(self, name: str, camera: _Camera, track: FinishedTrack, stop_retrying: bool = False) -> VehicleRead | None:
        """A finished track in; its read built, pictures saved, committed, then emitted; the read out (None when it could not be stored)."""
        frame = camera.frames.get(track.best.frame_index)
        read = self.vehicle_read(name, camera, track, frame)
        if frame is not None:
            read = self.save_media(read, frame.image)
        if not self.commit(read, stop_retrying=stop_retrying):
            return None
        camera.reads += 1
        self.emit(read)
        return read


def save_read_media(read: VehicleRead, image: np.ndarray, media_dir: Path, config: WatchConfig, report: Callable[[str], None]) -> VehicleRead:
    """A read, the (H, W, 3) uint8 BGR frame it was read in, the media folder and the crop margin and JPEG quality of config in, the read with its saved pictures' paths out.

    A failed write is one reported line and no path: the read is kept without that picture.
    """
    crop_path, frame_path = media_paths(media_dir, read.camera, read.first_seen, read.id)
    height, width = image.shape[:2]
    box = read.box.expanded(config.crop_margin, config.crop_margin, width, height)
    saved: dict[str, str | None] = {"crop_path": None, "frame_path": None}
    for key, path, picture in (("frame_path", frame_path, image), ("crop_path", crop_path, image[box.y : box.y + box.h, box.x : box.x + box.w])):
        if picture.size == 0:
            continue
        try:
            saved[key] = str(_write_jpeg(path, picture, config.jpeg_quality))
        except OutputWriteError as error:
            report(f"{read.camera}: read {read.id} kept without its picture: {error}")
    return replace(read, **saved)


def _write_jpeg(path: Path, image: np.ndarray, quality: int) -> Path:
    """A path and a BGR image in, the JPEG written atomically (temp file, fsync, rename) out; OutputWriteError with one line."""
    try:
        ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image), [cv2.IMWRITE_JPEG_QUALITY, quality])
    except cv2.error:
        ok = False
    if not ok:
        raise OutputWriteError(f"{path}: cannot encode the picture as JPEG")
    return write_atomically(path, lambda stream: stream.write(encoded.tobytes()), suffix=".jpg")

