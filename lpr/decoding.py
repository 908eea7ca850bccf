"""Decoding: per-character guesses in, the plate's texts out, ranked by the region's letter/digit layouts.

A layout writes each character of a plate as "L" (letter) or "D" (digit): "ABC1234" is
"LLLDDDD". Knowing which layouts a region issues is how a reader tells O from 0 and I
from 1 when the shapes alone cannot.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .classification import CharacterGuess, CharacterPrediction
from .config import DecodingConfig
from .records import TextCandidate
from .region import layout


def best_text_for_layout(predictions: Sequence[CharacterPrediction], wanted: str) -> tuple[str, float] | None:
    """Per-character guesses and a layout of the same length in, the most probable text fitting it and its probability out.

    None when some position has no guess of the required kind among its alternatives.
    """
    return _fitted_text(_best_of_kinds(predictions), wanted)


def _best_of_kinds(predictions: Sequence[CharacterPrediction]) -> list[dict[str, CharacterGuess]]:
    """Per-character guesses in, per position {"L": best letter guess, "D": best digit guess} (kinds with no guess left out) out."""
    best: list[dict[str, CharacterGuess]] = []
    for prediction in predictions:
        kinds: dict[str, CharacterGuess] = {}
        for guess in prediction.guesses:
            kind = "D" if guess.char.isdigit() else "L"
            # The first of equally confident guesses wins, as max() would pick it.
            if kind not in kinds or guess.confidence > kinds[kind].confidence:
                kinds[kind] = guess
        best.append(kinds)
    return best


def _fitted_text(best: list[dict[str, CharacterGuess]], wanted: str) -> tuple[str, float] | None:
    """Per position best guess of each kind (see _best_of_kinds) and a layout in, (text, probability) out; None for a layout of another length."""
    if len(best) != len(wanted):
        return None
    chars = []
    probability = 1.0
    for kinds, kind in zip(best, wanted):
        guess = kinds.get(kind)
        if guess is None:
            return None
        chars.append(guess.char)
        probability *= guess.confidence
    return "".join(chars), probability


def read_with_formats(
    predictions: Sequence[CharacterPrediction], formats: Mapping[str, int]
) -> list[tuple[str, float]]:
    """Per-character guesses and a region's {layout: count} in, (text, score) per fitting layout out, best first.

    The score weighs the characters' probability by how common the layout is in the region,
    so a slightly less likely reading in the region's usual layout wins over an unusual one.
    """
    total = sum(formats.values())
    # Each position's best letter and digit are found once, not once per layout.
    best = _best_of_kinds(predictions)
    readings = []
    for wanted, count in formats.items():
        if len(wanted) != len(best):
            continue
        fitted = _fitted_text(best, wanted)
        if fitted is not None:
            text, probability = fitted
            readings.append((text, probability * math.sqrt(count / total)))
    return sorted(readings, key=lambda r: -r[1])


def layout_prior(formats: Mapping[str, int], text: str, smoothing: float, total: int | None = None) -> float:
    """A region's {layout: count}, a plate text, a pseudo-count (and the counts' sum, when known) in, the smoothed share of the text's layout out.

    An unseen layout keeps smoothing / (plates + smoothing): a region's few training plates
    do not show every layout it issues (vanity plates, new series), so a clear reading in
    an unseen layout must still beat a doubtful one in a common layout.
    """
    total = sum(formats.values()) if total is None else total
    return (formats.get(layout(text), 0) + smoothing) / (total + smoothing)


def lookalike_predictions(
    prediction: CharacterPrediction, groups: Sequence[str], share: float
) -> tuple[CharacterPrediction, CharacterPrediction]:
    """One character's guesses, groups of look-alike characters and a share in [0, 1] in, (ranking, reported) predictions out.

    Many states print O and 0 with one glyph, so the classifier's choice between them
    follows which is commoner in training, not the plate. For each group with a member
    among the guesses, every member is given: for ranking, share of the group's pooled
    probability split evenly plus (1 - share) of its own, so that the layout decides;
    as its reported confidence, the pooled probability (the glyph is read that surely).
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    ranking = {g.char: g.confidence for g in prediction.guesses}
    reported = dict(ranking)
    for group in groups:
        if not any(c in ranking for c in group):
            continue
        pooled = sum(ranking.get(c, 0.0) for c in group)
        for c in group:
            reported[c] = pooled
            ranking[c] = share * pooled / len(group) + (1.0 - share) * ranking.get(c, 0.0)

    def ordered(confidences: dict[str, float]) -> CharacterPrediction:
        guesses = sorted((CharacterGuess(c, p) for c, p in confidences.items()), key=lambda g: -g.confidence)
        return CharacterPrediction(tuple(guesses), prediction.not_character)

    return ordered(ranking), ordered(reported)

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


def layout_candidates(
    predictions: list[CharacterPrediction],
    formats: Mapping[str, int] | None,
    top_n: int,
    smoothing: float = 1.0,
    reported: list[CharacterPrediction] | None = None,
) -> list[TextCandidate]:
    """Per-character guesses, the region's {layout: count} (or None) and a pseudo-count in, the top_n plate texts out.

    The plain candidates and the likeliest text of each of the region's layouts are ranked
    by their probability times their layout's smoothed share in the region (layout_prior):
    O/0 and I/1 look alike, the region's layouts say which one fits. Confidences are the
    characters' probability in reported (the same guesses, unless look-alikes were pooled
    for ranking: see lookalike_predictions). Without formats this is text_candidates.
    """
    plain = text_candidates(predictions, top_n)
    if not formats:
        return plain
    reported = reported if reported is not None else predictions
    texts = dict.fromkeys([c.plate for c in plain] + [text for text, _ in read_with_formats(predictions, formats)])
    # The region's plate count summed once for every text ranked.
    total = sum(formats.values())
    ranked = sorted(texts, key=lambda text: -_text_probability(predictions, text) * layout_prior(formats, text, smoothing, total))
    return [TextCandidate(text, _text_probability(reported, text)) for text in ranked[:top_n]]


def _text_probability(predictions: list[CharacterPrediction], text: str) -> float:
    """Per-character guesses and a text of their length in, the product of its characters' probabilities out."""
    return math.prod(_guess_confidence(p, c) for p, c in zip(predictions, text))


def _guess_confidence(prediction: CharacterPrediction, char: str) -> float:
    """A character's guesses and one character in, that guess's probability (0 when not among them) out."""
    return next((g.confidence for g in prediction.guesses if g.char == char), 0.0)


def line_ends(count: int, line_starts: Sequence[int]) -> tuple[int, ...]:
    """A row's member count and the index of each line's first member in, the indices of every line's first and last member out, ascending."""
    bounds = [*line_starts, count]
    return tuple(sorted({i for start, stop in zip(bounds, bounds[1:]) if start < stop for i in (start, stop - 1)}))


def kept_line_starts(line_starts: Sequence[int], kept: Sequence[int]) -> tuple[int, ...]:
    """Each line's first member and the ascending indices of the members kept in, each line's first member among the kept out (a line with none kept is gone)."""
    lines = [bisect.bisect_right(line_starts, k) - 1 for k in kept]
    return tuple(j for j, line in enumerate(lines) if j == 0 or line != lines[j - 1]) or (0,)


def layout_fitting_members(
    scores: Sequence[float],
    ranking: list[CharacterPrediction],
    formats: Mapping[str, int],
    smoothing: float,
    dropped_end_weight: float,
    fewest: int,
    line_starts: Sequence[int] = (0,),
) -> tuple[int, ...]:
    """A row's candidate scores and ranking guesses, {layout: count}, its pseudo-count, the cost of a dropped end, the fewest characters and each line's first member in, the indices of the members to read out.

    The whole row, or the row less some of its line ends when the rest reads in a much
    commoner layout: a logo read as a sure character before the plate (Maine's ribbon), or
    on a two-line plate the band, a seal or the frame beside a short line. A one-line row
    drops its first or its last member at most; a two-line row any of its lines' ends.
    Each dropped end costs dropped_end_weight times its chance of not being read right.
    """

    def value(kept: tuple[int, ...]) -> float:
        text = layout_candidates([ranking[i] for i in kept], formats, 1, smoothing)[0].plate
        geometric = math.exp(float(np.mean(np.log(np.maximum([scores[i] for i in kept], 1e-9)))))
        cost = math.prod(dropped_end_weight * (1.0 - scores[i]) for i in range(len(scores)) if i not in kept)
        return geometric * layout_prior(formats, text, smoothing) * cost

    count = len(scores)
    whole = tuple(range(count))
    if count <= fewest or dropped_end_weight <= 0.0:
        return whole
    ends = line_ends(count, line_starts)
    most_dropped = 1 if len(line_starts) == 1 else len(ends)
    drops = [d for k in range(1, most_dropped + 1) for d in itertools.combinations(ends, k) if count - k >= fewest]
    options = [whole] + [tuple(i for i in whole if i not in d) for d in drops]
    # On a tie the whole row stays (max keeps the first of equals).
    return max(options, key=value)


@dataclass(frozen=True)
class DecodedRow:
    """A row's texts best first, the confidence of each character of the best text, and the indices of the members read."""

    candidates: tuple[TextCandidate, ...]
    confidences: tuple[float, ...]
    kept: tuple[int, ...]


def decode_row(
    predictions: Sequence[CharacterPrediction],
    scores: Sequence[float],
    layouts: Mapping[str, int] | None,
    smoothing: float,
    lookalikes: Sequence[str],
    config: DecodingConfig,
    fewest: int,
    line_starts: Sequence[int] = (0,),
) -> DecodedRow:
    """A row's per-character guesses and candidate scores, the region's {layout: count} (or None), its pseudo-count, look-alike groups and each line's first member in, the row's texts out.

    With layouts, look-alikes share their probability for ranking (lookalike_predictions),
    line ends go when the rest reads in a much commoner layout (layout_fitting_members), and
    the texts are ranked by probability times layout share (layout_candidates).
    """
    ranking, reported = list(predictions), list(predictions)
    kept = tuple(range(len(ranking)))
    if layouts:
        pairs = [lookalike_predictions(p, lookalikes, config.lookalike_share) for p in predictions]
        ranking, reported = [r for r, _ in pairs], [r for _, r in pairs]
        weight = config.dropped_end_weight if len(line_starts) == 1 else config.dropped_line_end_weight
        kept = layout_fitting_members(scores, ranking, layouts, smoothing, weight, fewest, line_starts)
        ranking, reported = [ranking[i] for i in kept], [reported[i] for i in kept]
    candidates = layout_candidates(ranking, layouts, config.top_n, smoothing, reported)
    confidences = tuple(_guess_confidence(p, char) for char, p in zip(candidates[0].plate, reported))
    return DecodedRow(tuple(candidates), confidences, kept)
