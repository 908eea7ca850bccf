"""Plate verification: a character band in a scene in, a plate/not-plate score out (HOG + LinearSVC)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from skimage.feature import hog
from sklearn.svm import LinearSVC

from lpr.datasets import Dataset

from .config import Config, VerifierConfig
from .errors import ImageReadError, ModelError
from .geometry import Box, union_box
from .imageio import read_image
from .localization import plate_candidates, to_gray
from .segmentation import segmentation_variants

@dataclass(frozen=True)
class PlateVerifier:
    """A linear plate/not-plate scorer over the HOG of a character band; score > 0 means plate."""

    coef: np.ndarray
    intercept: float
    config: VerifierConfig

    def score(self, gray: np.ndarray, band: Box) -> float:
        """(H, W) uint8 gray scene and a character band box in it in, the signed plate score out."""
        return float(band_descriptor(gray, band, self.config) @ self.coef + self.intercept)


def _hog(patch: np.ndarray, config: VerifierConfig) -> np.ndarray:
    """(h, w) uint8 patch in, its (n,) float32 HOG (2x2-cell blocks, L2-Hys) out."""
    cell = (config.hog_cell, config.hog_cell)
    return hog(patch, orientations=config.hog_bins, pixels_per_cell=cell, cells_per_block=(2, 2), block_norm="L2-Hys").astype(np.float32)


def descriptor_length(config: VerifierConfig) -> int:
    """The length of band_descriptor's output for these settings."""
    return len(_hog(np.zeros(config.window[::-1], np.uint8), config))


def band_descriptor(gray: np.ndarray, band: Box, config: VerifierConfig) -> np.ndarray:
    """(H, W) uint8 gray scene and a character band box in, its (n,) float32 HOG descriptor out."""
    height, width = gray.shape[:2]
    region = band.expanded(config.band_margin[0], config.band_margin[1], width, height)
    if region.w < 2 or region.h < 2:
        return np.zeros(descriptor_length(config), np.float32)
    patch = gray[region.y : region.y + region.h, region.x : region.x + region.w]
    patch = cv2.resize(patch, config.window, interpolation=cv2.INTER_AREA if region.w > config.window[0] else cv2.INTER_LINEAR)
    # The polarity of the characters varies between plates; HOG with unsigned gradients ignores it.
    return _hog(patch, config)


def band_of(segmentation_boxes: Sequence[Box], origin: tuple[int, int]) -> Box:
    """Character boxes in plate-crop pixels and the crop's origin in, their band in scene pixels out."""
    return union_box(list(segmentation_boxes)).shifted(*origin)


def _bands(image: np.ndarray, region: Box, config: Config, count: int | None) -> list[Box]:
    """Bands (scene pixels) of a region's segmentations with count characters (any plausible count when None)."""
    crop = image[region.y : region.y + region.h, region.x : region.x + region.w]
    if min(crop.shape[:2]) < 8:
        return []
    settings = config.recognition
    bands = []
    for segmentation in segmentation_variants(crop, config.segmentation):
        n = len(segmentation.characters)
        if (count is None and settings.min_characters <= n <= settings.max_characters) or n == count:
            bands.append(band_of([c.box for c in segmentation.characters], (region.x, region.y)))
    return bands


def _candidate_bands(image: np.ndarray, gray: np.ndarray, config: Config, truths: Sequence[Box]) -> list[np.ndarray]:
    """A scene, its gray copy and its labeled boxes in, HOG descriptors of the bands of every candidate that misses them out."""
    settings = config.localization.verifier
    height, width = gray.shape[:2]
    features = []
    for candidate in plate_candidates(image, config.localization):
        region = candidate.box.expanded(settings.crop_margin, settings.crop_margin, width, height)
        if any(region.iou(t) > 0 for t in truths):
            continue
        features.extend(band_descriptor(gray, band, settings) for band in _bands(image, region, config, None))
    return features


def training_bands(
    datasets: Sequence[Dataset], config: Config, negatives: Sequence[Dataset] = ()
) -> tuple[list[np.ndarray], list[int]]:
    """Labeled datasets and plate-free datasets in, (HOG descriptors, 1 = plate / 0 = not) of character bands out.

    Plates are the labeled boxes (scenes) and whole crops; non-plates are the localization
    candidates that miss the labeled plate in scenes, and every candidate of a plate-free
    image (datasets of kind "negatives", in either argument): what the verifier must reject.
    """
    features: list[np.ndarray] = []
    labels: list[int] = []
    settings = config.localization.verifier
    for dataset in [*datasets, *negatives]:
        for labeled in dataset.images:
            try:
                image = read_image(labeled.path)
            except ImageReadError:
                continue
            gray = to_gray(image)
            height, width = gray.shape[:2]
            if dataset.kind == "negatives":
                found = _candidate_bands(image, gray, config, ())
                features.extend(found)
                labels.extend([0] * len(found))
                continue
            if dataset.kind == "crops":
                for band in _bands(image, Box(0, 0, width, height), config, len(labeled.plates[0].text))[:1]:
                    features.append(band_descriptor(gray, band, settings))
                    labels.append(1)
                continue
            truths = [p.box for p in labeled.plates if p.box is not None]
            for truth, plate in zip(truths, labeled.plates):
                region = truth.expanded(settings.crop_margin, settings.crop_margin, width, height)
                for band in _bands(image, region, config, len(plate.text))[:1]:
                    features.append(band_descriptor(gray, band, settings))
                    labels.append(1)
            found = _candidate_bands(image, gray, config, truths)
            features.extend(found)
            labels.extend([0] * len(found))
    return features, labels


def train_plate_verifier(
    datasets: Sequence[Dataset], config: Config | None = None, negatives: Sequence[Dataset] = ()
) -> PlateVerifier:
    """Labeled datasets (and optional plate-free ones) in, a PlateVerifier fitted on their character bands out."""
    config = config or Config()
    features, labels = training_bands(datasets, config, negatives)
    if len(set(labels)) < 2:
        raise ModelError("a plate verifier needs both plate and non-plate bands")
    svm = LinearSVC(C=config.localization.verifier.regularization, class_weight="balanced", max_iter=5000)
    svm.fit(np.asarray(features), np.asarray(labels))
    return PlateVerifier(svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0]), config.localization.verifier)
