"""lpr.training.rendered: Mercosul plates drawn from a font's character tiles, written as a crop folder lpr reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr.datasets import RENDERED_MARKER, load_dataset
from lpr.training.rendered import MERCOSUL, TEST_EVERY, draw_plate, font_tiles, main, write_rendered_plates


def _tile_folder(root: Path, per_char: int = 3) -> Path:
    """A character-tile folder of two fonts drawn with OpenCV: "sheet" (dark on light, as a font sheet is) and "other"."""
    root.mkdir()
    rows, sources = [], []
    for font in ("sheet", "other"):
        for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
            for k in range(per_char):
                tile = np.full((48, 32), 255, np.uint8)
                cv2.putText(tile, char, (2, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 4 + k % 2)
                name = f"{font}-{char}-{k}.png"
                cv2.imwrite(str(root / name), tile)
                rows.append((name, char))
                sources.append((name, f"drawn:{name}", font))
    with (root / "labels.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("image", "char"), *rows])
    with (root / "sources.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("image", "source", "font"), *sources])
    return root


def test_the_test_part_holds_every_third_tile_of_each_character_and_none_of_the_train_part(tmp_path):
    folder = _tile_folder(tmp_path / "tiles", per_char=6)
    train, test = font_tiles(folder, "sheet", "train"), font_tiles(folder, "sheet", "test")
    assert set(train) == set(test) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert all(len(test[c]) == 6 // TEST_EVERY and len(train[c]) == 6 - 6 // TEST_EVERY for c in train)
    # Ink is 255 on 0, cut to its bounds: the tile's top row and left column hold ink.
    glyph = train["H"][0]
    assert set(np.unique(glyph)) == {0, 255} and glyph[0].any() and glyph[:, 0].any()
    with pytest.raises(ValueError, match="no tiles of font 'fe-schrift'"):
        font_tiles(folder, "fe-schrift", "train")
    with pytest.raises(ValueError, match="part is 'train' or 'test'"):
        font_tiles(folder, "sheet", "all")


def test_a_drawn_plate_has_the_blue_band_on_top_and_dark_characters_on_white_below(tmp_path):
    tiles = font_tiles(_tile_folder(tmp_path / "tiles"), "sheet", "train")
    plate = draw_plate("ABC1D23", tiles, MERCOSUL, np.random.default_rng(0))
    height, width = plate.shape[:2]
    assert abs(width / height - 400 / 130) < 0.02
    band = plate[height // 20: int(height * 0.2)]
    blue = (band[..., 0].astype(int) - band[..., 2]) > 100
    assert blue.mean() > 0.6
    gray = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    characters = gray[int(height * 0.3): int(height * 0.75), width // 8: -width // 8]
    # Dark strokes on white paper: some ink, mostly paper.
    assert 0.15 < (characters < 100).mean() < 0.6 and np.median(characters) > 200


def test_rendered_plates_are_a_crop_folder_in_the_mercosul_layout_and_a_used_folder_is_refused(tmp_path):
    tiles = font_tiles(_tile_folder(tmp_path / "tiles"), "sheet", "train")
    out = tmp_path / "rendered"
    texts = write_rendered_plates(tiles, out, 12, seed=3)
    dataset = load_dataset(out)
    assert dataset.kind == "crops" and len(dataset) == 12 and not dataset.skipped
    assert [i.plates[0].text for i in dataset.images] == texts
    assert all(t[:3].isalpha() and t[3].isdigit() and t[4].isalpha() and t[5:].isdigit() for t in texts)
    assert {i.state for i in dataset.images} == {"br"}
    # The folder says it is drawn and how: training takes no layout counts from it.
    assert dataset.rendered and json.loads((out / RENDERED_MARKER).read_text()) == {"layout": "LLLDLDD", "state": "br", "count": 12, "seed": 3}
    for image in dataset.images[:4]:
        crop = cv2.imread(str(image.path))
        assert crop.shape[0] == 80 and 2.8 < crop.shape[1] / crop.shape[0] < 3.8
    # The same seed draws the same plates; a folder with files in it is never written into.
    again = write_rendered_plates(tiles, tmp_path / "again", 12, seed=3)
    assert again == texts
    with pytest.raises(ValueError, match="not empty"):
        write_rendered_plates(tiles, out, 12, seed=4)
    assert load_dataset(out).images == dataset.images


def test_the_command_says_in_one_line_what_is_wrong(tmp_path, capsys):
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("rendered: error:") and error.count("\n") == 1
    assert main([str(_tile_folder(tmp_path / "tiles")), "--font", "sheet", "--count", "3", "--out", str(tmp_path / "out")]) == 0
    assert len(load_dataset(tmp_path / "out")) == 3
    assert json.loads((tmp_path / "out" / RENDERED_MARKER).read_text())["font"] == "sheet"


def test_rendered_scenes_cover_each_labeled_plate_and_keep_the_rest_of_the_photo(tmp_path, samples):
    from lpr.imageio import read_image
    from lpr.training.rendered import write_rendered_scenes

    tiles = font_tiles(_tile_folder(tmp_path / "tiles"), "sheet", "test")
    scenes = load_dataset(samples / "scenes")
    out = tmp_path / "scenes"
    texts = write_rendered_scenes(tiles, scenes, out, 2, seed=5)
    drawn = load_dataset(out)
    assert drawn.kind == "scenes" and drawn.rendered and not drawn.skipped and len(drawn) == 2
    assert [p.text for i in drawn.images for p in i.plates] == texts
    for before, after in zip(scenes.images, drawn.images):
        (old,), (new,) = before.plates, after.plates
        # As high as the plate it covers, Mercosul-wide, centred on it.
        assert new.box.y == old.box.y and new.box.h == old.box.h and abs(new.box.x + new.box.w / 2 - (old.box.x + old.box.w / 2)) <= 1
        assert abs(new.box.w / new.box.h - 400 / 130) < 0.05
        photo, pasted = read_image(before.path).astype(int), read_image(after.path).astype(int)
        top = pasted[new.box.y + 2: new.box.y + new.box.h // 6, new.box.x + new.box.w // 4: new.box.x + 3 * new.box.w // 4]
        # The band is blue (BGR); the photo away from the plate is the photo, up to JPEG.
        assert (top[..., 0] - top[..., 2]).mean() > 40
        assert np.abs(photo[: old.box.y // 2] - pasted[: old.box.y // 2]).mean() < 3
    with pytest.raises(ValueError, match="not empty"):
        write_rendered_scenes(tiles, scenes, out, 2, seed=5)
    with pytest.raises(ValueError, match="not a scene folder"):
        write_rendered_scenes(tiles, load_dataset(samples / "crops"), tmp_path / "other", 2, seed=5)
