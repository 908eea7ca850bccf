"""training/crossval.py (lpr.training.crossval): settings given on the command line reach kept fold models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import lpr
from lpr.config import with_overrides
from lpr.training import TrainingConfig, crossval


def test_parse_settings_changes_one_nested_field() -> None:
    overrides, training = crossval.parse_settings(["localization.gradient_levels=[1.0, 2.0]"])
    config = with_overrides(lpr.Config(), overrides)
    assert config.localization.gradient_levels == (1.0, 2.0)
    both, _ = crossval.parse_settings(["localization.gradient_levels=[1.0, 2.0]", "verifier.min_score=0.5"])
    config = with_overrides(lpr.Config(), both)
    assert config.verifier.min_score == 0.5 and config.localization.gradient_levels == (1.0, 2.0)
    # Reading settings leave training alone; "training." ones are TrainingConfig fields.
    assert training == TrainingConfig()
    _, training = crossval.parse_settings(["training.shrunk_heights=[24, 32]", "training.verifier_regularization=0.5"])
    assert training == TrainingConfig(shrunk_heights=(24, 32), verifier_regularization=0.5)
    with pytest.raises(SystemExit):
        crossval.parse_settings(["localization.no_such_field=1"])
    with pytest.raises(SystemExit):
        crossval.parse_settings(["scene.read_candidates=four"])
    with pytest.raises(SystemExit):
        crossval.parse_settings(["training.no_such_field=1"])


def test_a_kept_fold_model_is_read_with_the_runs_verifier_thresholds(tmp_path: Path) -> None:
    model = lpr.load_model()
    assert model.verifier is not None
    overrides, _ = crossval.parse_settings(["verifier.min_score=0.75"])
    recognizer = lpr.Recognizer(model, overrides=crossval.reading_overrides(model, overrides, "fold0.npz"))
    assert recognizer.verifier.config.min_score == 0.75 and recognizer.verifier.candidate is model.verifier.candidate
    # A setting the verifier was trained with cannot change without training it again...
    descriptor, _ = crossval.parse_settings(["verifier.hog_cell=4"])
    with pytest.raises(SystemExit, match="hog_cell"):
        crossval.reading_overrides(model, descriptor, "fold0.npz")
    # ...nor can a training setting: a kept model trained otherwise stops the run.
    shutil.copy(model.source, tmp_path / "fold0.npz")
    kept = crossval.fold_model(0, 5, [], lpr.Config(), TrainingConfig(), tmp_path)
    assert Path(kept.source) == tmp_path / "fold0.npz"
    _, retrain = crossval.parse_settings(["training.verifier_regularization=0.5"])
    with pytest.raises(SystemExit, match="training settings"):
        crossval.fold_model(0, 5, [], lpr.Config(), retrain, tmp_path)


def test_brazilian_folds_keep_every_photo_of_a_plate_together() -> None:
    from lpr.datasets import Dataset, LabeledImage, PlateLabel

    # Three photos of one plate under different names, and a plate-free photo.
    photos = [LabeledImage(Path(f"CC_0112{i}_AXK3125.jpg"), (PlateLabel("AXK3125"),), "br") for i in range(3)]
    empty = LabeledImage(Path("room.jpg"), ())
    assert len({crossval.fold_of(photo, 5, by_plate=True) for photo in photos}) == 1
    assert crossval.fold_of(empty, 5, by_plate=True) == crossval.fold_of(empty, 5)
    dataset = Dataset("crops", Path("br-plates"), tuple(photos))
    fold = crossval.fold_of(photos[0], 5, by_plate=True)
    assert len(crossval.subset(dataset, 5, {fold}, by_plate=True).images) == 3
    assert crossval.subset(dataset, 5, set(range(5)) - {fold}, by_plate=True).images == ()
    # Rendered plates are trained on, never scored.
    assert ("br-plates-synthetic", False) in crossval.REGION_SETS["br"] and "br" in crossval.BY_PLATE
