"""Character classification: character masks (and the gray pixels under them) in, characters 0-9 A-Z with confidences in [0, 1] out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import FeatureConfig
from .features import character_features, feature_length, validate_feature_config

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


class CharacterClassifier:
    """BBPS + HOG features and linear weights over character masks and their gray pixels, with softmax-calibrated confidences.

    The weights are a fitted LinearSVC's (coef (k, d) or (1, d) for two classes, intercept
    (k,) or (1,)), kept as arrays: reading a character is one matrix product. Every method
    takes the gray patches under the masks as grays=; without them each mask is its own
    gray patch (a perfectly sharp character). training.classifier fits one.
    """

    def __init__(self, features: FeatureConfig, classes: Sequence[str], coef: np.ndarray, intercept: np.ndarray, temperature: float):
        validate_feature_config(features)
        self.features = features
        self.classes = tuple(str(c) for c in classes)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        rows = 1 if len(self.classes) == 2 else len(self.classes)
        if self.coef.shape != (rows, feature_length(features)) or self.intercept.shape != (rows,):
            raise ValueError(
                f"weights of shape {self.coef.shape} / {self.intercept.shape} do not fit {len(self.classes)} classes "
                f"of {feature_length(features)} features"
            )

    def probabilities(self, masks: Sequence[np.ndarray], grays: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """n character masks (and gray patches) in, (n, len(classes)) probabilities out."""
        if len(masks) == 0:
            return np.zeros((0, len(self.classes)))
        features = character_features(masks, self.features, grays)
        # LinearSVC.decision_function's own arithmetic.
        scores = features @ self.coef.T + self.intercept
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
