"""Plate verification: HOG + linear scores that say how much a scene region, or a reading of it, looks like a plate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
from sklearn.svm import LinearSVC
from tqdm import tqdm

from lpr.datasets import Dataset

from .config import Config, VerifierConfig
from .errors import ImageReadError, ModelError
from .features import hog_features
from .geometry import Box
from .imageio import read_image
from .localization import PlateCandidate, plate_candidates, to_gray

if TYPE_CHECKING:
    from .recognizer import Recognizer

# Reading lengths told apart by the reading statistics (one feature each): a linear score
# cannot otherwise learn that 6-7 characters are common and 4 or 8 rare.
READING_LENGTHS = (4, 5, 6, 7, 8)
# Character statistics appended to the HOG of a reading's character band (see reading_statistics).
READING_STATISTICS = 7 + len(READING_LENGTHS)
# Blob statistics appended to the HOG of a localization candidate (see candidate_statistics).
CANDIDATE_STATISTICS = 2


@dataclass(frozen=True)
class LinearScore:
    """A linear score over standardized features: ((x - mean) / scale) @ coef + intercept, > 0 meaning plate."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """(n, d) float32 features in, (n,) float64 scores out."""
        return ((features - self.mean) / self.scale) @ self.coef.astype(np.float64) + self.intercept


@dataclass(frozen=True)
class ReadingEvidence:
    """What the verifier judges a reading by: character boxes and confidences, plate confidence and box, layout share."""

    boxes: tuple[Box, ...]
    confidences: tuple[float, ...]
    plate_confidence: float
    plate_box: Box
    # Share of the text's letter/digit layout among known plates (lpr.plate_formats.layout_prior);
    # 1 when no layouts are known. Sign words and window rows read in layouts plates rarely have.
    layout_share: float = 1.0


@dataclass(frozen=True)
class PlateVerifier:
    """Two learned plate/not-plate checks: one ranks localization candidates before they are read, one gates readings."""

    candidate: LinearScore
    reading: LinearScore
    config: VerifierConfig

    def candidate_scores(self, gray: np.ndarray, candidates: Sequence[PlateCandidate]) -> np.ndarray:
        """(H, W) uint8 gray scene and n candidates in it in, their (n,) plate scores out."""
        if not candidates:
            return np.zeros(0)
        return self.candidate(candidate_features(gray, candidates, self.config))

    def reading_score(self, gray: np.ndarray, evidence: ReadingEvidence) -> float:
        """(H, W) uint8 gray scene and the evidence of a reading in it in, its plate score out."""
        return float(self.reading(reading_features(gray, evidence, self.config)[None])[0])


def hog_length(window: tuple[int, int], config: VerifierConfig) -> int:
    """A (width, height) window and the verifier's HOG settings in, the length of window_hog's vectors out."""
    width, height = window
    return (height // config.hog_cell - 1) * (width // config.hog_cell - 1) * 4 * config.hog_bins


def descriptor_lengths(config: VerifierConfig) -> tuple[int, int]:
    """Verifier settings in, the lengths of the (candidate, reading) feature vectors out."""
    band = hog_length(config.window, config)
    return band + CANDIDATE_STATISTICS, band + READING_STATISTICS + hog_length(config.plate_window, config)


def window_hog(
    gray: np.ndarray, boxes: Sequence[Box], window: tuple[int, int], margin: tuple[float, float], config: VerifierConfig
) -> np.ndarray:
    """(H, W) uint8 gray scene and n boxes in, (n, d) float32 HOG of each box grown by margin and resized to the (width, height) window out."""
    height, width = gray.shape[:2]
    windows = np.zeros((len(boxes), window[1], window[0]), np.float32)
    for i, box in enumerate(boxes):
        region = box.expanded(margin[0], margin[1], width, height)
        if region.w < 2 or region.h < 2:
            continue
        patch = gray[region.y : region.y + region.h, region.x : region.x + region.w]
        interpolation = cv2.INTER_AREA if region.w > window[0] else cv2.INTER_LINEAR
        windows[i] = cv2.resize(patch, window, interpolation=interpolation)
    # Unsigned gradients: plates with light characters on dark look the same as the reverse.
    return hog_features(windows / 255.0, config.hog_cell, config.hog_bins)


def candidate_features(gray: np.ndarray, candidates: Sequence[PlateCandidate], config: VerifierConfig) -> np.ndarray:
    """(H, W) uint8 gray scene and n candidates in, (n, d) float32 features (HOG of the region, blob fill, log aspect) out."""
    statistics = np.array([[c.score, np.log(c.box.aspect)] for c in candidates], np.float32).reshape(-1, CANDIDATE_STATISTICS)
    return np.hstack([window_hog(gray, [c.box for c in candidates], config.window, config.band_margin, config), statistics])


def reading_statistics(evidence: ReadingEvidence) -> np.ndarray:
    """The evidence of a reading in, (READING_STATISTICS,) float32 statistics out.

    A plate's characters are read with confidence, share one height and stand at an even
    pitch, 5-8 of them in a common layout; a row of window panes, grille bars or sign
    letters usually fails one of these.
    """
    boxes = evidence.boxes
    confidences = np.clip(np.asarray(evidence.confidences, np.float64), 1e-6, 1.0)
    heights = np.array([b.h for b in boxes], np.float64)
    centres = np.array([b.x + b.w / 2 for b in boxes], np.float64)
    gaps = np.diff(np.sort(centres))
    pitch_spread = float(gaps.std() / max(gaps.mean(), 1e-6)) if len(gaps) > 1 else 0.0
    left, right = min(b.x for b in boxes), max(b.x + b.w for b in boxes)
    top, bottom = min(b.y for b in boxes), max(b.y + b.h for b in boxes)
    return np.array(
        [
            evidence.plate_confidence,
            confidences.min(),
            np.log(confidences).mean(),
            np.log(max(evidence.layout_share, 1e-6)),
            heights.std() / max(heights.mean(), 1e-6),
            pitch_spread,
            np.log(max(right - left, 1) / max(bottom - top, 1)),
            *(float(len(boxes) == n) for n in READING_LENGTHS),
        ],
        np.float32,
    )


def reading_features(gray: np.ndarray, evidence: ReadingEvidence, config: VerifierConfig) -> np.ndarray:
    """(H, W) uint8 gray scene and the evidence of a reading in it in, (d,) float32 features out.

    The features are the HOG of the character band, the reading's statistics and the HOG of the whole plate box.
    """
    boxes = evidence.boxes
    if not boxes:
        raise ValueError("a reading needs at least one character box")
    left, top = min(b.x for b in boxes), min(b.y for b in boxes)
    band = Box(left, top, max(b.x + b.w for b in boxes) - left, max(b.y + b.h for b in boxes) - top)
    return np.concatenate(
        [
            window_hog(gray, [band], config.window, config.band_margin, config)[0],
            reading_statistics(evidence),
            window_hog(gray, [evidence.plate_box], config.plate_window, config.plate_margin, config)[0],
        ]
    )


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


def gather_examples(recognizer: Recognizer, datasets: Sequence[Dataset], config: Config, progress: bool | None = None) -> VerifierExamples:
    """A Recognizer without verifier and scene / plate-free datasets in, labeled candidate and reading features out.

    Every localization candidate (up to search_candidates) is read as the recognizer would:
    a candidate or reading overlapping a labeled plate (IoU above positive_iou) is a plate,
    one clear of every plate (IoU below negative_iou) is a non-plate the verifier must learn
    to reject, and those in between are left out.
    """
    settings = config.localization.verifier
    search = replace(config.localization, max_candidates=settings.search_candidates)
    examples = VerifierExamples([], [], [], [])
    images = [labeled for d in datasets if d.kind in ("scenes", "negatives") for labeled in d.images]
    for labeled in tqdm(images, desc="learning what plates look like", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            continue
        gray = to_gray(image)
        truths = [p.box for p in labeled.plates if p.box is not None]
        candidates = plate_candidates(image, search)
        if not candidates:
            continue
        for features, candidate in zip(candidate_features(gray, candidates, settings), candidates):
            reading = recognizer.read_candidate(image, candidate)
            on_plate = max([reading.box.iou(t) for t in truths], default=0.0) if reading is not None else 0.0
            # A candidate is a plate when it, or the reading it leads to, lands on one.
            label = _label(max([on_plate] + [candidate.box.iou(t) for t in truths]), settings)
            if label is not None:
                examples.candidates.append(features)
                examples.candidate_labels.append(label)
            if reading is None:
                continue
            label = _label(on_plate, settings)
            if label is not None:
                examples.readings.append(reading_features(gray, recognizer.reading_evidence(reading), settings))
                examples.reading_labels.append(label)
    return examples


def _label(overlap: float, settings: VerifierConfig) -> int | None:
    """The IoU of an example with the nearest labeled plate in, 1 (plate), 0 (not) or None (ambiguous) out."""
    if overlap > settings.positive_iou:
        return 1
    return 0 if overlap < settings.negative_iou else None


def train_plate_verifier(recognizer: Recognizer, datasets: Sequence[Dataset], config: Config | None = None, progress: bool | None = None) -> PlateVerifier:
    """A Recognizer without verifier and scene / plate-free datasets in, a PlateVerifier fitted on their candidates and readings out."""
    config = config or Config()
    settings = config.localization.verifier
    examples = gather_examples(recognizer, datasets, config, progress)
    if not examples.readings or not examples.candidates:
        raise ModelError("a plate verifier needs both plate and non-plate examples")
    candidate = fit_linear_score(np.asarray(examples.candidates), np.asarray(examples.candidate_labels), settings.regularization)
    reading = fit_linear_score(np.asarray(examples.readings), np.asarray(examples.reading_labels), settings.regularization)
    return PlateVerifier(candidate, reading, settings)
