"""lpr.model: .npz model files round-trip exactly (weights, verifier, region profile, settings), version-3 files still load,
nothing is overwritten by accident, and hostile or damaged files, in the library and through the real `lpr` command,
are one-line errors that never run code."""

from __future__ import annotations

import dataclasses
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

from lpr.config import Config, FeatureConfig, IdentificationConfig, VerifierConfig, with_overrides
from lpr.datasets.synthetic import glyph_mask
from lpr.errors import ModelError, OutputExistsError
from lpr.identification import RegionIdentifier, look_length
from lpr.model import (
    MAX_ARRAY_VALUES,
    MODEL_VERSION,
    Model,
    _checksum,
    load_identifier,
    load_model,
    model_arrays,
    model_from_bytes,
    model_to_bytes,
    save_identifier,
    save_model,
)
from lpr.pipeline import Recognizer
from lpr.region import built_in_profile, pooled_layouts
from lpr.training.classifier import fit_character_classifier
from lpr.training.config import TrainingConfig
from lpr.verification import LinearScore, PlateVerifier, descriptor_lengths

REPO = Path(__file__).resolve().parent.parent
IMAGE = sorted((REPO / "datasets" / "samples" / "crops").glob("*.png"))[0]
MARKER = "code-ran.txt"
# Layouts a version-3 file kept per state in info["formats"].
FORMATS = {"va": {"LLLDDDD": 7, "DDDLLL": 1}, "md": {"DLLDDDD": 5, "LLLDDDD": 2}}


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
    classifier = fit_character_classifier(masks, labels, FeatureConfig(), TrainingConfig().classifier_regularization)
    return Model(classifier, "us", {"plates": 3, "note": "synthetic"})


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
    """Unpickling this creates a file: proof that pickled code (from a model file) ran."""

    def __init__(self, marker: str | Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_round_trip_gives_identical_predictions(model: Model, probe, tmp_path: Path):
    path = save_model(model, tmp_path / "m.npz")
    loaded = load_model(path)
    assert np.array_equal(loaded.classifier.probabilities(probe), model.classifier.probabilities(probe))
    assert loaded.classifier.classes == model.classifier.classes
    assert loaded.classifier.temperature == model.classifier.temperature
    assert loaded.classifier.features == model.classifier.features
    assert (loaded.region, loaded.info, loaded.source) == ("us", {"plates": 3, "note": "synthetic"}, str(path))
    assert (loaded.profile, loaded.config, loaded.training) == (model.profile, model.config, model.training)


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
    assert (loaded.region, loaded.profile, loaded.config, loaded.training) == (
        trained_model.region, trained_model.profile, trained_model.config, trained_model.training,
    )
    assert loaded.profile.subregions, "the states' layouts learned in training are kept"


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


def test_recognizer_takes_the_models_verifier(with_verifier: Model, model: Model):
    verifier = with_verifier.verifier
    taken = Recognizer(with_verifier).verifier
    assert taken is not None
    assert (taken.candidate, taken.reading, taken.config) == (verifier.candidate, verifier.reading, verifier.config)
    # Overriding a threshold keeps the model's own weights.
    overridden = Recognizer(with_verifier, overrides={"verifier.min_score": 0.9}).verifier
    assert (overridden.candidate, overridden.reading, overridden.config.min_score) == (verifier.candidate, verifier.reading, 0.9)
    assert Recognizer(model).verifier is None


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
    arrays = model_arrays(with_verifier)
    arrays["verifier_candidate_coef"] = arrays["verifier_candidate_coef"][:-1]
    metadata = json.loads(str(arrays["metadata"]))
    verifier_arrays = sorted(k for k in arrays if k.startswith("verifier_"))
    metadata["verifier"]["checksum"] = _checksum(*(arrays[k] for k in verifier_arrays))
    arrays["metadata"] = np.array(json.dumps(metadata))
    with pytest.raises(ModelError, match="do not fit"):
        load_model(write_arrays(tmp_path / "short.npz", arrays))


def a_identifier(classes=("us-ca", "us-va")) -> RegionIdentifier:
    """A RegionIdentifier with arbitrary (but valid) weights."""
    config = IdentificationConfig(window=(64, 32), colour_grid=(2, 2))
    length, rng = look_length(config), np.random.default_rng(5)
    return RegionIdentifier(
        tuple(classes), rng.normal(size=length).astype(np.float32), rng.uniform(0.5, 2, length).astype(np.float32),
        rng.normal(size=(len(classes), length)).astype(np.float32), rng.normal(size=len(classes)), 0.3, config,
    )


def test_identifier_round_trips_in_the_model_file_and_alone(model: Model, tmp_path: Path):
    saved = a_identifier()
    loaded = load_model(save_model(dataclasses.replace(model, identifier=saved), tmp_path / "i.npz")).identifier
    alone = load_identifier(save_identifier(saved, tmp_path / "regions.npz", {"note": "test"}))
    for read in (loaded, alone):
        assert (read.classes, read.temperature, read.config) == (saved.classes, saved.temperature, saved.config)
        assert all(np.array_equal(getattr(read, part), getattr(saved, part)) for part in ("mean", "scale", "coef", "intercept"))
    assert load_model(save_model(model, tmp_path / "plain.npz")).identifier is None
    with pytest.raises(OutputExistsError):
        save_identifier(saved, tmp_path / "regions.npz")


def test_altered_or_malformed_identifiers_are_refused(model: Model, tmp_path: Path):
    arrays = model_arrays(dataclasses.replace(model, identifier=a_identifier()))
    altered = dict(arrays, identifier_coef=arrays["identifier_coef"] * 2)
    with pytest.raises(ModelError, match="identifier checksum"):
        load_model(write_arrays(tmp_path / "altered.npz", altered))
    metadata = json.loads(str(arrays["metadata"]))
    metadata["identifier"]["settings"]["window"] = [10, 32]
    with pytest.raises(ModelError, match="malformed region identifier"):
        load_model(write_arrays(tmp_path / "bad.npz", dict(arrays, metadata=np.array(json.dumps(metadata)))))
    # A character model is not an identifier file, nor the reverse.
    with pytest.raises(ModelError, match="not an lpr region identifier"):
        load_identifier(save_model(model, tmp_path / "model.npz"))
    with pytest.raises(ModelError, match="not an lpr model"):
        load_model(save_identifier(a_identifier(), tmp_path / "alone.npz"))


# --- Region profile, settings and training record (format version 4), and version-3 files ---


@pytest.fixture(scope="module")
def tuned(model: Model) -> Model:
    """The synthetic model trained for us-va: a profile with learned layouts and its own geometry, non-default settings and a training record."""
    base = built_in_profile("us")
    profile = dataclasses.replace(
        base,
        geometry=dataclasses.replace(base.geometry, scene_characters=(5, 8), plate_box_padding=(0.2, 0.5)),
        lookalikes=("0O", "8B"),
        layouts=pooled_layouts(FORMATS),
        subregions=FORMATS,
    )
    config = with_overrides(Config(), {
        "localization.scales": [1.0], "segmentation.dark_offsets": [5, 20], "segmentation.band_margin": None,
        "decoding.top_n": 3, "scene.sure_confidence": 0.6, "scene.reread_plate_box": False, "verifier.min_candidate_score": -0.4,
    })
    training = {"classifier_regularization": 0.05, "shrunk_heights": [28, 36], "verifier_regularization": 0.003}
    return dataclasses.replace(model, region="us-va", profile=profile, config=config, training=training)


def metadata_of(arrays: dict[str, np.ndarray]) -> dict:
    return json.loads(str(arrays["metadata"]))


def with_changed_metadata(model: Model, change: Callable[[dict], object]) -> dict[str, np.ndarray]:
    """The model's arrays with change(metadata) applied to their metadata in place."""
    arrays = model_arrays(model)
    metadata = metadata_of(arrays)
    change(metadata)
    arrays["metadata"] = np.array(json.dumps(metadata))
    return arrays


def as_version_3(model: Model, region: str, formats: object = FORMATS) -> dict[str, np.ndarray]:
    """The model's arrays as a version-3 file held them: no profile, settings or training; region "us" or a
    state's two letters; the states' layouts in info["formats"]."""

    def change(metadata: dict) -> None:
        for key in ("profile", "settings", "training"):
            del metadata[key]
        metadata.update(version=3, region=region, regularization=0.1, info={**metadata["info"], "formats": formats})

    return with_changed_metadata(model, change)


def test_file_is_version_4_with_profile_settings_and_training(tuned: Model):
    metadata = metadata_of(model_arrays(tuned))
    assert MODEL_VERSION == 4 and metadata["version"] == 4
    assert metadata["region"] == "us-va"
    assert metadata["profile"] == tuned.profile.to_dict()
    assert metadata["training"] == tuned.training
    # The features stage lives in its own entry, with the weights it shapes; so do the verifier
    # settings of a model with a verifier, and a model without one keeps them with the others.
    assert tuned.verifier is None
    assert set(metadata["settings"]) == {"localization", "verifier", "segmentation", "decoding", "scene"}
    assert metadata["settings"]["scene"]["sure_confidence"] == 0.6


def test_version_4_round_trip_keeps_region_profile_settings_and_training(tuned: Model, probe, tmp_path: Path):
    for loaded in (load_model(save_model(tuned, tmp_path / "va.npz")), model_from_bytes(model_to_bytes(tuned))):
        assert loaded.region == "us-va"
        assert loaded.profile == tuned.profile
        assert loaded.profile.geometry.scene_characters == (5, 8) and loaded.profile.lookalikes == ("0O", "8B")
        assert loaded.config == tuned.config
        assert loaded.config.segmentation.band_margin is None and loaded.config.localization.scales == (1.0,)
        # A model without a verifier keeps its verifier settings too (a region's, such as the US's candidate threshold).
        assert loaded.config.verifier.min_candidate_score == -0.4
        assert loaded.training == tuned.training
        assert loaded.info == tuned.info
        assert np.array_equal(loaded.classifier.probabilities(probe), tuned.classifier.probabilities(probe))


def test_version_4_round_trip_with_a_verifier_keeps_its_settings(tuned: Model, with_verifier: Model):
    model = dataclasses.replace(tuned, verifier=with_verifier.verifier)
    loaded = model_from_bytes(model_to_bytes(model))
    assert loaded.config == model.config
    assert loaded.config.verifier == with_verifier.verifier.config and loaded.config.verifier.min_score == 0.5


def test_recognizer_reads_with_the_recorded_settings_and_profile(tuned: Model):
    recognizer = Recognizer(model_from_bytes(model_to_bytes(tuned)))
    assert recognizer.config == tuned.config
    assert recognizer.region == "us-va" and recognizer.region_known
    assert recognizer.profile.layouts == FORMATS["va"] and recognizer.profile.parent == "us"
    assert recognizer.profile.geometry == tuned.profile.geometry


@pytest.mark.parametrize(("region", "expected"), [("us", "us"), ("va", "us-va")])
def test_version_3_file_reads_as_the_us_profile_with_its_states_as_subregions(tuned: Model, tmp_path: Path, region: str, expected: str):
    loaded = load_model(write_arrays(tmp_path / "v3.npz", as_version_3(tuned, region)))
    assert loaded.region == expected
    us = built_in_profile("us")
    assert loaded.profile.code == "us" and loaded.profile.parent is None
    assert (loaded.profile.alphabet, loaded.profile.geometry, loaded.profile.lookalikes) == (us.alphabet, us.geometry, us.lookalikes)
    assert loaded.profile.subregions == FORMATS
    assert loaded.profile.layouts == {"LLLDDDD": 9, "DDDLLL": 1, "DLLDDDD": 5}
    # Version 3 recorded no settings: the model reads with the defaults (and its own features).
    assert loaded.config == dataclasses.replace(Config(), features=tuned.classifier.features)
    assert loaded.training == {}
    assert loaded.info["formats"] == FORMATS
    recognizer = Recognizer(loaded, region="us-md")
    assert recognizer.region_known and recognizer.profile.layouts == FORMATS["md"]


def test_version_3_file_keeps_its_verifier(with_verifier: Model, tmp_path: Path):
    loaded = load_model(write_arrays(tmp_path / "v3.npz", as_version_3(with_verifier, "us")))
    assert loaded.verifier is not None and loaded.verifier.config == with_verifier.verifier.config
    assert loaded.config.verifier == with_verifier.verifier.config
    assert np.array_equal(loaded.verifier.reading.coef, with_verifier.verifier.reading.coef)


def test_version_3_file_without_formats_has_no_layouts(model: Model, tmp_path: Path):
    arrays = as_version_3(model, "us")
    metadata = metadata_of(arrays)
    del metadata["info"]["formats"]
    arrays["metadata"] = np.array(json.dumps(metadata))
    loaded = load_model(write_arrays(tmp_path / "v3.npz", arrays))
    assert (loaded.region, loaded.profile.code, dict(loaded.profile.layouts), dict(loaded.profile.subregions)) == ("us", "us", {}, {})


def test_shipped_model_reads_as_the_us_profile_with_the_states_as_subregions():
    # Holds whether models/us.npz is still a version-3 file or already a version-4 one.
    model = load_model()
    stored = json.loads(str(np.load(model.source)["metadata"]))
    assert stored["version"] in (3, 4)
    assert model.region == "us" and model.profile.code == "us" and model.profile.parent is None
    assert len(model.profile.subregions) > 10 and all(len(state) == 2 for state in model.profile.subregions)
    assert model.profile.layouts == pooled_layouts(model.profile.subregions)
    if stored["version"] == 3:
        assert model.profile.subregions == stored["info"]["formats"]
    else:
        written = model.profile.to_dict()
        # A profile stored before two-line plates and country bands were read lacks their geometry, which loads as the default.
        assert written["geometry"].pop("line_character_height") == list(stored["profile"]["geometry"].pop("line_character_height", [0.45, 0.98]))
        assert written["geometry"].pop("country_band") is stored["profile"]["geometry"].pop("country_band", False) is False
        assert written == stored["profile"]
    assert model.verifier is not None
    assert Recognizer(model, region="us-va").region_known


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A metadata change: set the entry at the dotted path (e.g. "profile.geometry.lines") to value."""
    *parents, last = path.split(".")

    def change(metadata: dict) -> None:
        node = metadata
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _delete(path: str) -> Callable[[dict], None]:
    *parents, last = path.split(".")

    def change(metadata: dict) -> None:
        node = metadata
        for key in parents:
            node = node[key]
        del node[last]

    return change


TAMPERED = {
    "profile-missing": _delete("profile"),
    "profile-not-object": _set("profile", [1, 2]),
    "profile-null": _set("profile", None),
    "profile-bad-code": _set("profile.code", "U S A"),
    "profile-no-geometry": _delete("profile.geometry"),
    "profile-reversed-range": _set("profile.geometry.scene_characters", [8, 4]),
    "profile-text-lines": _set("profile.geometry.lines", "two"),
    "profile-short-pair": _set("profile.geometry.plate_aspect", [2.0]),
    "profile-empty-alphabet": _set("profile.alphabet", ""),
    "profile-repeated-alphabet": _set("profile.alphabet", "AAB"),
    "profile-bad-layout": _set("profile.layouts", {"LLXDDD": 3}),
    "profile-negative-count": _set("profile.subregions", {"va": {"LLLDDDD": -1}}),
    "settings-not-object": _set("settings", [1]),
    "settings-unknown-stage": _set("settings.recognition", {"top_n": 3}),
    "settings-stage-not-object": _set("settings.scene", 5),
    "settings-unknown-field": _set("settings.segmentation.no_such_setting", 1),
    "settings-wrong-type": _set("settings.scene.sure_confidence", "high"),
    "settings-not-bool": _set("settings.scene.reread_plate_box", 1),
    "settings-not-list": _set("settings.segmentation.dark_offsets", 5),
    "settings-null": _set("settings.decoding.top_n", None),
    "training-not-object": _set("training", [1]),
    "region-not-text": _set("region", ["us"]),
    "region-not-a-code": _set("region", "U S!"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_profile_or_settings_is_a_one_line_model_error(tuned: Model, case: str):
    data = npz_bytes(with_changed_metadata(tuned, TAMPERED[case]))
    with pytest.raises(ModelError) as caught:
        model_from_bytes(data, f"{case}.npz")
    message = str(caught.value)
    assert message.startswith(f"{case}.npz: ") and "\n" not in message


@pytest.mark.parametrize("region", ["br", "ca", "usa", "eu-va"])
def test_region_outside_its_profile_is_refused(tuned: Model, region: str, tmp_path: Path):
    path = write_arrays(tmp_path / "elsewhere.npz", with_changed_metadata(tuned, _set("region", region)))
    with pytest.raises(ModelError, match="not 'us' or one of its sub-regions") as caught:
        load_model(path)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)
    # Nor does a Model built in memory read a region its profile does not hold.
    with pytest.raises(ValueError, match=region):
        Recognizer(dataclasses.replace(tuned, region=region))


def test_sub_region_of_its_profile_loads(tuned: Model):
    # A sub-region the profile learned no layouts for is still the profile's: it is read with the region's layouts.
    loaded = model_from_bytes(npz_bytes(with_changed_metadata(tuned, _set("region", "us-tx"))))
    assert loaded.region == "us-tx"
    recognizer = Recognizer(loaded)
    assert not recognizer.region_known and recognizer.profile.layouts == tuned.profile.layouts


# --- Hostile and damaged model files through the library and the real `lpr` command: one `lpr: error:` line, exit 2, no code run ---


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Named arrays in, .npz bytes out (object arrays allowed, to build hostile files)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def shipped_arrays() -> dict[str, np.ndarray]:
    """The arrays of the shipped model, as a starting point for damaged copies."""
    return model_arrays(load_model())


def shipped_with_metadata(**changes: object) -> dict[str, np.ndarray]:
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
    arrays = shipped_arrays()
    coef, intercept, classes = arrays["coef"][:1].copy(), arrays["intercept"][:1].copy(), arrays["classes"][:2].copy()
    metadata = json.loads(str(arrays["metadata"]))
    metadata["checksum"] = _checksum(coef, intercept, classes)
    # Only the classifier is under test here: the shipped model's verifier and identifier are left out.
    metadata.pop("verifier", None)
    metadata.pop("identifier", None)
    return npz_bytes({"coef": coef, "intercept": intercept, "classes": classes, "metadata": np.array(json.dumps(metadata))})


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "pickle": (lambda: pickle.dumps(TouchOnUnpickle(MARKER)), "not a valid lpr model file"),
    "truncated": (lambda: npz_bytes(shipped_arrays())[:700], "not a valid lpr model file"),
    "future-version": (lambda: npz_bytes(shipped_with_metadata(version=MODEL_VERSION + 1)), "format version"),
    "zip-of-junk": (lambda: zip_of({"coef.npy": b"junk" * 100, "intercept.npy": b"\x00", "classes.npy": b"", "metadata.npy": b"{}"}), "not a valid lpr model file"),
    "other-zip": (lambda: zip_of({"readme.txt": b"hello"}), "missing coef"),
    "object-array": (lambda: npz_bytes({**shipped_arrays(), "coef": np.array([TouchOnUnpickle(MARKER)], dtype=object)}), "Python objects"),
    "wrong-shape": (lambda: npz_bytes(wrong_shape()), "inconsistent shapes"),
    "text-weights": (lambda: npz_bytes({**shipped_arrays(), "coef": np.array([["a"]])}), "expected numbers"),
    "huge-declared": (lambda: with_member("coef.npy", npy_header((200_000, 200_000))), "over the limit"),
    "plain-npy": (lambda: npz_member("coef"), "not a valid lpr model file"),
    "nan-weights": (lambda: npz_bytes({**shipped_arrays(), "coef": np.full_like(shipped_arrays()["coef"], np.nan)}), "not all finite"),
    "zero-temperature": (lambda: npz_bytes(shipped_with_metadata(temperature=0)), "temperature"),
    "info-not-object": (lambda: npz_bytes(shipped_with_metadata(info=[1, 2])), "info and training must be objects"),
    "deep-json": (lambda: npz_bytes({**shipped_arrays(), "metadata": np.array("[" * 100_000 + "]" * 100_000)}), "not valid JSON"),
    "training-not-object": (lambda: npz_bytes(shipped_with_metadata(training=[1, 2])), "info and training must be objects"),
    "foreign-region": (lambda: npz_bytes(shipped_with_metadata(region="br")), "not 'us' or one of its sub-regions"),
    "bad-profile": (lambda: npz_bytes(shipped_with_metadata(profile={"code": "us"})), "malformed"),
    "bad-settings": (lambda: npz_bytes(shipped_with_metadata(settings={"scene": {"sure_confidence": "high"}})), "sure_confidence"),
    "giant-characters": (lambda: npz_bytes(shipped_with_metadata(features={"char_size": [10**9, 10**9], "block_sizes": [[10**9, 10**9]]})), "1..1024"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_library_refuses_with_a_model_error(case: str, tmp_path: Path, monkeypatch):
    make, reason = HOSTILE[case]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match=reason) as caught:
        model_from_bytes(make(), f"{case}.npz")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("case", ["pickle", "future-version", "object-array", "huge-declared", "foreign-region", "bad-settings"])
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


@pytest.mark.parametrize(
    "settings",
    [{"segmentation": {"plate_height": 0}}, {"segmentation": {"block_size": -4}}, {"segmentation": {"dark_offsets": [], "light_offsets": []}}],
    ids=["zero-plate-height", "negative-block-size", "no-threshold-offsets"],
)
def test_command_refuses_settings_recognition_cannot_run_with(settings: dict, tmp_path: Path):
    # Settings of the right type but no usable value, in a tampered file: one error line, never a traceback.
    arrays = shipped_arrays()
    metadata = json.loads(str(arrays["metadata"]))
    for stage, values in settings.items():
        metadata["settings"].setdefault(stage, {}).update(values)
    arrays["metadata"] = np.array(json.dumps(metadata))
    model = tmp_path / "tampered.npz"
    model.write_bytes(npz_bytes(arrays))
    result = subprocess.run(
        [sys.executable, "-m", "lpr", "recognize", str(IMAGE), "--cropped", "--model", str(model)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr[-400:]
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("lpr: error: ")
