"""lpr.datasets (datasets/formats.py): the crops (labels.csv) and OpenALPR scene formats, negatives, and load_dataset's choice among them; malformed labels through the real `lpr train` / `lpr evaluate`: skipped rows counted with file:line, or one error line."""

from __future__ import annotations

import shutil
import subprocess
import sys
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
    # Photographed, not drawn: no rendered.json beside their labels.
    assert not crops.rendered and not scenes.rendered
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


# Malformed labels through the real command line (formerly tests/test_labels.py).
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "datasets" / "samples"


def run_lpr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m lpr ARGS` and capture its output."""
    return subprocess.run([sys.executable, "-m", "lpr", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def crops_folder(folder: Path, rows: str, header: str = "image,state,plate\n") -> Path:
    """The sample crops copied into folder with a labels.csv of the given header and rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for image in (SAMPLES / "crops").glob("*.png"):
        shutil.copy(image, folder / image.name)
    (folder / "labels.csv").write_text(header + rows, encoding="utf-8")
    return folder


def scenes_folder(folder: Path, lines: list[str]) -> Path:
    """The first sample scene copied into folder with scene-01.txt holding the given lines."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "scenes" / "scene-01.jpg", folder / "scene-01.jpg")
    (folder / "scene-01.txt").write_text("".join(line + "\n" for line in lines))
    return folder


def good_scene_line() -> str:
    return (SAMPLES / "scenes" / "scene-01.txt").read_text().strip()


MIXED_ROWS = (
    "synthetic-01.png,us,685UWF\n"  # 2: usable
    "synthetic-02.png,us\n"  # 3: a column short
    "synthetic-03.png,us,AB#1\n"  # 4: not A-Z/0-9
    "ghost.png,us,ABC123\n"  # 5: unknown image
    ",us,ABC123\n"  # 6: no image name
    "synthetic-04.png,us,DDB938\n"  # 7: usable
)
MIXED_REASONS = [":3: expected 3 columns, found 2", ":4: plate text 'AB#1'", ":5: image 'ghost.png' not found", ":6: no image file name"]


def assert_one_line_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("lpr: error: ")
    for part in parts:
        assert part in last, last


def test_evaluate_counts_skipped_rows_and_names_file_and_line(tmp_path: Path):
    folder = crops_folder(tmp_path / "crops", MIXED_ROWS)
    result = run_lpr("evaluate", str(folder))
    assert result.returncode == 0, result.stderr
    assert f"{folder}: skipped 4 label row(s):" in result.stderr
    for reason in MIXED_REASONS:
        assert f"{folder / 'labels.csv'}{reason}" in result.stderr
    assert "images: 2 " in result.stdout


def test_train_counts_skipped_rows_and_still_trains(tmp_path: Path):
    folder = crops_folder(tmp_path / "crops", MIXED_ROWS)
    out = tmp_path / "model.npz"
    result = run_lpr("train", str(folder), "--state", "us", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "skipped 4 label row(s)" in result.stderr
    assert all(reason in result.stderr for reason in MIXED_REASONS)
    assert out.is_file()


def test_many_skipped_rows_are_summarized(tmp_path: Path):
    rows = "synthetic-01.png,us,685UWF\n" + "".join(f"ghost{i}.png,us,ABC\n" for i in range(12))
    result = run_lpr("evaluate", str(crops_folder(tmp_path / "crops", rows)))
    assert result.returncode == 0, result.stderr
    assert "skipped 12 label row(s)" in result.stderr and "... and 7 more" in result.stderr


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_nothing_usable_is_one_error_line(tmp_path: Path, command: str):
    folder = crops_folder(tmp_path / "crops", "ghost.png,us,ABC123\nsynthetic-01.png,us,A?B\n")
    extra = ["--state", "us", "--out", str(tmp_path / "m.npz")] if command == "train" else []
    result = run_lpr(command, str(folder), *extra)
    assert_one_line_error(result, "no usable labeled images", "labels.csv:2: image 'ghost.png' not found")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(("header", "missing"), [("file,state,plate\n", "image")])
def test_missing_columns_is_one_error_line(tmp_path: Path, header: str, missing: str):
    folder = crops_folder(tmp_path / "crops", "synthetic-01.png,us,685UWF\n", header=header)
    assert_one_line_error(run_lpr("evaluate", str(folder)), f"labels.csv:1: header lacks column(s) {missing}")


def test_not_utf8_is_one_error_line(tmp_path: Path):
    folder = crops_folder(tmp_path / "crops", "")
    (folder / "labels.csv").write_bytes(b"image,state,plate\nsynthetic-01.png,us,\xff\xfe\n")
    assert_one_line_error(run_lpr("train", str(folder), "--state", "us", "--out", str(tmp_path / "m.npz")), "not a UTF-8")


def test_spreadsheet_byte_order_mark_is_accepted(tmp_path: Path):
    folder = crops_folder(tmp_path / "crops", "")
    (folder / "labels.csv").write_bytes("\ufeffimage,state,plate\nsynthetic-01.png,us,685UWF\n".encode())
    dataset = load_plate_crops(folder)
    assert [(i.path.name, i.plates[0].text) for i in dataset.images] == [("synthetic-01.png", "685UWF")]


def test_trailing_empty_header_cell_is_not_a_required_column(tmp_path: Path):
    folder = crops_folder(tmp_path / "crops", "synthetic-01.png,us,685UWF\n", header="image,state,plate,\n")
    assert len(load_plate_crops(folder).images) == 1


def test_scene_labels_bad_numbers_outside_boxes_and_unknown_images(tmp_path: Path):
    good = good_scene_line()
    name, x, y, w, h, text = good.split("\t")
    folder = scenes_folder(
        tmp_path / "scenes",
        [
            good,  # 1: usable
            f"{name}\tten\t{y}\t{w}\t{h}\t{text}",  # 2: not a number
            f"{name}\t1270\t{y}\t{w}\t{h}\t{text}",  # 3: reaches past the 1280 px width
            f"other.jpg\t{x}\t{y}\t{w}\t{h}\t{text}",  # 4: unknown image
            f"{name}\t{x}\t{y}",  # 5: missing fields
        ],
    )
    result = run_lpr("evaluate", str(folder))
    assert result.returncode == 0, result.stderr
    label_file = folder / "scene-01.txt"
    assert "skipped 4 label row(s)" in result.stderr
    assert f"{label_file}:2: box" in result.stderr and "is not numbers" in result.stderr
    assert f"{label_file}:3: box" in result.stderr and "outside the 1280x720 image" in result.stderr
    assert f"{label_file}:4: image 'other.jpg' not found" in result.stderr
    assert f"{label_file}:5: expected 6 tab-separated fields, found 3" in result.stderr
    assert "images: 1 " in result.stdout


def test_scene_labels_with_nothing_usable_is_one_error_line(tmp_path: Path):
    folder = scenes_folder(tmp_path / "scenes", ["scene-01.jpg\t1\t2\t3", "missing.jpg\t1\t2\t30\t30\tABC"])
    assert_one_line_error(run_lpr("train", str(folder), "--state", "us", "--out", str(tmp_path / "m.npz")), "scene-01.txt:1: expected 6")


def test_scene_label_lines_naming_two_images_keep_each_plate_with_its_image(tmp_path: Path):
    folder = scenes_folder(tmp_path, [])
    shutil.copy(SAMPLES / "scenes" / "scene-02.jpg", folder / "scene-02.jpg")
    (folder / "scene-01.txt").write_text("scene-01.jpg\t10\t10\t90\t45\tABC123\nscene-02.jpg\t20\t20\t90\t45\tXYZ789\n")
    dataset = load_openalpr_scenes(folder)
    assert sorted((i.path.name, [p.text for p in i.plates]) for i in dataset.images) == [
        ("scene-01.jpg", ["ABC123"]),
        ("scene-02.jpg", ["XYZ789"]),
    ]


def test_character_tiles_load_as_characters_and_bad_rows_are_skipped(tmp_path: Path):
    for name in ("a.png", "b.png", "c.png"):
        write_image(tmp_path / name, 20, 36)
    (tmp_path / "labels.csv").write_text("image,char\na.png,7\nb.png,AB\nc.png,-\nghost.png,K\n")
    tiles = load_dataset(tmp_path)
    assert tiles.kind == "characters"
    assert [(i.path.name, i.plates[0].text) for i in tiles.images] == [("a.png", "7")]
    assert [(row.line, row.reason) for row in tiles.skipped] == [
        (3, "char text 'AB' is not one character A-Z/0-9"),
        (4, "char text '-' is not one character A-Z/0-9"),
        (5, "image 'ghost.png' not found"),
    ]


def test_real_character_tiles_and_stacked_plates(shared_data: Path):
    for name, count in (("eu-chars", 6964), ("gb-chars", 3598), ("br-chars", 1772)):
        tiles = load_dataset(shared_data / name)
        assert (tiles.kind, len(tiles), tiles.skipped) == ("characters", count, ())
    stacked = load_dataset(shared_data / "eu-stacked-plates")
    assert (stacked.kind, len(stacked), stacked.skipped) == ("crops", 258, ())


def test_evaluating_character_tiles_is_one_error_line(tmp_path: Path):
    write_image(tmp_path / "a.png", 20, 36)
    (tmp_path / "labels.csv").write_text("image,char\na.png,7\n")
    done = run_lpr("evaluate", str(tmp_path))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"lpr: error: {tmp_path}: character tiles are for training (lpr train), not for evaluating plate reading"]
