"""lpr.model: .npz model files round-trip exactly, are never overwritten by accident, and never run code."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from lpr.classification import CharacterClassifier
from lpr.datasets.synthetic import glyph_mask
from lpr.errors import ModelError, OutputExistsError
from lpr.model import MODEL_VERSION, Model, load_model, model_arrays, model_from_bytes, model_to_bytes, save_model
from lpr.verification import LinearScore


def masks_for(chars: str, per_char: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Characters in, (varied uint8 masks, labels) out."""
    rng = np.random.default_rng(seed)
    masks, labels = [], []
    for char in chars:
        for _ in range(per_char):
            masks.append(np.where(glyph_mask(char, int(rng.integers(30, 60))) > 0.5, 255, 0).astype(np.uint8))
            labels.append(char)
    return masks, labels


@pytest.fixture(scope="module")
def model() -> Model:
    masks, labels = masks_for("0123456789ABC", 6, seed=0)
    return Model(CharacterClassifier().fit(masks, labels), "us", {"plates": 3, "note": "synthetic"})


@pytest.fixture(scope="module")
def probe() -> list[np.ndarray]:
    return masks_for("05AC9", 2, seed=1)[0]


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write named arrays as an .npz file (object arrays allowed, to build hostile files); returns path."""
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    return path


def with_metadata(model: Model, **changes: object) -> dict[str, np.ndarray]:
    """The model's arrays with metadata fields replaced."""
    arrays = model_arrays(model)
    metadata = json.loads(str(arrays["metadata"]))
    metadata.update(changes)
    arrays["metadata"] = np.array(json.dumps(metadata))
    return arrays


class TouchOnUnpickle:
    """Unpickling this creates a file: proof that pickled code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_round_trip_gives_identical_predictions(model: Model, probe, tmp_path: Path):
    path = save_model(model, tmp_path / "m.npz")
    loaded = load_model(path)
    assert np.array_equal(loaded.classifier.probabilities(probe), model.classifier.probabilities(probe))
    assert loaded.classifier.classes == model.classifier.classes
    assert loaded.classifier.temperature == model.classifier.temperature
    assert loaded.classifier.features == model.classifier.features
    assert (loaded.region, loaded.info, loaded.source) == ("us", {"plates": 3, "note": "synthetic"}, str(path))


def test_bytes_round_trip(model: Model, probe):
    loaded = model_from_bytes(model_to_bytes(model))
    assert np.array_equal(loaded.classifier.probabilities(probe), model.classifier.probabilities(probe))


def test_suffix_is_added(model: Model, tmp_path: Path):
    assert save_model(model, tmp_path / "plain") == tmp_path / "plain.npz"
    assert (tmp_path / "plain.npz").is_file()


def test_refuses_to_overwrite_without_force(model: Model, tmp_path: Path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        save_model(model, path)
    assert path.read_bytes() == b"precious"
    save_model(model, path, force=True)
    assert load_model(path).region == "us"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


def test_missing_file(tmp_path: Path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.npz")
    with pytest.raises(ModelError, match="no shipped model"):
        load_model("no-such-region")


def test_plain_pickle_file_is_refused_without_running_it(tmp_path: Path):
    marker = tmp_path / "ran.txt"
    payload = pickle.dumps(TouchOnUnpickle(marker))
    # The payload is live: unpickling it elsewhere does create its marker.
    control = tmp_path / "control.txt"
    pickle.loads(pickle.dumps(TouchOnUnpickle(control)))
    assert control.exists()
    path = tmp_path / "evil.npz"
    path.write_bytes(payload)
    with pytest.raises(ModelError):
        load_model(path)
    assert not marker.exists()


def test_object_arrays_in_npz_are_refused_without_running_them(model: Model, tmp_path: Path):
    marker = tmp_path / "ran.txt"
    arrays = model_arrays(model)
    arrays["coef"] = np.array([TouchOnUnpickle(marker)], dtype=object)
    path = write_arrays(tmp_path / "evil.npz", arrays)
    with pytest.raises(ModelError):
        load_model(path)
    assert not marker.exists()


def test_truncated_file(model: Model, tmp_path: Path):
    data = (save_model(model, tmp_path / "m.npz")).read_bytes()
    for size in (len(data) // 2, 40, 0):
        path = tmp_path / f"cut{size}.npz"
        path.write_bytes(data[:size])
        with pytest.raises(ModelError):
            load_model(path)


def test_wrong_version(model: Model, tmp_path: Path):
    path = write_arrays(tmp_path / "future.npz", with_metadata(model, version=MODEL_VERSION + 1))
    with pytest.raises(ModelError, match="version"):
        load_model(path)


def test_not_a_model(model: Model, tmp_path: Path):
    with pytest.raises(ModelError, match="missing"):
        load_model(write_arrays(tmp_path / "other.npz", {"weights": np.zeros(3)}))
    with pytest.raises(ModelError, match="not an lpr model"):
        load_model(write_arrays(tmp_path / "foreign.npz", with_metadata(model, format="something-else")))
    (tmp_path / "text.npz").write_text("not a zip file\n")
    with pytest.raises(ModelError):
        load_model(tmp_path / "text.npz")


def test_tampered_weights_fail_the_checksum(model: Model, tmp_path: Path):
    arrays = model_arrays(model)
    arrays["coef"] = arrays["coef"].copy()
    arrays["coef"][0, 0] += 0.5
    with pytest.raises(ModelError, match="checksum"):
        load_model(write_arrays(tmp_path / "tampered.npz", arrays))
    arrays = model_arrays(model)
    arrays["classes"] = arrays["classes"][::-1].copy()  # relabelled outputs are tampering too
    with pytest.raises(ModelError, match="checksum"):
        load_model(write_arrays(tmp_path / "relabelled.npz", arrays))


def test_inconsistent_feature_config(model: Model, tmp_path: Path):
    bad_blocks = with_metadata(model, features={"char_size": [32, 16], "block_sizes": [[5, 4]]})
    with pytest.raises(ModelError):
        load_model(write_arrays(tmp_path / "blocks.npz", bad_blocks))
    other_length = with_metadata(model, features={"char_size": [32, 16], "block_sizes": [[16, 8]]})
    with pytest.raises(ModelError, match="features"):
        load_model(write_arrays(tmp_path / "length.npz", other_length))


def test_trained_model_round_trip(trained_model: Model, tmp_path: Path, probe):
    loaded = load_model(save_model(trained_model, tmp_path / "real.npz"))
    assert np.array_equal(loaded.classifier.probabilities(probe), trained_model.classifier.probabilities(probe))
    assert [p.guesses for p in loaded.classifier.predict(probe)] == [p.guesses for p in trained_model.classifier.predict(probe)]


def random_score(length: int, seed: int) -> LinearScore:
    """A LinearScore over length features with arbitrary (but valid) weights."""
    rng = np.random.default_rng(seed)
    return LinearScore(
        rng.normal(size=length).astype(np.float32), rng.uniform(0.5, 2, length).astype(np.float32),
        rng.normal(size=length).astype(np.float32), float(rng.normal()),
    )


@pytest.fixture(scope="module")
def with_verifier(model: Model) -> Model:
    """The synthetic model plus a plate verifier with arbitrary (but valid) weights and non-default thresholds."""
    import dataclasses

    from lpr.config import VerifierConfig
    from lpr.verification import PlateVerifier, descriptor_lengths

    settings = VerifierConfig(min_score=0.5, min_candidate_score=-2.0)
    candidate, reading = descriptor_lengths(settings)
    return dataclasses.replace(model, verifier=PlateVerifier(random_score(candidate, 2), random_score(reading, 3), settings))


def test_verifier_round_trips_in_the_model_file(with_verifier: Model, tmp_path: Path):
    for loaded in (load_model(save_model(with_verifier, tmp_path / "v.npz")), model_from_bytes(model_to_bytes(with_verifier))):
        assert loaded.verifier is not None
        for name in ("candidate", "reading"):
            saved, read = getattr(with_verifier.verifier, name), getattr(loaded.verifier, name)
            for part in ("mean", "scale", "coef"):
                assert np.array_equal(getattr(read, part), getattr(saved, part))
            assert read.intercept == saved.intercept
        assert (loaded.verifier.config.min_score, loaded.verifier.config.min_candidate_score) == (0.5, -2.0)
        assert loaded.verifier.config.window == with_verifier.verifier.config.window


def test_model_without_verifier_loads_with_none(model: Model):
    assert "verifier" not in json.loads(str(model_arrays(model)["metadata"]))
    assert model_from_bytes(model_to_bytes(model)).verifier is None


def test_recognizer_takes_the_models_verifier(with_verifier: Model):
    from lpr.recognizer import Recognizer

    assert Recognizer(with_verifier).verifier is with_verifier.verifier
    assert Recognizer(with_verifier, verifier=None).verifier is with_verifier.verifier


def test_altered_verifier_weights_are_refused(with_verifier: Model, tmp_path: Path):
    arrays = model_arrays(with_verifier)
    arrays["verifier_reading_coef"] = arrays["verifier_reading_coef"] * 2
    with pytest.raises(ModelError, match="verifier checksum"):
        load_model(write_arrays(tmp_path / "altered.npz", arrays))


def test_missing_verifier_arrays_are_refused(with_verifier: Model, tmp_path: Path):
    arrays = model_arrays(with_verifier)
    del arrays["verifier_intercepts"]
    with pytest.raises(ModelError, match="missing verifier_intercepts"):
        load_model(write_arrays(tmp_path / "missing.npz", arrays))


@pytest.mark.parametrize("change", [{"window": [96]}, {"hog_cell": 0}, {"min_score": "high"}, {"search_candidates": 0}, {"window": [10**6, 32]}, {"plate_window": [96, 0]}])
def test_malformed_verifier_settings_are_refused(with_verifier: Model, tmp_path: Path, change: dict):
    arrays = model_arrays(with_verifier)
    metadata = json.loads(str(arrays["metadata"]))
    metadata["verifier"].update(change)
    arrays["metadata"] = np.array(json.dumps(metadata))
    with pytest.raises(ModelError, match="verifier"):
        load_model(write_arrays(tmp_path / "bad.npz", arrays))


def test_verifier_that_does_not_fit_its_settings_is_refused(with_verifier: Model, tmp_path: Path):
    from lpr.model import _checksum

    arrays = model_arrays(with_verifier)
    arrays["verifier_candidate_coef"] = arrays["verifier_candidate_coef"][:-1]
    metadata = json.loads(str(arrays["metadata"]))
    verifier_arrays = sorted(k for k in arrays if k.startswith("verifier_"))
    metadata["verifier"]["checksum"] = _checksum(*(arrays[k] for k in verifier_arrays))
    arrays["metadata"] = np.array(json.dumps(metadata))
    with pytest.raises(ModelError, match="do not fit"):
        load_model(write_arrays(tmp_path / "short.npz", arrays))
