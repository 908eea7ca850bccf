"""Plate verification: HOG + linear scores that say how much a scene region, or a reading of it, looks like a plate (training.verifier fits them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .config import VerifierConfig
from .features import hog_features
from .geometry import Box
from .localization import PlateCandidate

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
