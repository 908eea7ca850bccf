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


def feature_length(config: FeatureConfig) -> int:
    """Length of the BBPS vector for this configuration."""
    height, width = config.char_size
    return sum((height // bh) * (width // bw) for bh, bw in config.block_sizes)


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
    return cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)


def bbps_features(mask: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """(h, w) character mask in, (feature_length,) float32 BBPS vector out (ink fraction per block, all block sizes)."""
    grid = normalize_character(mask, config.char_size)
    height, width = config.char_size
    parts = [
        grid.reshape(height // bh, bh, width // bw, bw).mean(axis=(1, 3)).ravel() for bh, bw in config.block_sizes
    ]
    return np.concatenate(parts).astype(np.float32)


class BBPSDescriptor(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: a sequence of character masks in, an (n, feature_length) float32 matrix out."""

    def __init__(
        self,
        char_size: tuple[int, int] = FeatureConfig.char_size,
        block_sizes: tuple[tuple[int, int], ...] = FeatureConfig.block_sizes,
    ):
        self.char_size = char_size
        self.block_sizes = block_sizes

    @property
    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(tuple(self.char_size), tuple(tuple(b) for b in self.block_sizes))

    def fit(self, masks: Sequence[np.ndarray], y: object = None) -> BBPSDescriptor:
        validate_feature_config(self.feature_config)
        return self

    def transform(self, masks: Sequence[np.ndarray]) -> np.ndarray:
        config = self.feature_config
        if len(masks) == 0:
            return np.zeros((0, feature_length(config)), np.float32)
        return np.stack([bbps_features(m, config) for m in masks])
