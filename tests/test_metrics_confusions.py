"""Edit-distance alignment of plate texts and the character confusions counted from it."""

from hypothesis import given
from hypothesis import strategies as st

from lpr.metrics import GAP, AlignedPair, Confusion, align_texts, character_confusions, edit_distance, strict_text

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
