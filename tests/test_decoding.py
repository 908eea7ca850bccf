"""lpr.plate_formats: layouts of plate texts, formats learned per state, readings re-ranked by a state's layouts."""

from __future__ import annotations

import pytest

from lpr.classification import CharacterGuess, CharacterPrediction
from lpr.plate_formats import (
    all_formats,
    best_text_for_layout,
    layout,
    learn_formats,
    lookalike_predictions,
    read_with_formats,
)


def guesses(*options: tuple[tuple[str, float], ...]) -> list[CharacterPrediction]:
    """Per-position (char, probability) options in, CharacterPredictions out."""
    return [CharacterPrediction(tuple(CharacterGuess(c, p) for c, p in position)) for position in options]


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


def test_all_formats_adds_up_every_states_layouts():
    merged = all_formats({"md": {"LLLDDDD": 3, "DLLDDD": 1}, "va": {"LLLDDDD": 2}, "wy": {}})
    assert merged == {"DLLDDD": 1, "LLLDDDD": 5}
    assert all_formats({}) == {}


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
