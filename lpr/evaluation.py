"""Evaluation: a recognizer and a labeled Dataset in, per-image outcomes and summary figures out."""

from __future__ import annotations

import heapq
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from tqdm import tqdm

from lpr.datasets import Dataset, LabeledImage

from .errors import ImageReadError, LprError
from .geometry import Box
from .imageio import read_image
from .metrics import character_accuracy, exact_match, exact_match_folded, is_detection
from .pipeline import PlateReading, Recognizer
from .visualize import PLATE_COLOUR, draw_segmentation

# Box colours of the failure pictures (BGR): the labeled plate, and returned plates that match no label.
LABEL_COLOUR = (255, 0, 255)
FALSE_PLATE_COLOUR = (0, 0, 255)
# Failure pictures are kept small so that keeping dozens of them costs little memory and page weight.
PLATE_THUMBNAIL = (320, 120)
SCENE_THUMBNAIL = (360, 240)
# The scene area shown around a labeled plate, as fractions of the plate's width and height on each side.
SCENE_CONTEXT = (0.75, 1.25)
# Small plates are enlarged at most this much, beyond that the picture is only blur.
MAX_UPSCALE = 4.0


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
    # Exact match with O and 0 taken as one (some plates print them alike and some labels write one for the other).
    exact_folded_rate: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def chosen_reading(labeled: LabeledImage, readings: list[PlateReading], cropped: bool) -> PlateReading | None:
    """An image's label and readings in, the reading scored against its first plate out (None when nothing was read).

    That is the first reading (the best; see Recognizer.recognize), except in a scene with several labeled plates, where it is the
    first reading on the first plate's box: another plate's reading must not count against this one.
    """
    if not readings:
        return None
    label_box = labeled.plates[0].box if labeled.plates else None
    if not cropped and len(labeled.plates) > 1 and label_box is not None:
        overlapping = [r for r in readings if is_detection(r.box, label_box)]
        if overlapping:
            return overlapping[0]
    return readings[0]


def matched_reading_indices(labeled: LabeledImage, readings: list[PlateReading], cropped: bool) -> set[int]:
    """An image's label and readings in, the indices of the readings that are on some labeled plate out."""
    if not labeled.plates or not readings:
        return set()
    if cropped:
        # A crop is one plate: its first reading is that plate, any further one is false.
        return {0}
    return {
        i
        for plate in labeled.plates
        for i, r in enumerate(readings)
        if plate.box is not None and is_detection(r.box, plate.box)
    }


def score_image(labeled: LabeledImage, readings: list[PlateReading], time_ms: float, cropped: bool) -> ImageOutcome:
    """One labeled image and the readings returned for it in, its ImageOutcome out."""
    matched_readings = matched_reading_indices(labeled, readings, cropped)
    detected: bool | None = None
    chosen = chosen_reading(labeled, readings, cropped)
    if labeled.plates and not cropped:
        label_box = labeled.plates[0].box
        detected = any(label_box is not None and is_detection(r.box, label_box) for r in readings)
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
        exact_folded_rate=_mean(exact_match_folded(o.predicted, o.truth) for o in labeled),
    )


@dataclass(frozen=True)
class FailurePictures:
    """Small (H, W, 3) uint8 BGR pictures of one failed image, for reports."""

    # The plate (crops) or the scene area around the labeled plate (scenes), boxes drawn.
    plate: np.ndarray
    # The chosen reading's binary plate with its character boxes; None when nothing was read.
    segmentation: np.ndarray | None
    # Scenes only: the whole frame, small, with the labeled box and the returned boxes.
    scene: np.ndarray | None


@dataclass(frozen=True)
class FailedImage:
    """An image the recognizer got wrong: its outcome and pictures of what happened."""

    outcome: ImageOutcome
    pictures: FailurePictures


@dataclass(frozen=True)
class Evaluation:
    """Every image's outcome and the summary of one evaluation run, plus the worst failures when asked for."""

    outcomes: tuple[ImageOutcome, ...]
    summary: EvaluationSummary
    # The worst failed images, worst first (see failure_rank); empty unless evaluate() was asked to keep them.
    failures: tuple[FailedImage, ...] = ()


def is_failure(outcome: ImageOutcome) -> bool:
    """An outcome in, True when the image was misread, its plate missed, or a false plate returned."""
    if outcome.error is not None:
        return False
    return (bool(outcome.truth) and not outcome.exact) or outcome.detected is False or outcome.false_plates > 0


def failure_rank(outcome: ImageOutcome) -> tuple[float, float]:
    """A failed outcome in, a sort key out: larger is worse (fewer right characters, then more confidently wrong)."""
    return (-outcome.char_accuracy, outcome.confidence)


def fit_scale(width: int, height: int, limit: tuple[int, int]) -> float:
    """A picture's size and a (max width, max height) in, the factor that fits it inside (enlarging at most MAX_UPSCALE)."""
    return min(limit[0] / max(width, 1), limit[1] / max(height, 1), MAX_UPSCALE)


def resized(image: np.ndarray, factor: float, sharp: bool = False) -> np.ndarray:
    """A picture and a scale factor in, the picture resized by it out (at least 1x1); sharp keeps pixels blocky."""
    width = max(1, round(image.shape[1] * factor))
    height = max(1, round(image.shape[0] * factor))
    # Binary pictures stay black and white when enlarged by repeating pixels rather than interpolating.
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_NEAREST if sharp else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def draw_boxes(picture: np.ndarray, boxes: list[tuple[Box, tuple[int, int, int]]], origin: Box, factor: float) -> np.ndarray:
    """A picture of the image area origin scaled by factor and (box, colour) pairs in image pixels in, a copy with the boxes out."""
    canvas = picture.copy()
    for box, colour in boxes:
        x0, y0 = round((box.x - origin.x) * factor), round((box.y - origin.y) * factor)
        x1, y1 = round((box.x + box.w - origin.x) * factor), round((box.y + box.h - origin.y) * factor)
        cv2.rectangle(canvas, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colour, 2 if min(canvas.shape[:2]) > 150 else 1)
    return canvas


def failure_pictures(image: np.ndarray, labeled: LabeledImage, readings: list[PlateReading], cropped: bool) -> FailurePictures:
    """An image, its label and readings in, small pictures of the plate area, the segmentation and the scene out."""
    height, width = image.shape[:2]
    whole = Box(0, 0, width, height)
    chosen = chosen_reading(labeled, readings, cropped)
    segmentation = None
    if chosen is not None:
        r = chosen.area
        overlay = draw_segmentation(image[r.y : r.y + r.h, r.x : r.x + r.w], chosen)
        segmentation = resized(overlay, fit_scale(overlay.shape[1], overlay.shape[0], PLATE_THUMBNAIL), sharp=True)
    if cropped:
        return FailurePictures(resized(image, fit_scale(width, height, PLATE_THUMBNAIL)), segmentation, None)
    matched = matched_reading_indices(labeled, readings, cropped)
    boxes = [(p.box, LABEL_COLOUR) for p in labeled.plates if p.box is not None]
    boxes += [(r.box, PLATE_COLOUR if i in matched else FALSE_PLATE_COLOUR) for i, r in enumerate(readings)]
    # Centre the close-up on the labeled plate; a negative has none, so on the plate wrongly returned.
    focus = next((p.box for p in labeled.plates if p.box is not None), chosen.box if chosen is not None else whole)
    area = focus.expanded(*SCENE_CONTEXT, width, height) if focus.area else whole
    factor = fit_scale(area.w, area.h, PLATE_THUMBNAIL)
    close_up = draw_boxes(resized(image[area.y : area.y + area.h, area.x : area.x + area.w], factor), boxes, area, factor)
    factor = fit_scale(width, height, SCENE_THUMBNAIL)
    scene = draw_boxes(resized(image, factor), boxes, whole, factor)
    return FailurePictures(close_up, segmentation, scene)


class WorstFailures:
    """Keeps the `limit` worst failures seen so far (a bounded heap), so memory does not grow with the dataset."""

    def __init__(self, limit: int):
        self.limit = limit
        # Entries are (rank, -order, failed image): the heap's top is the mildest, first evicted;
        # -order makes an earlier image win a tie and keeps the dataclasses from being compared.
        self._heap: list[tuple[tuple[float, float], int, FailedImage]] = []

    def wants(self, outcome: ImageOutcome) -> bool:
        """An outcome in, True when it is a failure bad enough to be kept (checked before drawing its pictures)."""
        if self.limit <= 0 or not is_failure(outcome):
            return False
        return len(self._heap) < self.limit or failure_rank(outcome) > self._heap[0][0]

    def add(self, failed: FailedImage, order: int) -> None:
        """Keep a failed image, dropping the mildest kept one when full."""
        entry = (failure_rank(failed.outcome), -order, failed)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
        else:
            heapq.heappushpop(self._heap, entry)

    def worst_first(self) -> tuple[FailedImage, ...]:
        return tuple(entry[2] for entry in sorted(self._heap, key=lambda e: (e[0], e[1]), reverse=True))


def evaluate(recognizer: Recognizer, dataset: Dataset, progress: bool | None = None, keep_failures: int = 0) -> Evaluation:
    """A recognizer and a labeled dataset in, the Evaluation out; crops are read with localization skipped.

    keep_failures > 0 also keeps pictures of that many of the worst failed images (Evaluation.failures).
    """
    if dataset.kind == "characters":
        raise LprError(f"{dataset.root}: character tiles are for training (lpr train), not for evaluating plate reading")
    cropped = dataset.kind == "crops"
    outcomes = []
    worst = WorstFailures(keep_failures)
    for labeled in tqdm(dataset.images, desc=f"evaluating {dataset.root.name}", unit="image", disable=not progress if progress is not None else None):
        start = time.perf_counter()
        try:
            image = read_image(labeled.path)
        except ImageReadError as error:
            outcomes.append(ImageOutcome(str(labeled.path), labeled.state, labeled.plates[0].text if labeled.plates else "", "", 0.0, False, 0.0, None, 0, False, 0.0, str(error)))
            continue
        readings = recognizer.recognize(image, cropped=cropped)
        elapsed = (time.perf_counter() - start) * 1000
        outcome = score_image(labeled, readings, elapsed, cropped)
        outcomes.append(outcome)
        # Drawn after the clock stopped, and only for failures that will be kept.
        if worst.wants(outcome):
            worst.add(FailedImage(outcome, failure_pictures(image, labeled, readings, cropped)), len(outcomes))
    return Evaluation(tuple(outcomes), summarize(outcomes, dataset.kind), worst.worst_first())
