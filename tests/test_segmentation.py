"""lpr.segmentation: thresholding, character-shaped components, the character row of a plate."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr.config import SegmentationConfig
from lpr.geometry import Box
from lpr.segmentation import (
    candidate_variants,
    horizontal_overlap,
    pooled_row,
    segment_characters,
    segmentation_variants,
    threshold_plate,
)

CONFIG = SegmentationConfig()


def labeled_crops(folder: Path, limit: int | None = None) -> list[tuple[np.ndarray, str]]:
    """A folder with labels.csv in, (BGR image, plate text) pairs out."""
    with open(folder / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))[:limit]
    return [(cv2.imread(str(folder / r["image"])), r["plate"]) for r in rows]


def synthetic_plate(text_boxes: int = 6) -> np.ndarray:
    """A light (60, 200, 3) plate with text_boxes dark character-sized bars."""
    plate = np.full((60, 200, 3), 220, np.uint8)
    for i in range(text_boxes):
        cv2.rectangle(plate, (12 + 30 * i, 12), (26 + 30 * i, 48), (20, 20, 20), -1)
    return plate


def test_threshold_plate_shape_dtype_and_polarity():
    gray = cv2.cvtColor(synthetic_plate(), cv2.COLOR_BGR2GRAY)
    dark = threshold_plate(gray, "dark", 10, CONFIG)
    assert dark.shape == gray.shape and dark.dtype == np.uint8
    assert set(np.unique(dark)) <= {0, 255}
    assert dark[30, 19] == 255 and threshold_plate(gray, "light", 10, CONFIG)[30, 19] == 0


def test_bad_polarity_and_bad_images_raise():
    with pytest.raises(ValueError):
        threshold_plate(np.zeros((10, 10), np.uint8), "grey", 5, CONFIG)
    for bad in (np.zeros((2, 2, 3), np.uint8), np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 4), np.uint8)):
        with pytest.raises(ValueError):
            segment_characters(bad, CONFIG)


def test_bars_segment_left_to_right_with_boxes_on_the_bars():
    segmentation = segment_characters(synthetic_plate(6), CONFIG)
    assert len(segmentation.characters) == 6
    for i, character in enumerate(segmentation.characters):
        # Boxes are in plate pixels; masks stay at the working height (plate_height) for the classifier.
        assert abs(character.box.x - (12 + 30 * i)) <= 2 and abs(character.box.h - 37) <= 2
        assert character.mask.ndim == 2 and character.mask.dtype == np.uint8 and character.mask.max() == 255


def test_one_variant_per_polarity_and_offset():
    assert len(segmentation_variants(synthetic_plate(), CONFIG)) == len(CONFIG.polarities) * len(CONFIG.offsets)
    assert len(candidate_variants(synthetic_plate(), CONFIG)) == len(CONFIG.polarities) * len(CONFIG.offsets)


def test_pooled_row_keeps_the_best_of_rival_cuts_and_drops_an_off_row_box():
    boxes = [Box(0, 10, 10, 40), Box(20, 10, 10, 40), Box(21, 10, 9, 40), Box(40, 10, 10, 40), Box(60, 0, 10, 12)]
    scores = [0.9, 0.5, 0.8, 0.9, 0.99]
    assert pooled_row(boxes, scores, CONFIG) == (0, 2, 3)
    assert horizontal_overlap(boxes[1], boxes[2]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        pooled_row(boxes, scores[:2], CONFIG)


def test_synthetic_sample_plates_segment_into_their_character_count(samples):
    for plate, text in labeled_crops(samples / "crops"):
        counts = [len(v.characters) for v in segmentation_variants(plate, CONFIG)]
        assert len(text) in counts, (text, counts)


def test_most_real_crops_have_a_setting_with_the_right_character_count(shared_data):
    crops = labeled_crops(shared_data / "us-plates", limit=40)
    right = sum(len(text) in [len(v.characters) for v in segmentation_variants(plate, CONFIG)] for plate, text in crops)
    # Cross-validation finds about 85% of real crops with the right count; 40 crops leave some slack.
    assert right >= 0.7 * len(crops)
