"""Fitting the plate verifier: a model's own readings of labeled scenes and plate-free images in, a PlateVerifier out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.svm import LinearSVC
from tqdm import tqdm

from lpr.datasets import Dataset
from lpr.errors import ImageReadError, ModelError
from lpr.imageio import read_image
from lpr.localization import plate_candidates, to_gray
from lpr.pipeline import Recognizer
from lpr.verification import LinearScore, PlateVerifier, candidate_features, reading_features

from .config import TrainingConfig


def fit_linear_score(features: np.ndarray, labels: np.ndarray, regularization: float) -> LinearScore:
    """(n, d) features and (n,) 0/1 labels in, a LinearScore (standardization + balanced LinearSVC) out."""
    if len(set(labels.tolist())) < 2:
        raise ModelError("a plate verifier needs both plate and non-plate examples")
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    svm = LinearSVC(C=regularization, class_weight="balanced", max_iter=20000, random_state=0)
    svm.fit((features - mean) / scale, labels)
    return LinearScore(mean.astype(np.float32), scale.astype(np.float32), svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0]))


@dataclass
class VerifierExamples:
    """Labeled features gathered from training scenes: candidates and readings, 1 = plate, 0 = not."""

    candidates: list[np.ndarray]
    candidate_labels: list[int]
    readings: list[np.ndarray]
    reading_labels: list[int]


def gather_examples(
    recognizer: Recognizer, datasets: Sequence[Dataset], training: TrainingConfig, progress: bool | None = None
) -> VerifierExamples:
    """A Recognizer without verifier and scene / plate-free datasets in, labeled candidate and reading features out.

    Every localization candidate (up to search_candidates) is read as the recognizer would:
    a candidate or reading overlapping a labeled plate (IoU above positive_iou) is a plate,
    one clear of every plate (IoU below negative_iou) is a non-plate the verifier must learn
    to reject, and those in between are left out.
    """
    settings = recognizer.config.verifier
    examples = VerifierExamples([], [], [], [])
    images = [labeled for d in datasets if d.kind in ("scenes", "negatives") for labeled in d.images]
    for labeled in tqdm(images, desc="learning what plates look like", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            continue
        gray = to_gray(image)
        truths = [p.box for p in labeled.plates if p.box is not None]
        candidates = plate_candidates(image, recognizer.config.localization, recognizer.profile.geometry, settings.search_candidates)
        if not candidates:
            continue
        for features, candidate in zip(candidate_features(gray, candidates, settings), candidates):
            reading = recognizer.read_candidate(image, candidate)
            on_plate = max([reading.box.iou(t) for t in truths], default=0.0) if reading is not None else 0.0
            # A candidate is a plate when it, or the reading it leads to, lands on one.
            label = _label(max([on_plate] + [candidate.box.iou(t) for t in truths]), training)
            if label is not None:
                examples.candidates.append(features)
                examples.candidate_labels.append(label)
            if reading is None:
                continue
            label = _label(on_plate, training)
            if label is not None:
                examples.readings.append(reading_features(gray, recognizer.reading_evidence(reading), settings))
                examples.reading_labels.append(label)
    return examples


def _label(overlap: float, training: TrainingConfig) -> int | None:
    """The IoU of an example with the nearest labeled plate in, 1 (plate), 0 (not) or None (ambiguous) out."""
    if overlap > training.positive_iou:
        return 1
    return 0 if overlap < training.negative_iou else None


def train_plate_verifier(
    recognizer: Recognizer, datasets: Sequence[Dataset], training: TrainingConfig | None = None, progress: bool | None = None
) -> PlateVerifier:
    """A Recognizer without verifier and scene / plate-free datasets in, a PlateVerifier (with the recognizer's verifier settings) fitted on their candidates and readings out."""
    training = training or TrainingConfig()
    settings = recognizer.config.verifier
    examples = gather_examples(recognizer, datasets, training, progress)
    if not examples.readings or not examples.candidates:
        raise ModelError("a plate verifier needs both plate and non-plate examples")
    candidate = fit_linear_score(np.asarray(examples.candidates), np.asarray(examples.candidate_labels), training.verifier_regularization)
    reading = fit_linear_score(np.asarray(examples.readings), np.asarray(examples.reading_labels), training.verifier_regularization)
    return PlateVerifier(candidate, reading, settings)
