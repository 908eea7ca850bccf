"""BBPS features as a scikit-learn transformer, for pipelines and grid searches over the descriptor's settings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from lpr.config import FeatureConfig
from lpr.features import character_features, validate_feature_config


class BBPSDescriptor(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: a sequence of character masks in, an (n, feature_length) float32 matrix out."""

    def __init__(
        self,
        char_size: tuple[int, int] = FeatureConfig.char_size,
        block_sizes: tuple[tuple[int, int], ...] = FeatureConfig.block_sizes,
        hog_cell: int = FeatureConfig.hog_cell,
        hog_bins: int = FeatureConfig.hog_bins,
        gray_hog_cell: int = FeatureConfig.gray_hog_cell,
        gray_hog_bins: int = FeatureConfig.gray_hog_bins,
    ):
        self.char_size = char_size
        self.block_sizes = block_sizes
        self.hog_cell = hog_cell
        self.hog_bins = hog_bins
        self.gray_hog_cell = gray_hog_cell
        self.gray_hog_bins = gray_hog_bins

    @property
    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(
            tuple(self.char_size),
            tuple(tuple(b) for b in self.block_sizes),
            self.hog_cell,
            self.hog_bins,
            self.gray_hog_cell,
            self.gray_hog_bins,
        )

    def fit(self, masks: Sequence[np.ndarray], y: object = None) -> BBPSDescriptor:
        validate_feature_config(self.feature_config)
        return self

    def transform(self, masks: Sequence[np.ndarray]) -> np.ndarray:
        return character_features(masks, self.feature_config)
