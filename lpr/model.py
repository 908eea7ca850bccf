"""Trained models as data: a classifier in, a .npz file (arrays + JSON metadata, no pickle) out, and back."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .classification import CharacterClassifier
from .config import FeatureConfig
from .errors import ModelError
from .files import write_atomically
from .features import feature_length

MODEL_FORMAT = "lpr-character-model"
MODEL_VERSION = 1
DEFAULT_MODEL = "us"
_ARRAYS = ("coef", "intercept", "classes", "metadata")


@dataclass
class Model:
    """A trained character classifier for one region ("us" = general US model, or a state code)."""

    classifier: CharacterClassifier
    region: str = DEFAULT_MODEL
    # Facts about training, e.g. plates and characters used and held-out accuracy.
    info: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def _checksum(coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (coef, intercept, classes):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def model_arrays(model: Model) -> dict[str, np.ndarray]:
    """A model in, the named arrays of its .npz file out (weights, classes and JSON metadata; no objects)."""
    svm = model.classifier.pipeline.named_steps["svm"]
    coef = np.asarray(svm.coef_, dtype=np.float64)
    intercept = np.asarray(svm.intercept_, dtype=np.float64)
    classes = np.asarray([str(c) for c in svm.classes_], dtype="<U1")
    features = model.classifier.features
    metadata = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "region": model.region,
        "temperature": model.classifier.temperature,
        "regularization": model.classifier.regularization,
        "features": {"char_size": list(features.char_size), "block_sizes": [list(b) for b in features.block_sizes]},
        "checksum": _checksum(coef, intercept, classes),
        "info": model.info,
    }
    return {"coef": coef, "intercept": intercept, "classes": classes, "metadata": np.array(json.dumps(metadata))}


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


def read_model(source: str | os.PathLike | BinaryIO, path: str) -> Model:
    """A .npz model file (path or binary stream) in, the Model out; errors name it as path."""
    try:
        with np.load(source, allow_pickle=False) as data:
            missing = [key for key in _ARRAYS if key not in data.files]
            if missing:
                raise ModelError(f"{path}: not an lpr model (missing {', '.join(missing)})")
            coef, intercept, classes = data["coef"], data["intercept"], data["classes"]
            metadata = json.loads(str(data["metadata"]))
    except ModelError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: not a valid lpr model file ({type(error).__name__})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not an lpr model file")
    if metadata.get("version") != MODEL_VERSION:
        raise ModelError(f"{path}: model format version {metadata.get('version')!r}, this lpr reads version {MODEL_VERSION}")
    if coef.ndim != 2 or intercept.shape != (coef.shape[0],) or classes.shape != (coef.shape[0],):
        raise ModelError(f"{path}: model arrays have inconsistent shapes")
    if metadata.get("checksum") != _checksum(coef, intercept, classes):
        raise ModelError(f"{path}: model checksum mismatch (file damaged or altered)")
    try:
        features = FeatureConfig(
            tuple(int(v) for v in metadata["features"]["char_size"]),
            tuple(tuple(int(v) for v in b) for b in metadata["features"]["block_sizes"]),
        )
        classifier = CharacterClassifier(features, float(metadata.get("regularization", 1.0)))
        classifier.temperature = float(metadata["temperature"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"{path}: malformed model metadata ({error})") from None
    descriptor = classifier.pipeline.named_steps["bbps"]
    try:
        descriptor.fit([])
    except ValueError as error:
        raise ModelError(f"{path}: {error}") from None
    if coef.shape[1] != feature_length(features):
        raise ModelError(f"{path}: weights expect {coef.shape[1]} features, descriptor gives {feature_length(features)}")
    svm = classifier.pipeline.named_steps["svm"]
    svm.coef_, svm.intercept_, svm.classes_ = coef, intercept, classes
    svm.n_features_in_ = coef.shape[1]
    return Model(classifier, str(metadata.get("region", DEFAULT_MODEL)), dict(metadata.get("info", {})), str(path))
