"""Training: labeled plate datasets in, a trained Model (classifier, verifier, region profile, settings) and a report out."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from lpr.classification import NOT_CHARACTER, CharacterClassifier
from lpr.config import Config, with_overrides
from lpr.datasets import Dataset
from lpr.errors import LprError, ModelError
from lpr.model import Model
from lpr.pipeline import PlateReading, Recognizer
from lpr.region import RegionProfile, built_in_profile, layout, pooled_layouts, region_code
from lpr.verification import PlateVerifier

from .classifier import fit_character_classifier
from .config import TrainingConfig
from .identifier import train_state_identifier
from .samples import CharacterSample, collect_characters, hard_examples, self_labeled_crops, split_by_source
from .verifier import train_plate_verifier

# How much more a character of the requested sub-region (state) counts than one of another
# when training a sub-region's model: enough to shape its fonts, without losing the general
# data that small states need.
STATE_WEIGHT = 5.0
# Training settings of a region's models, where its plates need other than the defaults. Europe: emblems,
# stickers and the blue band's edge stand beside the characters of most plates, and a plate showing one
# rarely segments into exactly its labeled characters; a round of learning from the model's misreadings
# teaches them as "not a character". Most European scenes are Slovak or Czech plates labeled without a
# country: their layouts count in the region's.
REGION_TRAINING: dict[str, dict[str, Any]] = {
    "eu": {"hard_example_rounds": 1, "scene_layouts": True},
}
# Settings a region's models are trained (and so read) with, where its plates differ from the defaults'.
# Brazil: red plates carry white characters, whose contrast over the red is low in gray; thresholds for
# light characters as many as for dark ones make most of them readable (about 40% to 74% of real crops).
REGION_SETTINGS: dict[str, dict[str, Any]] = {
    # US: candidates the verifier scores between -0.5 and -0.4 almost never hold a plate, yet they are a quarter
    # of the reads of plate-free photos, which are most of a camera's frames.
    "us": {"verifier.min_candidate_score": -0.4},
    # Brazilian photos are close: plates 50-130 px high need a third, smaller working scale.
    "br": {"segmentation.light_offsets": [5, 10, 20, 35, 50], "localization.scales": [1.0, 0.5, 0.25]},
}


def region_config(region: str, overrides: Mapping[str, Any] | None = None) -> Config:
    """A region code and setting overrides in, the Config its model is trained with out: the defaults, the region's REGION_SETTINGS, then the overrides."""
    root = region_code(region).split("-", 1)[0]
    return with_overrides(with_overrides(Config(), REGION_SETTINGS.get(root, {})), dict(overrides or {}))


def region_training(region: str, base: TrainingConfig | None = None) -> TrainingConfig:
    """A region code (and training settings) in, the settings its models are trained with out: base (default: the defaults) with the region's REGION_TRAINING."""
    root = region_code(region).split("-", 1)[0]
    return replace(base or TrainingConfig(), **REGION_TRAINING.get(root, {}))


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
    # Unlabeled crops whose readings were learned from (self-training).
    self_labeled_plates: int = 0


def learn_formats(labels: Iterable[tuple[str | None, str]]) -> dict[str, dict[str, int]]:
    """(sub-region, plate text) pairs in, {sub-region: {layout: count}} out; pairs without a sub-region are ignored."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for state, text in labels:
        if state:
            counts[state.lower()][layout(text)] += 1
    return {state: dict(sorted(c.items())) for state, c in sorted(counts.items())}


def state_formats(datasets: Sequence[Dataset]) -> dict[str, dict[str, int]]:
    """Labeled datasets in, {state: {layout: count}} of every labeled plate with a state out."""
    return learn_formats(
        (labeled.state, plate.text) for d in datasets if d.kind in ("crops", "scenes") for labeled in d.images for plate in labeled.plates
    )


def stateless_formats(datasets: Sequence[Dataset]) -> dict[str, int]:
    """Labeled datasets in, {layout: count} of the labeled plates without a state (scenes) out."""
    return dict(
        Counter(layout(p.text) for d in datasets if d.kind in ("crops", "scenes") for labeled in d.images if not labeled.state for p in labeled.plates)
    )


def learned_profile(base: RegionProfile, datasets: Sequence[Dataset], training: TrainingConfig) -> RegionProfile:
    """A region's built-in profile, its training datasets and settings in, the profile its model carries out.

    Each sub-region's layouts are the built-in ones (format rules) plus those its labeled
    plates show; the region's are theirs pooled, plus its own format rules, those of plates
    labeled with the region itself and (scene_layouts) those labeled without a state.
    Rendered plates show no layout: their layouts are the renderer's choice. Each of the
    region's own format rules counts at least format_rule_share of the rest.
    """
    datasets = [d for d in datasets if not d.rendered]
    counts: dict[str, Counter] = defaultdict(Counter)
    labeled = state_formats(datasets)
    # Labels that give the region itself as the state (br-plates: "br") are no sub-region.
    own = labeled.pop(base.code, {})
    for formats in (base.subregions, labeled):
        for state, layouts in formats.items():
            counts[state].update(layouts)
    subregions = {state: dict(sorted(c.items())) for state, c in sorted(counts.items())}
    pooled = Counter(pooled_layouts(subregions))
    # The region's own format rules beyond its sub-regions' (Brazil's two formats).
    rules = Counter(base.layouts) - Counter(pooled_layouts(base.subregions))
    pooled.update(rules)
    pooled.update(own)
    if training.scene_layouts:
        pooled.update(stateless_formats(datasets))
    floor = math.ceil(training.format_rule_share * sum(pooled.values()))
    for rule in rules:
        pooled[rule] = max(pooled[rule], floor)
    return replace(base, layouts=dict(sorted(pooled.items())), subregions=subregions)


def fit_classifier(samples: Sequence[CharacterSample], config: Config, subregion: str | None, seed: int, regularization: float) -> CharacterClassifier:
    """Character samples in, a fitted CharacterClassifier out; the sub-region's own characters weigh STATE_WEIGHT times more."""
    weights = np.array([STATE_WEIGHT if subregion is not None and s.state == subregion else 1.0 for s in samples])
    return fit_character_classifier(
        [s.mask for s in samples], [s.label for s in samples], config.features, regularization,
        seed=seed, sample_weight=weights, grays=[s.gray for s in samples],
    )


def plate_reader(
    classifier: CharacterClassifier, region: str, profile: RegionProfile, config: Config
) -> Callable[[np.ndarray, bool], PlateReading | None]:
    """A classifier being trained, its region, profile and settings in, a reader of one plate image (and whether it was cut from a scene) out."""
    recognizer = Recognizer(Model(classifier, region, {}, profile=profile, config=config), region=profile.code)
    return lambda plate, in_scene: recognizer.read_plate(plate, in_scene=in_scene)


def train_model(
    datasets: Sequence[Dataset],
    region: str = "us",
    config: Config | None = None,
    training: TrainingConfig | None = None,
    heldout_fraction: float = 0.2,
    seed: int = 0,
    progress: bool | None = None,
    negatives: Sequence[Dataset] = (),
    unlabeled: Sequence[Dataset] = (),
) -> tuple[Model, TrainingReport]:
    """Labeled datasets (and plate-free negatives, unlabeled plate crops) in, (Model trained on all usable characters, TrainingReport) out.

    region is a region with a built-in profile ("us") or one of its sub-regions ("us-va"),
    whose plates' characters then weigh more. When scenes are among the datasets the model
    also gets a plate verifier, trained on their plates against non-plate candidates of
    the scenes and of negatives. Unlabeled crops are learned from by self-training (see
    self_labeled_crops). The model records config and training, its settings.

    The report's accuracy comes from a model fitted without a held-out fifth of the
    plates (whole images), scored on that fifth; the returned model uses every plate.
    """
    try:
        region = region_code(region)
        base = built_in_profile(region)
    except ValueError as error:
        raise LprError(str(error)) from None
    subregion = region.split("-", 1)[1] if "-" in region else None
    config = config or region_config(region)
    training = training or region_training(region)
    samples, plates, usable, unreadable = collect_characters(
        datasets, config.segmentation, base.geometry, training.shrunk_heights, progress, training.tile_heights, training.degraded_heights
    )
    if len(samples) < 2 or len({s.label for s in samples}) < 2:
        raise LprError(f"only {len(samples)} usable characters from {plates} plates: not enough to train a model")
    if subregion is not None and not any(s.state == subregion for s in samples):
        raise LprError(f"no usable plates of region {region!r} (state {subregion!r} in labels.csv) in the data given")
    train, held = split_by_source(samples, heldout_fraction, seed)
    accuracy = float("nan")
    heldout = 0
    if len(held) and len({samples[i].label for i in train}) >= 2:
        characters = [samples[i] for i in held if samples[i].label != NOT_CHARACTER]
        scored = [s for s in characters if subregion is None or s.state == subregion] or characters
        probe = fit_classifier([samples[i] for i in train], config, subregion, seed, training.classifier_regularization)
        predicted = [p.char for p in probe.predict([s.mask for s in scored], top_k=1, grays=[s.gray for s in scored])]
        accuracy = float(np.mean([p == s.label for p, s in zip(predicted, scored)]))
        heldout = len(scored)
    # Layouts each state issues, learned from every labeled plate (even those that did not
    # segment): a Recognizer for the state ranks readings in these layouts first.
    profile = learned_profile(base, datasets, training)
    classifier = fit_classifier(samples, config, subregion, seed, training.classifier_regularization)
    for _ in range(training.hard_example_rounds):
        # Read as the classifier sees them: a seal beside a two-line plate's line that decoding would drop is a misreading to learn from.
        seen = with_overrides(config, {"decoding.dropped_line_end_weight": 0.0})
        hard = hard_examples(plate_reader(classifier, region, profile, seen), datasets, training.hard_example_edits, progress)
        if not hard:
            break
        samples = samples + hard
        classifier = fit_classifier(samples, config, subregion, seed, training.classifier_regularization)
    taught = 0
    labeled_samples = samples
    for _ in range(training.self_training_rounds if unlabeled else 0):
        # Each round labels the crops anew with the last model, so a label it got wrong once is not kept.
        read = self_labeled_crops(
            plate_reader(classifier, region, profile, config), unlabeled, profile.layouts,
            training.self_training_confidence, training.self_training_check_heights, progress,
        )
        extra, _, taught, _ = collect_characters(
            [read], config.segmentation, base.geometry, training.shrunk_heights, progress, degraded_heights=training.degraded_heights
        )
        samples = labeled_samples + extra
        classifier = fit_classifier(samples, config, subregion, seed, training.classifier_regularization)
    report = TrainingReport(
        plates=plates,
        usable_plates=usable,
        characters=len(samples),
        heldout_characters=heldout,
        heldout_accuracy=accuracy,
        class_counts=dict(sorted(Counter(s.label for s in samples).items())),
        skipped_images=unreadable,
        self_labeled_plates=taught,
    )
    info = {
        "plates": plates,
        "usable_plates": usable,
        "characters": len(samples),
        "self_labeled_plates": taught,
        "heldout_accuracy": None if np.isnan(accuracy) else round(accuracy, 4),
        "sources": sorted({str(d.root) for d in datasets}),
    }
    model = Model(classifier, region, info, profile=profile, config=config, training=json_ready(asdict(training)))
    verifier = scene_verifier(model, datasets, negatives, training, progress)
    if verifier is not None:
        info["verifier_sources"] = sorted({str(d.root) for d in [*datasets, *negatives] if d.kind in ("scenes", "negatives")})
        model.verifier = verifier
    if training.identify_subregions:
        model.identifier = train_state_identifier(datasets, region, regularization=training.identifier_regularization, progress=progress)
    return model, report


def json_ready(values: dict) -> dict:
    """A dict of settings in, the same with tuples as lists (as JSON keeps them) out."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def scene_verifier(
    model: Model, datasets: Sequence[Dataset], negatives: Sequence[Dataset], training: TrainingConfig, progress: bool | None = None
) -> PlateVerifier | None:
    """A model without verifier, training datasets and plate-free ones in, its plate verifier out; None without scenes or non-plates."""
    if not any(d.kind == "scenes" for d in datasets):
        # Crops alone show no plate-like clutter to reject: a verifier from them would be guesswork.
        return None
    # The verifier learns from the readings this model makes, the ones it will have to judge,
    # read as the model's general region (a sub-region's model is trained on all plates).
    recognizer = Recognizer(model, region=model.profile.code)
    try:
        return train_plate_verifier(recognizer, [*datasets, *negatives], training, progress)
    except ModelError:
        return None
