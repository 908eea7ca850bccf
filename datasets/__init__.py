"""Labeled plate datasets (installed as ``lpr.datasets``): label formats, loaders and synthetic samples."""

from .formats import (
    RENDERED_MARKER,
    Dataset,
    LabeledImage,
    PlateLabel,
    SkippedRow,
    load_dataset,
    load_negatives,
    load_openalpr_scenes,
    load_plate_crops,
    load_unlabeled,
    normalize_plate_text,
)

__all__ = [
    "RENDERED_MARKER",
    "Dataset",
    "LabeledImage",
    "PlateLabel",
    "SkippedRow",
    "load_dataset",
    "load_negatives",
    "load_openalpr_scenes",
    "load_plate_crops",
    "load_unlabeled",
    "normalize_plate_text",
]
