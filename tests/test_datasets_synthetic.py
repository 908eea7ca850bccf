"""lpr.datasets.synthetic: seeded synthetic plates and scenes, and the sample-set writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lpr.datasets import load_dataset
from lpr.datasets.synthetic import SERIAL_LETTERS, glyph_mask, main, random_plate_text, render_plate, render_scene


def test_same_seed_same_plate_other_seed_other_plate():
    first = render_plate("ABC1234", np.random.default_rng(5))
    assert np.array_equal(first, render_plate("ABC1234", np.random.default_rng(5)))
    assert not np.array_equal(first, render_plate("ABC1234", np.random.default_rng(6)))


def test_plate_shape_and_contrast():
    plate = render_plate("7XYZ123", np.random.default_rng(0), (200, 100), rotation=0.0)
    assert plate.shape == (100, 200, 3) and plate.dtype == np.uint8
    gray = plate.mean(axis=2)
    band = gray[35:75, 20:180]  # the serial's rows: dark strokes on a light plate
    assert np.percentile(band, 5) < 100 and np.percentile(band, 95) > 180


@pytest.mark.parametrize("bad", ["", "AB-12", "ÄB12"])
def test_plate_text_must_be_letters_and_digits(bad):
    with pytest.raises(ValueError):
        render_plate(bad, np.random.default_rng(0))


def test_glyphs_are_condensed_and_full_height():
    for char in "0368AJMW":
        mask = glyph_mask(char, 60)
        assert mask.shape[0] == 60 and 0.2 < mask.shape[1] / 60 <= 0.5
        assert mask[0].max() > 0.5 and mask[-1].max() > 0.5  # ink reaches top and bottom


def test_random_text_is_a_serial():
    rng = np.random.default_rng(0)
    texts = [random_plate_text(rng) for _ in range(200)]
    assert all(5 <= len(t) <= 7 and t.isalnum() and t == t.upper() for t in texts)
    assert set("".join(texts)) <= set(SERIAL_LETTERS + "0123456789")


def test_scene_box_holds_the_plate():
    scene, box = render_scene("ABC123", np.random.default_rng(3))
    assert scene.shape == (720, 1280, 3) and scene.dtype == np.uint8
    assert (box.w, box.h) == (90, 45)
    assert 0 <= box.x and box.x + box.w <= 1280 and 0 <= box.y and box.y + box.h <= 720
    plate = scene[box.y : box.y + box.h, box.x : box.x + box.w].mean(axis=2)
    # The plate is light with dark characters, unlike the car body around it.
    assert np.percentile(plate, 90) > 170 and np.percentile(plate, 5) < 110


def test_main_writes_loadable_sets_and_refuses_to_overwrite(tmp_path: Path, capsys):
    assert main([str(tmp_path), "--crops", "3", "--scenes", "1", "--seed", "2"]) == 0
    crops, scenes = load_dataset(tmp_path / "crops"), load_dataset(tmp_path / "scenes")
    assert (crops.kind, len(crops), crops.skipped) == ("crops", 3, ())
    assert (scenes.kind, len(scenes), scenes.skipped) == ("scenes", 1, ())
    before = (tmp_path / "crops" / "labels.csv").read_bytes()
    assert main([str(tmp_path), "--crops", "3", "--scenes", "1", "--seed", "9"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "crops" / "labels.csv").read_bytes() == before
    assert main([str(tmp_path), "--crops", "3", "--scenes", "1", "--seed", "9", "--force"]) == 0
    assert (tmp_path / "crops" / "labels.csv").read_bytes() != before
