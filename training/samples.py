"""Character samples: labeled plate images in, character masks (and the gray pixels under them) labeled with their text out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from lpr.classification import NOT_CHARACTER
from lpr.config import SegmentationConfig
from lpr.datasets import Dataset, LabeledImage
from lpr.errors import ImageReadError
from lpr.imageio import read_image
from lpr.region import PlateGeometry
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
from lpr.segmentation.rows import select_row

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
    variants = candidate_variants(plate, settings, geometry.character_height)
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


def collect_characters(
    datasets: Sequence[Dataset],
    config: SegmentationConfig,
    geometry: PlateGeometry,
    shrunk_heights: Sequence[int],
    progress: bool | None = None,
) -> tuple[list[CharacterSample], int, int, int]:
    """Labeled datasets, segmentation settings, the region's geometry and the heights plates are also read shrunk to in, (character samples, plates seen, plates usable, images unreadable) out."""
    samples: list[CharacterSample] = []
    plates = usable = unreadable = 0
    images = [(d, labeled) for d in datasets if d.kind != "negatives" for labeled in d.images]
    for dataset, labeled in tqdm(images, desc="cutting characters", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            unreadable += 1
            continue
        for plate, text in plate_images(labeled, image, dataset.kind == "crops"):
            plates += 1
            characters = labeled_plate_characters(plate, text, config, geometry)
            if characters is None:
                continue
            usable += 1
            # Read shrunk to a traffic frame's plate size too (see TrainingConfig.shrunk_heights).
            for shrunk in shrunk_plates(plate, shrunk_heights):
                characters += labeled_plate_characters(shrunk, text, config, geometry) or []
            samples.extend(CharacterSample(c.mask, c.gray, char, str(labeled.path), labeled.state) for c, char in characters)
    return samples, plates, usable, unreadable


def split_by_source(samples: Sequence[CharacterSample], heldout_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples in, (train indices, held-out indices) out, with all characters of one image on the same side."""
    sources = sorted({s.source for s in samples})
    rng = np.random.default_rng(seed)
    held_sources = set(rng.choice(sources, size=int(round(len(sources) * heldout_fraction)), replace=False).tolist()) if sources else set()
    held = np.array([i for i, s in enumerate(samples) if s.source in held_sources], dtype=int)
    train = np.array([i for i, s in enumerate(samples) if s.source not in held_sources], dtype=int)
    return train, held


