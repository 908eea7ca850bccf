"""Recognizing many images: paths in, one ImageResult per path out, one bad file never stopping the rest."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import ImageReadError
from .imageio import read_image
from .recognizer import PlateReading, Recognizer


@dataclass(frozen=True)
class ImageResult:
    """The plates read from one image (best first), how long it took, or why it failed."""

    image: str
    plates: tuple[PlateReading, ...]
    processing_time_ms: float
    error: str | None = None

    def to_dict(self) -> dict:
        """The JSON Lines record of this result."""
        return {
            "image": self.image,
            "plates": [plate_to_dict(p) for p in self.plates],
            "processing_time_ms": round(self.processing_time_ms, 3),
            "error": self.error,
        }


def plate_to_dict(plate: PlateReading) -> dict:
    """A PlateReading in, its JSON-ready dict out."""
    return {
        "plate": plate.text,
        "confidence": round(plate.confidence, 6),
        "box": plate.box.to_list(),
        "characters": [
            {"char": c.char, "confidence": round(c.confidence, 6), "box": c.box.to_list()} for c in plate.characters
        ],
        "candidates": [{"plate": c.plate, "confidence": round(c.confidence, 6)} for c in plate.candidates],
    }


def recognize_file(recognizer: Recognizer, path: str | os.PathLike, cropped: bool = False) -> ImageResult:
    """One image path in, its ImageResult out; an unreadable image becomes the result's error, not an exception."""
    name = str(path)
    start = time.perf_counter()
    try:
        plates = tuple(recognizer.recognize(read_image(name), cropped=cropped))
    except ImageReadError as error:
        return ImageResult(name, (), (time.perf_counter() - start) * 1000, str(error))
    return ImageResult(name, plates, (time.perf_counter() - start) * 1000)


def recognize_paths(recognizer: Recognizer, paths: Iterable[str | os.PathLike], cropped: bool = False) -> Iterator[ImageResult]:
    """Image paths in, one ImageResult per path out, in input order, lazily."""
    for path in paths:
        yield recognize_file(recognizer, path, cropped)
