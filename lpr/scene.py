"""Scene-level reading rules: the readings of one scene's candidates in, the plates reported out.

Several candidates often land on one plate: their readings vote on its text
(agreed_reading); a short reading gives way to a longer one of its place
(whole_plate_reading); sure plates are reported first (sure_first); and short readings
need a higher plate score to be reported at all (required_plate_score).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .config import SceneConfig
from .records import PlateRead

# Any plate record: the pipeline's readings keep their pictures through these rules.
R = TypeVar("R", bound=PlateRead)


def required_plate_score(characters: int, min_score: float, rules: SceneConfig) -> float:
    """A scene reading's character count, the verifier's min_score and the reading rules in, the verifier score the reading needs to be reported out."""
    return min_score + (rules.short_reading_margin if characters <= rules.short_reading_characters else 0.0)


def agreed_reading(scored: Sequence[tuple[float, R]], kept: int, duplicate_iou: float) -> R:
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


def whole_plate_reading(reading: R, judged: Sequence[tuple[float, R]], rules: SceneConfig) -> R:
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


def sure_first(readings: Sequence[R], sure_confidence: float) -> list[R]:
    """Scene readings best first by plate score and a confidence in, those read with at least that confidence first out, each group in its order."""
    return sorted(readings, key=lambda reading: reading.confidence < sure_confidence)
