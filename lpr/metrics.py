"""Recognition metrics: predicted and true plate texts / boxes in, scores out."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .geometry import Box

# A detection counts when the returned box overlaps the labeled one by more than this.
DETECTION_IOU = 0.4

_STRICT = re.compile(r"[^A-Z0-9]")


def strict_text(text: str) -> str:
    """Plate text as scored: upper-case A-Z and 0-9 only, everything else dropped (O and 0 stay distinct)."""
    return _STRICT.sub("", text.upper())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_accuracy(predicted: str, truth: str) -> float:
    """1 - edit distance / length of the truth, floored at 0, on strict texts."""
    predicted, truth = strict_text(predicted), strict_text(truth)
    if not truth:
        return 1.0 if not predicted else 0.0
    return max(0.0, 1.0 - edit_distance(predicted, truth) / len(truth))


def exact_match(predicted: str, truth: str) -> bool:
    """True when the strict texts are identical."""
    return strict_text(predicted) == strict_text(truth) and bool(strict_text(truth))


def exact_match_folded(predicted: str, truth: str) -> bool:
    """True when the strict texts are identical with the letter O and the digit 0 taken as one (how OpenALPR's European figures are often quoted)."""
    return exact_match(strict_text(predicted).replace("O", "0"), strict_text(truth).replace("O", "0"))


def is_detection(predicted: Box, truth: Box) -> bool:
    """True when a returned box overlaps the labeled box by more than DETECTION_IOU."""
    return predicted.iou(truth) > DETECTION_IOU


# Marks the empty side of an aligned pair: a truth character that was not read, or a read one that is not there.
GAP = ""


@dataclass(frozen=True)
class AlignedPair:
    """One column of an alignment: a true character and the character read for it; GAP on either side, never both."""

    truth: str
    predicted: str

    @property
    def correct(self) -> bool:
        return self.truth == self.predicted


@dataclass(frozen=True)
class Confusion:
    """How often a true character was read as another (GAP as predicted: missed; GAP as truth: extra)."""

    truth: str
    predicted: str
    count: int


def align_texts(predicted: str, truth: str) -> tuple[AlignedPair, ...]:
    """Predicted and true strict texts in, a minimum-edit-distance alignment out, left to right.

    Ties prefer a substitution over an insertion plus a deletion, so "AB1" read as "A81" pairs B with 8.
    """
    predicted, truth = strict_text(predicted), strict_text(truth)
    rows, columns = len(truth) + 1, len(predicted) + 1
    cost = [[0] * columns for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(columns):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, columns):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (truth[i - 1] != predicted[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    pairs: list[AlignedPair] = []
    i, j = len(truth), len(predicted)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (truth[i - 1] != predicted[j - 1]):
            pairs.append(AlignedPair(truth[i - 1], predicted[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append(AlignedPair(truth[i - 1], GAP))
            i -= 1
        else:
            pairs.append(AlignedPair(GAP, predicted[j - 1]))
            j -= 1
    return tuple(reversed(pairs))


def character_confusions(readings: Iterable[tuple[str, str]]) -> tuple[Confusion, ...]:
    """(predicted, truth) text pairs in, every mistaken character pair with its count out, most frequent first.

    Pairs with an empty prediction or truth are left out: a plate that was not read at all (or a
    negative) says nothing about which characters get confused, and would bury the table in misses.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for predicted, truth in readings:
        if not strict_text(predicted) or not strict_text(truth):
            continue
        counts.update((p.truth, p.predicted) for p in align_texts(predicted, truth) if not p.correct)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Confusion(t, p, n) for (t, p), n in ordered)
