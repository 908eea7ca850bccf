"""Tests of lpr.verification: descriptor shapes, statistics of known readings, fitting, and a verifier trained on real scenes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lpr.config import Config, VerifierConfig
from lpr.errors import ModelError
from lpr.geometry import Box
from lpr.localization import PlateCandidate
from lpr.model import Model, load_model
from lpr.recognizer import Recognizer
from lpr.verification import (
    READING_LENGTHS,
    READING_STATISTICS,
    candidate_features,
    descriptor_lengths,
    fit_linear_score,
    reading_features,
    ReadingEvidence,
    reading_statistics,
    train_plate_verifier,
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


def test_fitted_score_separates_separable_examples():
    rng = np.random.default_rng(1)
    plates = rng.normal(2.0, 1.0, (60, 5))
    others = rng.normal(-2.0, 1.0, (60, 5))
    score = fit_linear_score(np.vstack([plates, others]).astype(np.float32), np.array([1] * 60 + [0] * 60), 0.1)
    assert (score(plates) > 0).mean() > 0.95 and (score(others) < 0).mean() > 0.95
    assert score(plates).shape == (60,)


def test_fitting_needs_both_kinds_of_example():
    with pytest.raises(ModelError, match="both plate and non-plate"):
        fit_linear_score(np.ones((5, 3), np.float32), np.ones(5, int), 0.1)


def subset(dataset, keep):
    return dataclasses.replace(dataset, images=tuple(i for n, i in enumerate(dataset.images) if keep(n)))


def test_verifier_trained_on_real_scenes_finds_unseen_plates_and_rejects_unseen_negatives(shared_data: Path):
    from lpr.datasets import load_dataset

    scenes = load_dataset(shared_data / "us-scenes")
    negatives = load_dataset(shared_data / "negatives")
    # Every fourth image is held out; the shipped classifier reads, only the verifier is new.
    reader = Recognizer(Model(load_model().classifier))
    training = [subset(scenes, lambda n: n % 4 and n < 160), subset(negatives, lambda n: n % 4 and n < 160)]
    verifier = train_plate_verifier(reader, training, Config(), progress=False)
    recognizer = Recognizer(reader.model, verifier=verifier)
    import lpr

    unseen_scenes = subset(scenes, lambda n: n % 4 == 0)
    found = [
        any(r.box.iou(image.plates[0].box) > 0.4 for r in recognizer.recognize(lpr.read_image(image.path)))
        for image in unseen_scenes.images[:30]
    ]
    unseen_negatives = subset(negatives, lambda n: n % 4 == 0 and n < 240)
    false = [bool(recognizer.recognize(lpr.read_image(image.path))) for image in unseen_negatives.images]
    assert np.mean(found) >= 0.6, f"found {sum(found)} of {len(found)} unseen plates"
    assert np.mean(false) <= 0.1, f"a plate on {sum(false)} of {len(false)} unseen negatives"
