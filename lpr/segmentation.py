"""Character segmentation: one plate image in, its characters (boxes + binary masks) in reading order out."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import SegmentationConfig
from .geometry import Box
from .localization import to_gray

POLARITIES = ("dark", "light")


@dataclass(frozen=True)
class CharacterCrop:
    """One character: its box in the plate image given, and its (h, w) uint8 mask (255 = ink)."""

    box: Box
    mask: np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """The characters found with one threshold setting, left to right, and the binary plate it came from."""

    characters: tuple[CharacterCrop, ...]
    polarity: str
    offset: int
    binary: np.ndarray


def threshold_plate(gray: np.ndarray, polarity: str, offset: int, config: SegmentationConfig) -> np.ndarray:
    """(H, W) uint8 gray plate in, (H, W) uint8 binary out with characters as 255, by adaptive thresholding."""
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    # Dark characters are pixels darker than their neighbourhood's mean by more than offset.
    mode = cv2.THRESH_BINARY_INV if polarity == "dark" else cv2.THRESH_BINARY
    signed_offset = offset if polarity == "dark" else -offset
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, config.block_size, signed_offset)


def character_components(stats: np.ndarray, height: int, config: SegmentationConfig) -> list[tuple[Box, int]]:
    """(N, 5) connected-component stats of a plate of given height in, (box, label) of character-shaped ones out."""
    found = []
    for label in range(1, len(stats)):
        x, y, w, h, area = (int(v) for v in stats[label])
        if not (config.min_height_fraction * height <= h <= config.max_height_fraction * height):
            continue
        if not (config.min_aspect <= w / h <= config.max_aspect):
            continue
        if not (config.min_fill <= area / (w * h) <= config.max_fill):
            continue
        found.append((Box(x, y, w, h), label))
    return found


def character_row(boxes: list[Box], config: SegmentationConfig) -> list[int]:
    """Boxes in, indices of the largest group sharing one text row (similar height, aligned centres) out."""
    best: list[int] = []
    best_height = 0.0
    for ref in boxes:
        center = ref.y + ref.h / 2
        group = [
            i
            for i, b in enumerate(boxes)
            if abs(b.h - ref.h) <= config.height_tolerance * ref.h
            and abs(b.y + b.h / 2 - center) <= config.center_tolerance * ref.h
        ]
        mean_height = float(np.mean([boxes[i].h for i in group]))
        if len(group) > len(best) or (len(group) == len(best) and mean_height > best_height):
            best, best_height = group, mean_height
    # Drop boxes nested inside another of the row (holes, broken strokes).
    return [
        i
        for i in best
        if not any(
            j != i
            and boxes[j].x <= boxes[i].x
            and boxes[j].x + boxes[j].w >= boxes[i].x + boxes[i].w
            and boxes[j].area > boxes[i].area
            for j in best
        )
    ]


def segment_characters(
    plate: np.ndarray, config: SegmentationConfig, polarity: str = "dark", offset: int | None = None
) -> Segmentation:
    """(H, W, 3) BGR or (H, W) gray uint8 plate in, its characters left to right out (boxes in plate pixels)."""
    if plate.ndim not in (2, 3) or plate.size == 0 or min(plate.shape[:2]) < 4:
        raise ValueError(f"expected a plate image of at least 4x4 pixels, got shape {plate.shape}")
    offset = config.offsets[0] if offset is None else offset
    gray = to_gray(plate)
    scale = config.plate_height / gray.shape[0]
    resized = cv2.resize(gray, (max(4, round(gray.shape[1] * scale)), config.plate_height), interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    binary = threshold_plate(resized, polarity, offset, config)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    components = character_components(stats, binary.shape[0], config)
    row = character_row([box for box, _ in components], config)
    row = sorted(row, key=lambda i: components[i][0].x)[: config.max_characters]
    characters = []
    for i in row:
        box, label = components[i]
        mask = np.where(labels[box.y : box.y + box.h, box.x : box.x + box.w] == label, 255, 0).astype(np.uint8)
        characters.append(CharacterCrop(box.scaled(1.0 / scale), mask))
    return Segmentation(tuple(characters), polarity, offset, binary)


def segmentation_variants(plate: np.ndarray, config: SegmentationConfig) -> list[Segmentation]:
    """(H, W, 3) or (H, W) uint8 plate in, one Segmentation per configured polarity and threshold offset out."""
    return [
        segment_characters(plate, config, polarity, offset)
        for polarity in config.polarities
        for offset in config.offsets
    ]
