"""Region identification: a plate image and its reading in, where the plate was issued (a US state, a country, a region) out.

A plate's look says much of where it is from: its colours, the print of a state name or a
country band, its shape. A linear score per region over a descriptor of the plate's
colours (hue, saturation and value per cell of a grid) and its gray HOG ranks the regions;
the reading's letter/digit layout, as often as each region issues it, weighs in.
training.identifier fits the weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .config import IdentificationConfig
from .features import hog_features
from .records import RegionGuess
from .region import layout

# Colour values per cell of the colour grid besides its hue histogram: mean saturation, mean value, value spread.
CELL_STATISTICS = 3


def look_length(config: IdentificationConfig) -> int:
    """Identification settings in, the length of plate_look's descriptor out."""
    width, height = config.window
    cells = config.colour_grid[0] * config.colour_grid[1]
    hog = (height // config.hog_cell - 1) * (width // config.hog_cell - 1) * 4 * config.hog_bins
    return cells * (config.hue_bins + CELL_STATISTICS) + hog + 1


def plate_look(plate: np.ndarray, config: IdentificationConfig) -> np.ndarray:
    """(H, W, 3) uint8 BGR plate in, (look_length(config),) float32 descriptor out: colours per grid cell, gray HOG, log aspect."""
    if plate.dtype != np.uint8 or plate.ndim != 3 or plate.shape[2] != 3 or min(plate.shape[:2]) < 2:
        raise ValueError(f"expected a (H, W, 3) uint8 BGR plate of at least 2x2 pixels, got {plate.dtype} shape {plate.shape}")
    width, height = config.window
    interpolation = cv2.INTER_AREA if plate.shape[1] > width else cv2.INTER_LINEAR
    resized = cv2.resize(plate, (width, height), interpolation=interpolation)
    hsv = cv2.cvtColor(resized, cv2.COLOR_BGR2HSV).astype(np.float32)
    # OpenCV's hue runs 0..179; a pixel's hue counts as much as it is coloured and lit.
    hue_bin = np.minimum((hsv[..., 0] * (config.hue_bins / 180.0)).astype(np.int64), config.hue_bins - 1)
    saturation, value = hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    columns, rows = config.colour_grid
    cells = []
    for row in range(rows):
        for column in range(columns):
            ys = slice(row * height // rows, (row + 1) * height // rows)
            xs = slice(column * width // columns, (column + 1) * width // columns)
            s, v = saturation[ys, xs].ravel(), value[ys, xs].ravel()
            hues = np.bincount(hue_bin[ys, xs].ravel(), s * v, config.hue_bins) / s.size
            cells.append(np.concatenate([hues, [s.mean(), v.mean(), v.std()]]))
    gray = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    hog = hog_features(gray[None], config.hog_cell, config.hog_bins)[0]
    aspect = np.log(plate.shape[1] / plate.shape[0])
    return np.concatenate([np.concatenate(cells), hog, [aspect]]).astype(np.float32)


def layout_likelihoods(text: str, layouts: Mapping[str, Mapping[str, int]], classes: Sequence[str], smoothing: float) -> np.ndarray:
    """A plate text, {region code: {layout: plates seen}} and the region codes in, (k,) P(layout | region) out.

    Each region's counts are smoothed toward the layout's share over all regions, so a
    region with few plates seen (or none) scores the layout about as the others do.
    """
    wanted = layout(text)
    pooled_total = sum(sum(counts.values()) for counts in layouts.values())
    pooled = sum(counts.get(wanted, 0) for counts in layouts.values())
    share = (pooled + 1.0) / (pooled_total + 1.0)
    likelihoods = []
    for code in classes:
        counts = layouts.get(code, {})
        likelihoods.append((counts.get(wanted, 0) + smoothing * share) / (sum(counts.values()) + smoothing))
    return np.asarray(likelihoods, np.float64)


def ranked_guesses(classes: Sequence[str], probabilities: np.ndarray) -> tuple[RegionGuess, ...]:
    """Region codes and their (k,) probabilities in, a RegionGuess per region out, likeliest first."""
    order = np.argsort(-probabilities, kind="stable")
    return tuple(RegionGuess(classes[i], float(probabilities[i])) for i in order)


def layout_guesses(text: str, layouts: Mapping[str, Mapping[str, int]], smoothing: float) -> tuple[RegionGuess, ...]:
    """A plate text and {region code: {layout: plates seen}} in, the regions ranked by the layout alone out (no region alike: none)."""
    classes = sorted(layouts)
    if not classes:
        return ()
    likelihoods = layout_likelihoods(text, layouts, classes, smoothing)
    return ranked_guesses(classes, likelihoods / likelihoods.sum())


@dataclass(frozen=True)
class RegionIdentifier:
    """A linear score per region over standardized plate_look descriptors; softmax(score / temperature) is the look's probability."""

    # The region codes told apart ("us-va", "us-md", ... or "us", "eu", "br").
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    # (k, d) weights and (k,) intercepts, a row per class.
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    config: IdentificationConfig

    def __post_init__(self) -> None:
        length, k = look_length(self.config), len(self.classes)
        if k < 2 or len(set(self.classes)) != k:
            raise ValueError(f"an identifier tells apart at least two distinct regions, got {list(self.classes)}")
        if self.mean.shape != (length,) or self.scale.shape != (length,) or self.coef.shape != (k, length) or self.intercept.shape != (k,):
            raise ValueError(
                f"identifier weights {self.coef.shape} / {self.intercept.shape} / {self.mean.shape} do not fit {k} regions of {length} look values"
            )
        arrays = (self.mean, self.scale, self.coef, self.intercept)
        if not all(np.isfinite(a).all() for a in arrays) or not (self.scale > 0).all() or not self.temperature > 0:
            raise ValueError("identifier weights must be finite, with positive scales and temperature")

    def look_probabilities(self, looks: np.ndarray) -> np.ndarray:
        """(n, d) float32 plate_look descriptors in, (n, k) probabilities of each class out."""
        scores = (((looks - self.mean) / self.scale) @ self.coef.T.astype(np.float64) + self.intercept) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def probabilities(self, plate: np.ndarray, text: str | None = None, layouts: Mapping[str, Mapping[str, int]] | None = None) -> np.ndarray:
        """(H, W, 3) uint8 BGR plate, its reading and {region code: {layout: count}} in, (k,) probabilities of each class out.

        Without a text or layouts the look alone decides; with them, each class's look
        probability is multiplied by P(layout | class) ** layout_weight and renormalized.
        """
        probabilities = self.look_probabilities(plate_look(plate, self.config)[None])[0]
        if text and layouts:
            settings = self.config
            probabilities = probabilities * layout_likelihoods(text, layouts, self.classes, settings.layout_smoothing) ** settings.layout_weight
            probabilities /= probabilities.sum()
        return probabilities

    def identify(self, plate: np.ndarray, text: str | None = None, layouts: Mapping[str, Mapping[str, int]] | None = None) -> tuple[RegionGuess, ...]:
        """(H, W, 3) uint8 BGR plate, its reading and {region code: {layout: count}} in, every class as a RegionGuess out, likeliest first."""
        return ranked_guesses(self.classes, self.probabilities(plate, text, layouts))


def plate_image(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """(H, W, 3) uint8 BGR image and an (x, y, width, height) box in it in, the box's pixels out, or None when under 2x2 pixels inside the image."""
    x, y, w, h = box
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, image.shape[1]), min(y + h, image.shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return image[y0:y1, x0:x1]
