"""What leaves the process: a read plate and an image's result, with to_dict/from_dict; the JSON schema lives here.

`lpr recognize --json`, the batch and Dask runners and whatever stores or serves reads all
write these records, so they stay one format. Confidences are rounded to 6 decimals and
times to 3, the same whichever process made the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .geometry import Box


def _box(values: Any) -> Box:
    """[x, y, width, height] in, a Box out; ValueError when it is not four whole numbers."""
    if not isinstance(values, (list, tuple)) or len(values) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"a box is [x, y, width, height] in whole pixels, got {values!r}")
    return Box(*values)


def _text(value: Any, name: str, optional: bool = False) -> Any:
    """A JSON string in (or null when optional), the same out; ValueError naming the field otherwise."""
    if not isinstance(value, str) and not (optional and value is None):
        raise ValueError(f"{name} must be {'null or ' if optional else ''}a text, got {value!r}")
    return value


def _utc_time(value: Any, name: str) -> datetime:
    """An ISO 8601 time with "Z" or an offset in, a UTC datetime out; ValueError for a naive or malformed time."""
    try:
        # Python 3.10's fromisoformat does not read "Z".
        time = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except (TypeError, AttributeError, ValueError):
        raise ValueError(f"{name} must be an ISO 8601 time such as 2024-05-01T12:00:00.000000Z, got {value!r}") from None
    if time.tzinfo is None:
        raise ValueError(f"{name} must carry its time zone (Z or +00:00), got {value!r}")
    return time.astimezone(timezone.utc)


def _iso(time: datetime) -> str:
    """An aware datetime in, its UTC ISO 8601 text with microseconds and "Z" out."""
    return time.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _confidence(value: Any) -> float:
    """A JSON number in [0, 1] in, a float out; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"a confidence is a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class CharacterRead:
    """One character of a plate: its text, confidence in [0, 1] and box in image pixels."""

    char: str
    confidence: float
    box: Box

    def to_dict(self) -> dict[str, Any]:
        return {"char": self.char, "confidence": round(self.confidence, 6), "box": self.box.to_list()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CharacterRead:
        return cls(str(data["char"]), _confidence(data["confidence"]), _box(data["box"]))


@dataclass(frozen=True)
class TextCandidate:
    """One possible text of a plate and the probability that all of its characters are right."""

    plate: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"plate": self.plate, "confidence": round(self.confidence, 6)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextCandidate:
        return cls(str(data["plate"]), _confidence(data["confidence"]))


@dataclass(frozen=True)
class RegionGuess:
    """Where a plate was issued, as identified from its look and layout: a region code ("us-va", "cz", "br") and a score in [0, 1]."""

    code: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": round(self.score, 6)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionGuess:
        return cls(_text(data["code"], "region code"), _confidence(data["score"]))


@dataclass(frozen=True)
class PlateRead:
    """A plate read from an image: best text, confidence in [0, 1], plate box, characters, alternative texts (best first) and the region identified."""

    text: str
    confidence: float
    box: Box
    characters: tuple[CharacterRead, ...]
    candidates: tuple[TextCandidate, ...]
    # The plate's region (state, country) as identified, or None where no identifier knows it.
    region: RegionGuess | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """The plate's JSON object."""
        return {
            "plate": self.text,
            "confidence": round(self.confidence, 6),
            "box": self.box.to_list(),
            "characters": [c.to_dict() for c in self.characters],
            "candidates": [c.to_dict() for c in self.candidates],
            "region": None if self.region is None else self.region.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlateRead:
        """A plate's JSON object in, the PlateRead out; ValueError naming what is wrong."""
        try:
            return cls(
                str(data["plate"]),
                _confidence(data["confidence"]),
                _box(data["box"]),
                tuple(CharacterRead.from_dict(c) for c in data["characters"]),
                tuple(TextCandidate.from_dict(c) for c in data["candidates"]),
                # Records written before regions were identified have none.
                region=None if data.get("region") is None else RegionGuess.from_dict(data["region"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed plate record ({type(error).__name__}: {error})") from None

    def record(self) -> PlateRead:
        """This plate as a plain record (without what the pipeline keeps for pictures)."""
        return PlateRead(self.text, self.confidence, self.box, self.characters, self.candidates, region=self.region)


@dataclass(frozen=True)
class ImageResult:
    """The plates read from one image (best first), how long it took, or why it failed."""

    image: str
    plates: tuple[PlateRead, ...]
    processing_time_ms: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The image's JSON Lines record."""
        return {
            "image": self.image,
            "plates": [p.to_dict() for p in self.plates],
            "processing_time_ms": round(self.processing_time_ms, 3),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageResult:
        """An image's JSON record in, the ImageResult out; ValueError naming what is wrong."""
        try:
            error = data["error"]
            if error is not None and not isinstance(error, str):
                raise ValueError(f"error must be null or a text, got {error!r}")
            time_ms = data["processing_time_ms"]
            if isinstance(time_ms, bool) or not isinstance(time_ms, (int, float)) or time_ms < 0:
                raise ValueError(f"processing_time_ms must be a number of at least 0, got {time_ms!r}")
            return cls(str(data["image"]), tuple(PlateRead.from_dict(p) for p in data["plates"]), float(time_ms), error)
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed image record ({type(error).__name__}: {error})") from None


# How a read's text matched a hotlist entry, strongest first.
MATCH_KINDS = ("exact", "lookalike", "edit")


@dataclass(frozen=True)
class HotlistMatch:
    """A hotlist entry a read matched (plate, list, note), how (kind, distance) and through which of the read's texts."""

    plate: str
    list: str
    note: str
    # "exact"; "lookalike": equal once OCR look-alikes (0/O, 8/B...) are folded; "edit": one character substituted, inserted or deleted.
    kind: str
    # 0 for exact, the positions differing for lookalike, 1 for edit.
    distance: int
    # The read's plate or the candidate text that matched.
    read_text: str

    def to_dict(self) -> dict[str, Any]:
        """The match's JSON object."""
        return {"plate": self.plate, "list": self.list, "note": self.note, "kind": self.kind, "distance": self.distance, "read_text": self.read_text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HotlistMatch:
        """A match's JSON object in, the HotlistMatch out; ValueError naming what is wrong."""
        try:
            kind, distance = data["kind"], data["distance"]
            if kind not in MATCH_KINDS:
                raise ValueError(f"a match kind is one of {', '.join(MATCH_KINDS)}, got {kind!r}")
            if isinstance(distance, bool) or not isinstance(distance, int) or distance < 0:
                raise ValueError(f"a match distance is a whole number of at least 0, got {distance!r}")
            return cls(_text(data["plate"], "plate"), _text(data["list"], "list"), _text(data["note"], "note"), kind, distance, _text(data["read_text"], "read_text"))
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed hotlist match ({type(error).__name__}: {error})") from None


@dataclass(frozen=True)
class VehicleRead:
    """One vehicle passing a camera: its plate read over several frames, when and where, the best frame's box and pictures, and its hotlist match."""

    # A UUID4 hex made by whoever first reads the vehicle, so processes writing one database never clash.
    id: str
    plate: str
    confidence: float
    candidates: tuple[TextCandidate, ...]
    camera: str
    # The stream URL or video file the frames came from.
    source: str
    # Timezone-aware; records and databases hold them in UTC.
    first_seen: datetime
    last_seen: datetime
    # (start, end) in seconds into a video file; None for a live stream.
    source_offset_s: tuple[float, float] | None
    frames_seen: int
    # The plate's box in the best frame.
    box: Box
    # JPEG paths under the media folder, None when not saved.
    crop_path: str | None
    frame_path: str | None
    match: HotlistMatch | None

    def __post_init__(self) -> None:
        # A naive time would be stored as if it were UTC and silently shift every --since query.
        for name in ("first_seen", "last_seen"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"a vehicle read's {name} must be timezone-aware, got {getattr(self, name).isoformat()}")

    def to_dict(self) -> dict[str, Any]:
        """The read's JSON object; times in UTC ISO 8601 with "Z"."""
        return {
            "id": self.id,
            "plate": self.plate,
            "confidence": round(self.confidence, 6),
            "candidates": [c.to_dict() for c in self.candidates],
            "camera": self.camera,
            "source": self.source,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "source_offset_s": None if self.source_offset_s is None else list(self.source_offset_s),
            "frames_seen": self.frames_seen,
            "box": self.box.to_list(),
            "crop_path": self.crop_path,
            "frame_path": self.frame_path,
            "match": None if self.match is None else self.match.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VehicleRead:
        """A read's JSON object in, the VehicleRead out; ValueError naming what is wrong."""
        try:
            offsets, frames = data["source_offset_s"], data["frames_seen"]
            if offsets is not None and (
                not isinstance(offsets, (list, tuple)) or len(offsets) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in offsets)
            ):
                raise ValueError(f"source_offset_s must be null or [start, end] in seconds, got {offsets!r}")
            if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
                raise ValueError(f"frames_seen must be a whole number of at least 1, got {frames!r}")
            return cls(
                id=_text(data["id"], "id"),
                plate=_text(data["plate"], "plate"),
                confidence=_confidence(data["confidence"]),
                candidates=tuple(TextCandidate.from_dict(c) for c in data["candidates"]),
                camera=_text(data["camera"], "camera"),
                source=_text(data["source"], "source"),
                first_seen=_utc_time(data["first_seen"], "first_seen"),
                last_seen=_utc_time(data["last_seen"], "last_seen"),
                source_offset_s=None if offsets is None else (float(offsets[0]), float(offsets[1])),
                frames_seen=frames,
                box=_box(data["box"]),
                crop_path=_text(data["crop_path"], "crop_path", optional=True),
                frame_path=_text(data["frame_path"], "frame_path", optional=True),
                match=None if data["match"] is None else HotlistMatch.from_dict(data["match"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed vehicle read ({type(error).__name__}: {error})") from None


def _count(value: Any, name: str) -> int:
    """A JSON whole number of at least 0 in, an int out; ValueError naming the field otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, got {value!r}")
    return value


@dataclass(frozen=True)
class CameraStatus:
    """How a watched camera is doing: connected, frames per second, frames read and dropped, reconnects, its last error, when it last delivered and when this was taken."""

    camera: str
    source: str
    connected: bool
    # Frames read per second since the previous status; None before there is one.
    fps: float | None
    frames_read: int
    frames_dropped: int
    reconnects: int
    last_error: str | None
    last_frame_at: datetime | None
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The status's JSON object; times in UTC ISO 8601 with "Z"."""
        return {
            "camera": self.camera,
            "source": self.source,
            "connected": self.connected,
            "fps": None if self.fps is None else round(self.fps, 3),
            "frames_read": self.frames_read,
            "frames_dropped": self.frames_dropped,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "last_frame_at": None if self.last_frame_at is None else _iso(self.last_frame_at),
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CameraStatus:
        """A status's JSON object in, the CameraStatus out; ValueError naming what is wrong."""
        try:
            connected, fps, last_frame = data["connected"], data["fps"], data["last_frame_at"]
            if not isinstance(connected, bool):
                raise ValueError(f"connected must be true or false, got {connected!r}")
            if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or fps < 0):
                raise ValueError(f"fps must be null or a number of at least 0, got {fps!r}")
            return cls(
                camera=_text(data["camera"], "camera"),
                source=_text(data["source"], "source"),
                connected=connected,
                fps=None if fps is None else float(fps),
                frames_read=_count(data["frames_read"], "frames_read"),
                frames_dropped=_count(data["frames_dropped"], "frames_dropped"),
                reconnects=_count(data["reconnects"], "reconnects"),
                last_error=_text(data["last_error"], "last_error", optional=True),
                last_frame_at=None if last_frame is None else _utc_time(last_frame, "last_frame_at"),
                updated_at=_utc_time(data["updated_at"], "updated_at"),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed camera status ({type(error).__name__}: {error})") from None
