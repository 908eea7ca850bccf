"""lpr.datasets: the crops (labels.csv) and OpenALPR scene formats, negatives, and load_dataset's choice among them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr.datasets import load_dataset, load_negatives, load_openalpr_scenes, load_plate_crops, normalize_plate_text
from lpr.errors import LabelError
from lpr.geometry import Box


def write_image(path: Path, width: int = 64, height: int = 32) -> Path:
    """Write a small gray PNG or JPEG (by suffix) of the given size; returns path."""
    ok, data = cv2.imencode(path.suffix, np.full((height, width, 3), 128, np.uint8))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def test_real_data_counts(shared_data: Path):
    crops = load_dataset(shared_data / "us-plates")
    scenes = load_dataset(shared_data / "us-scenes")
    negatives = load_dataset(shared_data / "negatives")
    assert (crops.kind, len(crops), crops.skipped) == ("crops", 605, ())
    assert (scenes.kind, len(scenes), scenes.skipped) == ("scenes", 140, ())
    assert (negatives.kind, len(negatives)) == ("negatives", 400)
    assert all(len(i.plates) == 1 and i.state and len(i.state) == 2 for i in crops.images)
    assert all(p.box is not None and p.box.area > 0 for i in scenes.images for p in i.plates)
    assert all(i.plates == () for i in negatives.images)


def test_samples_are_valid_datasets(samples: Path):
    crops = load_dataset(samples / "crops")
    scenes = load_dataset(samples / "scenes")
    assert crops.kind == "crops" and len(crops) >= 4 and crops.skipped == ()
    assert scenes.kind == "scenes" and len(scenes) >= 2 and scenes.skipped == ()
    assert {i.state for i in crops.images} == {"us"}
    for labeled in scenes.images:
        (plate,) = labeled.plates
        assert 5 <= len(plate.text) <= 7
        assert plate.box.x + plate.box.w <= 1280 and plate.box.y + plate.box.h <= 720
    for path in samples.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 100_000, f"{path} is too big for the repository"


@pytest.mark.parametrize(("raw", "normal"), [("abc 123", "ABC123"), ("AB-12·3", "AB123"), ("x.y\tz", "XYZ"), ("O0", "O0")])
def test_normalize_plate_text(raw, normal):
    assert normalize_plate_text(raw) == normal


def test_crops_skip_bad_rows_with_file_and_line(tmp_path: Path):
    for name in ("a.png", "b.png", "c.png", "d.png"):
        write_image(tmp_path / name)
    (tmp_path / "labels.csv").write_text(
        "image,state,plate\n"
        "a.png,CA,abc-123\n"  # line 2: usable, normalized
        "b.png,ny\n"  # line 3: a column short
        "c.png,tx,AB#12\n"  # line 4: not A-Z/0-9
        "missing.png,md,XYZ1\n"  # line 5: no such image
        "\n"  # line 6: blank, ignored silently
        "d.png,,7QRS55\n"  # line 7: usable, no state
    )
    dataset = load_plate_crops(tmp_path)
    assert [(i.path.name, i.plates[0].text, i.state) for i in dataset.images] == [("a.png", "ABC123", "ca"), ("d.png", "7QRS55", None)]
    assert [(s.line, s.file.name) for s in dataset.skipped] == [(3, "labels.csv"), (4, "labels.csv"), (5, "labels.csv")]
    assert "expected 3 columns, found 2" in dataset.skipped[0].reason
    assert "AB#12" in dataset.skipped[1].reason
    assert "missing.png" in dataset.skipped[2].reason
    assert str(dataset.skipped[0]) == f"{tmp_path / 'labels.csv'}:3: {dataset.skipped[0].reason}"


def test_crops_columns_in_any_order_and_state_optional(tmp_path: Path):
    write_image(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text("Plate,Image\nKLM42,a.png\n")
    dataset = load_plate_crops(tmp_path)
    assert [(i.path.name, i.plates[0].text, i.state) for i in dataset.images] == [("a.png", "KLM42", None)]


@pytest.mark.parametrize("header", ["image,state\n", "file,state,plate\n", ""])
def test_crops_header_without_required_columns_is_an_error(tmp_path: Path, header: str):
    write_image(tmp_path / "a.png")
    (tmp_path / "labels.csv").write_text(header + "a.png,ca,ABC123\n" if header else "")
    with pytest.raises(LabelError, match="header lacks column"):
        load_plate_crops(tmp_path)


def test_crops_not_utf8_is_an_error(tmp_path: Path):
    (tmp_path / "labels.csv").write_bytes(b"image,state,plate\n\xff\xfe\xfa.png,ca,ABC\n")
    with pytest.raises(LabelError, match="not a UTF-8"):
        load_plate_crops(tmp_path)


def test_crops_without_labels_csv_is_an_error(tmp_path: Path):
    with pytest.raises(LabelError, match="no labels.csv"):
        load_plate_crops(tmp_path)


def scene_folder(tmp_path: Path, lines: list[str], width: int = 200, height: int = 100) -> Path:
    """A folder with scene.jpg (width x height) and scene.txt holding the given label lines."""
    write_image(tmp_path / "scene.jpg", width, height)
    (tmp_path / "scene.txt").write_text("".join(line + "\n" for line in lines))
    return tmp_path


def test_scene_labels_good_and_bad_lines(tmp_path: Path):
    folder = scene_folder(
        tmp_path,
        [
            "scene.jpg\t10\t20\t60\t30\tab 123",  # 1: usable
            "scene.jpg\t10\t20\t60",  # 2: too few fields
            "scene.jpg\tten\t20\t60\t30\tABC",  # 3: not a number
            "scene.jpg\t10\t20\t0\t30\tABC",  # 4: empty box
            "scene.jpg\t-5\t20\t60\t30\tABC",  # 5: negative
            "scene.jpg\t150\t20\t60\t30\tABC",  # 6: reaches past the 200 px width
            "scene.jpg\t10\t80\t60\t30\tABC",  # 7: reaches past the 100 px height
            "other.jpg\t10\t20\t60\t30\tABC",  # 8: no such image
            "scene.jpg\t10\t20\t60\t30\tAB?C",  # 9: bad text
            "",  # 10: blank, ignored
            "scene.jpg\t100.4\t60.6\t50\t20\tXY9",  # 11: usable, rounded
        ],
    )
    dataset = load_openalpr_scenes(folder)
    (labeled,) = dataset.images
    assert labeled.path.name == "scene.jpg"
    assert [(p.text, p.box) for p in labeled.plates] == [("AB123", Box(10, 20, 60, 30)), ("XY9", Box(100, 61, 50, 20))]
    assert [s.line for s in dataset.skipped] == [2, 3, 4, 5, 6, 7, 8, 9]
    reasons = [s.reason for s in dataset.skipped]
    assert "expected 6 tab-separated fields, found 4" in reasons[0]
    assert "not numbers" in reasons[1]
    assert "empty or negative" in reasons[2] and "empty or negative" in reasons[3]
    assert "outside the 200x100 image" in reasons[4] and "outside the 200x100 image" in reasons[5]
    assert "other.jpg" in reasons[6] and "not found" in reasons[6]
    assert "AB?C" in reasons[7]
    assert all(s.file.name == "scene.txt" for s in dataset.skipped)


def test_scene_with_only_bad_lines_is_left_out(tmp_path: Path):
    folder = scene_folder(tmp_path, ["scene.jpg\t500\t20\t60\t30\tABC"])
    dataset = load_openalpr_scenes(folder)
    assert dataset.images == () and len(dataset.skipped) == 1
    with pytest.raises(LabelError, match="no usable labeled images"):
        load_dataset(folder)


def test_load_dataset_chooses_the_format(tmp_path: Path):
    crops, scenes, negatives = tmp_path / "crops", tmp_path / "scenes", tmp_path / "negatives"
    for folder in (crops, scenes, negatives):
        folder.mkdir()
    write_image(crops / "a.png")
    (crops / "labels.csv").write_text("image,state,plate\na.png,md,ABC1\n")
    scene_folder(scenes, ["scene.jpg\t1\t1\t10\t10\tXYZ9"])
    write_image(negatives / "room.jpg")
    (negatives / "deeper").mkdir()
    write_image(negatives / "deeper" / "road.png")
    assert load_dataset(crops).kind == "crops"
    assert load_dataset(scenes).kind == "scenes"
    loaded = load_dataset(negatives)
    assert loaded.kind == "negatives" and len(loaded) == 2 and all(i.plates == () for i in loaded.images)
    assert len(load_negatives(negatives)) == 2


def test_load_dataset_errors(tmp_path: Path):
    with pytest.raises(LabelError, match="not a folder"):
        load_dataset(tmp_path / "absent")
    with pytest.raises(LabelError, match="no images found"):
        load_dataset(tmp_path)
    (tmp_path / "labels.csv").write_text("image,state,plate\nghost.png,ca,ABC\n")
    with pytest.raises(LabelError, match="ghost.png"):
        load_dataset(tmp_path)
