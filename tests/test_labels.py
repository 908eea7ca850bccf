"""Malformed labels through the real `lpr train` / `lpr evaluate`: skipped rows counted with file:line, or one error line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lpr.datasets import load_openalpr_scenes, load_plate_crops

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
