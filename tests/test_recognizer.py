"""lpr.recognizer: read_plate on sample crops, and readings re-ranked by the state's plate layouts."""

from __future__ import annotations

import csv
import dataclasses

import cv2
import pytest

from lpr.classification import CharacterGuess, CharacterPrediction
from lpr.model import load_model
from lpr.plate_formats import layout
from lpr.recognizer import Recognizer, state_candidates, text_candidates, trim_row_ends


def prediction(*options: tuple[str, float]) -> CharacterPrediction:
    return CharacterPrediction(tuple(CharacterGuess(c, p) for c, p in options))


# Shapes read "AB0" a little better than "ABO".
PREDICTIONS = [prediction(("A", 0.9)), prediction(("B", 0.9), ("8", 0.1)), prediction(("0", 0.6), ("O", 0.4))]


def test_read_plate_reads_the_synthetic_samples(samples):
    recognizer = Recognizer()
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        reading = recognizer.read_plate(cv2.imread(str(samples / "crops" / row["image"])))
        assert reading is not None and len(reading.text) == len(row["plate"])
        assert reading.text == reading.candidates[0].plate and 0.0 < reading.confidence <= 1.0
        assert "".join(c.char for c in reading.characters) == reading.text


def test_without_formats_the_candidates_are_the_plain_ones():
    assert state_candidates(PREDICTIONS, None, 5) == text_candidates(PREDICTIONS, 5)
    assert state_candidates(PREDICTIONS, {}, 5) == text_candidates(PREDICTIONS, 5)


def test_a_states_layout_ranks_its_reading_first_and_keeps_the_others():
    candidates = state_candidates(PREDICTIONS, {"LLL": 5}, 5)
    assert candidates[0].plate == "ABO"
    assert candidates[0].confidence == pytest.approx(0.9 * 0.9 * 0.4)
    assert "AB0" in [c.plate for c in candidates]
    assert len({c.plate for c in candidates}) == len(candidates) <= 5


def test_a_layout_of_another_length_changes_nothing():
    assert state_candidates(PREDICTIONS, {"LLLDDDD": 5}, 5) == text_candidates(PREDICTIONS, 5)


def test_recognizer_uses_the_formats_stored_in_the_model(samples):
    model = load_model()
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        row = next(csv.DictReader(stream))
    image = cv2.imread(str(samples / "crops" / row["image"]))
    plain = Recognizer(model).read_plate(image)
    # A state whose only layout is that of a lesser candidate: the reading must follow it.
    wanted = next(layout(c.plate) for c in plain.candidates if layout(c.plate) != layout(plain.text))
    letters = dataclasses.replace(model, info=model.info | {"formats": {"zz": {wanted: 1000}}})
    reading = Recognizer(letters, state="ZZ").read_plate(image)
    assert layout(reading.text) == wanted and reading.text in [c.plate for c in reading.candidates]
    assert "".join(c.char for c in reading.characters) == reading.text
    # Another state, or none, reads as before.
    assert Recognizer(letters, state="md").read_plate(image).text == plain.text
    assert Recognizer(letters).read_plate(image).text == plain.text


def test_trim_row_ends_drops_weak_end_members_only():
    scores = [0.1, 0.9, 0.05, 0.9, 0.9, 0.15]
    # Both weak ends go (weakest first); the weak middle member stays.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, 0.2, 4) == (1, 2, 3, 4)
    # Never below the minimum length, and nothing changes with a threshold of 0.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, 0.2, 5) == (1, 2, 3, 4, 5)
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, 0.0, 4) == (0, 1, 2, 3, 4, 5)
    assert trim_row_ends((), [], 0.2, 4) == ()


def test_trained_model_stores_each_states_layouts_and_keeps_them_when_saved(trained_model, tmp_path):
    from lpr.model import save_model

    formats = trained_model.info["formats"]
    assert formats and all(len(state) == 2 and state.islower() for state in formats)
    assert all(set(layout_) <= {"L", "D"} and count >= 1 for layouts in formats.values() for layout_, count in layouts.items())
    assert load_model(save_model(trained_model, tmp_path / "m.npz")).info["formats"] == formats
    state = next(iter(formats))
    assert Recognizer(trained_model, state=state.upper()).formats == formats[state]
    assert Recognizer(trained_model, state="zz").formats is None
