"""lpr.training.samples: shrunk copies of training plates, labeling of characters (band cut included)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from lpr.classification import NOT_CHARACTER
from lpr.config import SegmentationConfig
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.region import built_in_profile
from lpr.training.samples import labeled_plate_characters, shrunk_plates

CONFIG = SegmentationConfig()
WITHOUT_BAND = dataclasses.replace(CONFIG, band_margin=None)
GEOMETRY = built_in_profile("us").geometry


def plate_on_a_frame_line(text: str) -> np.ndarray:
    """A light (110, 60 + 36 per character, 3) plate whose dark characters run into a frame line below them through thin smears."""
    plate = np.full((110, 60 + 36 * len(text), 3), 230, np.uint8)
    x = 30
    for char in text:
        glyph = glyph_mask(char, 56)
        paint(plate, glyph, (30, 30, 30), x, 24)
        middle = x + glyph.shape[1] // 2
        cv2.rectangle(plate, (middle - 2, 76), (middle + 2, 92), (30, 30, 30), -1)
        x += glyph.shape[1] + 8
    cv2.rectangle(plate, (8, 92), (plate.shape[1] - 8, 98), (30, 30, 30), -1)
    return plate


def test_shrunk_plates_have_the_asked_heights_and_keep_the_aspect():
    plate = np.full((120, 240, 3), 200, np.uint8)
    shrunk = shrunk_plates(plate, (32, 60, 200))
    assert [s.shape for s in shrunk] == [(32, 64, 3), (60, 120, 3)]  # 200 px is no shrinking: skipped
    assert all(s.dtype == np.uint8 for s in shrunk)
    assert shrunk_plates(plate, ()) == []


def test_characters_on_a_frame_line_are_labeled_once_cut_to_their_band():
    text = "7BX4K2"
    plate = plate_on_a_frame_line(text)
    assert labeled_plate_characters(plate, text, WITHOUT_BAND, GEOMETRY) is None  # one component with the frame line
    labeled = labeled_plate_characters(plate, text, CONFIG, GEOMETRY)
    assert labeled is not None
    characters = [label for _, label in labeled if label != NOT_CHARACTER]
    assert set(characters) == set(text)
    for crop, _ in labeled:
        assert crop.mask.dtype == np.uint8 and crop.mask.ndim == 2


def test_a_plate_that_does_not_segment_into_its_text_is_unusable():
    assert labeled_plate_characters(np.full((60, 200, 3), 220, np.uint8), "ABC123", CONFIG, GEOMETRY) is None
