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


def test_a_brazilian_model_learns_the_brazilian_layout_and_reads_unseen_plates(shared_data):
    """Trained on 150 real Brazilian crops, read 30 others (other plates): the profile is Brazil's, its layout learned, most plates read."""
    from lpr import Recognizer, evaluate
    from lpr.datasets import load_dataset

    crops = load_dataset(shared_data / "br-plates")
    by_plate: dict[str, list] = {}
    for image in crops.images:
        by_plate.setdefault(image.plates[0].text, []).append(image)
    plates = sorted(by_plate)
    train = [image for plate in plates[:150] for image in by_plate[plate]]
    held = [by_plate[plate][0] for plate in plates[150:180]]
    model, report = train_model([dataclasses.replace(crops, images=tuple(train))], region="br", heldout_fraction=0.0, progress=False)
    assert model.region == "br" and model.profile.geometry.scene_characters == (6, 8)
    # Every Brazilian plate of these is LLL-NNNN (a few labels are off by one character).
    assert max(model.profile.layouts, key=model.profile.layouts.get) == "LLLDDDD"
    figures = evaluate(Recognizer(model), dataclasses.replace(crops, images=tuple(held)), progress=False).summary
    assert figures.char_accuracy >= 0.85 and figures.exact_rate >= 0.5, figures
