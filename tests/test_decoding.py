"""lpr.decoding: layouts of plate texts, texts re-ranked by a region's layouts, look-alikes, and the row ends a layout drops."""

from __future__ import annotations

import pytest

from lpr.classification import CharacterGuess, CharacterPrediction
from lpr.config import DecodingConfig
from lpr.decoding import (
    best_text_for_layout,
    kept_line_starts,
    layout_candidates,
    layout_fitting_members,
    line_ends,
    lookalike_predictions,
    read_with_formats,
    text_candidates,
)
from lpr.region import PlateGeometry, layout, pooled_layouts
from lpr.training.model import learn_formats


def guesses(*options: tuple[tuple[str, float], ...]) -> list[CharacterPrediction]:
    """Per-position (char, probability) options in, CharacterPredictions out."""
    return [CharacterPrediction(tuple(CharacterGuess(c, p) for c, p in position)) for position in options]


def prediction(*options: tuple[str, float]) -> CharacterPrediction:
    return CharacterPrediction(tuple(CharacterGuess(c, p) for c, p in options))


# "ABC1O34": the shapes say O at position 5 (slightly), the state's layout says a digit.
AMBIGUOUS = guesses(
    (("A", 0.9), ("4", 0.1)),
    (("B", 0.8), ("8", 0.2)),
    (("C", 0.9), ("G", 0.1)),
    (("1", 0.6), ("I", 0.4)),
    (("O", 0.55), ("0", 0.45)),
    (("3", 0.9), ("B", 0.1)),
    (("4", 0.9), ("A", 0.1)),
)

# Shapes read "AB0" a little better than "ABO".
PREDICTIONS = [prediction(("A", 0.9)), prediction(("B", 0.9), ("8", 0.1)), prediction(("0", 0.6), ("O", 0.4))]

# The fewest characters of a scene plate's row (4 for the US): a row this short is never shortened.
FEWEST = PlateGeometry().scene_characters[0]
DROPPED_END_WEIGHT = DecodingConfig().dropped_end_weight


@pytest.mark.parametrize("text, expected", [("ABC1234", "LLLDDDD"), ("", ""), ("0O1I", "DLDL"), ("9", "D")])
def test_layout(text, expected):
    assert layout(text) == expected


def test_learn_formats_counts_layouts_per_state_and_ignores_missing_states():
    formats = learn_formats([("MD", "ABC1234"), ("md", "XYZ9876"), ("md", "12345"), (None, "AAA111"), ("", "B2")])
    assert formats == {"md": {"DDDDD": 1, "LLLDDDD": 2}}


def test_best_text_for_layout_resolves_o_and_0():
    text, probability = best_text_for_layout(AMBIGUOUS, "LLLDDDD")
    assert text == "ABC1034"
    assert probability == pytest.approx(0.9 * 0.8 * 0.9 * 0.6 * 0.45 * 0.9 * 0.9)
    assert best_text_for_layout(AMBIGUOUS, "LLLLLDD")[0] == "ABCIO34"


def test_best_text_for_layout_without_a_fitting_guess_or_of_another_length_is_none():
    assert best_text_for_layout(AMBIGUOUS, "DDDDDDD") is None  # position 3 has no digit guess ("C"/"G")
    assert best_text_for_layout(AMBIGUOUS, "LLLDDD") is None


def test_read_with_formats_prefers_the_states_common_layout():
    readings = read_with_formats(AMBIGUOUS, {"LLLDDDD": 9, "LLLLLDD": 1})
    assert [text for text, _ in readings] == ["ABC1034", "ABCIO34"]
    assert readings[0][1] > readings[1][1]


def test_read_with_formats_with_no_fitting_layout_is_empty():
    assert read_with_formats(AMBIGUOUS, {"DDDDDD": 3}) == []


def test_pooled_layouts_add_up_every_states_layouts():
    merged = pooled_layouts({"md": {"LLLDDDD": 3, "DLLDDD": 1}, "va": {"LLLDDDD": 2}, "wy": {}})
    assert merged == {"DLLDDD": 1, "LLLDDDD": 5}
    assert pooled_layouts({}) == {}


def test_lookalike_predictions_adds_the_missing_twin_and_reports_the_pooled_glyph():
    # The shapes say 0; O is not among the guesses at all.
    prediction = guesses((("0", 0.9), ("D", 0.06), ("Q", 0.04)))[0]
    ranking, reported = lookalike_predictions(prediction, ("0O",), 0.2)
    ranked = {g.char: g.confidence for g in ranking.guesses}
    assert ranked["O"] == pytest.approx(0.2 * 0.9 / 2)
    assert ranked["0"] == pytest.approx(0.2 * 0.9 / 2 + 0.8 * 0.9)
    assert ranked["D"] == 0.06 and ranking.char == "0"
    # Either reading of the glyph is reported as sure as the glyph itself.
    confidences = {g.char: g.confidence for g in reported.guesses}
    assert confidences["O"] == confidences["0"] == pytest.approx(0.9)
    assert ranking.not_character == reported.not_character == prediction.not_character


def test_lookalike_predictions_leaves_other_characters_alone():
    prediction = guesses((("A", 0.7), ("4", 0.3)))[0]
    assert lookalike_predictions(prediction, ("0O",), 1.0) == (prediction, prediction)
    assert lookalike_predictions(AMBIGUOUS[4], (), 0.5) == (AMBIGUOUS[4], AMBIGUOUS[4])
    # A full share makes the twins equal: only the layout can tell them apart.
    ranking, _ = lookalike_predictions(AMBIGUOUS[4], ("0O",), 1.0)
    assert [g.confidence for g in ranking.guesses] == [pytest.approx(0.5), pytest.approx(0.5)]


def test_lookalike_predictions_rejects_a_share_outside_0_1():
    with pytest.raises(ValueError, match="share"):
        lookalike_predictions(AMBIGUOUS[4], ("0O",), 1.5)


def test_without_formats_the_candidates_are_the_plain_ones():
    assert layout_candidates(PREDICTIONS, None, 5) == text_candidates(PREDICTIONS, 5)
    assert layout_candidates(PREDICTIONS, {}, 5) == text_candidates(PREDICTIONS, 5)


def test_a_states_layout_ranks_its_reading_first_and_keeps_the_others():
    candidates = layout_candidates(PREDICTIONS, {"LLL": 5}, 5)
    assert candidates[0].plate == "ABO"
    assert candidates[0].confidence == pytest.approx(0.9 * 0.9 * 0.4)
    assert "AB0" in [c.plate for c in candidates]
    assert len({c.plate for c in candidates}) == len(candidates) <= 5


def test_a_common_layout_turns_a_sure_0_into_the_o_of_a_serial():
    # "0" by shape, and O not even among the guesses: the state's layout LLL decides once
    # a small share of the glyph's probability goes to its twin.
    predictions = [prediction(("A", 0.9)), prediction(("B", 0.9)), prediction(("0", 0.98), ("D", 0.02))]
    assert layout_candidates(predictions, {"LLL": 50}, 5, 0.5)[0].plate == "ABD"
    pairs = [lookalike_predictions(p, ("0O",), 0.05) for p in predictions]
    candidates = layout_candidates([r for r, _ in pairs], {"LLL": 50}, 5, 0.5, [r for _, r in pairs])
    assert candidates[0].plate == "ABO"
    # Its confidence is the glyph's, not the twin's small share.
    assert candidates[0].confidence == pytest.approx(0.9 * 0.9 * 0.98)


def test_a_layout_of_another_length_changes_nothing():
    assert layout_candidates(PREDICTIONS, {"LLLDDDD": 5}, 5) == text_candidates(PREDICTIONS, 5)


def sure_row(text: str, confidence: float = 0.9) -> list[CharacterPrediction]:
    return [prediction((c, confidence)) for c in text]


def test_a_logo_read_as_a_leading_letter_goes_when_the_rest_fits_a_common_layout():
    # Maine's ribbon read as a sure "A" before 100AJA: LDDDLLL was never seen, DDDLLL often.
    row = sure_row("A100AJA")
    scores = [p.confidence for p in row]
    assert layout_fitting_members(scores, row, {"DDDLLL": 10}, 0.05, DROPPED_END_WEIGHT, FEWEST) == (1, 2, 3, 4, 5, 6)
    # The same on the right: a trailing letter after a serial of a common layout.
    trailing = sure_row("100AJA") + [prediction(("K", 0.9))]
    assert layout_fitting_members([0.9] * 7, trailing, {"DDDLLL": 10}, 0.05, DROPPED_END_WEIGHT, FEWEST) == (0, 1, 2, 3, 4, 5)


def test_a_row_in_a_seen_layout_keeps_its_ends():
    row = sure_row("A100AJA")
    scores = [p.confidence for p in row]
    # Its own layout seen as often as the shorter one: the whole row stays.
    assert layout_fitting_members(scores, row, {"DDDLLL": 10, "LDDDLLL": 10}, 0.05, DROPPED_END_WEIGHT, FEWEST) == tuple(range(7))
    # A sure end (score 1) is never dropped, a weight of 0 drops nothing, and a row of
    # the fewest characters is never shortened.
    assert layout_fitting_members([1.0] + scores[1:], row, {"DDDLLL": 10}, 0.05, DROPPED_END_WEIGHT, FEWEST) == tuple(range(7))
    assert layout_fitting_members(scores, row, {"DDDLLL": 10}, 0.05, 0.0, FEWEST) == tuple(range(7))
    short = sure_row("A100")
    assert FEWEST == len(short)
    assert layout_fitting_members([0.9] * 4, short, {"DDD": 10}, 0.05, DROPPED_END_WEIGHT, FEWEST) == tuple(range(4))


LINE_END_WEIGHT = DecodingConfig().dropped_line_end_weight


def test_a_seal_read_between_a_two_line_plates_lines_goes():
    # A German "BOR / HD115" plate whose seal, right of the top line, reads as a sure "8":
    # LLLDLLDDD is no layout, LLLLLDDD is; the seal is the top line's last member.
    row = sure_row("BOR8HD115", 0.95)
    scores = [p.confidence for p in row]
    kept = layout_fitting_members(scores, row, {"LLLLLDDD": 10}, 0.5, LINE_END_WEIGHT, 1, line_starts=(0, 4))
    assert "".join("BOR8HD115"[i] for i in kept) == "BORHD115"
    # Read as one line, the seal is no end: nothing goes.
    assert layout_fitting_members(scores, row, {"LLLLLDDD": 10}, 0.5, LINE_END_WEIGHT, 1) == tuple(range(9))


def test_a_two_line_plate_drops_several_line_ends_but_keeps_a_row_in_a_seen_layout():
    # The band's letter before the top line and the frame read as "I" after the bottom one.
    row = sure_row("DAB12I", 0.95)
    scores = [p.confidence for p in row]
    kept = layout_fitting_members(scores, row, {"LLDD": 10}, 0.5, LINE_END_WEIGHT, 1, line_starts=(0, 3))
    assert kept == (1, 2, 3, 4)
    # Its own layout seen as often: every member stays.
    assert layout_fitting_members(scores, row, {"LLDD": 10, "LLLDDL": 10}, 0.5, LINE_END_WEIGHT, 1, line_starts=(0, 3)) == tuple(range(6))


def test_line_ends_and_the_lines_left_after_dropping():
    assert line_ends(7, (0,)) == (0, 6)
    assert line_ends(7, (0, 3)) == (0, 2, 3, 6)
    # A one-member line's first is its last.
    assert line_ends(4, (0, 1)) == (0, 1, 3)
    assert kept_line_starts((0, 3), (1, 2, 4, 5)) == (0, 2)
    # A line of which nothing is kept is gone.
    assert kept_line_starts((0, 1), (1, 2, 3)) == (0,)
    assert kept_line_starts((0,), (1, 2)) == (0,)
