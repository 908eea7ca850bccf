"""Trained models as data: classifier weights, plate verifier, region profile and settings in, a .npz file (arrays + JSON metadata, no pickle) out, and back."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .classification import CharacterClassifier
from .config import Config, FeatureConfig, IdentificationConfig, VerifierConfig
from .errors import ModelError
from .features import feature_length, validate_feature_config
from .files import write_atomically
from .identification import RegionIdentifier
from .region import RegionProfile, built_in_profile, pooled_layouts, region_code, state_region
from .verification import LinearScore, PlateVerifier, descriptor_lengths

MODEL_FORMAT = "lpr-character-model"
# Version 2: the verifier ranks candidates and gates readings with two standardized linear scores.
# Version 3: the reading score also weighs the reading's length and letter/digit layout.
# Version 4: the file stores its region profile and the settings it was trained with.
MODEL_VERSION = 4
# Versions this lpr reads: a version-3 file is read as trained with the default settings
# and the US profile, its per-state layouts as the profile's sub-regions.
READABLE_VERSIONS = (3, 4)
DEFAULT_MODEL = "us"
_ARRAYS = ("coef", "intercept", "classes", "metadata")
# The numpy dtype kind each array of a model file must have: floats, unicode text.
_KINDS = {"coef": "f", "intercept": "f", "classes": "U", "metadata": "U"}
# The optional plate verifier's arrays, present when the metadata has a "verifier" entry.
_VERIFIER_SCORES = ("candidate", "reading")
_VERIFIER_KINDS = {f"verifier_{score}_{part}": "f" for score in _VERIFIER_SCORES for part in ("mean", "scale", "coef")} | {"verifier_intercepts": "f"}
# The optional region identifier's arrays, present when the metadata has an "identifier" entry.
_IDENTIFIER_KINDS = {f"identifier_{part}": "f" for part in ("mean", "scale", "coef", "intercept")}
# A file holding a region identifier alone (models/regions.npz: which region's model reads a plate).
IDENTIFIER_FORMAT = "lpr-region-identifier"
IDENTIFIER_VERSION = 1
REGIONS_IDENTIFIER = "regions"
# Largest HOG window side a model's verifier may ask for (the default is 96 x 32).
MAX_VERIFIER_SIDE = 512
# Values allowed in one array of a model file, checked on its header before reading it, so
# a crafted file cannot make lpr allocate gigabytes (the shipped model holds ~10 000).
MAX_ARRAY_VALUES = 20_000_000
# Largest character side a model may ask for; features are computed at this size per character.
MAX_CHAR_SIDE = 1024
# Exceptions the zip and .npy readers raise on damaged or hostile files.
_READ_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError,
    NotImplementedError, zlib.error, struct.error, MemoryError, RecursionError,
)


@dataclass
class Model:
    """A trained character classifier and plate verifier for one region ("us", or a sub-region such as "us-va")."""

    classifier: CharacterClassifier
    # The region the model was trained for: its profile's code or one of its sub-regions.
    region: str = DEFAULT_MODEL
    # Facts about training, e.g. plates and characters used and held-out accuracy.
    info: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    # The plate/not-plate check for scene candidates, trained with the classifier when
    # scenes are given; None for crop-only models (scene readings are then gated by confidence).
    verifier: PlateVerifier | None = None
    # The region's profile (geometry, alphabet, layouts of it and its sub-regions).
    profile: RegionProfile = field(default_factory=lambda: built_in_profile(DEFAULT_MODEL))
    # Which of the region's sub-regions (US states) a plate is from, by its look; None when not trained.
    identifier: RegionIdentifier | None = None
    # The settings the model was trained with, which recognition uses unless overridden.
    # Its features and verifier stages are the classifier's and the verifier's own.
    config: Config = field(default_factory=Config)
    # The training-only settings it was trained with (see training.config), for the record.
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        verifier = self.verifier.config if self.verifier is not None else self.config.verifier
        self.config = replace(self.config, features=self.classifier.features, verifier=verifier)


def _checksum(*arrays: np.ndarray) -> str:
    """Arrays in, the SHA-256 hex digest of their bytes out (detects damaged or altered files)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def model_arrays(model: Model) -> dict[str, np.ndarray]:
    """A model in, the named arrays of its .npz file out (weights, classes and JSON metadata; no objects)."""
    classifier = model.classifier
    coef = np.asarray(classifier.coef, dtype=np.float64)
    intercept = np.asarray(classifier.intercept, dtype=np.float64)
    classes = np.asarray(list(classifier.classes), dtype="<U1")
    features = classifier.features
    # The features and verifier stages are written with the weights they shape (below); a model
    # without a verifier keeps its verifier settings here, so the file holds every setting it was trained with.
    shaped = ("features",) if model.verifier is None else ("features", "verifier")
    settings = {stage: values for stage, values in model.config.to_dict().items() if stage not in shaped}
    metadata = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "region": model.region,
        "profile": model.profile.to_dict(),
        "settings": settings,
        "training": model.training,
        "temperature": classifier.temperature,
        "features": {
            "char_size": list(features.char_size),
            "block_sizes": [list(b) for b in features.block_sizes],
            "hog_cell": features.hog_cell,
            "hog_bins": features.hog_bins,
            "gray_hog_cell": features.gray_hog_cell,
            "gray_hog_bins": features.gray_hog_bins,
        },
        "checksum": _checksum(coef, intercept, classes),
        "info": model.info,
    }
    arrays = {"coef": coef, "intercept": intercept, "classes": classes}
    if model.verifier is not None:
        verifier = model.verifier
        scores = {name: getattr(verifier, name) for name in _VERIFIER_SCORES}
        verifier_arrays = {
            f"verifier_{name}_{part}": np.asarray(getattr(score, part), dtype=np.float32)
            for name, score in scores.items()
            for part in ("mean", "scale", "coef")
        }
        verifier_arrays["verifier_intercepts"] = np.asarray([s.intercept for s in scores.values()], dtype=np.float64)
        checksum = _checksum(*(verifier_arrays[k] for k in sorted(verifier_arrays)))
        metadata["verifier"] = {**verifier_settings(verifier.config), "checksum": checksum}
        arrays.update(verifier_arrays)
    if model.identifier is not None:
        identifier_arrays, metadata["identifier"] = identifier_parts(model.identifier)
        arrays.update(identifier_arrays)
    return {**arrays, "metadata": np.array(json.dumps(metadata))}


def identifier_parts(identifier: RegionIdentifier) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A region identifier in, (its named arrays, its metadata entry: classes, settings, temperature, checksum) out."""
    arrays = {
        "identifier_mean": np.asarray(identifier.mean, np.float32),
        "identifier_scale": np.asarray(identifier.scale, np.float32),
        "identifier_coef": np.asarray(identifier.coef, np.float32),
        "identifier_intercept": np.asarray(identifier.intercept, np.float64),
    }
    config = identifier.config
    entry = {
        "classes": list(identifier.classes),
        "temperature": identifier.temperature,
        "settings": {name: list(v) if isinstance(v, tuple) else v for name, v in vars(config).items()},
        "checksum": _checksum(*(arrays[k] for k in sorted(arrays))),
    }
    return arrays, entry


def _checked_arrays(source: str | os.PathLike | BinaryIO, path: str, entry: Any, kinds: dict[str, str], part: str) -> dict[str, np.ndarray]:
    """A model file, the metadata entry of one of its parts (verifier, identifier) and that part's array kinds in, its arrays out, checksum checked; ModelError otherwise."""
    if not isinstance(entry, dict):
        raise ModelError(f"{path}: malformed {part} metadata (not an object)")
    arrays = read_npz_arrays(source, path, kinds)
    if entry.get("checksum") != _checksum(*(arrays[k] for k in sorted(arrays))):
        raise ModelError(f"{path}: {part} checksum mismatch (file damaged or altered)")
    return arrays


def read_identifier(source: str | os.PathLike | BinaryIO, path: str, entry: Any) -> RegionIdentifier:
    """A file holding identifier arrays and its metadata's "identifier" entry in, the checked RegionIdentifier out; ModelError otherwise."""
    arrays = _checked_arrays(source, path, entry, _IDENTIFIER_KINDS, "identifier")
    try:
        settings = dict(entry["settings"])
        config = IdentificationConfig(**{k: tuple(int(x) for x in v) if isinstance(v, list) else v for k, v in settings.items()})
        if max(config.window) > MAX_VERIFIER_SIDE:
            raise ValueError(f"window {config.window} is over {MAX_VERIFIER_SIDE} px")
        classes = tuple(region_code(c) for c in entry["classes"])
        temperature = _positive(entry, "temperature", None, path)
        return RegionIdentifier(
            classes, arrays["identifier_mean"], arrays["identifier_scale"], arrays["identifier_coef"], arrays["identifier_intercept"], temperature, config,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"{path}: malformed region identifier ({type(error).__name__}: {error})") from None


def save_identifier(identifier: RegionIdentifier, path: str | os.PathLike, info: dict[str, Any] | None = None, force: bool = False) -> Path:
    """Write a region identifier alone to a .npz file atomically (what models/regions.npz is); refuses to overwrite unless force."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    arrays, entry = identifier_parts(identifier)
    metadata = {"format": IDENTIFIER_FORMAT, "version": IDENTIFIER_VERSION, "identifier": entry, "info": info or {}}
    arrays["metadata"] = np.array(json.dumps(metadata))
    write_atomically(path, lambda stream: np.savez(stream, **arrays), force=force, suffix=".npz")
    return path


def load_identifier(name_or_path: str | os.PathLike = REGIONS_IDENTIFIER) -> RegionIdentifier:
    """A shipped identifier's name ("regions") or a .npz path in, the RegionIdentifier out; a one-line ModelError when missing or malformed."""
    path = resolve_model(name_or_path)
    text = read_npz_arrays(path, str(path), {"metadata": "U"})["metadata"]
    try:
        metadata = json.loads(str(text.item())) if text.shape == () else None
    except (ValueError, RecursionError):
        metadata = None
    if not isinstance(metadata, dict) or metadata.get("format") != IDENTIFIER_FORMAT or metadata.get("version") != IDENTIFIER_VERSION:
        raise ModelError(f"{path}: not an lpr region identifier file (format {IDENTIFIER_FORMAT} version {IDENTIFIER_VERSION})")
    return read_identifier(path, str(path), metadata.get("identifier"))


def verifier_settings(config: VerifierConfig) -> dict[str, Any]:
    """A VerifierConfig in, the JSON-able settings a saved verifier needs (descriptor shape and thresholds) out."""
    return {
        "window": list(config.window),
        "hog_cell": config.hog_cell,
        "hog_bins": config.hog_bins,
        "band_margin": list(config.band_margin),
        "plate_window": list(config.plate_window),
        "plate_margin": list(config.plate_margin),
        "search_candidates": config.search_candidates,
        "min_candidate_score": config.min_candidate_score,
        "min_score": config.min_score,
    }


def save_model(model: Model, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a model to a .npz file atomically; refuses to overwrite an existing file unless force."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    arrays = model_arrays(model)
    write_atomically(path, lambda stream: np.savez(stream, **arrays), force=force, suffix=".npz")
    return path


def model_to_bytes(model: Model) -> bytes:
    """A model in, the bytes of its .npz file out: the form in which it travels to worker processes."""
    buffer = io.BytesIO()
    np.savez(buffer, **model_arrays(model))
    return buffer.getvalue()


def model_from_bytes(data: bytes, name: str = "model") -> Model:
    """The bytes of a .npz model file in, the Model out; checked like a file, never unpickled."""
    return read_model(io.BytesIO(data), name)


def shipped_model_path(name: str) -> Path:
    """Path of a model shipped with lpr (models/NAME.npz), whether or not it exists."""
    return Path(str(resources.files("lpr.models").joinpath(f"{name}.npz")))


def resolve_model(name_or_path: str | os.PathLike | None) -> Path:
    """A model name ("us", "md") or a file path in, the model file's path out; ModelError if there is none."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    candidate = Path(name_or_path)
    if candidate.suffix == ".npz" or candidate.exists() or os.sep in str(name_or_path):
        if not candidate.is_file():
            raise ModelError(f"{candidate}: model file not found")
        return candidate
    shipped = shipped_model_path(str(name_or_path).lower())
    if not shipped.is_file():
        raise ModelError(f"no shipped model named {name_or_path!r} and no such file")
    return shipped


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    """A model name or .npz path in, the Model out; never executes code from the file (no pickle)."""
    path = resolve_model(name_or_path)
    return read_model(path, str(path))


def _check_npy_header(archive: zipfile.ZipFile, member: str, kind: str, path: str) -> None:
    """Raise ModelError unless the .npy member's header declares a plain array of the given dtype kind and a bounded size."""
    with archive.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        raise ModelError(f"{path}: {member} holds Python objects, which lpr never loads")
    if dtype.kind != kind:
        raise ModelError(f"{path}: {member} has dtype {dtype}, expected {'numbers' if kind == 'f' else 'text'}")
    if math.prod(shape) > MAX_ARRAY_VALUES:
        raise ModelError(f"{path}: {member} declares shape {shape}, over the limit of {MAX_ARRAY_VALUES} values")


def read_npz_arrays(source: str | os.PathLike | BinaryIO, path: str, kinds: dict[str, str]) -> dict[str, np.ndarray]:
    """An .npz file (path or binary stream) and the dtype kind of each required array in, those arrays out.

    Each array's header is checked (no objects, expected kind, bounded size) before its data
    is read; anything else wrong with the file is a one-line ModelError naming path.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            members = set(archive.namelist())
            missing = [key for key in kinds if f"{key}.npy" not in members]
            if missing:
                raise ModelError(f"{path}: not an lpr model (missing {', '.join(missing)})")
            arrays = {}
            for key, kind in kinds.items():
                _check_npy_header(archive, f"{key}.npy", kind, path)
                with archive.open(f"{key}.npy") as stream:
                    arrays[key] = np.lib.format.read_array(stream, allow_pickle=False)
            return arrays
    except ModelError:
        raise
    except _READ_ERRORS as error:
        reason = "not a zip archive" if isinstance(error, zipfile.BadZipFile) else type(error).__name__
        raise ModelError(f"{path}: not a valid lpr model file ({reason})") from None


def _metadata(array: np.ndarray, path: str) -> dict[str, Any]:
    """The metadata array of a model file in, its JSON object out; ModelError when it is not one."""
    if array.shape != ():
        raise ModelError(f"{path}: model metadata is not a single JSON text")
    try:
        metadata = json.loads(str(array.item()))
    except (ValueError, RecursionError):
        raise ModelError(f"{path}: model metadata is not valid JSON") from None
    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not an lpr model file")
    if metadata.get("version") not in READABLE_VERSIONS:
        versions = " and ".join(str(v) for v in READABLE_VERSIONS)
        raise ModelError(f"{path}: model format version {metadata.get('version')!r}, this lpr reads versions {versions}")
    return metadata


def _check_weights(coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray, path: str) -> None:
    """Raise ModelError unless the arrays are a LinearSVC's finite weights for distinct, non-empty classes."""
    # LinearSVC keeps one row of weights per class, or a single row for two classes.
    rows = 1 if classes.shape == (2,) else len(classes) if classes.ndim == 1 else -1
    if coef.ndim != 2 or coef.shape[0] != rows or coef.shape[1] == 0 or intercept.shape != (rows,):
        raise ModelError(
            f"{path}: model arrays have inconsistent shapes (coef {coef.shape}, intercept {intercept.shape}, classes {classes.shape})"
        )
    if len(classes) < 2 or len(set(classes.tolist())) != len(classes) or not all(classes.tolist()):
        raise ModelError(f"{path}: model classes must be at least two distinct, non-empty labels")
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ModelError(f"{path}: model weights are not all finite numbers")


def _positive(metadata: dict[str, Any], key: str, default: float | None, path: str) -> float:
    """A positive finite number from the metadata in, as float out; ModelError otherwise."""
    value = metadata.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ModelError(f"{path}: model {key} must be a positive number, got {value!r}")
    return float(value)


def _feature_config(metadata: dict[str, Any], path: str) -> FeatureConfig:
    """The "features" entry of model metadata in, a validated FeatureConfig out; ModelError when malformed."""
    try:
        features = metadata["features"]
        char_size = tuple(int(v) for v in features["char_size"])
        blocks = tuple(tuple(int(v) for v in b) for b in features["block_sizes"])
        # Files written before a HOG part existed have no entries for it: they mean no such HOG.
        hog = {
            "hog_cell": int(features.get("hog_cell", 8)),
            "hog_bins": int(features.get("hog_bins", 0)),
            "gray_hog_cell": int(features.get("gray_hog_cell", 4)),
            "gray_hog_bins": int(features.get("gray_hog_bins", 0)),
        }
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as error:
        raise ModelError(f"{path}: malformed model metadata ({type(error).__name__}: {error})") from None
    if len(char_size) != 2 or not all(0 < v <= MAX_CHAR_SIDE for v in char_size) or any(len(b) != 2 for b in blocks):
        raise ModelError(f"{path}: model character size {char_size} / blocks {blocks} are not pairs of 1..{MAX_CHAR_SIDE}")
    config = FeatureConfig(char_size, blocks, **hog)
    try:
        validate_feature_config(config)
    except ValueError as error:
        raise ModelError(f"{path}: {error}") from None
    return config


def _verifier_config(entry: Any, path: str) -> VerifierConfig:
    """The "verifier" entry of model metadata in, a validated VerifierConfig out; ModelError when malformed."""
    try:
        window = tuple(int(v) for v in entry["window"])
        margin = tuple(float(v) for v in entry["band_margin"])
        plate_window = tuple(int(v) for v in entry["plate_window"])
        plate_margin = tuple(float(v) for v in entry["plate_margin"])
        cell, bins, search = int(entry["hog_cell"]), int(entry["hog_bins"]), int(entry["search_candidates"])
        thresholds = float(entry["min_candidate_score"]), float(entry["min_score"])
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ModelError(f"{path}: malformed verifier metadata ({type(error).__name__}: {error})") from None
    for size in (window, plate_window):
        if len(size) != 2 or not all(0 < v <= MAX_VERIFIER_SIDE for v in size) or not 0 < cell <= min(size) // 2 or not 0 < bins <= 64:
            raise ModelError(f"{path}: verifier window {size} / HOG cell {cell} / bins {bins} out of range")
    margins_ok = all(len(m) == 2 and all(0 <= v <= 10 for v in m) for m in (margin, plate_margin))
    if not margins_ok or not all(math.isfinite(t) for t in thresholds) or not 0 < search <= 1000:
        raise ModelError(f"{path}: verifier margins {margin} {plate_margin}, search {search} or thresholds {thresholds} out of range")
    return VerifierConfig(
        window=window, hog_cell=cell, hog_bins=bins, band_margin=margin, plate_window=plate_window, plate_margin=plate_margin,
        search_candidates=search, min_candidate_score=thresholds[0], min_score=thresholds[1],
    )


def read_verifier(source: str | os.PathLike | BinaryIO, path: str, entry: Any) -> PlateVerifier:
    """A model file and its metadata's "verifier" entry in, the checked PlateVerifier out; ModelError otherwise."""
    arrays = _checked_arrays(source, path, entry, _VERIFIER_KINDS, "verifier")
    config = _verifier_config(entry, path)
    intercepts = arrays["verifier_intercepts"]
    if intercepts.shape != (len(_VERIFIER_SCORES),) or not np.isfinite(intercepts).all():
        raise ModelError(f"{path}: verifier intercepts {intercepts.shape} are not {len(_VERIFIER_SCORES)} finite numbers")
    scores = []
    for name, length, intercept in zip(_VERIFIER_SCORES, descriptor_lengths(config), intercepts):
        mean, scale, coef = (arrays[f"verifier_{name}_{part}"] for part in ("mean", "scale", "coef"))
        if not mean.shape == scale.shape == coef.shape == (length,):
            raise ModelError(f"{path}: verifier {name} weights {coef.shape} do not fit its HOG settings ({length} values)")
        if not (np.isfinite(mean).all() and np.isfinite(coef).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ModelError(f"{path}: verifier {name} weights are not all finite numbers with positive scales")
        scores.append(LinearScore(mean.astype(np.float32), scale.astype(np.float32), coef.astype(np.float32), float(intercept)))
    return PlateVerifier(scores[0], scores[1], config)


def read_model(source: str | os.PathLike | BinaryIO, path: str) -> Model:
    """A .npz model file (path or binary stream) in, the Model out; errors are one-line ModelErrors naming path."""
    arrays = read_npz_arrays(source, path, _KINDS)
    metadata = _metadata(arrays["metadata"], path)
    coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    _check_weights(coef, intercept, classes, path)
    if metadata.get("checksum") != _checksum(coef, intercept, classes):
        raise ModelError(f"{path}: model checksum mismatch (file damaged or altered)")
    features = _feature_config(metadata, path)
    if coef.shape[1] != feature_length(features):
        raise ModelError(f"{path}: weights expect {coef.shape[1]} features, descriptor gives {feature_length(features)}")
    info = metadata.get("info", {})
    training = metadata.get("training", {})
    if not isinstance(info, dict) or not isinstance(training, dict):
        raise ModelError(f"{path}: malformed model metadata (info and training must be objects)")
    classifier = CharacterClassifier(features, classes.tolist(), coef, intercept, _positive(metadata, "temperature", None, path))
    # Models written before the verifier joined the file have no "verifier" entry: no verifier.
    verifier = read_verifier(source, path, metadata["verifier"]) if "verifier" in metadata else None
    region, profile, config = _region_and_settings(metadata, info, path)
    identifier = read_identifier(source, path, metadata["identifier"]) if "identifier" in metadata else None
    return Model(classifier, region, info, str(path), verifier, profile, identifier, config, training)


def _region_and_settings(metadata: dict[str, Any], info: dict[str, Any], path: str) -> tuple[str, RegionProfile, Config]:
    """Model metadata (version 3 or 4) in, (region code, region profile, recorded settings) out; ModelError when malformed."""
    region = metadata.get("region", DEFAULT_MODEL)
    if not isinstance(region, str):
        raise ModelError(f"{path}: malformed model metadata (region must be a text)")
    try:
        if metadata["version"] == 3:
            # Version 3 knew US models only: "us" or a state's two letters, and {state: {layout: count}}.
            formats = info.get("formats", {}) if isinstance(info.get("formats", {}), dict) else {}
            subregions = {state: dict(layouts) for state, layouts in formats.items()}
            profile = replace(built_in_profile(DEFAULT_MODEL), layouts=pooled_layouts(subregions), subregions=subregions)
            profile = RegionProfile.from_dict(profile.to_dict())
            return (DEFAULT_MODEL if region == DEFAULT_MODEL else state_region(region)), profile, Config()
        profile = RegionProfile.from_dict(metadata["profile"])
        config = Config.from_dict(metadata.get("settings", {}))
        region = region_code(region)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"{path}: malformed model metadata ({error})") from None
    if region != profile.code and not region.startswith(f"{profile.code}-"):
        raise ModelError(f"{path}: model region {region!r} is not {profile.code!r} or one of its sub-regions")
    return region, profile, config
