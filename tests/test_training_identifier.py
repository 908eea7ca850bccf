"""training.identifier: state and region identifiers fitted on real crops tell plates they did not see apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lpr.config import IdentificationConfig
from lpr.datasets import load_dataset
from lpr.errors import ModelError
from lpr.model import load_identifier
from training.identifier import best_temperature, fit_identifier, fold_of, main, plate_looks, shrunk, state_label, top_rates

# States with the most crops in us-plates: enough of each to learn its look from two thirds of them.
STATES = ("va", "nc", "ca", "nv", "la", "il")


@pytest.fixture(scope="module")
def state_looks(shared_data: Path):
    crops = load_dataset(shared_data / "us-plates")
    some = dataclasses.replace(crops, images=tuple(i for i in crops.images if i.state in STATES))
    return plate_looks([some], IdentificationConfig(), state_label, progress=False)


def test_states_are_told_apart_on_plates_held_out(state_looks):
    looks, labels, groups = state_looks
    assert set(labels) == {f"us-{s}" for s in STATES} and len(labels) >= 120
    folds = np.array([fold_of(g, 3) for g in groups])
    train, test = np.flatnonzero(folds != 0), np.flatnonzero(folds == 0)
    # No plate text is on both sides: photos of one plate share a fold.
    assert not {groups[i] for i in train} & {groups[i] for i in test}
    identifier = fit_identifier(looks[train], [labels[i] for i in train], [groups[i] for i in train], IdentificationConfig())
    rates = top_rates(identifier.look_probabilities(looks[test]), identifier.classes, [labels[i] for i in test])
    # Six states at chance would be 17% top-1; their plates' colours and print set them apart.
    assert rates["top1"] >= 0.7 and rates["top3"] >= rates["top1"]
    assert identifier.temperature in (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)


def test_shrunk_copies_keep_the_label_and_the_group(shared_data: Path):
    crops = load_dataset(shared_data / "us-plates")
    few = dataclasses.replace(crops, images=crops.images[:3])
    looks, labels, groups = plate_looks([few], IdentificationConfig(), state_label, progress=False, shrunk_heights=(20,))
    assert len(labels) == 6 and labels[0::2] == labels[1::2] and groups[0::2] == groups[1::2]
    assert shrunk(np.zeros((80, 160, 3), np.uint8), 20).shape == (20, 40, 3)


def test_grown_boxes_of_scene_plates_are_described_too(shared_data: Path):
    scenes = load_dataset(shared_data / "eu-scenes")
    few = dataclasses.replace(scenes, images=scenes.images[:2])
    config = IdentificationConfig()
    plain, _, _ = plate_looks([few], config, lambda d, i: "eu", False)
    looks, labels, groups = plate_looks([few], config, lambda d, i: "eu", False, grown_margins=((0.05, 0.3),))
    plates = sum(len(i.plates) for i in few.images)
    # Each plate: its labeled box, then that box grown, a different look of the one plate.
    assert len(plain) == plates and len(looks) == 2 * plates and groups[0::2] == groups[1::2]
    assert np.array_equal(looks[0::2], plain) and not np.array_equal(looks[1::2], plain)


def test_regions_are_told_apart_in_scenes_by_crops_alone(shared_data: Path):
    config = IdentificationConfig()
    us_crops = load_dataset(shared_data / "us-plates")
    br_crops = load_dataset(shared_data / "br-plates")
    us = plate_looks([dataclasses.replace(us_crops, images=us_crops.images[::3])], config, lambda d, i: "us", False, (24,))
    br = plate_looks([dataclasses.replace(br_crops, images=br_crops.images[::6])], config, lambda d, i: "br", False, (24,))
    identifier = fit_identifier(np.vstack([us[0], br[0]]), us[1] + br[1], us[2] + br[2], config)
    right = 0
    for region in ("us", "br"):
        scenes = load_dataset(shared_data / f"{region}-scenes")
        looks, _, _ = plate_looks([dataclasses.replace(scenes, images=scenes.images[:30])], config, lambda d, i: region, False)
        right += int((np.asarray(identifier.classes)[identifier.look_probabilities(looks).argmax(axis=1)] == region).sum())
    # Two regions at chance would be half of the 60 scene plates, which the identifier never saw.
    assert right >= 40


def test_temperature_is_the_least_log_loss():
    # Scores that rank right but by little are best calibrated at a low temperature, and the reverse.
    sure = [np.array([0.2, -0.2])] * 50
    assert best_temperature(sure, [0] * 50) == 0.05
    wrong_half = [np.array([2.0, -2.0])] * 50
    assert best_temperature(wrong_half, [0] * 25 + [1] * 25) == 1.5


def test_one_region_cannot_be_identified(state_looks):
    looks, labels, groups = state_looks
    with pytest.raises(ModelError, match="two regions"):
        fit_identifier(looks[:5], ["us-va"] * 5, groups[:5], IdentificationConfig())


def test_the_script_writes_an_identifier_and_refuses_bad_folders(shared_data: Path, tmp_path: Path, capsys):
    assert main(["us=" + str(shared_data / "nowhere"), "--out", str(tmp_path / "r.npz")]) == 1
    assert "error" in capsys.readouterr().err
    assert main(["us", "--out", str(tmp_path / "r.npz")]) == 1
    assert "REGION=FOLDER" in capsys.readouterr().err
    assert main(["us=datasets/samples/crops", "br=datasets/samples/scenes", "--out", str(tmp_path / "r.npz")]) == 0
    assert load_identifier(tmp_path / "r.npz").classes == ("br", "us")


def test_the_figures_script_refuses_a_root_without_the_sets(tmp_path: Path, capsys):
    from lpr.training.identification_figures import main as figures_main

    assert figures_main([str(tmp_path), "--out", str(tmp_path / "figures.json")]) == 1
    assert "holds no us-plates/" in capsys.readouterr().err and not (tmp_path / "figures.json").exists()
