"""lpr.training.model: train_model's errors on too little data and on a region without plates."""

from __future__ import annotations

import dataclasses

import pytest

from lpr.errors import LprError
from lpr.training import train_model


def test_training_refuses_too_little_data_and_an_absent_state(samples):
    from lpr.datasets import load_dataset

    crops = load_dataset(samples / "crops")
    with pytest.raises(LprError, match="not enough to train"):
        train_model([dataclasses.replace(crops, images=())], progress=False)
    # A sub-region (state) none of the labeled plates is of.
    with pytest.raises(LprError, match="no usable plates of region 'us-zz'"):
        train_model([crops], region="us-zz", progress=False)
    # A region without a profile cannot be trained for at all.
    with pytest.raises(LprError, match="no region profile for 'zz'"):
        train_model([crops], region="zz", progress=False)
