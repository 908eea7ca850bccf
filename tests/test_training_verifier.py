"""Tests of lpr.training.verifier: fitting the linear plate scores, and a verifier trained on real scenes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lpr.errors import ModelError
from lpr.model import Model, load_model
from lpr.pipeline import Recognizer
from lpr.training.verifier import fit_linear_score, train_plate_verifier


def test_fitted_score_separates_separable_examples():
    rng = np.random.default_rng(1)
    plates = rng.normal(2.0, 1.0, (60, 5))
    others = rng.normal(-2.0, 1.0, (60, 5))
    score = fit_linear_score(np.vstack([plates, others]).astype(np.float32), np.array([1] * 60 + [0] * 60), 0.1)
    assert (score(plates) > 0).mean() > 0.95 and (score(others) < 0).mean() > 0.95
    assert score(plates).shape == (60,)


def test_fitting_needs_both_kinds_of_example():
    with pytest.raises(ModelError, match="both plate and non-plate"):
        fit_linear_score(np.ones((5, 3), np.float32), np.ones(5, int), 0.1)


def subset(dataset, keep):
    return dataclasses.replace(dataset, images=tuple(i for n, i in enumerate(dataset.images) if keep(n)))


def test_verifier_trained_on_real_scenes_finds_unseen_plates_and_rejects_unseen_negatives(shared_data: Path):
    import lpr
    from lpr.datasets import load_dataset

    scenes = load_dataset(shared_data / "us-scenes")
    negatives = load_dataset(shared_data / "negatives")
    # Every fourth image is held out; the shipped classifier reads, only the verifier is new.
    reader = Recognizer(Model(load_model().classifier))
    assert reader.verifier is None
    training = [subset(scenes, lambda n: n % 4 and n < 160), subset(negatives, lambda n: n % 4 and n < 160)]
    verifier = train_plate_verifier(reader, training, progress=False)
    recognizer = Recognizer(dataclasses.replace(reader.model, verifier=verifier))
    assert recognizer.verifier is not None

    unseen_scenes = subset(scenes, lambda n: n % 4 == 0)
    found = [any(r.box.iou(image.plates[0].box) > 0.4 for r in recognizer.recognize(lpr.read_image(image.path))) for image in unseen_scenes.images[:30]]
    unseen_negatives = subset(negatives, lambda n: n % 4 == 0 and n < 240)
    false = [bool(recognizer.recognize(lpr.read_image(image.path))) for image in unseen_negatives.images]
    assert np.mean(found) >= 0.6, f"found {sum(found)} of {len(found)} unseen plates"
    assert np.mean(false) <= 0.1, f"a plate on {sum(false)} of {len(false)} unseen negatives"
