"""Shared fixtures: the real data beside the repository, the synthetic samples, and one small trained model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLES = REPO / "datasets" / "samples"
# Real crops the session model is trained on: enough for every class to appear, few
# enough that training stays around ten seconds on two cores.
MODEL_PLATES = 150


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data (the real labeled sets); skips the test when it is absent."""
    if not (SHARED_DATA / "us-plates" / "labels.csv").is_file():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def samples() -> Path:
    """Path of datasets/samples (synthetic crops/ and scenes/ shipped with the repository)."""
    if not (SAMPLES / "crops" / "labels.csv").is_file():
        pytest.skip(f"sample set missing at {SAMPLES} (python -m lpr.datasets.synthetic datasets/samples)")
    return SAMPLES


@pytest.fixture(scope="session")
def trained_model(shared_data: Path):
    """A Model trained on MODEL_PLATES real crops (every fourth one, so all states appear); skips without real data."""
    import lpr
    from lpr.datasets import load_dataset

    crops = load_dataset(shared_data / "us-plates")
    subset = dataclasses.replace(crops, images=crops.images[::4][:MODEL_PLATES])
    model, _ = lpr.train_model([subset], progress=False)
    return model
