"""Hostile and damaged model files through the real `lpr` command: one `lpr: error:` line, exit 2, no code run."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lpr.errors import ModelError
from lpr.model import MAX_ARRAY_VALUES, MODEL_VERSION, load_model, model_arrays, model_from_bytes

REPO = Path(__file__).resolve().parent.parent
IMAGE = sorted((REPO / "datasets" / "samples" / "crops").glob("*.png"))[0]
MARKER = "code-ran.txt"


class TouchOnUnpickle:
    """Unpickling this creates a file: proof that code from the model file ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Named arrays in, .npz bytes out (object arrays allowed, to build hostile files)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def shipped_arrays() -> dict[str, np.ndarray]:
    """The arrays of the shipped model, as a starting point for damaged copies."""
    return model_arrays(load_model())


def with_metadata(**changes: object) -> dict[str, np.ndarray]:
    """The shipped model's arrays with metadata fields replaced."""
    arrays = shipped_arrays()
    metadata = json.loads(str(arrays["metadata"]))
    metadata.update(changes)
    arrays["metadata"] = np.array(json.dumps(metadata))
    return arrays


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """An .npy header declaring shape and dtype, with no data after it."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False, "shape": shape})
    return stream.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    """Member names and contents in, the bytes of a zip archive out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_member(name: str, data: bytes) -> bytes:
    """The shipped model's .npz with one member's bytes replaced."""
    members = {f"{key}.npy": npz_member(key) for key in ("coef", "intercept", "classes", "metadata")}
    members[name] = data
    return zip_of(members)


def npz_member(key: str) -> bytes:
    """The .npy bytes of one array of the shipped model."""
    stream = io.BytesIO()
    np.save(stream, shipped_arrays()[key])
    return stream.getvalue()


def wrong_shape() -> dict[str, np.ndarray]:
    arrays = shipped_arrays()
    arrays["intercept"] = arrays["intercept"][:-1].copy()
    return arrays


def binary_model_bytes() -> bytes:
    """A two-class model (LinearSVC keeps one row of weights for two classes), checksummed."""
    from lpr.model import _checksum

    arrays = shipped_arrays()
    coef, intercept, classes = arrays["coef"][:1].copy(), arrays["intercept"][:1].copy(), arrays["classes"][:2].copy()
    metadata = json.loads(str(arrays["metadata"]))
    metadata["checksum"] = _checksum(coef, intercept, classes)
    # Only the classifier is under test here: the shipped model's verifier is left out.
    metadata.pop("verifier", None)
    return npz_bytes({"coef": coef, "intercept": intercept, "classes": classes, "metadata": np.array(json.dumps(metadata))})


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "pickle": (lambda: pickle.dumps(TouchOnUnpickle(MARKER)), "not a valid lpr model file"),
    "truncated": (lambda: npz_bytes(shipped_arrays())[:700], "not a valid lpr model file"),
    "future-version": (lambda: npz_bytes(with_metadata(version=MODEL_VERSION + 1)), "format version"),
    "zip-of-junk": (lambda: zip_of({"coef.npy": b"junk" * 100, "intercept.npy": b"\x00", "classes.npy": b"", "metadata.npy": b"{}"}), "not a valid lpr model file"),
    "other-zip": (lambda: zip_of({"readme.txt": b"hello"}), "missing coef"),
    "object-array": (lambda: npz_bytes({**shipped_arrays(), "coef": np.array([TouchOnUnpickle(MARKER)], dtype=object)}), "Python objects"),
    "wrong-shape": (lambda: npz_bytes(wrong_shape()), "inconsistent shapes"),
    "text-weights": (lambda: npz_bytes({**shipped_arrays(), "coef": np.array([["a"]])}), "expected numbers"),
    "huge-declared": (lambda: with_member("coef.npy", npy_header((200_000, 200_000))), "over the limit"),
    "plain-npy": (lambda: npz_member("coef"), "not a valid lpr model file"),
    "nan-weights": (lambda: npz_bytes({**shipped_arrays(), "coef": np.full_like(shipped_arrays()["coef"], np.nan)}), "not all finite"),
    "zero-temperature": (lambda: npz_bytes(with_metadata(temperature=0)), "temperature"),
    "info-not-object": (lambda: npz_bytes(with_metadata(info=[1, 2])), "info must be an object"),
    "deep-json": (lambda: npz_bytes({**shipped_arrays(), "metadata": np.array("[" * 100_000 + "]" * 100_000)}), "not valid JSON"),
    "giant-characters": (lambda: npz_bytes(with_metadata(features={"char_size": [10**9, 10**9], "block_sizes": [[10**9, 10**9]]})), "1..1024"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_library_refuses_with_a_model_error(case: str, tmp_path: Path, monkeypatch):
    make, reason = HOSTILE[case]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match=reason) as caught:
        model_from_bytes(make(), f"{case}.npz")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("case", ["pickle", "future-version", "object-array", "huge-declared"])
def test_command_refuses_with_one_line_and_exit_2(case: str, tmp_path: Path):
    make, reason = HOSTILE[case]
    model = tmp_path / f"{case}.npz"
    model.write_bytes(make())
    result = subprocess.run(
        [sys.executable, "-m", "lpr", "recognize", str(IMAGE), "--cropped", "--model", str(model)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"lpr: error: {model}: ") and reason in result.stderr
    assert not (tmp_path / MARKER).exists()


def test_pickle_payload_is_live(tmp_path: Path, monkeypatch):
    # Without this, the "no code ran" checks above could pass with a dud payload.
    monkeypatch.chdir(tmp_path)
    pickle.loads(HOSTILE["pickle"][0]())
    assert (tmp_path / MARKER).exists()


def test_two_class_model_loads():
    model = model_from_bytes(binary_model_bytes(), "binary.npz")
    assert model.classifier.classes == tuple(shipped_arrays()["classes"][:2])


def test_limit_is_far_above_the_shipped_model():
    assert shipped_arrays()["coef"].size * 100 < MAX_ARRAY_VALUES
