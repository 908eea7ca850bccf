"""lpr.metrics: strict text, edit distance, character accuracy, exact match, detection IoU, and the edit-distance
alignment of plate texts with the character confusions counted from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpr.geometry import Box
from lpr.metrics import (
    DETECTION_IOU,
    GAP,
    AlignedPair,
    Confusion,
    align_texts,
    character_accuracy,
    character_confusions,
    edit_distance,
    exact_match,
    exact_match_folded,
    is_detection,
    strict_text,
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("ABC", "", 3), ("", "AB", 2), ("ABC", "ABC", 0), ("kitten", "sitting", 3), ("ABC123", "AB123", 1), ("ABCD", "BADC", 3)],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_strict_text_keeps_letters_and_digits_only():
    assert strict_text("ab-12 3·x") == "AB123X"
    assert strict_text("O0o") == "O0O"


def test_o_and_zero_are_distinct():
    assert not exact_match("O12", "012")
    assert character_accuracy("O12", "012") == pytest.approx(2 / 3)


def test_folded_exact_match_takes_o_and_zero_as_one_and_nothing_else():
    assert exact_match_folded("BA0O1AB", "BAO01AB") and exact_match_folded("o12", "012")
    assert not exact_match_folded("I12", "112") and not exact_match_folded("O12", "O123") and not exact_match_folded("", "")


def test_exact_match():
    assert exact_match("abc-123", "ABC123")
    assert not exact_match("ABC12", "ABC123")
    assert not exact_match("", "")  # an empty truth is never an exact read


@pytest.mark.parametrize(
    ("predicted", "truth", "accuracy"),
    [("ABC123", "ABC123", 1.0), ("ABC12", "ABC123", 5 / 6), ("XYZ", "ABC123", 0.0), ("", "ABC123", 0.0), ("A" * 20, "AB", 0.0), ("", "", 1.0), ("X", "", 0.0)],
)
def test_character_accuracy(predicted, truth, accuracy):
    assert character_accuracy(predicted, truth) == pytest.approx(accuracy)


def test_detection_needs_iou_strictly_above_threshold():
    truth = Box(0, 0, 10, 10)
    assert DETECTION_IOU == 0.4
    assert not is_detection(Box(0, 0, 4, 10), truth)  # IoU exactly 0.4
    assert is_detection(Box(0, 0, 5, 10), truth)  # IoU 0.5
    assert not is_detection(Box(20, 20, 10, 10), truth)


def test_alignment_pairs_substitutions_and_gaps():
    assert [(p.truth, p.predicted) for p in align_texts("A81", "AB1")] == [("A", "A"), ("B", "8"), ("1", "1")]
    assert [(p.truth, p.predicted) for p in align_texts("AB", "ABC")] == [("A", "A"), ("B", "B"), ("C", GAP)]


def test_character_confusions_count_mistakes_only():
    confusions = character_confusions([("A81", "AB1"), ("X8Y", "XBY"), ("ABC", "ABC"), ("", "ABC")])
    assert [(c.truth, c.predicted, c.count) for c in confusions] == [("B", "8", 2)]


# Alignment and confusions in detail.

plate_text = st.text(alphabet="ABC018", max_size=9)


def pairs(*columns: tuple[str, str]) -> tuple[AlignedPair, ...]:
    return tuple(AlignedPair(t, p) for t, p in columns)


def test_identical_texts_align_character_by_character():
    assert align_texts("ABC123", "ABC123") == pairs(*((c, c) for c in "ABC123"))


def test_substitution_is_preferred_over_a_deletion_plus_an_insertion():
    assert align_texts("A81", "AB1") == pairs(("A", "A"), ("B", "8"), ("1", "1"))


def test_missed_and_extra_characters_are_paired_with_a_gap():
    assert align_texts("ABD", "ABCD") == pairs(("A", "A"), ("B", "B"), ("C", GAP), ("D", "D"))
    assert align_texts("XABC", "ABC") == pairs((GAP, "X"), ("A", "A"), ("B", "B"), ("C", "C"))


def test_empty_texts():
    assert align_texts("", "") == ()
    assert align_texts("", "AB") == pairs(("A", GAP), ("B", GAP))
    assert align_texts("AB", "") == pairs((GAP, "A"), (GAP, "B"))


def test_texts_are_compared_as_scored():
    assert align_texts("ab-1", "AB1") == pairs(("A", "A"), ("B", "B"), ("1", "1"))


@given(plate_text, plate_text)
def test_alignment_spells_both_texts_and_costs_the_edit_distance(predicted, truth):
    aligned = align_texts(predicted, truth)
    assert "".join(p.truth for p in aligned) == strict_text(truth)
    assert "".join(p.predicted for p in aligned) == strict_text(predicted)
    assert all(p.truth != GAP or p.predicted != GAP for p in aligned)
    assert sum(not p.correct for p in aligned) == edit_distance(strict_text(predicted), strict_text(truth))


def test_confusions_are_counted_over_plates_most_frequent_first():
    readings = [("A81", "AB1"), ("X8Z", "XBZ"), ("0O", "OO"), ("ABD", "ABCD")]
    assert character_confusions(readings) == (
        Confusion("B", "8", 2),
        Confusion("C", GAP, 1),
        Confusion("O", "0", 1),
    )


def test_plates_not_read_and_negatives_are_left_out():
    assert character_confusions([("", "ABC"), ("ABC", ""), ("ABC", "ABC")]) == ()
