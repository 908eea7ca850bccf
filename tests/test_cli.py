"""The `lpr` command end to end, run as a user runs it (a subprocess)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "datasets" / "samples"


def run_lpr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m lpr ARGS` and capture its output."""
    return subprocess.run([sys.executable, "-m", "lpr", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def assert_one_line_error(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("lpr: ")


@pytest.mark.parametrize("command", ["recognize", "train", "evaluate"])
def test_every_command_has_help(command: str) -> None:
    result = run_lpr(command, "--help")
    assert result.returncode == 0
    assert "usage: lpr " + command in result.stdout


def sample_images() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.suffix.lower() in (".png", ".jpg"))


def test_recognize_json_lines_schema() -> None:
    images = sample_images()
    assert images, "datasets/samples holds the project's own sample images"
    result = run_lpr("recognize", *map(str, images), "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in images]
    for record in records:
        assert set(record) >= {"image", "plates", "processing_time_ms", "error"}
        assert record["error"] is None
        assert isinstance(record["processing_time_ms"], float) and record["processing_time_ms"] > 0
        confidences = [p["confidence"] for p in record["plates"]]
        assert confidences == sorted(confidences, reverse=True)
        for plate in record["plates"]:
            assert isinstance(plate["plate"], str) and plate["plate"].isalnum() and plate["plate"].isupper()
            assert 0.0 <= plate["confidence"] <= 1.0
            assert len(plate["box"]) == 4 and all(isinstance(v, int) for v in plate["box"])
            assert plate["candidates"][0]["plate"] == plate["plate"]
            assert all(0.0 <= c["confidence"] <= 1.0 for c in plate["candidates"])


def test_recognize_reads_the_sample_scene_with_the_shipped_model() -> None:
    scenes = SAMPLES / "scenes"
    labels = {}
    for label_file in scenes.glob("*.txt"):
        name, *_, text = label_file.read_text().strip().split("\t")
        labels[name] = text
    assert labels
    result = run_lpr("recognize", str(scenes), "--json")
    assert result.returncode == 0, result.stderr
    read = {Path(r["image"]).name: [p["plate"] for p in r["plates"]] for r in map(json.loads, result.stdout.splitlines())}
    hits = sum(labels[name] in read.get(name, [])[:1] for name in labels)
    assert hits >= len(labels) // 2 + (len(labels) % 2), (labels, read)


def test_recognize_reports_bad_images_and_goes_on(tmp_path: Path) -> None:
    good = sample_images()[0]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    missing = tmp_path / "missing.png"
    result = run_lpr("recognize", str(broken), str(good), str(missing), "--json")
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(broken), str(good), str(missing)]
    assert "not a readable image" in records[0]["error"]
    assert records[1]["error"] is None
    assert "no such file" in records[2]["error"]
    plain = run_lpr("recognize", str(broken), str(good))
    assert plain.returncode == 1
    assert_one_line_error(plain)
    assert str(good) in plain.stdout


def test_missing_model_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_lpr("recognize", str(sample_images()[0]), "--model", str(tmp_path / "nope.npz"))
    assert result.returncode == 2
    assert_one_line_error(result)
    assert "model file not found" in result.stderr


def test_annotate_never_overwrites_inputs(tmp_path: Path) -> None:
    image = tmp_path / "car.png"
    image.write_bytes(sample_images()[0].read_bytes())
    before = image.read_bytes()
    first = run_lpr("recognize", str(image), "--annotate", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert image.read_bytes() == before
    annotated = tmp_path / "car.lpr.png"
    assert annotated.is_file()
    second = run_lpr("recognize", str(image), "--annotate", str(tmp_path))
    assert second.returncode == 1
    assert "already exists" in second.stderr
    assert run_lpr("recognize", str(image), "--annotate", str(tmp_path), "--force").returncode == 0


def test_debug_writes_every_stage(tmp_path: Path) -> None:
    scene = sorted((SAMPLES / "scenes").glob("*.jpg"))[0]
    result = run_lpr("recognize", str(scene), "--debug", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (tmp_path / scene.stem).iterdir()}
    for stage in ("blackhat", "gradient", "light_mask", "plate_mask", "candidates", "result"):
        assert any(stage in name for name in names), (stage, names)


def write_crops_subset(folder: Path, shared: Path, keep) -> Path:
    """A labels.csv in folder that lists the real crops selected by keep(row_index) with absolute paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(shared / "us-plates" / "labels.csv", newline="")))
    with open(folder / "labels.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["image", "state", "plate"])
        for index, row in enumerate(rows):
            if keep(index):
                writer.writerow([str(shared / "us-plates" / row["image"]), row["state"], row["plate"]])
    return folder


def test_train_then_evaluate_on_unseen_plates(tmp_path: Path, shared_data: Path) -> None:
    train_set = write_crops_subset(tmp_path / "train", shared_data, lambda i: i % 4 != 0)
    test_set = write_crops_subset(tmp_path / "test", shared_data, lambda i: i % 4 == 0)
    model = tmp_path / "model.npz"
    trained = run_lpr("train", str(train_set), "--state", "us", "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    assert "held-out character accuracy" in trained.stdout
    assert model.is_file()
    before = model.read_bytes()
    again = run_lpr("train", str(train_set), "--state", "us", "--out", str(model))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert model.read_bytes() == before

    figures = tmp_path / "figures.json"
    evaluated = run_lpr("evaluate", str(test_set), "--model", str(model), "--json", str(figures))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "plate exact match" in evaluated.stdout
    summary = json.loads(figures.read_text())
    assert summary["images"] == len(range(0, 605, 4))
    assert summary["kind"] == "crops"
    # Trained on three quarters of the crops, read the other quarter.
    assert summary["exact_rate"] > 0.5
    assert summary["char_accuracy"] > 0.85
    assert {row["state"] for row in summary["per_state"]} >= {"ca", "va"}


def test_evaluate_rejects_a_folder_without_usable_labels(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("picture,text\nx.png,ABC\n")
    result = run_lpr("evaluate", str(tmp_path))
    assert result.returncode == 2
    assert_one_line_error(result)
    assert "labels.csv" in result.stderr


def test_train_self_trains_on_unlabeled_crops_and_refuses_a_missing_folder(tmp_path: Path, shared_data: Path) -> None:
    """Real US crops: an eighth labeled, 30 others given without labels; the model learns from the sure readings of those."""
    labeled = write_crops_subset(tmp_path / "labeled", shared_data, lambda i: i % 8 == 0)
    unlabeled = tmp_path / "unlabeled"
    unlabeled.mkdir()
    rows = list(csv.DictReader(open(shared_data / "us-plates" / "labels.csv", newline="")))
    for row in rows[1::8][:30]:
        shutil.copy(shared_data / "us-plates" / row["image"], unlabeled / row["image"])
    model = tmp_path / "model.npz"
    trained = run_lpr("train", str(labeled), "--region", "us", "--unlabeled", str(unlabeled), "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    taught = re.search(r"self-training: (\d+) of (\d+) unlabeled crops", trained.stdout)
    assert taught is not None and int(taught[2]) == 30 and 0 < int(taught[1]) <= 30, trained.stdout
    missing = run_lpr("train", str(labeled), "--region", "us", "--unlabeled", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m2.npz"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "m2.npz").exists()
