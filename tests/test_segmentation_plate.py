"""lpr.segmentation.plate: segment_plate, the one segmentation algorithm, with the shipped model's character classifier."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

import lpr
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.geometry import Box
from lpr.segmentation import SegmentedPlate, segment_plate

MODEL = lpr.load_model()
CONFIG = MODEL.config.segmentation
GEOMETRY = MODEL.profile.geometry


def predict(crops):
    """The shipped model's classifier over candidate characters, three guesses each, as lpr reads with it."""
    return MODEL.classifier.predict([c.mask for c in crops], 3, [c.gray for c in crops])


def labeled_crops(folder: Path, limit: int | None = None) -> list[tuple[np.ndarray, str]]:
    """A folder with labels.csv in, (BGR image, plate text) pairs out."""
    with open(folder / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))[:limit]
    return [(cv2.imread(str(folder / r["image"])), r["plate"]) for r in rows]


def glyph_plate(text: str) -> tuple[np.ndarray, list[Box]]:
    """A light plate with text in dark 60 px glyphs 14 px apart in, (plate, each glyph's box) out."""
    plate = np.full((110, 40 + 44 * len(text), 3), 225, np.uint8)
    boxes, x = [], 20
    for char in text:
        mask = glyph_mask(char, 60)
        paint(plate, mask, (30, 30, 30), x, 25)
        boxes.append(Box(x, 25, mask.shape[1], mask.shape[0]))
        x += mask.shape[1] + 14
    return plate[:, : x + 6], boxes


def check_row(segmented: SegmentedPlate) -> None:
    """A segmented plate's members are left to right, each with its prediction, masks and gray patches alike."""
    characters = segmented.segmentation.characters
    assert len(segmented.predictions) == len(characters)
    assert [c.box.x for c in characters] == sorted(c.box.x for c in characters)
    for character in characters:
        assert character.mask.ndim == 2 and character.mask.dtype == np.uint8 and character.mask.max() == 255
        assert character.gray.shape == character.mask.shape and character.gray.dtype == np.uint8
    assert 0.0 < segmented.score <= 1.0


def test_bad_images_raise():
    for bad in (np.zeros((2, 2, 3), np.uint8), np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 4), np.uint8)):
        with pytest.raises(ValueError):
            segment_plate(bad, predict, CONFIG, GEOMETRY)


def test_glyphs_segment_left_to_right_with_boxes_on_the_glyphs():
    for text in ("ABC123", "7XKM42"):
        plate, boxes = glyph_plate(text)
        segmented = segment_plate(plate, predict, CONFIG, GEOMETRY)
        assert segmented is not None and segmented.segmentation.polarity == "dark"
        check_row(segmented)
        characters = segmented.segmentation.characters
        assert len(characters) == len(text)
        # Boxes are in plate pixels; each sits on its glyph.
        for character, box in zip(characters, boxes):
            assert abs(character.box.x - box.x) <= 2 and abs(character.box.y - box.y) <= 2 and abs(character.box.h - box.h) <= 2
        assert "".join(p.char for p in segmented.predictions) == text


def test_light_characters_on_a_dark_plate_are_the_light_polarity():
    plate, boxes = glyph_plate("BJL833")
    segmented = segment_plate(255 - plate, predict, CONFIG, GEOMETRY)
    assert segmented is not None and segmented.segmentation.polarity == "light"
    check_row(segmented)
    assert [abs(c.box.x - b.x) <= 2 for c, b in zip(segmented.segmentation.characters, boxes)] == [True] * 6


def test_a_row_needs_the_regions_number_of_characters():
    plate, _ = glyph_plate("HD5")
    # Given cropped, a plate of three is read; cut from a scene, a row needs four.
    assert GEOMETRY.cropped_characters[0] <= 3 < GEOMETRY.scene_characters[0]
    cropped = segment_plate(plate, predict, CONFIG, GEOMETRY)
    assert cropped is not None and len(cropped.segmentation.characters) == 3
    assert segment_plate(plate, predict, CONFIG, GEOMETRY, in_scene=True) is None
    # The limits are the geometry's: a region whose cropped plates have four or more has no row here.
    strict = dataclasses.replace(GEOMETRY, cropped_characters=(4, 9))
    assert segment_plate(plate, predict, CONFIG, strict) is None
    # Nor is a row longer than the most a plate has.
    long_plate, _ = glyph_plate("BJL8330")
    assert len(segment_plate(long_plate, predict, CONFIG, GEOMETRY).segmentation.characters) == 7
    assert segment_plate(long_plate, predict, CONFIG, dataclasses.replace(GEOMETRY, cropped_characters=(3, 6))) is None


def test_synthetic_sample_plates_segment_into_their_character_count(samples):
    for plate, text in labeled_crops(samples / "crops"):
        segmented = segment_plate(plate, predict, CONFIG, GEOMETRY)
        assert segmented is not None and len(segmented.segmentation.characters) == len(text), text
        check_row(segmented)


def test_most_real_crops_segment_into_their_character_count(shared_data):
    crops = labeled_crops(shared_data / "us-plates", limit=40)
    segmented = [segment_plate(plate, predict, CONFIG, GEOMETRY) for plate, _ in crops]
    right = sum(s is not None and len(s.segmentation.characters) == len(text) for s, (_, text) in zip(segmented, crops))
    # The shipped model was trained on these crops: 40 of 40 have the right count when written.
    assert right >= 0.85 * len(crops)
    for s in segmented:
        if s is not None:
            check_row(s)
