"""training/crossval.py (lpr.training.crossval): settings given on the command line reach kept fold models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import lpr
from lpr.config import with_overrides
from lpr.datasets import Dataset
from lpr.evaluation import ImageOutcome
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
    kept = crossval.fold_model(0, crossval.Folds(5), [], lpr.Config(), TrainingConfig(), tmp_path)
    assert Path(kept.source) == tmp_path / "fold0.npz"
    _, retrain = crossval.parse_settings(["training.verifier_regularization=0.5"])
    with pytest.raises(SystemExit, match="training settings"):
        crossval.fold_model(0, crossval.Folds(5), [], lpr.Config(), retrain, tmp_path)


def test_brazilian_folds_keep_every_photo_of_a_plate_together() -> None:
    from lpr.datasets import Dataset, LabeledImage, PlateLabel

    # Three photos of one plate under different names, and a plate-free photo.
    photos = [LabeledImage(Path(f"CC_0112{i}_AXK3125.jpg"), (PlateLabel("AXK3125"),), "br") for i in range(3)]
    empty = LabeledImage(Path("room.jpg"), ())
    by_plate, by_name = crossval.Folds(5), crossval.Folds(5, by_plate=False)
    assert len({by_plate.of(photo) for photo in photos}) == 1
    assert by_plate.of(empty) == by_name.of(empty)
    dataset = Dataset("crops", Path("br-plates"), tuple(photos))
    fold = by_plate.of(photos[0])
    assert len(by_plate.subset(dataset, {fold}).images) == 3
    assert by_plate.subset(dataset, set(range(5)) - {fold}).images == ()
    # Rendered plates are trained on, never scored.
    assert ("br-plates-synthetic", False) in crossval.REGION_SETS["br"]


def test_another_seed_deals_the_folds_anew_and_seed_0_keeps_the_first_deal() -> None:
    from lpr.datasets import LabeledImage, PlateLabel

    images = [LabeledImage(Path(f"{i:03d}.jpg"), (PlateLabel(f"AB{i:03d}"),)) for i in range(200)]
    first, again, other = (crossval.Folds(5, seed=seed) for seed in (0, 0, 7))
    assert [first.of(i) for i in images] == [again.of(i) for i in images]
    moved = sum(first.of(i) != other.of(i) for i in images)
    # A fresh deal moves about four in five images (each lands in one of 5 folds at random).
    assert 120 <= moved <= 190
    # Every fold of the new deal holds images, about a fifth each.
    assert sorted({other.of(i) for i in images}) == [0, 1, 2, 3, 4]
    # The first deal hashes the plate's text; by name, the file name (as US figures before 2026-12-07 were dealt).
    assert first.of(images[0]) == int(crossval.hashlib.sha1(b"AB000").hexdigest(), 16) % 5
    assert crossval.Folds(5, by_plate=False).of(images[0]) == int(crossval.hashlib.sha1(b"000.jpg").hexdigest(), 16) % 5


def test_kept_fold_models_are_read_only_with_the_deal_they_were_trained_on(tmp_path: Path) -> None:
    crossval.check_deal(tmp_path / "folds", crossval.Folds(5, seed=1))
    assert json.loads((tmp_path / "folds" / "deal.json").read_text()) == {"folds": 5, "by_plate": True, "seed": 1}
    crossval.check_deal(tmp_path / "folds", crossval.Folds(5, seed=1))  # the same deal: fine
    for other in (crossval.Folds(5, seed=2), crossval.Folds(3, seed=1), crossval.Folds(5, by_plate=False, seed=1)):
        with pytest.raises(SystemExit, match="another deal"):
            crossval.check_deal(tmp_path / "folds", other)
    # Models kept before deals were recorded cannot be told apart: they are not read.
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "fold0.npz").write_bytes(b"")
    with pytest.raises(SystemExit, match="unrecorded deal"):
        crossval.check_deal(tmp_path / "old", crossval.Folds(5))


def _figures(exact: float, detection: float | None = None, images: int = 140, plates: int = 138) -> dict:
    """One set's figures as cross_validate writes them (only the fields the spread reads)."""
    return {
        "images": images, "plates": plates, "exact_rate": exact, "exact_folded_rate": exact, "char_accuracy": 0.9,
        "detection_rate": detection, "images_with_false_plates": 0.02, "top_n_rate": None, "median_time_ms": 90.0, "fold_exact_rates": [exact],
    }


def test_the_spread_over_seeds_gives_each_figures_mean_and_range_for_the_sets_every_seed_has() -> None:
    per_seed = {
        0: {"us-scenes": _figures(0.771, 0.95), "us-plates": _figures(0.927, images=605, plates=560)},
        1: {"us-scenes": _figures(0.750, 0.96)},
        2: {"us-scenes": _figures(0.757, 0.94)},
    }
    spread = crossval.across_seeds(per_seed)
    assert list(spread) == ["us-scenes"]
    scenes = spread["us-scenes"]
    assert scenes["seeds"] == [0, 1, 2] and scenes["images"] == 140 and scenes["plates"] == 138
    exact = scenes["exact_rate"]
    assert exact["per_seed"] == [0.771, 0.750, 0.757] and exact["min"] == 0.750 and exact["max"] == 0.771
    assert exact["mean"] == pytest.approx(0.7593, abs=1e-4) and exact["stdev"] == pytest.approx(0.0107, abs=1e-4)
    assert scenes["detection_rate"]["mean"] == pytest.approx(0.95)
    # A figure that does not apply (crops have no detection) is left out, not averaged as zero.
    crops = crossval.across_seeds({0: {"c": _figures(0.9)}, 1: {"c": _figures(0.92)}})["c"]
    assert "detection_rate" not in crops and crops["exact_rate"]["max"] == 0.92


def test_seeds_repeat_the_whole_run_each_with_its_own_fold_models(tmp_path, monkeypatch, capsys) -> None:
    calls = []

    def fake_cross_validate(data_root, folds, jobs, overrides, training, models, *rest):
        calls.append((folds.seed, models))
        return {"us-scenes": _figures(0.70 + folds.seed / 100, 0.95)}

    monkeypatch.setattr(crossval, "cross_validate", fake_cross_validate)
    out = tmp_path / "figures.json"
    assert crossval.main([str(tmp_path), "--seeds", "0", "3", "--models", str(tmp_path / "folds"), "--out", str(out)]) == 0
    # Seed 0's fold models stay where a single run keeps them; another seed's deal gets its own folder.
    assert calls == [(0, tmp_path / "folds"), (3, tmp_path / "folds" / "seed3")]
    payload = json.loads(out.read_text())
    assert payload["seeds"] == [0, 3] and payload["figures"] == payload["per_seed"]["0"]
    assert payload["across_seeds"]["us-scenes"]["exact_rate"]["per_seed"] == [0.70, 0.73]
    printed = capsys.readouterr().out
    assert "over the seeds:" in printed and "exact_rate=0.715 (0.700-0.730" in printed and "of 138 plates" in printed
    with pytest.raises(SystemExit, match="repeats a seed"):
        crossval.main([str(tmp_path), "--seeds", "1", "1"])


def _outcome(exact: bool, truth: str = "ABC123") -> ImageOutcome:
    return ImageOutcome("x.jpg", None, truth, truth if exact else "", 0.9, exact, 1.0 if exact else 0.0, True, 0, exact, 10.0)


def test_a_nested_sweep_scores_each_fold_with_the_value_the_other_folds_chose(tmp_path, monkeypatch) -> None:
    # Exact readings (of four scenes a fold, three folds) of each value of one setting.
    exact_per_fold = {1: [4, 4, 0], 2: [0, 4, 4]}
    seen = []

    def fake_fold_outcomes(data_root, folds, jobs, overrides, training, models, sets_of):
        value = overrides["scene.read_candidates"]
        seen.append(value)
        per_fold = [[[_outcome(i < exact_per_fold[value][fold]) for i in range(4)]] for fold in range(folds.count)]
        return [("us-scenes", True)], [Dataset(tmp_path, "scenes", ())], per_fold

    monkeypatch.setattr(crossval, "fold_outcomes", fake_fold_outcomes)
    swept = crossval.nested_sweep(tmp_path, crossval.Folds(3), 1, {}, TrainingConfig(), None, "us", "scene.read_candidates", [1, 2], "us-scenes")
    assert seen == [1, 2]
    # Fold 0: the other folds read 4 with value 1 against 8 with value 2; fold 1: 4 against 4, a tie,
    # which goes to the value listed first; fold 2: 8 against 4.
    assert swept["chosen_per_fold"] == [2, 1, 1]
    assert [f["us-scenes"]["exact_rate"] for f in swept["per_value"]] == [pytest.approx(8 / 12), pytest.approx(8 / 12)]
    # Each fold scored with its choice: fold 0 by value 2 (0 of 4), fold 1 by value 1 (4), fold 2 by value 1 (0).
    assert swept["nested"]["us-scenes"]["exact_rate"] == pytest.approx(4 / 12)
    assert swept["nested"]["us-scenes"]["fold_exact_rates"] == [0.0, 1.0, 0.0]


def test_only_a_list_of_reading_values_can_be_swept() -> None:
    assert crossval.parse_sweep("scene.read_candidates=[4, 2]") == ("scene.read_candidates", [4, 2])
    with pytest.raises(SystemExit, match="list of at least two"):
        crossval.parse_sweep("scene.read_candidates=4")
    with pytest.raises(SystemExit, match="only reading settings"):
        crossval.parse_sweep("training.shrunk_heights=[[24], [32]]")
    with pytest.raises(SystemExit, match="only reading settings"):
        crossval.parse_sweep("verifier.hog_cell=[4, 8]")
    with pytest.raises(SystemExit):
        crossval.parse_sweep("scene.read_candidates=[4, \"four\"]")
