"""Training: labeled plate datasets in, a trained character Model and a report of what was usable out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from lpr.datasets import Dataset, LabeledImage

from .classification import CharacterClassifier
from .config import Config, FeatureConfig
from .errors import ImageReadError, LprError, ModelError
from .imageio import read_image
from .model import DEFAULT_MODEL, Model
from .classification import NOT_CHARACTER
from .plate_formats import learn_formats
from .recognizer import Recognizer
from .segmentation import (
    Candidates,
    CharacterCrop,
    as_segmentation,
    band_candidates,
    candidate_variants,
    changed_candidates,
    character_band,
    select_row,
    split_windows,
    wide_members,
)
from .verification import PlateVerifier, train_plate_verifier

# Margin around a labeled scene box when cutting the plate out, as a fraction of its size.
SCENE_CROP_MARGIN = 0.1
# How much more a character of the requested state counts than one of another state
# when training a state model: enough to shape the state's fonts, without losing the
# general data that small states need.
STATE_WEIGHT = 5.0
# A candidate component of any threshold setting overlapping a labeled character box by
# at least this IoU is another view of that character (augmentation: thresholds vary at
# reading time too); one overlapping every labeled character by less than JUNK_MAX_IOU
# is "not a character" (bolt, logo, frame edge, fragment). Those in between are ambiguous
# (a character merged with a frame edge, a large fragment) and left out.
SAME_CHARACTER_IOU = 0.7
JUNK_MAX_IOU = 0.4


@dataclass(frozen=True)
class CharacterSample:
    """One labeled character mask, the gray pixels under it, and the plate image it came from."""

    mask: np.ndarray
    gray: np.ndarray
    label: str
    source: str
    state: str | None


@dataclass(frozen=True)
class TrainingReport:
    """What training used and how well the result reads characters it did not see."""

    plates: int
    usable_plates: int
    characters: int
    heldout_characters: int
    heldout_accuracy: float
    class_counts: dict[str, int]
    skipped_images: int


def labeled_plate_characters(plate: np.ndarray, text: str, config: Config) -> list[tuple[CharacterCrop, str]] | None:
    """A plate image and its true text in, (character, label) pairs out, NOT_CHARACTER for junk; None if unusable.

    A plate is usable when one threshold setting's row, as thresholded or cut to the
    character band, has exactly len(text) characters; those are labeled left to right, and
    every candidate of every setting is labeled by the character box it overlaps (see
    SAME_CHARACTER_IOU and JUNK_MAX_IOU).
    """
    settings = config.segmentation
    variants = candidate_variants(plate, settings)
    rows = [select_row(v, settings) for v in variants]
    # Every binary is also cut to the character band, as at reading time (see
    # Recognizer.read_plate): the band of a row of the right length, else of the longest.
    reference = max(range(len(rows)), key=lambda i: (len(rows[i]) == len(text), len(rows[i])))
    banded: list[Candidates] = []
    if rows[reference] and settings.band_margin is not None:
        band = character_band([variants[reference].characters[i].box for i in rows[reference]], settings)
        banded = [band_candidates(v, band, settings) for v in variants]
    rows += [select_row(b, settings) for b in banded]
    truth = next((list(as_segmentation(c, row).characters) for c, row in zip([*variants, *banded], rows) if len(row) == len(text)), None)
    if truth is None:
        return None
    freed = [changed_candidates(b, v) for b, v in zip(banded, variants)]
    labeled = []
    for candidates in [*variants, *freed]:
        # Windows cut from too-wide components are read at recognition time too: the
        # classifier learns which of them are characters and which are logo or dash.
        wide, width, height = wide_members([c.box for c in candidates.characters], [t.box for t in truth], config.segmentation)
        windows = [w for i in wide for w in split_windows(candidates.characters[i], width, height, config.segmentation)]
        for crop in [*candidates.characters, *windows]:
            overlaps = [crop.box.iou(t.box) for t in truth]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= SAME_CHARACTER_IOU:
                labeled.append((crop, text[best]))
            elif overlaps[best] < JUNK_MAX_IOU:
                labeled.append((crop, NOT_CHARACTER))
    return labeled


def plate_images(labeled: LabeledImage, image: np.ndarray, cropped: bool) -> list[tuple[np.ndarray, str]]:
    """A labeled image and its pixels in, (plate image, text) pairs out: the whole crop, or each labeled scene box."""
    if cropped:
        return [(image, labeled.plates[0].text)]
    pairs = []
    height, width = image.shape[:2]
    for plate in labeled.plates:
        if plate.box is None:
            continue
        region = plate.box.expanded(SCENE_CROP_MARGIN, SCENE_CROP_MARGIN, width, height)
        if region.w >= 8 and region.h >= 8:
            pairs.append((image[region.y : region.y + region.h, region.x : region.x + region.w], plate.text))
    return pairs


def shrunk_plates(plate: np.ndarray, heights: Sequence[int]) -> list[np.ndarray]:
    """(H, W, 3) uint8 plate and plate heights in px in, the plate resized down to each height smaller than H out."""
    return [
        cv2.resize(plate, (max(4, round(plate.shape[1] * height / plate.shape[0])), height), interpolation=cv2.INTER_AREA)
        for height in heights
        if height < plate.shape[0]
    ]


def collect_characters(
    datasets: Sequence[Dataset], config: Config | None = None, progress: bool | None = None
) -> tuple[list[CharacterSample], int, int, int]:
    """Labeled datasets in, (character samples, plates seen, plates usable, images unreadable) out."""
    config = config or Config()
    samples: list[CharacterSample] = []
    plates = usable = unreadable = 0
    images = [(d, labeled) for d in datasets if d.kind != "negatives" for labeled in d.images]
    for dataset, labeled in tqdm(images, desc="cutting characters", unit="image", disable=not progress if progress is not None else None):
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            unreadable += 1
            continue
        for plate, text in plate_images(labeled, image, dataset.kind == "crops"):
            plates += 1
            characters = labeled_plate_characters(plate, text, config)
            if characters is None:
                continue
            usable += 1
            # Read shrunk to a traffic frame's plate size too (see ClassifierConfig.shrunk_heights).
            for shrunk in shrunk_plates(plate, config.classifier.shrunk_heights):
                characters += labeled_plate_characters(shrunk, text, config) or []
            samples.extend(CharacterSample(c.mask, c.gray, char, str(labeled.path), labeled.state) for c, char in characters)
    return samples, plates, usable, unreadable


def state_formats(datasets: Sequence[Dataset]) -> dict[str, dict[str, int]]:
    """Labeled datasets in, {state: {layout: count}} of every labeled plate with a state out (see lpr.plate_formats)."""
    return learn_formats(
        (labeled.state, plate.text) for d in datasets if d.kind != "negatives" for labeled in d.images for plate in labeled.plates
    )


def split_by_source(samples: Sequence[CharacterSample], heldout_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples in, (train indices, held-out indices) out, with all characters of one image on the same side."""
    sources = sorted({s.source for s in samples})
    rng = np.random.default_rng(seed)
    held_sources = set(rng.choice(sources, size=int(round(len(sources) * heldout_fraction)), replace=False).tolist()) if sources else set()
    held = np.array([i for i, s in enumerate(samples) if s.source in held_sources], dtype=int)
    train = np.array([i for i, s in enumerate(samples) if s.source not in held_sources], dtype=int)
    return train, held


def fit_classifier(
    samples: Sequence[CharacterSample], features: FeatureConfig, region: str, seed: int, regularization: float
) -> CharacterClassifier:
    """Character samples in, a fitted CharacterClassifier out; a state's own characters weigh STATE_WEIGHT times more."""
    classifier = CharacterClassifier(features, regularization)
    weights = np.array([STATE_WEIGHT if region != DEFAULT_MODEL and s.state == region else 1.0 for s in samples])
    return classifier.fit(
        [s.mask for s in samples], [s.label for s in samples], seed=seed, sample_weight=weights, grays=[s.gray for s in samples]
    )


def train_model(
    datasets: Sequence[Dataset],
    region: str = DEFAULT_MODEL,
    config: Config | None = None,
    features: FeatureConfig | None = None,
    heldout_fraction: float = 0.2,
    seed: int = 0,
    progress: bool | None = None,
    negatives: Sequence[Dataset] = (),
) -> tuple[Model, TrainingReport]:
    """Labeled datasets (and plate-free negatives) in, (Model trained on all usable characters, TrainingReport) out.

    When scenes are among the datasets the model also gets a plate verifier, trained on
    their plates and crops against non-plate candidates of the scenes and of negatives.

    The report's accuracy comes from a model fitted without a held-out fifth of the
    plates (whole images), scored on that fifth; the returned model uses every plate.
    """
    region = region.lower()
    config = config or Config()
    features = features or FeatureConfig()
    samples, plates, usable, unreadable = collect_characters(datasets, config, progress)
    if len(samples) < 2 or len({s.label for s in samples}) < 2:
        raise LprError(f"only {len(samples)} usable characters from {plates} plates: not enough to train a model")
    if region != DEFAULT_MODEL and not any(s.state == region for s in samples):
        raise LprError(f"no usable plates of state {region!r} in the data given")
    train, held = split_by_source(samples, heldout_fraction, seed)
    accuracy = float("nan")
    if len(held) and len({samples[i].label for i in train}) >= 2:
        characters = [samples[i] for i in held if samples[i].label != NOT_CHARACTER]
        scored = [s for s in characters if region == DEFAULT_MODEL or s.state == region] or characters
        probe = fit_classifier([samples[i] for i in train], features, region, seed, config.classifier.regularization)
        predicted = [p.char for p in probe.predict([s.mask for s in scored], top_k=1, grays=[s.gray for s in scored])]
        accuracy = float(np.mean([p == s.label for p, s in zip(predicted, scored)]))
        heldout = len(scored)
    else:
        heldout = 0
    classifier = fit_classifier(samples, features, region, seed, config.classifier.regularization)
    report = TrainingReport(
        plates=plates,
        usable_plates=usable,
        characters=len(samples),
        heldout_characters=heldout,
        heldout_accuracy=accuracy,
        class_counts=dict(sorted(Counter(s.label for s in samples).items())),
        skipped_images=unreadable,
    )
    info = {
        "plates": plates,
        "usable_plates": usable,
        "characters": len(samples),
        "heldout_accuracy": None if np.isnan(accuracy) else round(accuracy, 4),
        "sources": sorted({str(d.root) for d in datasets}),
        # Layouts each state issues, learned from every labeled plate (even those that did
        # not segment): a Recognizer told the state ranks readings in these layouts first.
        "formats": state_formats(datasets),
    }
    model = Model(classifier, region, info)
    verifier = scene_verifier(model, datasets, negatives, config, progress)
    if verifier is not None:
        info["verifier_sources"] = sorted({str(d.root) for d in [*datasets, *negatives] if d.kind in ("scenes", "negatives")})
        model.verifier = verifier
    return model, report


def scene_verifier(
    model: Model, datasets: Sequence[Dataset], negatives: Sequence[Dataset], config: Config | None, progress: bool | None = None
) -> PlateVerifier | None:
    """A model without verifier, training datasets and plate-free ones in, its plate verifier out; None without scenes or non-plates."""
    if not any(d.kind == "scenes" for d in datasets):
        # Crops alone show no plate-like clutter to reject: a verifier from them would be guesswork.
        return None
    # The verifier learns from the readings this model makes, the ones it will have to judge.
    recognizer = Recognizer(model, config)
    try:
        return train_plate_verifier(recognizer, [*datasets, *negatives], config, progress)
    except ModelError:
        return None
