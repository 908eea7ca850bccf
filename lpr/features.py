"""Block Binary Pixel Sum features: binary character masks in, fixed-length float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .config import FeatureConfig


def validate_feature_config(config: FeatureConfig) -> None:
    """Raise ValueError unless every block size divides the character size."""
    height, width = config.char_size
    if height <= 0 or width <= 0:
        raise ValueError(f"char_size must be positive, got {config.char_size}")
    if not config.block_sizes:
        raise ValueError("block_sizes must not be empty")
    for bh, bw in config.block_sizes:
        if bh <= 0 or bw <= 0 or height % bh or width % bw:
            raise ValueError(f"block size {(bh, bw)} does not divide char_size {config.char_size}")
    if config.hog_bins < 0:
        raise ValueError(f"hog_bins must be >= 0, got {config.hog_bins}")
    if config.hog_bins and (config.hog_cell <= 0 or height % config.hog_cell or width % config.hog_cell or min(height, width) < 2 * config.hog_cell):
        raise ValueError(f"hog_cell {config.hog_cell} must divide char_size {config.char_size} with at least 2 cells a side")


def feature_length(config: FeatureConfig) -> int:
    """Length of the BBPS vector for this configuration."""
    height, width = config.char_size
    bbps = sum((height // bh) * (width // bw) for bh, bw in config.block_sizes)
    if not config.hog_bins:
        return bbps
    blocks = (height // config.hog_cell - 1) * (width // config.hog_cell - 1)
    return bbps + blocks * 4 * config.hog_bins


def hog_features(grids: np.ndarray, cell: int, bins: int) -> np.ndarray:
    """(n, H, W) float32 normalized characters in, (n, blocks * 4 * bins) float32 HOG out: unsigned gradient histograms per cell, L2-normalized per 2x2-cell block."""
    n, height, width = grids.shape
    gx = np.zeros_like(grids)
    gy = np.zeros_like(grids)
    gx[:, :, 1:-1] = grids[:, :, 2:] - grids[:, :, :-2]
    gy[:, 1:-1, :] = grids[:, 2:, :] - grids[:, :-2, :]
    # Not cv2.magnitude: its result depends on the arrays' memory alignment (SIMD or scalar
    # path), which would make the same image read differently from run to run.
    magnitude = np.hypot(gx, gy)
    flat_x, flat_y = gx.reshape(-1, width), gy.reshape(-1, width)
    # cv2.phase (degrees, about 0.3 degrees accurate, the same on every alignment) is many
    # times faster than np.arctan2.
    # Unsigned orientation: a stroke's two edges point opposite ways but mean the same stroke.
    index = ((cv2.phase(flat_x, flat_y, angleInDegrees=True) * (bins / 180.0)).astype(np.int64) % bins).reshape(grids.shape)
    rows, cols = height // cell, width // cell
    cell_of = (np.arange(height)[:, None] // cell) * cols + np.arange(width)[None, :] // cell
    slot = ((np.arange(n)[:, None, None] * (rows * cols) + cell_of) * bins + index).ravel()
    histograms = np.bincount(slot, magnitude.ravel(), n * rows * cols * bins).reshape(n, rows, cols, bins)
    blocks = np.concatenate(
        [histograms[:, :-1, :-1], histograms[:, :-1, 1:], histograms[:, 1:, :-1], histograms[:, 1:, 1:]], axis=3
    )
    blocks /= np.sqrt((blocks**2).sum(axis=3, keepdims=True) + 1e-6)
    return blocks.reshape(n, -1).astype(np.float32)


def normalize_character(mask: np.ndarray, char_size: tuple[int, int]) -> np.ndarray:
    """(h, w) character mask in, (H, W) float32 ink coverage in [0, 1] out, centred with its aspect kept."""
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(f"expected a non-empty 2-D character mask, got shape {mask.shape}")
    height, width = char_size
    ink = (mask > 0).astype(np.float32)
    h, w = ink.shape
    # Pad to the target aspect instead of stretching, so a narrow "1" keeps its shape
    # and does not turn into a block that looks like a wide letter.
    target_w = max(w, int(np.ceil(h * width / height)))
    target_h = max(h, int(np.ceil(w * height / width)))
    canvas = np.zeros((target_h, target_w), np.float32)
    top, left = (target_h - h) // 2, (target_w - w) // 2
    canvas[top : top + h, left : left + w] = ink
    # INTER_AREA's float sums can overshoot 1 by a rounding error; coverage is a fraction.
    return np.clip(cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA), 0.0, 1.0)


def block_sums(grids: np.ndarray, block_sizes: Sequence[tuple[int, int]]) -> np.ndarray:
    """(n, H, W) float32 normalized characters in, (n, sum of blocks) float32 ink fraction per block at every block size out."""
    n, height, width = grids.shape
    parts = [grids.reshape(n, height // bh, bh, width // bw, bw).mean(axis=(2, 4)).reshape(n, -1) for bh, bw in block_sizes]
    return np.concatenate(parts, axis=1).astype(np.float32)


def character_features(masks: Sequence[np.ndarray], config: FeatureConfig) -> np.ndarray:
    """n (h, w) character masks in, (n, feature_length) float32 matrix out: BBPS at every block size, then HOG."""
    if len(masks) == 0:
        return np.zeros((0, feature_length(config)), np.float32)
    grids = np.stack([normalize_character(m, config.char_size) for m in masks])
    parts = [block_sums(grids, config.block_sizes)]
    if config.hog_bins:
        parts.append(hog_features(grids, config.hog_cell, config.hog_bins))
    return np.concatenate(parts, axis=1)


def bbps_features(mask: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """(h, w) character mask in, (feature_length,) float32 feature vector out (BBPS, then HOG when configured)."""
    return character_features([mask], config)[0]


class BBPSDescriptor(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: a sequence of character masks in, an (n, feature_length) float32 matrix out."""

    def __init__(
        self,
        char_size: tuple[int, int] = FeatureConfig.char_size,
        block_sizes: tuple[tuple[int, int], ...] = FeatureConfig.block_sizes,
        hog_cell: int = FeatureConfig.hog_cell,
        hog_bins: int = FeatureConfig.hog_bins,
    ):
        self.char_size = char_size
        self.block_sizes = block_sizes
        self.hog_cell = hog_cell
        self.hog_bins = hog_bins

    @property
    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(tuple(self.char_size), tuple(tuple(b) for b in self.block_sizes), self.hog_cell, self.hog_bins)

    def fit(self, masks: Sequence[np.ndarray], y: object = None) -> BBPSDescriptor:
        validate_feature_config(self.feature_config)
        return self

    def transform(self, masks: Sequence[np.ndarray]) -> np.ndarray:
        return character_features(masks, self.feature_config)
