"""Shared fixtures: the real data beside the repository, the synthetic samples, and one small trained model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLES = REPO / "datasets" / "samples"
# Real crops the session model is trained on: enough for every class to appear, few
# enough that training stays around ten seconds on two cores.
MODEL_PLATES = 150


def few_images(count: int = 4) -> list[Path]:
    """A few real scenes from ../shared/data when present, else the project's own samples."""
    images = sorted((SHARED_DATA / "us-scenes").glob("*.jpg"))[:count] or sorted(
        p for p in SAMPLES.rglob("*") if p.suffix.lower() in (".png", ".jpg")
    )[:count]
    if not images:
        pytest.skip("no images: neither ../shared/data/us-scenes nor datasets/samples")
    return images


def comparable(result) -> str:
    """A result's JSON line without its timing, the one field that may differ between runs."""
    record = result.to_dict()
    record.pop("processing_time_ms")
    return json.dumps(record, sort_keys=True)


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
    from lpr.datasets import load_dataset
    from lpr.training import train_model

    crops = load_dataset(shared_data / "us-plates")
    subset = dataclasses.replace(crops, images=crops.images[::4][:MODEL_PLATES])
    model, _ = train_model([subset], progress=False)
    return model
