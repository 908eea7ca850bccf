"""The whole pipeline: a BGR image in, plate readings (text, confidence, boxes) out, best first."""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

import cv2
import numpy as np

from .classification import CharacterPrediction
from .config import Config, RecognitionConfig, SegmentationConfig
from .geometry import Box, non_max_suppression, union_box
from .localization import PlateCandidate, plate_candidates, to_gray
from .model import Model, load_model
from .plate_formats import all_formats, layout_prior, lookalike_predictions, read_with_formats
from .segmentation import (
    Candidates,
    CharacterCrop,
    Segmentation,
    band_candidates,
    candidate_variants,
    changed_candidates,
    character_band,
    band_windows,
    horizontal_overlap,
    in_line,
    pooled_row,
    split_windows,
    unlined_candidates,
    wide_members,
)
from .verification import PlateVerifier, ReadingEvidence


@dataclass(frozen=True)
class CharacterReading:
    """One character of a plate: its text, confidence in [0, 1] and box in image pixels."""

    char: str
    confidence: float
    box: Box


@dataclass(frozen=True)
class TextCandidate:
    """One possible text of a plate and the probability that all of its characters are right."""

    plate: str
    confidence: float


@dataclass(frozen=True)
class PlateReading:
    """A plate found in an image: best text, confidence in [0, 1], plate box, characters and alternatives."""

    text: str
    confidence: float
    box: Box
    characters: tuple[CharacterReading, ...]
    candidates: tuple[TextCandidate, ...]
    segmentation: Segmentation
    # The image area that was segmented: segmentation.binary is this area resized.
    region: Box


def text_candidates(predictions: list[CharacterPrediction], top_n: int) -> list[TextCandidate]:
    """Per-character guesses in, the top_n most probable plate texts out (probability = product of guesses)."""
    if not predictions:
        return []
    # Best-first search over the per-character guess lists; each state is a choice of guess per position.
    def probability(choice: tuple[int, ...]) -> float:
        return math.prod(p.guesses[i].confidence for p, i in zip(predictions, choice))

    start = (0,) * len(predictions)
    heap = [(-probability(start), start)]
    seen = {start}
    found: list[TextCandidate] = []
    while heap and len(found) < top_n:
        negative, choice = heapq.heappop(heap)
        found.append(TextCandidate("".join(p.guesses[i].char for p, i in zip(predictions, choice)), -negative))
        for position, prediction in enumerate(predictions):
            if choice[position] + 1 < len(prediction.guesses):
                following = choice[:position] + (choice[position] + 1,) + choice[position + 1 :]
                if following not in seen:
                    seen.add(following)
                    heapq.heappush(heap, (-probability(following), following))
    return found


def state_candidates(
    predictions: list[CharacterPrediction],
    formats: dict[str, int] | None,
    top_n: int,
    smoothing: float = 1.0,
    reported: list[CharacterPrediction] | None = None,
) -> list[TextCandidate]:
    """Per-character guesses, the state's {layout: count} (or None) and a pseudo-count in, the top_n plate texts out.

    The plain candidates and the likeliest text of each of the state's layouts are ranked
    by their probability times their layout's smoothed share in the state (layout_prior):
    O/0 and I/1 look alike, the state's formats say which one fits. Confidences are the
    characters' probability in reported (the same guesses, unless look-alikes were pooled
    for ranking: see lookalike_predictions). Without formats this is text_candidates.
    """
    plain = text_candidates(predictions, top_n)
    if not formats:
        return plain
    reported = reported if reported is not None else predictions
    texts = dict.fromkeys([c.plate for c in plain] + [text for text, _ in read_with_formats(predictions, formats)])
    ranked = sorted(texts, key=lambda text: -_text_probability(predictions, text) * layout_prior(formats, text, smoothing))
    return [TextCandidate(text, _text_probability(reported, text)) for text in ranked[:top_n]]


def _text_probability(predictions: list[CharacterPrediction], text: str) -> float:
    """Per-character guesses and a text of their length in, the product of its characters' probabilities out."""
    return math.prod(_guess_confidence(p, c) for p, c in zip(predictions, text))


def _guess_confidence(prediction: CharacterPrediction, char: str) -> float:
    """A character's guesses and one character in, that guess's probability (0 when not among them) out."""
    return next((g.confidence for g in prediction.guesses if g.char == char), 0.0)


def without_members(row: Sequence[int], members: Sequence[int], min_characters: int) -> tuple[int, ...]:
    """Row indices, positions in the row to drop and the row's minimum length in, the row without them out; the whole row when fewer would be left."""
    if len(row) - len(members) < min_characters:
        return tuple(row)
    return tuple(i for k, i in enumerate(row) if k not in members)


def trim_row_ends(row: tuple[int, ...], scores: list[float], boxes: Sequence[Box], config: RecognitionConfig) -> tuple[int, ...]:
    """Row indices left to right, candidate scores and boxes in, the row without weak end members out.

    Logos, stickers and frame pieces that line up with the text sit at the ends of the
    row and read as doubtful characters: an end member scoring below min_end_score goes
    (weakest first) while the row keeps min_characters. A narrow "1" reads as doubtfully,
    so an end member that sits one pitch from its neighbour with the row's height
    (fits_row) only needs min_fitting_end_score. In the middle, only doubtful members
    alone in a gap (lonely_members) go: logos between the groups of characters.
    """
    lonely = lonely_members([boxes[i] for i in row], [scores[i] for i in row], config)
    row = list(without_members(row, lonely, config.min_characters))
    while len(row) > config.min_characters:
        failing = [
            end
            for end in (0, len(row) - 1)
            if scores[row[end]] < (config.min_fitting_end_score if fits_row([boxes[i] for i in row], end, config) else config.min_end_score)
        ]
        if not failing:
            break
        row.pop(min(failing, key=lambda end: scores[row[end]]))
    return tuple(row)


def layout_fitting_span(
    scores: Sequence[float], ranking: list[CharacterPrediction], formats: dict[str, int], smoothing: float, config: RecognitionConfig
) -> tuple[int, int]:
    """A row's candidate scores and ranking guesses, {layout: count} and its pseudo-count in, (start, stop) of the members to read out.

    The whole row, or the row less its first or last member when the rest reads in a much
    commoner layout; see RecognitionConfig.dropped_end_weight.
    """

    def value(start: int, stop: int) -> float:
        text = state_candidates(ranking[start:stop], formats, 1, smoothing)[0].plate
        geometric = math.exp(float(np.mean(np.log(np.maximum(scores[start:stop], 1e-9)))))
        return geometric * layout_prior(formats, text, smoothing)

    count = len(scores)
    if count <= config.min_characters or config.dropped_end_weight <= 0.0:
        return 0, count
    options = {
        (0, count): value(0, count),
        (1, count): value(1, count) * config.dropped_end_weight * (1.0 - scores[0]),
        (0, count - 1): value(0, count - 1) * config.dropped_end_weight * (1.0 - scores[-1]),
    }
    # On a tie the whole row stays (options keep their insertion order).
    return max(options, key=lambda span: options[span])


def row_pitch(centres: Sequence[float]) -> float:
    """At least two x centres of a row left to right in, its pitch (the median distance between neighbours) out."""
    return float(median([right - left for left, right in zip(centres, centres[1:])]))


def lonely_members(row: Sequence[Box], scores: Sequence[float], config: RecognitionConfig) -> list[int]:
    """A row's boxes left to right and their scores in, indices of the middle members scoring below min_lonely_score that sit alone in a gap out.

    Alone: more than (1 + row_pitch_tolerance) x pitch (the median centre distance) from
    both neighbours. A logo between two groups of characters sits so; a character sits
    one pitch from at least one neighbour. Rows of fewer than five have no such gaps.
    """
    if len(row) < 5:
        return []
    centres = [b.x + b.w / 2 for b in row]
    pitch = row_pitch(centres)
    reach = (1.0 + config.row_pitch_tolerance) * pitch
    return [
        k
        for k in range(1, len(row) - 1)
        if scores[k] < config.min_lonely_score and centres[k] - centres[k - 1] > reach and centres[k + 1] - centres[k] > reach
    ]


def ink_colours(plate: np.ndarray, crops: Sequence[CharacterCrop]) -> np.ndarray:
    """(H, W, 3) uint8 BGR plate and n characters cut from it in, (n, 3) float64 mean 8-bit CIELAB colour of each one's ink out."""
    lab = cv2.cvtColor(plate, cv2.COLOR_BGR2Lab)
    colours = np.zeros((len(crops), 3))
    for i, crop in enumerate(crops):
        box = crop.box
        area = lab[box.y : box.y + box.h, box.x : box.x + box.w]
        if area.size == 0:
            continue
        ink = cv2.resize(crop.mask, (area.shape[1], area.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        colours[i] = area[ink].mean(axis=0) if ink.any() else area.reshape(-1, 3).mean(axis=0)
    return colours


def off_colour_members(plate: np.ndarray, row: Sequence[CharacterCrop], scores: Sequence[float], config: RecognitionConfig) -> list[int]:
    """(H, W, 3) uint8 BGR plate, its row's characters and their scores in, indices of the doubtful members not of the row's colour out.

    Not of the row's colour: ink farther than max_ink_colour_distance from the members'
    median ink colour (see ink_colours). Doubtful: scoring below max_off_colour_score.
    Rows of characters below min_colour_character_height have none: their colours are not
    to be trusted.
    """
    doubtful = any(score < config.max_off_colour_score for score in scores)
    if config.max_ink_colour_distance is None or not doubtful or median(c.box.h for c in row) < config.min_colour_character_height:
        return []
    colours = ink_colours(plate, row)
    distances = np.linalg.norm(colours - np.median(colours, axis=0), axis=1)
    return [
        k for k, (distance, score) in enumerate(zip(distances.tolist(), scores))
        if distance > config.max_ink_colour_distance and score < config.max_off_colour_score
    ]


def fits_row(row: Sequence[Box], member: int, config: RecognitionConfig) -> bool:
    """A row's boxes left to right and the index of one member in, whether it sits like one more character of the row out.

    It must lie one pitch (the median centre distance of the others) from a neighbour
    within row_pitch_tolerance x pitch (an end: from its only neighbour), with their
    median height and vertical centre within row_line_tolerance x that height. The
    others must be at least three.
    """
    others = [*row[:member], *row[member + 1 :]]
    if len(others) < 3:
        return False
    centres = [b.x + b.w / 2 for b in others]
    pitch = row_pitch(centres)
    height = median([b.h for b in others])
    middle = median([b.y + b.h / 2 for b in others])
    box = row[member]
    centre = box.x + box.w / 2
    distances = []
    if member > 0:
        distances.append(centre - centres[member - 1])
    if member < len(others):
        distances.append(centres[member] - centre)
    return (
        min(abs(d - pitch) for d in distances) <= config.row_pitch_tolerance * pitch
        and abs(box.h - height) <= config.row_line_tolerance * height
        and abs(box.y + box.h / 2 - middle) <= config.row_line_tolerance * height
    )


def rescued_members(row: Sequence[Box], candidates: Sequence[Box], scores: Sequence[float], config: Config) -> list[int]:
    """A row's boxes, other candidates' boxes and their scores in, indices of the candidates that join the row out, best first.

    The classifier takes a narrow "1" or a thin "T" for a frame post or bolt. A candidate
    scoring at least min_rescue_score joins when it fits the row (fits_row) without
    overlapping any member, best first, while the row is shorter than max_characters.
    """
    settings = config.recognition
    members = sorted(row, key=lambda b: b.x)
    joined: list[int] = []
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        if len(members) >= settings.max_characters:
            break
        box = candidates[i]
        if scores[i] < settings.min_rescue_score:
            break
        if any(horizontal_overlap(box, b) > config.segmentation.max_horizontal_overlap for b in members):
            continue
        trial = sorted([*members, box], key=lambda b: b.x)
        if fits_row(trial, trial.index(box), settings):
            members = trial
            joined.append(i)
    return joined


def candidate_score(prediction: CharacterPrediction) -> float:
    """A segmentation candidate's prediction in, the probability that it is a character and read right out."""
    return prediction.confidence * (1.0 - prediction.not_character)


def required_plate_score(characters: int, min_score: float, rules: RecognitionConfig) -> float:
    """A scene reading's character count, the verifier's min_score and the reading rules in, the verifier score the reading needs to be reported out."""
    return min_score + (rules.short_reading_margin if characters <= rules.short_reading_characters else 0.0)


def agreed_reading(scored: Sequence[tuple[float, PlateReading]], kept: int, duplicate_iou: float) -> PlateReading:
    """(plate evidence, reading) pairs of one scene and the index of a reading kept by non-maximum suppression in, that plate's agreed reading out.

    Several localization candidates often land on one plate and read it apart by a
    character. Their readings vote with their evidence: the text with the most evidence
    among the readings overlapping the kept one by more than duplicate_iou wins, read by
    its most evident reading (ties keep the kept reading's text).
    """
    best = scored[kept][1]
    same_plate = [(evidence, reading) for evidence, reading in scored if reading.box.iou(best.box) > duplicate_iou]
    votes: dict[str, float] = {}
    for evidence, reading in same_plate:
        votes[reading.text] = votes.get(reading.text, 0.0) + max(evidence, 0.0)
    text = max(votes, key=lambda t: (votes[t], t == best.text))
    if text == best.text:
        return best
    return max((pair for pair in same_plate if pair[1].text == text), key=lambda pair: pair[0])[1]


def holds_in_order(part: str, whole: str) -> bool:
    """Two texts in, whether every character of part appears in whole in the same order out."""
    rest = iter(whole)
    return all(char in rest for char in part)


def whole_plate_reading(reading: PlateReading, judged: Sequence[tuple[float, PlateReading]], rules: RecognitionConfig) -> PlateReading:
    """A scene plate's reading and every (plate evidence, reading) judged in its scene in, the reading of the whole plate out.

    A reading of at most short_reading_characters characters is far likelier part of a
    longer plate than a plate ("RULZ" of FZRULZ, where a candidate holding only the last
    characters scored highest). A longer reading overlapping it by more than duplicate_iou
    that holds its characters in order and that the verifier scores at least
    whole_plate_score replaces it: the longest such, then the best scored.
    """
    if len(reading.text) > rules.short_reading_characters:
        return reading
    longer = [
        (evidence, other)
        for evidence, other in judged
        if len(other.text) > len(reading.text)
        and evidence >= rules.whole_plate_score
        and other.box.iou(reading.box) > rules.duplicate_iou
        and holds_in_order(reading.text, other.text)
    ]
    return max(longer, key=lambda pair: (len(pair[1].text), pair[0]))[1] if longer else reading


def sure_first(readings: Sequence[PlateReading], sure_confidence: float) -> list[PlateReading]:
    """Scene readings best first by plate score and a confidence in, those read with at least that confidence first out, each group in its order."""
    return sorted(readings, key=lambda reading: reading.confidence < sure_confidence)


def window_places(centres: list[float], config: SegmentationConfig) -> dict[int, tuple[float, float]]:
    """Sorted x centres of a row's characters in, {gap index: (lowest, highest) centre} of the places a lost character may sit out.

    Gap i lies between centres[i - 1] and centres[i] (0: before the first, len: after the
    last). A gap between two characters at least split_gap x the median pitch apart is a
    place; beyond each end, only the next place of the row's pitch is (windows elsewhere
    past the ends are mostly frame, bolts and artwork).
    """
    if len(centres) < 2:
        return {}
    pitch = row_pitch(centres)
    places = {
        gap: (centres[gap - 1], centres[gap])
        for gap in range(1, len(centres))
        if centres[gap] - centres[gap - 1] >= config.split_gap * pitch
    }
    if config.end_split_tolerance > 0:
        reach = config.end_split_tolerance * pitch
        places[0] = (centres[0] - pitch - reach, centres[0] - pitch + reach)
        places[len(centres)] = (centres[-1] + pitch - reach, centres[-1] + pitch + reach)
    return places


def pitch_spots(centres: list[float], places: dict[int, tuple[float, float]], tolerance: float) -> dict[int, list[float]]:
    """Sorted x centres of a row's characters, its window places (see window_places) and a pitch tolerance in, {gap index: x centres where the row's pitch puts a lost character} out.

    Beyond an end, the spot is one pitch out; between two characters, one pitch from
    either, if they are about two pitches apart (a wider gap is a logo or the plate's
    spacing). Each spot is also tried tolerance x pitch to either side.
    """
    if len(centres) < 2:
        return {}
    pitch = row_pitch(centres)
    spots: dict[int, list[float]] = {}
    for gap, (low, high) in places.items():
        if gap in (0, len(centres)):
            expected = [(low + high) / 2]
        elif high - low >= (2 - tolerance) * pitch:
            expected = [low + pitch, high - pitch]
        else:
            continue
        spots[gap] = list(dict.fromkeys(spot + shift * pitch for spot in expected for shift in (-tolerance, 0.0, tolerance)))
    return spots


class Recognizer:
    """Localization, segmentation and character classification tied together around one model."""

    def __init__(
        self, model: Model | None = None, config: Config | None = None, verifier: PlateVerifier | None = None, state: str | None = None
    ):
        self.model = model if model is not None else load_model()
        self.config = config or Config()
        # The plates' state, when known: readings in the layouts the model saw for it rank first.
        self.state = state.lower() if state else None
        # The model's own verifier unless one is passed to override it; without any, scene
        # plates are gated by character confidence alone.
        self.verifier = verifier if verifier is not None else self.model.verifier

    @property
    def formats(self) -> dict[str, int] | None:
        """The {layout: count} the model learned for this recognizer's state, or None (no state, or none learned)."""
        if self.state is None:
            return None
        formats = self.model.info.get("formats", {})
        return formats.get(self.state) if isinstance(formats, dict) else None

    def layout_prior_counts(self) -> tuple[dict[str, int] | None, float]:
        """The {layout: count} that re-rank this recognizer's candidates and their pseudo-count out.

        The state's layouts when it is known to the model, else (when general_formats is on)
        every state's layouts together, else None.
        """
        settings = self.config.recognition
        if self.formats is not None:
            return self.formats, settings.format_smoothing
        formats = self.model.info.get("formats", {})
        if settings.general_formats and isinstance(formats, dict) and formats:
            return all_formats(formats), settings.general_format_smoothing
        return None, settings.format_smoothing

    def read_plate(self, plate: np.ndarray, origin: tuple[int, int] = (0, 0), in_scene: bool = False) -> PlateReading | None:
        """(H, W, 3) uint8 plate image in, its best reading out (boxes shifted by origin), or None.

        in_scene: the image was cut from a scene, so it may be no plate at all and its row
        needs min_characters to max_characters; a cropped plate's row needs
        min_cropped_characters to max_cropped_characters.
        """
        settings = self.config.recognition
        if not in_scene:
            settings = replace(settings, min_characters=settings.min_cropped_characters, max_characters=settings.max_cropped_characters)
        variants = candidate_variants(plate, self.config.segmentation)
        by_polarity: dict[str, list[Candidates]] = {}
        for variant in variants:
            by_polarity.setdefault(variant.polarity, []).append(variant)
        classified = self._classified([(v.polarity, c) for v in variants for c in v.characters])
        for polarity, pool in self._classified(self._freed_candidates(by_polarity, classified, settings)).items():
            classified.setdefault(polarity, []).extend(pool)
        best: tuple[float, Segmentation, list[CharacterPrediction]] | None = None
        for polarity, components in classified.items():
            # Candidates the classifier takes for junk (bolts, logos, edges) never enter the row.
            pool = self._readable(components)
            row = self._row(pool, settings)
            crops = [c for c, _ in components]
            thresholded = by_polarity[polarity]
            # Each round fills the places the row's pitch leaves for one more character, so a
            # run of merged characters comes apart one by one from its neighbours inward.
            for _ in range(settings.split_rounds):
                windows = self._split_candidates(crops, [pool[i][0].box for i in row], thresholded)
                if not windows:
                    break
                grown = self._row(pool + windows, settings)
                if not any(i >= len(pool) for i in grown):
                    break
                pool, row = pool + windows, grown
            pool, row = self._rescued(components, pool, row, settings)
            off = off_colour_members(plate, [pool[i][0] for i in row], [candidate_score(pool[i][1]) for i in row], settings)
            row = without_members(row, off, settings.min_characters)
            if not settings.min_characters <= len(row) <= settings.max_characters:
                continue
            chosen = [pool[i][1] for i in row]
            score = float(np.mean([candidate_score(pool[i][1]) for i in row]))
            if best is None or score > best[0]:
                first = thresholded[0]
                segmentation = Segmentation(tuple(pool[i][0] for i in row), polarity, first.offset, first.binary)
                best = (score, segmentation, chosen)
        if best is None:
            return None
        _, segmentation, chosen = best
        formats, smoothing = self.layout_prior_counts()
        ranking, reported = chosen, chosen
        if formats:
            pairs = [lookalike_predictions(p, settings.lookalikes, settings.lookalike_share) for p in chosen]
            ranking, reported = [r for r, _ in pairs], [r for _, r in pairs]
            start, stop = layout_fitting_span([candidate_score(p) for p in chosen], ranking, formats, smoothing, settings)
            ranking, reported = ranking[start:stop], reported[start:stop]
            segmentation = replace(segmentation, characters=segmentation.characters[start:stop])
        candidates = state_candidates(ranking, formats, settings.top_n, smoothing, reported)
        characters = tuple(
            CharacterReading(char, _guess_confidence(p, char), c.box.shifted(*origin))
            for char, p, c in zip(candidates[0].plate, reported, segmentation.characters)
        )
        box = Box(origin[0], origin[1], plate.shape[1], plate.shape[0])
        return PlateReading(candidates[0].plate, candidates[0].confidence, box, characters, tuple(candidates), segmentation, box)

    def _freed_candidates(
        self,
        variants: dict[str, list[Candidates]],
        classified: dict[str, list[tuple[CharacterCrop, CharacterPrediction]]],
        rules: RecognitionConfig,
    ) -> list[tuple[str, CharacterCrop]]:
        """Every threshold setting's candidates by polarity, their classification and the row rules in, (polarity, candidate) pairs freed from the frame, a bolt or the slogan out.

        Each polarity's first row gives the character band; cut to it, a binary frees the
        characters that touched the frame, a bolt or the slogan, and new candidates in line
        with the row are kept. When no polarity has a row of a plate's length (characters
        merged with a frame edge leave none), every binary's candidates with its frame edges
        removed (see unlined_candidates) are added as well.
        """
        settings = self.config.segmentation
        rows: dict[str, list[Box]] = {}
        for polarity in variants:
            readable = self._readable(classified.get(polarity, []))
            rows[polarity] = [readable[i][0].box for i in self._row(readable, rules)]
        rowless = max(len(boxes) for boxes in rows.values()) < rules.min_characters
        freed: list[tuple[str, CharacterCrop]] = []
        for polarity, boxes in rows.items():
            thresholded = variants[polarity]
            if rowless:
                freed.extend((polarity, c) for v in thresholded for c in changed_candidates(unlined_candidates(v, settings), v).characters)
            if not boxes or settings.band_margin is None:
                continue
            band = character_band(boxes, settings)
            for variant in thresholded:
                cut = changed_candidates(band_candidates(variant, band, settings), variant).characters
                freed.extend((polarity, cut[i]) for i in in_line([c.box for c in cut], boxes, settings))
        return freed

    def _classified(self, crops: list[tuple[str, CharacterCrop]]) -> dict[str, list[tuple[CharacterCrop, CharacterPrediction]]]:
        """(polarity, candidate) pairs in, {polarity: [(candidate, prediction), ...]} out, in one classifier call."""
        if not crops:
            return {}
        predictions = self._predict([c for _, c in crops])
        classified: dict[str, list[tuple[CharacterCrop, CharacterPrediction]]] = {}
        for (polarity, crop), prediction in zip(crops, predictions):
            classified.setdefault(polarity, []).append((crop, prediction))
        return classified

    def _predict(self, crops: list[CharacterCrop]) -> list[CharacterPrediction]:
        """Candidate characters in, the classifier's predictions from their masks and gray pixels out."""
        return self.model.classifier.predict(
            [c.mask for c in crops], self.config.recognition.alternatives_per_character, [c.gray for c in crops]
        )

    def _rescued(
        self,
        components: list[tuple[CharacterCrop, CharacterPrediction]],
        pool: list[tuple[CharacterCrop, CharacterPrediction]],
        row: tuple[int, ...],
        rules: RecognitionConfig,
    ) -> tuple[list[tuple[CharacterCrop, CharacterPrediction]], tuple[int, ...]]:
        """All classified candidates of one polarity, the readable pool, its row and the row rules in, (pool, row) with the rescued junk-rated candidates (see rescued_members) added out."""
        junk = [(c, p) for c, p in components if p.not_character >= rules.max_not_character]
        added = rescued_members(
            [pool[i][0].box for i in row], [c.box for c, _ in junk], [candidate_score(p) for _, p in junk], replace(self.config, recognition=rules)
        )
        if not added:
            return pool, row
        grown = pool + [junk[i] for i in added]
        return grown, tuple(sorted([*row, *range(len(pool), len(grown))], key=lambda i: grown[i][0].box.x))

    def _readable(self, pool: list[tuple[CharacterCrop, CharacterPrediction]]) -> list[tuple[CharacterCrop, CharacterPrediction]]:
        """Classified candidates in, those the classifier does not take for junk out."""
        limit = self.config.recognition.max_not_character
        return [(c, p) for c, p in pool if p.not_character < limit]

    def _row(self, pool: list[tuple[CharacterCrop, CharacterPrediction]], rules: RecognitionConfig) -> tuple[int, ...]:
        """Classified candidates of one polarity and the row rules in, the indices of the plate's character row, left to right, out."""
        scores = [candidate_score(p) for _, p in pool]
        boxes = [c.box for c, _ in pool]
        return trim_row_ends(pooled_row(boxes, scores, self.config.segmentation), scores, boxes, rules)

    def _split_candidates(
        self, components: list[CharacterCrop], row: list[Box], variants: Sequence[Candidates]
    ) -> list[tuple[CharacterCrop, CharacterPrediction]]:
        """All components of one polarity, the boxes of their row and the polarity's threshold settings in, the best window for each place the row leaves for a character, classified, out.

        Windows are cut from too-wide components (a character merged with a logo, dash,
        frame post or neighbour) and, for small characters, from each binary's band (see
        band_windows). Each place (see window_places) gets one window at most.
        """
        settings = self.config.segmentation
        centres = sorted(b.x + b.w / 2 for b in row)
        places = window_places(centres, settings)
        if not places:
            return []
        wide, width, height = wide_members([c.box for c in components], row, settings)
        found: list[tuple[int, CharacterCrop]] = []
        for i in wide:
            box = components[i].box
            # A window's centre lies inside its component: skip components reaching no place.
            if not any(low <= box.x + box.w and high >= box.x for low, high in places.values()):
                continue
            for window in split_windows(components[i], width, height, settings):
                centre = window.box.x + window.box.w / 2
                gap = bisect.bisect(centres, centre)
                if gap in places and places[gap][0] <= centre <= places[gap][1]:
                    found.append((gap, window))
        if height < settings.max_band_window_height:
            band = character_band(row, settings)
            for gap, spots in pitch_spots(centres, places, self.config.recognition.row_pitch_tolerance).items():
                found.extend((gap, window) for variant in variants for window in band_windows(variant, band, spots, width, height, settings))
        found = [(gap, w) for gap, w in found if all(horizontal_overlap(w.box, b) <= settings.max_horizontal_overlap for b in row)]
        if not found:
            return []
        predictions = self._predict([w for _, w in found])
        best: dict[int, tuple[float, CharacterCrop, CharacterPrediction]] = {}
        for (gap, window), prediction in zip(found, predictions):
            score = candidate_score(prediction)
            if score >= self.config.recognition.min_split_score and score > best.get(gap, (-1.0,))[0]:
                best[gap] = (score, window, prediction)
        return [(window, prediction) for _, window, prediction in best.values()]

    def recognize(self, image: np.ndarray, cropped: bool = False) -> list[PlateReading]:
        """(H, W, 3) uint8 BGR image in, plates read from it out, best first.

        Each candidate read gives its best reading that passes; readings of one plate vote
        on its text (agreed_reading), and a short one gives way to a longer reading of the
        same place (whole_plate_reading). Best first: the plates read with at least
        sure_confidence, then the others, each group in the order of its plate score (the
        verifier's, or without one the confidence). With cropped=True the whole image is
        one plate and localization is skipped.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError(f"expected a (H, W, 3) uint8 BGR image, got {image.dtype} shape {image.shape}")
        if cropped:
            reading = self.read_plate(image)
            return [reading] if reading is not None else []
        gray = to_gray(image)
        scored: list[tuple[float, PlateReading]] = []
        everything_judged: list[tuple[float, PlateReading]] = []
        rules = self.config.recognition
        sure = rules.sure_confidence
        for rank, candidate in enumerate(self.candidates_to_read(image, gray)):
            if rank >= self.config.localization.max_candidates and any(r.confidence >= sure for _, r in scored):
                break
            judged = [(self._plate_evidence(gray, r), r) for r in self.candidate_readings(image, candidate)]
            if not judged:
                continue
            everything_judged.extend(judged)
            # The best of the readings that pass, not the best one if it passes: a
            # 4-character part of the plate can outscore the whole and still fall short
            # of the higher score short readings need.
            accepted = [(score, reading) for score, reading in judged if self._accepted(score, reading)]
            if accepted:
                scored.append(max(accepted, key=lambda pair: pair[0]))
        kept = non_max_suppression([r.box for _, r in scored], [s for s, _ in scored], rules.duplicate_iou)
        plates = [whole_plate_reading(agreed_reading(scored, i, rules.duplicate_iou), everything_judged, rules) for i in kept]
        return sure_first(plates, sure)

    def candidates_to_read(self, image: np.ndarray, gray: np.ndarray) -> list[PlateCandidate]:
        """(H, W, 3) uint8 BGR scene and its gray copy in, the localization candidates worth reading out, best first.

        With a verifier, many candidates are searched and the most plate-like
        max_candidates + fallback_candidates are returned (recognize reads the fallback
        ones only until a plate is read with RecognitionConfig.sure_confidence); without
        one, the best-filled blobs are.
        """
        localization = self.config.localization
        if self.verifier is None:
            return plate_candidates(image, localization)
        settings = self.verifier.config
        candidates = plate_candidates(image, replace(localization, max_candidates=settings.search_candidates))
        scores = self.verifier.candidate_scores(gray, candidates)
        order = [i for i in np.argsort(-scores, kind="stable") if scores[i] >= settings.min_candidate_score]
        return [candidates[i] for i in order[: localization.max_candidates + localization.fallback_candidates]]

    def read_candidate(self, image: np.ndarray, candidate: PlateCandidate) -> PlateReading | None:
        """(H, W, 3) uint8 BGR scene and a localization candidate in, the reading of the candidate's region (plate box grown from its characters) out, or None."""
        margin = self.config.localization.crop_margin
        return self.read_region(image, candidate.box.expanded(margin, margin, image.shape[1], image.shape[0]))

    def read_region(self, image: np.ndarray, region: Box) -> PlateReading | None:
        """(H, W, 3) uint8 BGR scene and a region of it in, the region's reading with scene boxes (plate box grown from its characters) out, or None."""
        if region.w < 8 or region.h < 8:
            return None
        reading = self.read_plate(image[region.y : region.y + region.h, region.x : region.x + region.w], (region.x, region.y), in_scene=True)
        return None if reading is None else self._with_plate_box(reading, image.shape[1], image.shape[0])

    def candidate_readings(self, image: np.ndarray, candidate: PlateCandidate) -> list[PlateReading]:
        """(H, W, 3) uint8 BGR scene and a localization candidate in, its readings out: none, or the candidate's and (with reread_plate_box) its plate box's.

        A candidate blob often holds part of a plate, or a plate and its surroundings; the
        plate box grown from the characters found is cut the way a plate is, so reading it
        again recovers characters the blob cut off and steadies their scale.
        """
        first = self.read_candidate(image, candidate)
        if first is None:
            return []
        if not self.config.recognition.reread_plate_box:
            return [first]
        again = self.read_region(image, first.box)
        return [first] if again is None else [first, again]

    def _plate_evidence(self, gray: np.ndarray, reading: PlateReading) -> float:
        """A scene reading in, how much it looks like a plate (higher is more) out: the verifier's score, or without one the reading's confidence."""
        if self.verifier is None:
            return reading.confidence
        return self.verifier.reading_score(gray, self.reading_evidence(reading))

    def _accepted(self, evidence: float, reading: PlateReading) -> bool:
        """A scene reading and its _plate_evidence in, whether it is reported out."""
        settings = self.config.recognition
        if self.verifier is not None:
            return evidence >= required_plate_score(len(reading.characters), self.verifier.config.min_score, settings)
        return reading.confidence >= settings.min_confidence and min(c.confidence for c in reading.characters) >= settings.min_character_confidence

    def reading_evidence(self, reading: PlateReading) -> ReadingEvidence:
        """A scene reading in, what the plate verifier judges it by out (its layout's share among this recognizer's layouts included)."""
        formats, smoothing = self.layout_prior_counts()
        return ReadingEvidence(
            tuple(c.box for c in reading.characters),
            tuple(c.confidence for c in reading.characters),
            reading.confidence,
            reading.box,
            layout_prior(formats, reading.text, smoothing) if formats else 1.0,
        )

    def _with_plate_box(self, reading: PlateReading, width: int, height: int) -> PlateReading:
        """The reading with its box grown from the character band to the whole plate."""
        band = union_box([c.box for c in reading.characters])
        pad_x, pad_y = self.config.recognition.plate_box_padding
        return replace(reading, box=band.expanded(pad_x, pad_y, width, height))
