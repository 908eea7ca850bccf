"""lpr.training.descriptor: BBPS features as a scikit-learn transformer, for pipelines and grid searches."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from lpr.config import FeatureConfig
from lpr.features import bbps_features, feature_length
from lpr.training.descriptor import BBPSDescriptor

CONFIG = FeatureConfig()


@pytest.mark.parametrize(
    "config",
    [
        FeatureConfig((32, 16), ((5, 4),)),
        FeatureConfig((32, 16), ((4, 3),)),
        FeatureConfig((32, 16), ()),
        FeatureConfig((32, 16), ((0, 4),)),
        FeatureConfig((0, 16), ((2, 2),)),
    ],
)
def test_block_sizes_that_do_not_divide_are_rejected(config):
    with pytest.raises(ValueError):
        BBPSDescriptor(config.char_size, config.block_sizes).fit([])


def test_descriptor_transform_matches_function_and_handles_empty_input():
    masks = [np.full((30, 12), 255, np.uint8), np.zeros((10, 10), np.uint8)]
    descriptor = BBPSDescriptor().fit(masks)
    matrix = descriptor.transform(masks)
    assert matrix.shape == (2, feature_length(CONFIG)) and matrix.dtype == np.float32
    assert np.array_equal(matrix[0], bbps_features(masks[0], CONFIG))
    assert descriptor.transform([]).shape == (0, feature_length(CONFIG))


def test_descriptor_in_a_sklearn_pipeline():
    # Two classes a linear model separates only through the features: ink on the left vs on the right.
    rng = np.random.default_rng(0)
    masks, labels = [], []
    for i in range(40):
        mask = np.zeros((int(rng.integers(30, 50)), int(rng.integers(14, 24))), np.uint8)
        half = mask.shape[1] // 2
        if i % 2:
            mask[:, :half] = 255
        else:
            mask[:, half:] = 255
        masks.append(mask)
        labels.append("L" if i % 2 else "R")
    pipeline = Pipeline([("bbps", BBPSDescriptor()), ("svm", LinearSVC(dual="auto"))])
    pipeline.fit(masks, labels)
    assert list(pipeline.predict(masks)) == labels
    copy = clone(pipeline)
    assert copy.get_params()["bbps__char_size"] == CONFIG.char_size
    copy.set_params(bbps__block_sizes=((32, 16),), bbps__hog_bins=0, bbps__gray_hog_bins=0)
    assert copy.named_steps["bbps"].transform(masks[:1]).shape == (1, 1)
