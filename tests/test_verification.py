"""Tests of lpr.verification (scoring only): descriptor shapes, statistics of known readings, and linear scores (fitting is in test_training_verifier.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lpr.config import VerifierConfig
from lpr.geometry import Box
from lpr.localization import PlateCandidate
from lpr.verification import (
    READING_LENGTHS,
    READING_STATISTICS,
    ReadingEvidence,
    candidate_features,
    descriptor_lengths,
    reading_features,
    reading_statistics,
    window_hog,
)

CONFIG = VerifierConfig()


def even_row(count: int, pitch: int = 20, height: int = 30) -> list[Box]:
    """count character boxes of one height at an even pitch."""
    return [Box(10 + i * pitch, 5, 12, height) for i in range(count)]


def evidence(boxes: list[Box], confidences: list[float], plate_confidence: float, layout_share: float = 1.0) -> ReadingEvidence:
    """The evidence of a reading with the given characters and a plate box around them."""
    return ReadingEvidence(tuple(boxes), tuple(confidences), plate_confidence, Box(0, 0, 140, 50), layout_share)


def test_descriptors_have_the_advertised_lengths():
    gray = np.random.default_rng(0).integers(0, 256, (120, 300), dtype=np.uint8)
    candidates = [PlateCandidate(Box(10, 10, 90, 30), 0.7), PlateCandidate(Box(150, 40, 60, 25), 0.5)]
    candidate_length, reading_length = descriptor_lengths(CONFIG)
    assert candidate_features(gray, candidates, CONFIG).shape == (2, candidate_length)
    assert reading_features(gray, evidence(even_row(6), [0.9] * 6, 0.9), CONFIG).shape == (reading_length,)
    assert candidate_features(gray, candidates, CONFIG).dtype == np.float32


def test_window_hog_of_a_box_outside_the_image_is_zero():
    gray = np.full((50, 50), 128, np.uint8)
    assert not window_hog(gray, [Box(80, 80, 10, 10)], CONFIG.window, CONFIG.band_margin, CONFIG).any()


def test_reading_without_characters_is_refused():
    with pytest.raises(ValueError, match="at least one character"):
        reading_features(np.zeros((40, 40), np.uint8), evidence([], [], 0.5), CONFIG)


def test_statistics_of_an_even_row_and_of_a_ragged_one():
    even = reading_statistics(evidence(even_row(7), [0.9] * 7, 0.9, layout_share=0.25))
    assert even.shape == (READING_STATISTICS,)
    assert even[3] == pytest.approx(np.log(0.25))  # layout share
    assert even[4] == pytest.approx(0.0)  # height spread
    assert even[5] == pytest.approx(0.0)  # pitch spread
    assert even[7:].tolist() == [float(n == 7) for n in READING_LENGTHS]  # one feature per length
    ragged_boxes = [Box(0, 0, 12, 30), Box(15, 0, 12, 18), Box(70, 0, 12, 40), Box(80, 0, 12, 30)]
    ragged = reading_statistics(evidence(ragged_boxes, [0.9, 0.2, 0.5, 0.9], 0.6))
    assert ragged[4] > 0.2 and ragged[5] > 0.5
    assert ragged[1] == pytest.approx(0.2)  # weakest character
    assert ragged[3] == pytest.approx(0.0)  # no layouts known: share 1
    assert ragged[7:].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
