"""Two-line (stacked) plates: a plate image in, the gap between its text lines and both lines read as one row out.

A stacked plate (European square plates, motorcycle plates) holds its characters in two
rows. The gap between them is the band of rows, near the middle, that vertical strokes
cross least (line_gap); each line is cut out with a little overlap and segmented as a
one-line plate of its own (segment_plate), and the two rows join top first.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from ..config import SegmentationConfig
from ..localization import to_gray
from ..region import PlateGeometry
from .components import Segmentation
from .plate import Predict, SegmentedPlate, segment_plate

# The gap is sought at this height (px): the stroke profile needs no more resolution.
PROFILE_HEIGHT = 60


def line_gap(plate: np.ndarray, config: SegmentationConfig) -> int:
    """(H, W, 3) or (H, W) uint8 plate in, the row (px, in the plate given) between its two text lines out.

    The row of least horizontal gradient (vertical strokes cross it least), smoothed over
    a few rows, inside config.line_gap_range of the height.
    """
    gray = to_gray(plate)
    height = gray.shape[0]
    if height < 8:
        raise ValueError(f"expected a plate at least 8 px high, got shape {plate.shape}")
    scale = PROFILE_HEIGHT / height
    small = cv2.resize(gray, (max(8, round(gray.shape[1] * scale)), PROFILE_HEIGHT), interpolation=cv2.INTER_AREA)
    strokes = np.abs(cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)).sum(axis=1)
    smoothed = np.convolve(strokes, np.ones(5, np.float32) / 5, mode="same")
    low, high = (round(f * PROFILE_HEIGHT) for f in config.line_gap_range)
    gap = low + int(np.argmin(smoothed[low : high + 1]))
    return min(height - 1, max(1, round(gap / scale)))


def segment_stacked_plate(
    plate: np.ndarray, predict: Predict, config: SegmentationConfig, geometry: PlateGeometry, in_scene: bool = False
) -> SegmentedPlate | None:
    """(H, W, 3) uint8 two-line plate, a classifier, settings and the region's geometry in, both lines' characters as one row (top line first) out, or None.

    Each line is segmented as a plate of its own (characters geometry.line_character_height
    of the line's height, at least one character); the two together must number
    geometry.scene_characters (in_scene) or geometry.cropped_characters.
    """
    lines = plate_lines(plate, config)
    line_geometry = line_plate_geometry(geometry)
    read = [segment_plate(image, predict, config, line_geometry) for image, _ in lines]
    if any(r is None for r in read):
        return None
    characters = tuple(
        replace(c, box=c.box.shifted(0, top)) for (_, top), r in zip(lines, read) for c in r.segmentation.characters
    )
    fewest, most = geometry.scene_characters if in_scene else geometry.cropped_characters
    if not fewest <= len(characters) <= most:
        return None
    predictions = tuple(p for r in read for p in r.predictions)
    first = read[0].segmentation
    binary = stacked_binaries([r.segmentation.binary for r in read])
    segmentation = Segmentation(characters, first.polarity, first.offset, binary, line_starts=(0, len(first.characters)))
    score = float(np.average([r.score for r in read], weights=[len(r.predictions) for r in read]))
    return SegmentedPlate(segmentation, predictions, score)


def plate_lines(plate: np.ndarray, config: SegmentationConfig) -> list[tuple[np.ndarray, int]]:
    """(H, W, ...) uint8 two-line plate in, [(top line image, 0), (bottom line image, its first row)] out, each reaching config.line_overlap of H past the gap."""
    height = plate.shape[0]
    gap = line_gap(plate, config)
    overlap = round(config.line_overlap * height)
    start = max(0, gap - overlap)
    return [(plate[: min(height, gap + overlap)], 0), (plate[start:], start)]


def line_plate_geometry(geometry: PlateGeometry) -> PlateGeometry:
    """A region's plate geometry in, the geometry one line of its two-line plates is segmented with out."""
    most = geometry.max_characters
    return replace(geometry, character_height=geometry.line_character_height, cropped_characters=(1, most), scene_characters=(1, most), lines=1)


def stacked_binaries(binaries: list[np.ndarray]) -> np.ndarray:
    """The lines' (h, w_i) uint8 binaries in, one (sum h, w_0) binary with each resized to the first's width, top first out (for pictures)."""
    width = binaries[0].shape[1]
    return np.vstack([b if b.shape[1] == width else cv2.resize(b, (width, b.shape[0]), interpolation=cv2.INTER_NEAREST) for b in binaries])


def is_stacked_shape(plate: np.ndarray, config: SegmentationConfig, geometry: PlateGeometry) -> bool:
    """A plate image, settings and the region's geometry in, whether it is read as a two-line plate out: the region has them and the image is narrower than config.stacked_aspect."""
    return geometry.lines > 1 and plate.shape[1] < config.stacked_aspect * plate.shape[0]

