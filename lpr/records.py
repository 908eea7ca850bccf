"""What leaves the process: a read plate and an image's result, with to_dict/from_dict; the JSON schema lives here.

`lpr recognize --json`, the batch and Dask runners and whatever stores or serves reads all
write these records, so they stay one format. Confidences are rounded to 6 decimals and
times to 3, the same whichever process made the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .geometry import Box


def _box(values: Any) -> Box:
    """[x, y, width, height] in, a Box out; ValueError when it is not four whole numbers."""
    if not isinstance(values, (list, tuple)) or len(values) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"a box is [x, y, width, height] in whole pixels, got {values!r}")
    return Box(*values)


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
class PlateRead:
    """A plate read from an image: best text, confidence in [0, 1], plate box, characters and alternative texts, best first."""

    text: str
    confidence: float
    box: Box
    characters: tuple[CharacterRead, ...]
    candidates: tuple[TextCandidate, ...]

    def to_dict(self) -> dict[str, Any]:
        """The plate's JSON object."""
        return {
            "plate": self.text,
            "confidence": round(self.confidence, 6),
            "box": self.box.to_list(),
            "characters": [c.to_dict() for c in self.characters],
            "candidates": [c.to_dict() for c in self.candidates],
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
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed plate record ({type(error).__name__}: {error})") from None

    def record(self) -> PlateRead:
        """This plate as a plain record (without what the pipeline keeps for pictures)."""
        return PlateRead(self.text, self.confidence, self.box, self.characters, self.candidates)


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
