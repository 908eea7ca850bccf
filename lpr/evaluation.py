"""Evaluation: a recognizer and a labeled Dataset in, per-image outcomes and summary figures out."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from tqdm import tqdm

from lpr.datasets import Dataset, LabeledImage

from .errors import ImageReadError
from .imageio import read_image
from .metrics import character_accuracy, exact_match, is_detection
from .recognizer import PlateReading, Recognizer


@dataclass(frozen=True)
class ImageOutcome:
    """How the recognizer did on one labeled image."""

    image: str
    state: str | None
    truth: str  # the labeled text of the image's (first) plate, "" for a negative
    predicted: str  # the text read for that plate, "" when nothing was read
    confidence: float
    exact: bool
    char_accuracy: float
    detected: bool | None  # scenes only: a returned box has IoU > 0.4 with the label
    false_plates: int  # readings that match no labeled plate
    in_top_n: bool  # the truth is among the reading's candidates
    time_ms: float
    error: str | None = None


@dataclass(frozen=True)
class StateFigures:
    """Figures for the crops of one state."""

    state: str
    images: int
    exact_rate: float
    char_accuracy: float


@dataclass(frozen=True)
class EvaluationSummary:
    """The figures of one evaluation run; rates are fractions in [0, 1], None where they do not apply."""

    kind: str
    images: int
    errors: int
    exact_rate: float | None
    char_accuracy: float | None
    top_n_rate: float | None
    detection_rate: float | None
    false_plates_per_image: float
    images_with_false_plates: float
    median_time_ms: float
    mean_time_ms: float
    per_state: tuple[StateFigures, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def score_image(labeled: LabeledImage, readings: list[PlateReading], time_ms: float, cropped: bool) -> ImageOutcome:
    """One labeled image and the readings returned for it in, its ImageOutcome out."""
    matched_readings: set[int] = set()
    detected: bool | None = None
    chosen: PlateReading | None = readings[0] if readings else None
    if labeled.plates and not cropped:
        label_box = labeled.plates[0].box
        overlapping = [i for i, r in enumerate(readings) if label_box is not None and is_detection(r.box, label_box)]
        detected = bool(overlapping)
        for plate in labeled.plates:
            matched_readings.update(
                i for i, r in enumerate(readings) if plate.box is not None and is_detection(r.box, plate.box)
            )
        if len(labeled.plates) > 1 and overlapping:
            chosen = readings[overlapping[0]]
    elif labeled.plates and readings:
        matched_readings.add(0)
    truth = labeled.plates[0].text if labeled.plates else ""
    predicted = chosen.text if chosen is not None else ""
    candidates = {c.plate for c in chosen.candidates} if chosen is not None else set()
    return ImageOutcome(
        image=str(labeled.path),
        state=labeled.state,
        truth=truth,
        predicted=predicted,
        confidence=chosen.confidence if chosen is not None else 0.0,
        exact=exact_match(predicted, truth),
        char_accuracy=character_accuracy(predicted, truth),
        detected=detected,
        false_plates=len(readings) - len(matched_readings),
        in_top_n=truth in candidates,
        time_ms=time_ms,
    )


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def summarize(outcomes: list[ImageOutcome], kind: str) -> EvaluationSummary:
    """Per-image outcomes of one dataset kind in, the summary figures out."""
    scored = [o for o in outcomes if o.error is None]
    labeled = [o for o in scored if o.truth]
    times = [o.time_ms for o in scored] or [0.0]
    by_state: dict[str, list[ImageOutcome]] = defaultdict(list)
    for outcome in labeled:
        if outcome.state:
            by_state[outcome.state].append(outcome)
    per_state = tuple(
        StateFigures(state, len(items), _mean(o.exact for o in items) or 0.0, _mean(o.char_accuracy for o in items) or 0.0)
        for state, items in sorted(by_state.items())
    )
    return EvaluationSummary(
        kind=kind,
        images=len(outcomes),
        errors=len(outcomes) - len(scored),
        exact_rate=_mean(o.exact for o in labeled),
        char_accuracy=_mean(o.char_accuracy for o in labeled),
        top_n_rate=_mean(o.in_top_n for o in labeled),
        detection_rate=_mean(o.detected for o in labeled if o.detected is not None),
        false_plates_per_image=_mean(o.false_plates for o in scored) or 0.0,
        images_with_false_plates=_mean(o.false_plates > 0 for o in scored) or 0.0,
        median_time_ms=statistics.median(times),
        mean_time_ms=statistics.fmean(times),
        per_state=per_state,
    )


@dataclass(frozen=True)
class Evaluation:
    """Every image's outcome and the summary of one evaluation run."""

    outcomes: tuple[ImageOutcome, ...]
    summary: EvaluationSummary


def evaluate(recognizer: Recognizer, dataset: Dataset, progress: bool | None = None) -> Evaluation:
    """A recognizer and a labeled dataset in, the Evaluation out; crops are read with localization skipped."""
    cropped = dataset.kind == "crops"
    outcomes = []
    for labeled in tqdm(dataset.images, desc=f"evaluating {dataset.root.name}", unit="image", disable=not progress if progress is not None else None):
        start = time.perf_counter()
        try:
            image = read_image(labeled.path)
        except ImageReadError as error:
            outcomes.append(ImageOutcome(str(labeled.path), labeled.state, labeled.plates[0].text if labeled.plates else "", "", 0.0, False, 0.0, None, 0, False, 0.0, str(error)))
            continue
        readings = recognizer.recognize(image, cropped=cropped)
        elapsed = (time.perf_counter() - start) * 1000
        outcomes.append(score_image(labeled, readings, elapsed, cropped))
    return Evaluation(tuple(outcomes), summarize(outcomes, dataset.kind))
