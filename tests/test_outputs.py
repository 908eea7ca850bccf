"""Nothing lost: outputs never replace inputs or models without --force, and are never left half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lpr import model as model_module
from lpr.errors import OutputExistsError, OutputWriteError
from lpr.files import write_atomically
from lpr.model import load_model, save_model

REPO = Path(__file__).resolve().parent.parent
CROP = sorted((REPO / "datasets" / "samples" / "crops").glob("*.png"))[0]


def run_lpr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m lpr ARGS` and capture its output."""
    return subprocess.run([sys.executable, "-m", "lpr", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def leftovers(folder: Path) -> list[str]:
    """Names of temporary files (hidden .NAME.* files) left in folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_annotate_refuses_an_output_name_that_is_an_input_even_with_force(tmp_path: Path):
    car = tmp_path / "car.png"
    shutil.copy(CROP, car)
    clash = tmp_path / "car.lpr.png"  # an input that happens to carry the output's name
    shutil.copy(CROP, clash)
    before = clash.read_bytes()
    result = run_lpr("recognize", str(car), str(clash), "--cropped", "--annotate", str(tmp_path), "--force", "--workers", "1")
    assert result.returncode == 1
    assert f"lpr: {clash}: would overwrite an input image" in result.stderr and "Traceback" not in result.stderr
    assert clash.read_bytes() == before
    assert (tmp_path / "car.lpr.lpr.png").is_file()  # the other input was annotated
    assert leftovers(tmp_path) == []


def test_debug_never_overwrites_an_input_in_its_folder(tmp_path: Path):
    car = tmp_path / "car.png"
    shutil.copy(CROP, car)
    debug = tmp_path / "debug"
    # An input that lives where car.png's debug images go, under a stage's name.
    (debug / "car").mkdir(parents=True)
    inside = debug / "car" / "result.png"
    shutil.copy(CROP, inside)
    before = inside.read_bytes()
    result = run_lpr("recognize", str(car), str(inside), "--cropped", "--debug", str(debug), "--workers", "1")
    assert result.returncode == 1
    assert f"{inside}: would overwrite an input image" in result.stderr and "Traceback" not in result.stderr
    assert inside.read_bytes() == before


def test_debug_replaces_its_own_earlier_images(tmp_path: Path):
    car = tmp_path / "car.png"
    shutil.copy(CROP, car)
    for _ in range(2):
        result = run_lpr("recognize", str(car), "--cropped", "--debug", str(tmp_path / "debug"), "--workers", "1")
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "debug" / "car" / "result.png").is_file()


def test_annotate_into_a_file_is_one_error_line(tmp_path: Path):
    car = tmp_path / "car.png"
    shutil.copy(CROP, car)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = run_lpr("recognize", str(car), "--cropped", "--annotate", str(blocker))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(f"lpr: {blocker / 'car.lpr.png'}: cannot write")


@pytest.mark.parametrize("out", ["old.npz", "old"])
def test_train_refuses_an_existing_model_before_training(tmp_path: Path, out: str):
    old = tmp_path / "old.npz"
    old.write_bytes(b"an earlier model")
    folder = tmp_path / "crops"
    shutil.copytree(REPO / "datasets" / "samples" / "crops", folder)
    result = run_lpr("train", str(folder), "--state", "us", "--out", str(tmp_path / out))
    assert result.returncode == 2
    assert result.stderr.strip() == f"lpr: error: {old}: already exists (use --force to overwrite)"
    assert result.stdout == ""  # refused before training, not after
    assert old.read_bytes() == b"an earlier model"


def test_evaluate_json_refuses_an_existing_file(tmp_path: Path):
    figures = tmp_path / "figures.json"
    figures.write_text("{}")
    result = run_lpr("evaluate", str(REPO / "datasets" / "samples" / "crops"), "--json", str(figures))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert figures.read_text() == "{}"


@pytest.fixture(scope="module")
def shipped():
    return load_model()


@pytest.mark.parametrize("interruption", [RuntimeError("disk went away"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_old_model_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch, shipped, interruption):
    path = save_model(shipped, tmp_path / "model.npz")
    before = path.read_bytes()

    def half_then_fail(stream, **arrays):
        stream.write(before[: len(before) // 2])
        raise interruption

    monkeypatch.setattr(model_module.np, "savez", half_then_fail)
    with pytest.raises(type(interruption)):
        save_model(shipped, path, force=True)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert load_model(path).classifier.classes == shipped.classifier.classes


def test_interrupted_first_save_leaves_nothing(tmp_path: Path, monkeypatch, shipped):
    def fail(stream, **arrays):
        stream.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_module.np, "savez", fail)
    with pytest.raises(OutputWriteError, match="model.npz: cannot write \\(No space left on device\\)"):
        save_model(shipped, tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path: Path):
    target = tmp_path / "out.bin"

    def race(stream):
        stream.write(b"new")
        target.write_bytes(b"someone else's")  # created after the existence check

    with pytest.raises(OutputExistsError):
        write_atomically(target, race)
    assert target.read_bytes() == b"someone else's"
    assert leftovers(tmp_path) == []


def test_written_files_get_the_usual_permissions(tmp_path: Path):
    mask = os.umask(0o022)
    try:
        path = write_atomically(tmp_path / "out.bin", lambda stream: stream.write(b"x"))
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_folder_in_the_way_is_one_line(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputWriteError, match="is a folder"):
        write_atomically(tmp_path / "taken", lambda stream: stream.write(b"x"), force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
