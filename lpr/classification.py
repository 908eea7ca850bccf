"""Character classification: character masks (and the gray pixels under them) in, characters 0-9 A-Z with confidences in [0, 1] out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.svm import LinearSVC

from .config import ClassifierConfig, FeatureConfig
from .features import character_features, validate_feature_config

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Label of the "not a character" class (bolts, logos, frame edges, small text): it
# lets the classifier prune segmentation candidates; it is never reported as a guess.
NOT_CHARACTER = "_"


@dataclass(frozen=True)
class CharacterGuess:
    """One possible reading of a character and its probability in [0, 1]."""

    char: str
    confidence: float


@dataclass(frozen=True)
class CharacterPrediction:
    """The guesses for one character, most probable first, and the probability that it is no character at all."""

    guesses: tuple[CharacterGuess, ...]
    not_character: float = 0.0

    @property
    def char(self) -> str:
        return self.guesses[0].char

    @property
    def confidence(self) -> float:
        return self.guesses[0].confidence


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """(n, k) decision scores in, (n, k) probabilities out (rows sum to 1)."""
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def class_scores(scores: np.ndarray) -> np.ndarray:
    """LinearSVC decision values in, (n, k) per-class scores out (two classes give one column; make it two)."""
    return np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """(n, k) decision scores and (n,) true class indices in, softmax temperature minimising log loss out."""
    grid = np.geomspace(0.02, 5.0, 60)
    losses = [-np.mean(np.log(softmax(scores, t)[np.arange(len(labels)), labels] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(losses))])


class CharacterClassifier:
    """BBPS + HOG features and a LinearSVC over character masks and their gray pixels, with softmax-calibrated confidences.

    Every method takes the gray patches under the masks as grays=; without them each mask
    is its own gray patch (a perfectly sharp character).
    """

    def __init__(self, features: FeatureConfig | None = None, regularization: float = ClassifierConfig().regularization):
        self.features = features or FeatureConfig()
        validate_feature_config(self.features)
        self.regularization = regularization
        self.svm = LinearSVC(C=regularization, dual="auto", max_iter=5000, random_state=0)
        self.temperature = 1.0

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.svm.classes_)

    def fit(
        self,
        masks: Sequence[np.ndarray],
        labels: Sequence[str],
        seed: int = 0,
        sample_weight: np.ndarray | None = None,
        grays: Sequence[np.ndarray] | None = None,
    ) -> CharacterClassifier:
        """Train on character masks (and gray patches) and their labels; a held-out fifth calibrates the confidences."""
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
        features = character_features(masks, self.features, grays)
        svm = self.svm
        svm.fit(features[fit_part], labels_array[fit_part], sample_weight=weights[fit_part])
        known = np.isin(labels_array[held], svm.classes_)
        if known.sum() > 0:
            index = {c: i for i, c in enumerate(svm.classes_)}
            truth = np.array([index[c] for c in labels_array[held][known]])
            self.temperature = fit_temperature(class_scores(svm.decision_function(features[held][known])), truth)
        svm.fit(features, labels_array, sample_weight=weights)
        return self

    def probabilities(self, masks: Sequence[np.ndarray], grays: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """n character masks (and gray patches) in, (n, len(classes)) probabilities out."""
        if len(masks) == 0:
            return np.zeros((0, len(self.classes)))
        features = character_features(masks, self.features, grays)
        # LinearSVC.decision_function's own arithmetic without its per-call input checks,
        # which cost more than the product itself for the few dozen characters of a plate.
        scores = features @ self.svm.coef_.T + self.svm.intercept_
        return softmax(class_scores(scores[:, 0] if scores.shape[1] == 1 else scores), self.temperature)

    def predict(
        self, masks: Sequence[np.ndarray], top_k: int = 3, grays: Sequence[np.ndarray] | None = None
    ) -> list[CharacterPrediction]:
        """n character masks (and gray patches) in, n predictions out: top_k characters with probabilities given it is one, and P(not one)."""
        probabilities = self.probabilities(masks, grays)
        classes = self.classes
        if NOT_CHARACTER in classes:
            junk = classes.index(NOT_CHARACTER)
            not_character = probabilities[:, junk]
            names = classes[:junk] + classes[junk + 1 :]
            # The guesses are probabilities given that the candidate is a character at all.
            probabilities = np.delete(probabilities, junk, axis=1) / np.maximum(1.0 - not_character, 1e-12)[:, None]
        else:
            not_character = np.zeros(len(probabilities))
            names = classes
        best = np.argsort(-probabilities, axis=1, kind="stable")[:, :top_k]
        chosen = np.take_along_axis(probabilities, best, axis=1).tolist()
        return [
            CharacterPrediction(tuple(CharacterGuess(names[i], p) for i, p in zip(indices, row)), float(junk_p))
            for indices, row, junk_p in zip(best.tolist(), chosen, not_character.tolist())
        ]
