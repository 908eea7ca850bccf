"""lpr.classification: softmax calibration and the linear character classifier held as numpy arrays (fitting is tested in tests/test_training_classifier.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lpr.classification import CharacterClassifier, softmax
from lpr.config import FeatureConfig
from lpr.datasets.synthetic import glyph_mask
from lpr.features import character_features, feature_length
from lpr.training import TrainingConfig
from lpr.training.classifier import fit_character_classifier

CHARS = "0123456789ABEHKMPRSXZ"


def character_masks(chars: str, per_char: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Characters, a count and a seed in, (uint8 masks of varied size, stroke and speckle; their labels) out."""
    rng = np.random.default_rng(seed)
    masks, labels = [], []
    for char in chars:
        for _ in range(per_char):
            ink = glyph_mask(char, int(rng.integers(30, 70)), stroke=float(rng.uniform(0.09, 0.16))) > 0.5
            ink ^= rng.random(ink.shape) < 0.03  # speckle: a few pixels flipped, as thresholding leaves
            masks.append(np.where(ink, 255, 0).astype(np.uint8))
            labels.append(char)
    return masks, labels


@pytest.fixture(scope="module")
def classifier() -> CharacterClassifier:
    masks, labels = character_masks(CHARS, 12, seed=0)
    return fit_character_classifier(masks, labels, FeatureConfig(), TrainingConfig().classifier_regularization, seed=0)


def test_softmax_rows_sum_to_one_and_keep_order():
    scores = np.array([[1.0, 2.0, 3.0], [-5.0, 0.0, 5.0], [1000.0, 1000.0, 0.0]])
    probabilities = softmax(scores, 1.0)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.all(np.isfinite(probabilities))  # large scores must not overflow
    assert np.array_equal(np.argsort(probabilities, axis=1), np.argsort(scores, axis=1)[:, :])
    assert probabilities[2, 0] == pytest.approx(0.5)


def test_softmax_temperature_sharpens_and_flattens():
    scores = np.array([[0.0, 1.0]])
    assert softmax(scores, 0.1)[0, 1] > softmax(scores, 1.0)[0, 1] > softmax(scores, 10.0)[0, 1] > 0.5
    assert np.allclose(softmax(scores + 7.0, 1.0), softmax(scores, 1.0))  # shift invariant


def test_probabilities_are_rows_in_zero_one(classifier: CharacterClassifier):
    masks, _ = character_masks("A5", 3, seed=2)
    probabilities = classifier.probabilities(masks)
    assert probabilities.shape == (6, len(CHARS))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0
    assert classifier.probabilities([]).shape == (0, len(CHARS))


def test_predict_top_k_is_ordered_and_confident_when_right(classifier: CharacterClassifier):
    masks, labels = character_masks("8B", 2, seed=3)
    for prediction, label in zip(classifier.predict(masks, top_k=4), labels):
        confidences = [g.confidence for g in prediction.guesses]
        assert len(prediction.guesses) == 4
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert len({g.char for g in prediction.guesses}) == 4
        assert prediction.char == prediction.guesses[0].char
        assert prediction.confidence == confidences[0]
    assert classifier.predict([], top_k=3) == []


def test_gray_patches_must_match_the_masks(classifier: CharacterClassifier):
    masks, _ = character_masks("A5", 2, seed=9)
    with pytest.raises(ValueError, match="gray patches for 4 masks"):
        classifier.predict(masks, grays=[255 - m for m in masks[:3]])
    # Without gray patches each mask is its own: the same as passing the masks' pixels.
    assert np.array_equal(classifier.probabilities(masks), classifier.probabilities(masks, grays=[255 - m for m in masks]))


def test_the_classifier_is_its_arrays(classifier: CharacterClassifier):
    # Rebuilt from its arrays alone, a classifier reads exactly as the fitted one: scores are features @ coef.T + intercept.
    copy = CharacterClassifier(classifier.features, classifier.classes, classifier.coef, classifier.intercept, classifier.temperature)
    masks, _ = character_masks("K7", 2, seed=10)
    assert np.array_equal(copy.probabilities(masks), classifier.probabilities(masks))
    scores = character_features(masks, classifier.features) @ classifier.coef.T + classifier.intercept
    assert np.allclose(classifier.probabilities(masks), softmax(scores, classifier.temperature))
    # Weights that do not fit the classes or the features are refused.
    length = feature_length(FeatureConfig())
    with pytest.raises(ValueError, match="do not fit"):
        CharacterClassifier(FeatureConfig(), "ABC", np.zeros((2, length)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="do not fit"):
        CharacterClassifier(FeatureConfig(), "ABC", np.zeros((3, length - 1)), np.zeros(3), 1.0)
    # Two classes have one row of weights: the second class's score is the row's, the first's its negative.
    two = CharacterClassifier(FeatureConfig(), "AB", np.zeros((1, length)), np.array([1.0]), 1.0)
    assert np.allclose(two.probabilities(masks[:1]), softmax(np.array([[-1.0, 1.0]]), 1.0))


def test_reading_characters_never_imports_scikit_learn():
    code = "import sys, lpr.classification, lpr.features; assert not [m for m in sys.modules if m.startswith('sklearn')]"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
