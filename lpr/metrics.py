"""Recognition metrics: predicted and true plate texts / boxes in, scores out."""

from __future__ import annotations

import re

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


def is_detection(predicted: Box, truth: Box) -> bool:
    """True when a returned box overlaps the labeled box by more than DETECTION_IOU."""
    return predicted.iou(truth) > DETECTION_IOU
