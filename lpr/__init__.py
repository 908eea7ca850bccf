"""lpr: automatic license plate recognition with morphology, BBPS features and linear SVMs.

Typical use::

    import lpr
    recognizer = lpr.Recognizer()              # the shipped US model
    for plate in recognizer.recognize(lpr.read_image("car.jpg")):
        print(plate.text, plate.confidence, plate.box)

The names below are loaded on first use, so `import lpr` costs almost nothing; model
building lives in lpr.training, which recognition never imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Box": "lpr.geometry",
    "CharacterClassifier": "lpr.classification",
    "CharacterCrop": "lpr.segmentation",
    "CharacterPrediction": "lpr.classification",
    "CharacterRead": "lpr.records",
    "Config": "lpr.config",
    "DecodingConfig": "lpr.config",
    "FeatureConfig": "lpr.config",
    "IdentificationConfig": "lpr.config",
    "ImageReadError": "lpr.errors",
    "ImageResult": "lpr.records",
    "LabelError": "lpr.errors",
    "LocalizationConfig": "lpr.config",
    "LprError": "lpr.errors",
    "Model": "lpr.model",
    "ModelError": "lpr.errors",
    "MultiRegionRecognizer": "lpr.multiregion",
    "OutputExistsError": "lpr.errors",
    "PlateCandidate": "lpr.localization",
    "PlateGeometry": "lpr.region",
    "PlateRead": "lpr.records",
    "PlateReading": "lpr.pipeline",
    "PlateVerifier": "lpr.verification",
    "Recognizer": "lpr.pipeline",
    "RecognizerSpec": "lpr.pipeline",
    "RegionGuess": "lpr.records",
    "RegionIdentifier": "lpr.identification",
    "RegionProfile": "lpr.region",
    "SceneConfig": "lpr.config",
    "Segmentation": "lpr.segmentation",
    "SegmentationConfig": "lpr.config",
    "TextCandidate": "lpr.records",
    "VerifierConfig": "lpr.config",
    "bbps_features": "lpr.features",
    "decode_image": "lpr.imageio",
    "evaluate": "lpr.evaluation",
    "list_images": "lpr.imageio",
    "load_dataset": "lpr.datasets",
    "load_model": "lpr.model",
    "plate_candidates": "lpr.localization",
    "read_image": "lpr.imageio",
    "recognize_file": "lpr.batch",
    "recognize_paths": "lpr.batch",
    "save_model": "lpr.model",
    "segment_plate": "lpr.segmentation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lpr' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from lpr.batch import recognize_file, recognize_paths
    from lpr.classification import CharacterClassifier, CharacterPrediction
    from lpr.config import (
        Config,
        DecodingConfig,
        FeatureConfig,
        IdentificationConfig,
        LocalizationConfig,
        SceneConfig,
        SegmentationConfig,
        VerifierConfig,
    )
    from lpr.datasets import load_dataset
    from lpr.errors import ImageReadError, LabelError, LprError, ModelError, OutputExistsError
    from lpr.evaluation import evaluate
    from lpr.features import bbps_features
    from lpr.geometry import Box
    from lpr.identification import RegionIdentifier
    from lpr.imageio import decode_image, list_images, read_image
    from lpr.localization import PlateCandidate, plate_candidates
    from lpr.model import Model, load_model, save_model
    from lpr.multiregion import MultiRegionRecognizer
    from lpr.pipeline import PlateReading, Recognizer, RecognizerSpec
    from lpr.records import CharacterRead, ImageResult, PlateRead, RegionGuess, TextCandidate
    from lpr.region import PlateGeometry, RegionProfile
    from lpr.segmentation import CharacterCrop, Segmentation, segment_plate
    from lpr.verification import PlateVerifier
