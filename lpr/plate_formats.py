"""Plate formats per state: labeled texts in, letter/digit layouts out; layouts re-rank readings of a known state.

A layout writes each character of a plate as "L" (letter) or "D" (digit): "ABC1234" is
"LLLDDDD". Knowing which layouts a state issues is how a reader tells O from 0 and I
from 1 when the shapes alone cannot.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from .classification import CharacterGuess, CharacterPrediction


def layout(text: str) -> str:
    """Plate text in, its layout out: "L" for each letter, "D" for each digit."""
    return "".join("D" if c.isdigit() else "L" for c in text)


def learn_formats(labels: Iterable[tuple[str | None, str]]) -> dict[str, dict[str, int]]:
    """(state, plate text) pairs in, {state: {layout: count}} out; pairs without a state are ignored."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for state, text in labels:
        if state:
            counts[state.lower()][layout(text)] += 1
    return {state: dict(sorted(c.items())) for state, c in sorted(counts.items())}


def all_formats(formats: dict[str, dict[str, int]]) -> dict[str, int]:
    """{state: {layout: count}} in, {layout: count} over every state together out."""
    merged: Counter = Counter()
    for layouts in formats.values():
        merged.update(layouts)
    return dict(sorted(merged.items()))


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
    predictions: Sequence[CharacterPrediction], formats: dict[str, int]
) -> list[tuple[str, float]]:
    """Per-character guesses and a state's {layout: count} in, (text, score) per fitting layout out, best first.

    The score weighs the characters' probability by how common the layout is in the state,
    so a slightly less likely reading in the state's usual layout wins over an unusual one.
    """
    total = sum(formats.values())
    # Each position's best letter and digit are found once, not once per layout.
    best = _best_of_kinds(predictions)
    readings = []
    for wanted, count in formats.items():
        fitted = _fitted_text(best, wanted)
        if fitted is not None:
            text, probability = fitted
            readings.append((text, probability * math.sqrt(count / total)))
    return sorted(readings, key=lambda r: -r[1])


def layout_prior(formats: dict[str, int], text: str, smoothing: float) -> float:
    """A state's {layout: count}, a plate text and a pseudo-count in, the smoothed share of the text's layout out.

    An unseen layout keeps smoothing / (plates + smoothing): a state's few training plates
    do not show every layout it issues (vanity plates, new series), so a clear reading in
    an unseen layout must still beat a doubtful one in a common layout.
    """
    total = sum(formats.values())
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
