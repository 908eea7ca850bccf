"""Fitting the character classifier: labeled character masks in, an lpr CharacterClassifier (linear weights as arrays) out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.svm import LinearSVC

from lpr.classification import CharacterClassifier, class_scores, softmax
from lpr.config import FeatureConfig
from lpr.features import character_features, validate_feature_config


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """(n, k) decision scores and (n,) true class indices in, softmax temperature minimising log loss out."""
    grid = np.geomspace(0.02, 5.0, 60)
    losses = [-np.mean(np.log(softmax(scores, t)[np.arange(len(labels)), labels] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def fit_character_classifier(
    masks: Sequence[np.ndarray],
    labels: Sequence[str],
    features: FeatureConfig,
    regularization: float,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    grays: Sequence[np.ndarray] | None = None,
) -> CharacterClassifier:
    """Character masks (and gray patches) and their labels in, a fitted CharacterClassifier out.

    A LinearSVC is fitted on four fifths of the characters, its softmax temperature
    calibrated on the held-out fifth, then fitted again on all of them.
    """
    validate_feature_config(features)
    labels_array = np.asarray(labels)
    weights = np.ones(len(labels_array)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if len(masks) != len(labels_array):
        raise ValueError(f"{len(masks)} masks but {len(labels_array)} labels")
    if len(set(labels_array.tolist())) < 2:
        raise ValueError("training needs characters of at least two classes")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(masks))
    held = order[: len(order) // 5]
    fit_part = order[len(order) // 5 :]
    vectors = character_features(masks, features, grays)
    svm = LinearSVC(C=regularization, dual="auto", max_iter=5000, random_state=0)
    svm.fit(vectors[fit_part], labels_array[fit_part], sample_weight=weights[fit_part])
    temperature = 1.0
    known = np.isin(labels_array[held], svm.classes_)
    if known.sum() > 0:
        index = {c: i for i, c in enumerate(svm.classes_)}
        truth = np.array([index[c] for c in labels_array[held][known]])
        temperature = fit_temperature(class_scores(svm.decision_function(vectors[held][known])), truth)
    svm.fit(vectors, labels_array, sample_weight=weights)
    return CharacterClassifier(features, [str(c) for c in svm.classes_], svm.coef_, svm.intercept_, temperature)
