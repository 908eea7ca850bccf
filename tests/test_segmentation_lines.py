"""lpr.segmentation.lines: the gap between a stacked plate's lines, and both lines read as one row, top first, with the shipped model's classifier."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import lpr
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.region import BUILT_IN
from lpr.segmentation.lines import is_stacked_shape, line_gap, plate_lines, segment_stacked_plate

MODEL = lpr.load_model()
CONFIG = MODEL.config.segmentation
EUROPE = BUILT_IN["eu"].geometry


def predict(crops):
    """The shipped model's classifier over candidate characters, three guesses each."""
    return MODEL.classifier.predict([c.mask for c in crops], 3, [c.gray for c in crops])


def stacked_plate(top: str, bottom: str, glyph_height: int = 40, gap: int = 12) -> tuple[np.ndarray, int, int]:
    """Two lines of dark glyphs on a light plate in, (plate, last row of the top line, first row of the bottom line) out."""
    width = 30 + max(len(top), len(bottom)) * (glyph_height * 3 // 4)
    plate = np.full((2 * glyph_height + gap + 24, width, 3), 220, np.uint8)
    rows = []
    for y, text in ((12, top), (12 + glyph_height + gap, bottom)):
        x = 15
        for char in text:
            mask = glyph_mask(char, glyph_height)
            paint(plate, mask, (35, 35, 35), x, y)
            x += mask.shape[1] + glyph_height // 6
        rows.append(y)
    return plate, rows[0] + glyph_height - 1, rows[1]


@pytest.mark.parametrize(("top", "bottom", "gap"), [("AB", "1234", 12), ("KLM", "56", 6), ("W", "84759", 20)])
def test_the_gap_is_found_between_the_lines(top: str, bottom: str, gap: int):
    plate, top_end, bottom_start = stacked_plate(top, bottom, gap=gap)
    found = line_gap(plate, CONFIG)
    assert top_end < found < bottom_start
    (upper, start_upper), (lower, start_lower) = plate_lines(plate, CONFIG)
    assert start_upper == 0 and upper.shape[0] > top_end and start_lower < bottom_start and start_lower + lower.shape[0] == plate.shape[0]


def test_a_stacked_plate_is_read_top_line_first():
    plate, _, bottom_start = stacked_plate("PX", "4827")
    segmented = segment_stacked_plate(plate, predict, CONFIG, EUROPE)
    assert segmented is not None
    assert "".join(p.char for p in segmented.predictions) == "PX4827"
    boxes = [c.box for c in segmented.segmentation.characters]
    # Boxes in the plate's own pixels: the top line above the gap, the bottom one below, each left to right.
    assert all(b.y + b.h <= bottom_start for b in boxes[:2]) and all(b.y >= bottom_start - 2 for b in boxes[2:])
    assert [b.x for b in boxes[:2]] == sorted(b.x for b in boxes[:2]) and [b.x for b in boxes[2:]] == sorted(b.x for b in boxes[2:])
    # Where each line starts, so that decoding can drop a line's ends.
    assert segmented.segmentation.line_starts == (0, 2)
    assert segmented.segmentation.binary.ndim == 2 and 0 < segmented.score <= 1


def test_a_blank_plate_or_too_few_characters_read_nothing():
    blank = np.full((70, 100, 3), 200, np.uint8)
    assert segment_stacked_plate(blank, predict, CONFIG, EUROPE) is None
    plate, _, _ = stacked_plate("P", "4")
    assert segment_stacked_plate(plate, predict, CONFIG, EUROPE) is None


def test_only_squarish_plates_of_a_region_with_two_lines_are_stacked():
    square, wide = np.zeros((50, 70, 3), np.uint8), np.zeros((50, 220, 3), np.uint8)
    assert is_stacked_shape(square, CONFIG, EUROPE) and not is_stacked_shape(wide, CONFIG, EUROPE)
    assert not is_stacked_shape(square, CONFIG, dataclasses.replace(EUROPE, lines=1))


def test_real_stacked_plates_split_into_two_lines_of_characters(shared_data: Path):
    """On real stacked plates each line's cut holds a row of characters: at least three quarters are read as two lines."""
    stacked = lpr.load_dataset(shared_data / "eu-stacked-plates")
    read = 0
    images = stacked.images[::6]
    for labeled in images:
        segmented = segment_stacked_plate(lpr.read_image(labeled.path), predict, CONFIG, EUROPE)
        read += segmented is not None and abs(len(segmented.predictions) - len(labeled.plates[0].text)) <= 1
    assert read >= 0.75 * len(images)
