"""training/crossval.py: settings given on the command line reach kept fold models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import crossval  # noqa: E402

import lpr  # noqa: E402


def test_with_setting_changes_one_nested_field() -> None:
    config = crossval.with_setting(lpr.Config(), "localization.gradient_levels=[1.0, 2.0]")
    assert config.localization.gradient_levels == (1.0, 2.0)
    assert crossval.with_setting(config, "localization.verifier.min_score=0.5").localization.verifier.min_score == 0.5
    with pytest.raises(SystemExit):
        crossval.with_setting(config, "localization.no_such_field=1")
    with pytest.raises(SystemExit):
        crossval.with_setting(config, "localization.max_candidates=four")


def test_a_kept_fold_model_is_read_with_the_runs_verifier_thresholds() -> None:
    model = lpr.load_model()
    assert model.verifier is not None
    config = crossval.with_setting(lpr.Config(), "localization.verifier.min_score=0.75")
    reread = crossval.with_run_verifier_settings(model, config, Path("fold0.npz"))
    assert reread.verifier.config.min_score == 0.75 and reread.verifier.candidate is model.verifier.candidate
    # A setting the verifier was trained with cannot change without training it again.
    retrain = crossval.with_setting(lpr.Config(), "localization.verifier.regularization=0.5")
    with pytest.raises(SystemExit, match="regularization"):
        crossval.with_run_verifier_settings(model, retrain, Path("fold0.npz"))
