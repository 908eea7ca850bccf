"""Pictures of results: images and readings in, annotated BGR images and per-stage debug images out."""

from __future__ import annotations

from dataclasses import dataclass, fields

import cv2
import numpy as np

from .localization import morphology_steps, to_gray, working_images
from .pipeline import PlateReading, Recognizer

PLATE_COLOUR = (0, 200, 0)
CANDIDATE_COLOUR = (0, 200, 255)
CHARACTER_COLOUR = (255, 120, 0)


@dataclass(frozen=True)
class DebugImage:
    """One intermediate image of the pipeline and the file name it is saved under."""

    name: str
    image: np.ndarray


def draw_readings(image: np.ndarray, readings: list[PlateReading]) -> np.ndarray:
    """(H, W, 3) uint8 BGR image and its readings in, a copy with plate boxes, character boxes and text out."""
    canvas = image.copy()
    scale = max(0.5, min(canvas.shape[:2]) / 700)
    thickness = max(1, int(round(2 * scale)))
    for reading in readings:
        for character in reading.characters:
            b = character.box
            cv2.rectangle(canvas, (b.x, b.y), (b.x + b.w, b.y + b.h), CHARACTER_COLOUR, 1)
        b = reading.box
        cv2.rectangle(canvas, (b.x, b.y), (b.x + b.w, b.y + b.h), PLATE_COLOUR, thickness)
        label = f"{reading.text} {reading.confidence:.2f}"
        (tw, th), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, thickness)
        top = max(0, b.y - th - baseline - 4)
        cv2.rectangle(canvas, (b.x, top), (b.x + tw + 4, top + th + baseline + 4), PLATE_COLOUR, -1)
        cv2.putText(canvas, label, (b.x + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas


def draw_segmentation(plate: np.ndarray, reading: PlateReading) -> np.ndarray:
    """A plate image and its reading (boxes relative to the plate) in, the binary plate with character boxes out."""
    binary = cv2.cvtColor(reading.segmentation.binary, cv2.COLOR_GRAY2BGR)
    binary = cv2.resize(binary, (plate.shape[1], plate.shape[0]), interpolation=cv2.INTER_NEAREST)
    origin = reading.area
    for character in reading.characters:
        b = character.box
        cv2.rectangle(binary, (b.x - origin.x, b.y - origin.y), (b.x - origin.x + b.w, b.y - origin.y + b.h), CHARACTER_COLOUR, 1)
    return binary


def debug_images(image: np.ndarray, recognizer: Recognizer, cropped: bool = False) -> list[DebugImage]:
    """(H, W, 3) uint8 BGR image in, every stage's intermediate images out (localization steps per scale, candidates, plates)."""
    images: list[DebugImage] = []
    if not cropped:
        gray = to_gray(image)
        localization = recognizer.config.localization
        for scale, work in working_images(gray, localization):
            steps = morphology_steps(work, localization)
            for index, step in enumerate(fields(steps), start=1):
                value = getattr(steps, step.name)
                if isinstance(value, tuple):
                    for level, per_level in zip(localization.gradient_levels, value):
                        images.append(DebugImage(f"scale{scale:g}_{index}_{step.name}_level{level:g}.png", per_level))
                else:
                    images.append(DebugImage(f"scale{scale:g}_{index}_{step.name}.png", value))
        candidates = image.copy()
        # The candidates the recognizer reads, in its order (the verifier's, when it has one).
        for candidate in recognizer.candidates_to_read(image, gray):
            b = candidate.box
            cv2.rectangle(candidates, (b.x, b.y), (b.x + b.w, b.y + b.h), CANDIDATE_COLOUR, 2)
        images.append(DebugImage("candidates.png", candidates))
    readings = recognizer.recognize(image, cropped=cropped)
    for rank, reading in enumerate(readings, start=1):
        b = reading.area
        plate = image[b.y : b.y + b.h, b.x : b.x + b.w]
        images.append(DebugImage(f"plate{rank}_{reading.text}.png", plate))
        images.append(DebugImage(f"plate{rank}_{reading.text}_segmentation.png", draw_segmentation(plate, reading)))
    images.append(DebugImage("result.png", draw_readings(image, readings)))
    return images
