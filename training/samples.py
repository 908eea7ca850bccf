"""Character samples: labeled plate images in, character masks (and the gray pixels under them) labeled with their text out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tqdm import tqdm

from lpr.classification import NOT_CHARACTER
from lpr.config import SegmentationConfig
from lpr.datasets import Dataset, LabeledImage, PlateLabel
from lpr.errors import ImageReadError
from lpr.geometry import Box
from lpr.imageio import read_image
from lpr.metrics import edit_distance
from lpr.region import PlateGeometry, layout
from lpr.segmentation.components import (
    Candidates,
    CharacterCrop,
    band_candidates,
    candidate_variants,
    changed_candidates,
    character_band,
    split_windows,
    wide_members,
)
from lpr.segmentation.lines import is_stacked_shape, line_plate_geometry, plate_lines
from lpr.segmentation.rows import select_row

if TYPE_CHECKING:
    from lpr.pipeline import PlateReading

# Margin around a labeled scene box when cutting the plate out, as a fraction of its size.
SCENE_CROP_MARGIN = 0.1
# A candidate component of any threshold setting overlapping a labeled character box by
# at least this IoU is another view of that character (augmentation: thresholds vary at
# reading time too); one overlapping every labeled character by less than JUNK_MAX_IOU
# is "not a character" (bolt, logo, frame edge, fragment). Those in between are ambiguous
# (a character merged with a frame edge, a large fragment) and left out.
SAME_CHARACTER_IOU = 0.7
JUNK_MAX_IOU = 0.4


@dataclass(frozen=True)
class CharacterSample:
    """One labeled character mask, the gray pixels under it, and the plate image it came from."""

    mask: np.ndarray
    gray: np.ndarray
    label: str
    source: str
    state: str | None


def labeled_plate_characters(
    plate: np.ndarray, text: str, config: SegmentationConfig, geometry: PlateGeometry
) -> list[tuple[CharacterCrop, str]] | None:
    """A plate image, its true text, segmentation settings and the region's geometry in, (character, label) pairs out, NOT_CHARACTER for junk; None if unusable.

    A plate is usable when one threshold setting's row, as thresholded or cut to the
    character band, has exactly len(text) characters; those are labeled left to right, and
    every candidate of every setting is labeled by the character box it overlaps (see
    SAME_CHARACTER_IOU and JUNK_MAX_IOU).
    """
    settings = config
    variants = candidate_variants(plate, settings, geometry.character_height, geometry.country_band)
    rows = [select_row(v, settings, geometry.max_characters) for v in variants]
    # Every binary is also cut to the character band, as at reading time (see
    # lpr.segmentation.plate): the band of a row of the right length, else of the longest.
    reference = max(range(len(rows)), key=lambda i: (len(rows[i]) == len(text), len(rows[i])))
    banded: list[Candidates] = []
    if rows[reference] and settings.band_margin is not None:
        band = character_band([variants[reference].characters[i].box for i in rows[reference]], settings)
        banded = [band_candidates(v, band, settings) for v in variants]
    rows += [select_row(b, settings, geometry.max_characters) for b in banded]
    truth = next(([c.characters[i] for i in row] for c, row in zip([*variants, *banded], rows) if len(row) == len(text)), None)
    if truth is None:
        return None
    freed = [changed_candidates(b, v) for b, v in zip(banded, variants)]
    labeled = []
    for candidates in [*variants, *freed]:
        # Windows cut from too-wide components are read at recognition time too: the
        # classifier learns which of them are characters and which are logo or dash.
        wide, width, height = wide_members([c.box for c in candidates.characters], [t.box for t in truth], settings)
        windows = [w for i in wide for w in split_windows(candidates.characters[i], width, height, settings)]
        for crop in [*candidates.characters, *windows]:
            overlaps = [crop.box.iou(t.box) for t in truth]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= SAME_CHARACTER_IOU:
                labeled.append((crop, text[best]))
            elif overlaps[best] < JUNK_MAX_IOU:
                labeled.append((crop, NOT_CHARACTER))
    return labeled


def labeled_stacked_characters(
    plate: np.ndarray, text: str, config: SegmentationConfig, geometry: PlateGeometry
) -> list[tuple[CharacterCrop, str]] | None:
    """A two-line plate image, its true text (top line first), settings and the region's geometry in, (character, label) pairs of both lines out; None if unusable.

    The label does not say where the top line ends: the plate is usable when exactly one
    split of the text labels both lines (see labeled_plate_characters).
    """
    (top, _), (bottom, _) = plate_lines(plate, config)
    line_geometry = line_plate_geometry(geometry)
    found = []
    for split in range(1, len(text)):
        upper = labeled_plate_characters(top, text[:split], config, line_geometry)
        lower = None if upper is None else labeled_plate_characters(bottom, text[split:], config, line_geometry)
        if lower is not None:
            found.append(upper + lower)
    return found[0] if len(found) == 1 else None


def labeled_characters(plate: np.ndarray, text: str, config: SegmentationConfig, geometry: PlateGeometry) -> list[tuple[CharacterCrop, str]] | None:
    """A plate image, its true text, settings and the region's geometry in, its (character, label) pairs out, read as lpr reads it: line by line when stacked (see is_stacked_shape); None if unusable."""
    if is_stacked_shape(plate, config, geometry):
        return labeled_stacked_characters(plate, text, config, geometry)
    return labeled_plate_characters(plate, text, config, geometry)


def tile_crops(tile: np.ndarray, heights: Sequence[int]) -> list[CharacterCrop]:
    """(H, W, 3) uint8 character tile (one character, any polarity) in, its character as a crop out, and shrunk to each of heights below H.

    The ink is the Otsu class that covers less of the tile; the character is its
    components of at least a fifth of the largest one's area (a broken stroke stays),
    cut to their bounds.
    """
    gray = cv2.cvtColor(tile, cv2.COLOR_BGR2GRAY) if tile.ndim == 3 else tile
    crops = []
    for height in [gray.shape[0], *[h for h in heights if h < gray.shape[0]]]:
        scaled = gray if height == gray.shape[0] else cv2.resize(gray, (max(2, round(gray.shape[1] * height / gray.shape[0])), height), interpolation=cv2.INTER_AREA)
        _, ink = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        if cv2.countNonZero(ink) > ink.size / 2:
            ink = cv2.bitwise_not(ink)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        if count < 2:
            continue
        areas = stats[1:, cv2.CC_STAT_AREA]
        kept = 1 + np.flatnonzero(areas >= areas.max() / 5)
        mask = np.isin(labels, kept).astype(np.uint8) * np.uint8(255)
        ys, xs = np.nonzero(mask)
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        box = Box(int(left), int(top), int(right - left), int(bottom - top))
        crops.append(CharacterCrop(box, mask[top:bottom, left:right], scaled[top:bottom, left:right]))
    return crops


def plate_images(labeled: LabeledImage, image: np.ndarray, cropped: bool) -> list[tuple[np.ndarray, str]]:
    """A labeled image and its pixels in, (plate image, text) pairs out: the whole crop, or each labeled scene box."""
    if cropped:
        return [(image, labeled.plates[0].text)]
    pairs = []
    height, width = image.shape[:2]
    for plate in labeled.plates:
        if plate.box is None:
            continue
        region = plate.box.expanded(SCENE_CROP_MARGIN, SCENE_CROP_MARGIN, width, height)
        if region.w >= 8 and region.h >= 8:
            pairs.append((image[region.y : region.y + region.h, region.x : region.x + region.w], plate.text))
    return pairs


def shrunk_plates(plate: np.ndarray, heights: Sequence[int]) -> list[np.ndarray]:
    """(H, W, 3) uint8 plate and plate heights in px in, the plate resized down to each height smaller than H out."""
    return [
        cv2.resize(plate, (max(4, round(plate.shape[1] * height / plate.shape[0])), height), interpolation=cv2.INTER_AREA)
        for height in heights
        if height < plate.shape[0]
    ]


# How a degraded training plate looks (see degraded_plate): a scene plate far from the camera is
# soft (Gaussian sigma in px at the shrunk height), flat (contrast kept around the mean) and
# JPEG-compressed by the camera.
DEGRADED_BLUR_SIGMA = 0.7
DEGRADED_CONTRAST = 0.6
DEGRADED_JPEG_QUALITY = 35


def degraded_plate(plate: np.ndarray, height: int) -> np.ndarray | None:
    """(H, W, 3) or (H, W) uint8 plate and a height in px in, the plate as a distant camera sees it out: shrunk to height, blurred, flattened and JPEG-compressed; None when height >= H."""
    if height >= plate.shape[0]:
        return None
    (shrunk,) = shrunk_plates(plate, (height,))
    soft = cv2.GaussianBlur(shrunk, (0, 0), DEGRADED_BLUR_SIGMA)
    mean = float(soft.mean())
    flat = cv2.convertScaleAbs(soft, alpha=DEGRADED_CONTRAST, beta=mean * (1.0 - DEGRADED_CONTRAST))
    encoded = cv2.imencode(".jpg", flat, [cv2.IMWRITE_JPEG_QUALITY, DEGRADED_JPEG_QUALITY])[1]
    return cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)


def collect_characters(
    datasets: Sequence[Dataset],
    config: SegmentationConfig,
    geometry: PlateGeometry,
    shrunk_heights: Sequence[int],
    progress: bool | None = None,
    tile_heights: Sequence[int] = (),
    degraded_heights: Sequence[int] = (),
) -> tuple[list[CharacterSample], int, int, int]:
    """Labeled datasets (plates, scenes, character tiles), segmentation settings, the region's geometry and the heights plates and tiles are also read shrunk (and plates degraded, see degraded_plate) to in, (character samples, plates seen, plates usable, images unreadable) out."""
    samples: list[CharacterSample] = []
    plates = usable = unreadable = 0
    images = [(d, labeled) for d in datasets if d.kind != "negatives" for labeled in d.images]
    for dataset, labeled in tqdm(images, desc="cutting characters", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            unreadable += 1
            continue
        if dataset.kind == "characters":
            char = labeled.plates[0].text
            samples.extend(CharacterSample(c.mask, c.gray, char, str(labeled.path), labeled.state) for c in tile_crops(image, tile_heights))
            continue
        for plate, text in plate_images(labeled, image, dataset.kind == "crops"):
            plates += 1
            characters = labeled_characters(plate, text, config, geometry)
            if characters is None:
                continue
            usable += 1
            # Read shrunk to a traffic frame's plate size too (see TrainingConfig.shrunk_heights).
            for shrunk in shrunk_plates(plate, shrunk_heights):
                characters += labeled_characters(shrunk, text, config, geometry) or []
            # And as a distant camera sees it (see TrainingConfig.degraded_heights).
            for degraded in (degraded_plate(plate, height) for height in degraded_heights):
                characters += (degraded is not None and labeled_characters(degraded, text, config, geometry)) or []
            samples.extend(CharacterSample(c.mask, c.gray, char, str(labeled.path), labeled.state) for c, char in characters)
    return samples, plates, usable, unreadable


def aligned_labels(read: str, truth: str) -> list[str]:
    """A plate's reading and its true text in, each read character's label out: the true character it stands for (same or substituted), or NOT_CHARACTER where the reading has one too many.

    The alignment is a least-edit (Levenshtein) one; among equal ones, substitutions come
    before insertions.
    """
    rows, cols = len(read), len(truth)
    cost = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    cost[:, 0], cost[0, :] = np.arange(rows + 1), np.arange(cols + 1)
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + (read[i - 1] != truth[j - 1]), cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    labels: list[str] = []
    i, j = rows, cols
    while i > 0:
        if j > 0 and cost[i, j] == cost[i - 1, j - 1] + (read[i - 1] != truth[j - 1]):
            labels.append(truth[j - 1])
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            labels.append(NOT_CHARACTER)
            i -= 1
        else:
            j -= 1
    return labels[::-1]


def hard_examples(
    read_plate: Callable[[np.ndarray, bool], PlateReading | None], datasets: Sequence[Dataset], max_edits: int, progress: bool | None = None
) -> list[CharacterSample]:
    """A plate reader (plate image, in_scene in; reading with crops out), labeled datasets and the most edits a usable misreading has in, samples of the misread plates' characters out.

    Each misread character is labeled by the true text aligned to the reading (see
    aligned_labels): an emblem, band edge or sticker read as a character becomes
    NOT_CHARACTER, a misread character its true one. Only readings within max_edits of the
    truth are used: a worse one is likelier cut wrong than read wrong.
    """
    samples: list[CharacterSample] = []
    images = [(d, labeled) for d in datasets if d.kind in ("crops", "scenes") for labeled in d.images]
    for dataset, labeled in tqdm(images, desc="reading for hard examples", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            continue
        for plate, text in plate_images(labeled, image, dataset.kind == "crops"):
            reading = read_plate(plate, dataset.kind == "scenes")
            if reading is None or reading.text == text or edit_distance(reading.text, text) > max_edits:
                continue
            for crop, label in zip(reading.segmentation.characters, aligned_labels(reading.text, text)):
                samples.append(CharacterSample(crop.mask, crop.gray, label, str(labeled.path), labeled.state))
    return samples


def self_labeled_crops(
    read_plate: Callable[[np.ndarray, bool], PlateReading | None],
    unlabeled: Sequence[Dataset],
    layouts: Mapping[str, int],
    min_confidence: float,
    check_heights: Sequence[int],
    progress: bool | None = None,
) -> Dataset:
    """A plate reader, unlabeled plate crops, the region's known layouts, the least character confidence and the heights a reading is checked at in, a "crops" Dataset of the crops labeled with their readings out.

    Self-training: a reading labels its crop only when it is sure (every character at least
    min_confidence), in a layout the region issues, and consistent (the crop shrunk to each
    check height reads the same text), so that the model learns fonts no labeled plate shows
    from few wrong labels.
    """
    images: list[LabeledImage] = []
    crops = [labeled for d in unlabeled for labeled in d.images]
    for labeled in tqdm(crops, desc="reading unlabeled plates", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            continue
        reading = read_plate(image, False)
        if reading is None or layout(reading.text) not in layouts or min((c.confidence for c in reading.characters), default=0.0) < min_confidence:
            continue
        checks = [read_plate(shrunk, False) for shrunk in shrunk_plates(image, check_heights)]
        if all(check is not None and check.text == reading.text for check in checks):
            images.append(LabeledImage(labeled.path, (PlateLabel(reading.text),)))
    root = unlabeled[0].root if unlabeled else Path(".")
    return Dataset("crops", root, tuple(images))


def split_by_source(samples: Sequence[CharacterSample], heldout_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples in, (train indices, held-out indices) out, with all characters of one image on the same side."""
    sources = sorted({s.source for s in samples})
    rng = np.random.default_rng(seed)
    held_sources = set(rng.choice(sources, size=int(round(len(sources) * heldout_fraction)), replace=False).tolist()) if sources else set()
    held = np.array([i for i, s in enumerate(samples) if s.source in held_sources], dtype=int)
    train = np.array([i for i, s in enumerate(samples) if s.source not in held_sources], dtype=int)
    return train, held


