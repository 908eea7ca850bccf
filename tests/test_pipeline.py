"""lpr.recognizer: read_plate on sample crops, and readings re-ranked by the state's plate layouts."""

from __future__ import annotations

import csv
import dataclasses

import cv2
import numpy as np
import pytest

from lpr.classification import CharacterGuess, CharacterPrediction
from lpr.config import Config, RecognitionConfig
from lpr.model import load_model
from lpr.plate_formats import layout, lookalike_predictions
from lpr.geometry import Box
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.recognizer import (
    CharacterReading,
    PlateReading,
    Recognizer,
    agreed_reading,
    fits_row,
    holds_in_order,
    ink_colours,
    layout_fitting_span,
    lonely_members,
    off_colour_members,
    pitch_spots,
    required_plate_score,
    rescued_members,
    state_candidates,
    sure_first,
    text_candidates,
    trim_row_ends,
    whole_plate_reading,
    window_places,
    without_members,
)
from lpr.segmentation import CharacterCrop, Segmentation


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


def test_a_common_layout_turns_a_sure_0_into_the_o_of_a_serial():
    # "0" by shape, and O not even among the guesses: the state's layout LLL decides once
    # a small share of the glyph's probability goes to its twin.
    predictions = [prediction(("A", 0.9)), prediction(("B", 0.9)), prediction(("0", 0.98), ("D", 0.02))]
    assert state_candidates(predictions, {"LLL": 50}, 5, 0.5)[0].plate == "ABD"
    pairs = [lookalike_predictions(p, ("0O",), 0.05) for p in predictions]
    candidates = state_candidates([r for r, _ in pairs], {"LLL": 50}, 5, 0.5, [r for _, r in pairs])
    assert candidates[0].plate == "ABO"
    # Its confidence is the glyph's, not the twin's small share.
    assert candidates[0].confidence == pytest.approx(0.9 * 0.9 * 0.98)


def test_a_layout_of_another_length_changes_nothing():
    assert state_candidates(PREDICTIONS, {"LLLDDDD": 5}, 5) == text_candidates(PREDICTIONS, 5)


def sure_row(text: str, confidence: float = 0.9) -> list[CharacterPrediction]:
    return [prediction((c, confidence)) for c in text]


def test_a_logo_read_as_a_leading_letter_goes_when_the_rest_fits_a_common_layout():
    # Maine's ribbon read as a sure "A" before 100AJA: LDDDLLL was never seen, DDDLLL often.
    row = sure_row("A100AJA")
    scores = [p.confidence for p in row]
    settings = RecognitionConfig()
    assert layout_fitting_span(scores, row, {"DDDLLL": 10}, 0.05, settings) == (1, 7)
    # The same on the right: a trailing letter after a serial of a common layout.
    assert layout_fitting_span([0.9] * 7, sure_row("100AJA") + [prediction(("K", 0.9))], {"DDDLLL": 10}, 0.05, settings) == (0, 6)


def test_a_row_in_a_seen_layout_keeps_its_ends():
    row = sure_row("A100AJA")
    scores = [p.confidence for p in row]
    settings = RecognitionConfig()
    # Its own layout seen as often as the shorter one: the whole row stays.
    assert layout_fitting_span(scores, row, {"DDDLLL": 10, "LDDDLLL": 10}, 0.05, settings) == (0, 7)
    # A sure end (score 1) is never dropped, a weight of 0 drops nothing, and a row of
    # min_characters is never shortened.
    assert layout_fitting_span([1.0] + scores[1:], row, {"DDDLLL": 10}, 0.05, settings) == (0, 7)
    assert layout_fitting_span(scores, row, {"DDDLLL": 10}, 0.05, dataclasses.replace(settings, dropped_end_weight=0.0)) == (0, 7)
    short = sure_row("A100")
    assert layout_fitting_span([0.9] * 4, short, {"DDD": 10}, 0.05, settings) == (0, 4)


def test_recognizer_uses_the_formats_stored_in_the_model(samples):
    model = load_model()
    # The reading by shapes alone, without any layouts.
    config = dataclasses.replace(Config(), recognition=dataclasses.replace(Config().recognition, general_formats=False))
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        image = cv2.imread(str(samples / "crops" / next(csv.DictReader(stream))["image"]))
    plain = Recognizer(model, config).read_plate(image)
    # A lesser candidate in another layout (e.g. DD3938 for DDB938), from a longer candidate list.
    many = dataclasses.replace(config, recognition=dataclasses.replace(config.recognition, top_n=100))
    wanted = next(layout(c.plate) for c in Recognizer(model, many).read_plate(image).candidates if layout(c.plate) != layout(plain.text))
    # A state whose only layout is that of the lesser candidate: the reading must follow it.
    letters = dataclasses.replace(model, info=model.info | {"formats": {"zz": {wanted: 10**6}}})
    reading = Recognizer(letters, state="ZZ").read_plate(image)
    assert layout(reading.text) == wanted and reading.text in [c.plate for c in reading.candidates]
    assert "".join(c.char for c in reading.characters) == reading.text
    # Another state, or none, falls back on every state's layouts together (here only zz's;
    # weighed as strongly as a state's own, the fallback follows them too)...
    recognition = Config().recognition
    fallback = dataclasses.replace(Config(), recognition=dataclasses.replace(recognition, general_format_smoothing=recognition.format_smoothing))
    assert Recognizer(letters, state="md").layout_prior_counts()[0] == {wanted: 10**6}
    assert layout(Recognizer(letters, fallback, state="md").read_plate(image).text) == wanted
    assert layout(Recognizer(letters, fallback).read_plate(image).text) == wanted
    # ...unless that fallback is off: then it reads as the shapes say.
    assert Recognizer(letters, config, state="md").read_plate(image).text == plain.text
    assert Recognizer(letters, config).read_plate(image).text == plain.text


def trimming(min_end_score: float, min_characters: int, min_fitting_end_score: float | None = None) -> RecognitionConfig:
    fitting = min_end_score if min_fitting_end_score is None else min_fitting_end_score
    return RecognitionConfig(min_characters=min_characters, min_end_score=min_end_score, min_fitting_end_score=fitting)


# Six characters 30 px apart; the first and last are pushed off the pitch, so none fits it.
UNEVEN = [Box(0, 10, 12, 40), *(Box(40 + 30 * i, 10, 20, 40) for i in range(4)), Box(190, 10, 20, 40)]


def test_trim_row_ends_drops_weak_end_members_only():
    scores = [0.1, 0.9, 0.05, 0.9, 0.9, 0.15]
    # Both weak ends go (weakest first); the weak middle member stays.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.2, 4)) == (1, 2, 3, 4)
    # Never below the minimum length, and nothing changes with a threshold of 0.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.2, 5)) == (1, 2, 3, 4, 5)
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.0, 4)) == (0, 1, 2, 3, 4, 5)
    assert trim_row_ends((), [], [], trimming(0.2, 4)) == ()


def test_a_doubtful_end_member_one_pitch_away_stays():
    # A narrow "1" one pitch before four characters, and a bolt of half their height one pitch after.
    boxes = [Box(14, 10, 6, 40), *(Box(40 + 30 * i, 10, 20, 40) for i in range(4)), Box(165, 20, 10, 20)]
    scores = [0.15, 0.9, 0.9, 0.9, 0.9, 0.15]
    config = trimming(0.3, 4, min_fitting_end_score=0.1)
    assert fits_row(boxes, 0, config) and not fits_row(boxes, 5, config)
    assert trim_row_ends(tuple(range(6)), scores, boxes, config) == (0, 1, 2, 3, 4)
    # Off the pitch, the same "1" goes.
    shifted = [Box(0, 10, 6, 40), *boxes[1:]]
    assert not fits_row(shifted, 0, config)
    assert trim_row_ends(tuple(range(6)), scores, shifted, config) == (1, 2, 3, 4)
    # Too few others to know the pitch: no end fits.
    assert not fits_row(boxes[:3], 0, config)


def test_a_doubtful_logo_alone_between_two_groups_goes():
    # "ABC <logo> 123": three letters 30 px apart, a logo in the 90 px gap, three digits.
    boxes = [*(Box(30 * i, 10, 20, 40) for i in range(3)), Box(110, 5, 20, 50), *(Box(180 + 30 * i, 10, 20, 40) for i in range(3))]
    scores = [0.9, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9]
    config = RecognitionConfig(min_lonely_score=0.5)
    assert lonely_members(boxes, scores, config) == [3]
    assert trim_row_ends(tuple(range(7)), scores, boxes, config) == (0, 1, 2, 4, 5, 6)
    # A confident one stays, and so does a doubtful character one pitch from a neighbour.
    assert lonely_members(boxes, [*scores[:3], 0.8, *scores[4:]], config) == []
    assert lonely_members([*boxes[:3], Box(90, 10, 20, 40), *boxes[4:]], scores, config) == []
    # Never below the minimum length.
    assert trim_row_ends(tuple(range(7)), scores, boxes, RecognitionConfig(min_lonely_score=0.5, min_characters=7)) == tuple(range(7))


def test_a_junk_rated_candidate_that_fits_the_row_is_rescued():
    # Four characters 30 px apart; a narrow "1" one pitch before them, a bolt (half height)
    # one pitch after, a thin "T" in a 60 px gap, and a post far off the pitch.
    row = [Box(40, 10, 20, 40), Box(70, 10, 20, 40), Box(160, 10, 20, 40), Box(190, 10, 20, 40)]
    one, bolt, tee, post = Box(17, 10, 6, 40), Box(225, 20, 10, 20), Box(105, 10, 10, 40), Box(280, 10, 6, 40)
    config = Config(recognition=RecognitionConfig(min_rescue_score=0.05))
    assert rescued_members(row, [bolt, one, post, tee], [0.5, 0.1, 0.5, 0.06], config) == [1, 3]
    # Too doubtful, overlapping a member, or past max_characters: not rescued.
    assert rescued_members(row, [one], [0.04], config) == []
    assert rescued_members(row, [Box(55, 10, 12, 40)], [0.9], config) == []
    full = Config(recognition=RecognitionConfig(min_rescue_score=0.05, max_characters=5))
    assert rescued_members(row, [one, tee], [0.1, 0.09], full) == [0]


def test_fits_row_wants_one_pitch_from_a_neighbour_and_the_rows_line():
    row = [Box(40, 10, 20, 40), Box(70, 10, 20, 40), Box(100, 10, 20, 40), Box(190, 10, 20, 40)]
    config = RecognitionConfig()
    # In the gap, one pitch after the third character: fits; in the gap's middle: does not.
    assert fits_row([*row[:3], Box(130, 10, 20, 40), row[3]], 3, config)
    assert not fits_row([*row[:3], Box(145, 10, 20, 40), row[3]], 3, config)
    # Of another height or line: does not.
    assert not fits_row([*row[:3], Box(130, 10, 20, 30), row[3]], 3, config)
    assert not fits_row([*row[:3], Box(130, 20, 20, 40), row[3]], 3, config)


def test_trained_model_stores_each_states_layouts_and_keeps_them_when_saved(trained_model, tmp_path):
    from lpr.model import save_model

    formats = trained_model.info["formats"]
    assert formats and all(len(state) == 2 and state.islower() for state in formats)
    assert all(set(layout_) <= {"L", "D"} and count >= 1 for layouts in formats.values() for layout_, count in layouts.items())
    assert load_model(save_model(trained_model, tmp_path / "m.npz")).info["formats"] == formats
    state = next(iter(formats))
    assert Recognizer(trained_model, state=state.upper()).formats == formats[state]
    assert Recognizer(trained_model, state="zz").formats is None


def test_scene_candidates_come_most_plate_like_first_and_at_most_max_plus_fallback_candidates():
    from conftest import few_images

    import lpr
    from lpr.localization import to_gray

    recognizer = Recognizer()
    assert recognizer.verifier is not None
    settings = recognizer.verifier.config
    for path in few_images(4):
        image = lpr.read_image(path)
        gray = to_gray(image)
        chosen = recognizer.candidates_to_read(image, gray)
        localization = recognizer.config.localization
        assert len(chosen) <= localization.max_candidates + localization.fallback_candidates
        scores = recognizer.verifier.candidate_scores(gray, chosen)
        assert list(scores) == sorted(scores, reverse=True)
        assert all(s >= settings.min_candidate_score for s in scores)


def test_fallback_candidates_are_read_only_until_a_plate_is_read_surely(samples, shared_data):
    import lpr
    from lpr.localization import to_gray

    class CountingRecognizer(Recognizer):
        read = 0

        def candidate_readings(self, image, candidate):
            self.read += 1
            return super().candidate_readings(image, candidate)

    recognizer = CountingRecognizer()
    localization = recognizer.config.localization
    assert recognizer.recognize(lpr.read_image(samples / "scenes" / "scene-02.jpg"))[0].text == "BKK3953"
    assert recognizer.read <= localization.max_candidates
    # Plate-free photos with more plate-like candidates than max_candidates: all are read.
    cluttered = 0
    for path in sorted((shared_data / "negatives").glob("*.jpg"))[:30]:
        image = lpr.read_image(path)
        searched = len(recognizer.candidates_to_read(image, to_gray(image)))
        recognizer.read = 0
        if searched > localization.max_candidates and not recognizer.recognize(image):
            assert recognizer.read == searched
            cluttered += 1
    assert cluttered >= 3
    # The fallback also goes on while no plate is read surely enough: with a confidence no
    # reading reaches, every candidate of a scene with a plate is read.
    config = Config()
    unsure = CountingRecognizer(config=dataclasses.replace(config, recognition=dataclasses.replace(config.recognition, sure_confidence=1.01)))
    many = 0
    for path in sorted((shared_data / "us-scenes").glob("*.jpg"))[:10]:
        image = lpr.read_image(path)
        searched = len(unsure.candidates_to_read(image, to_gray(image)))
        unsure.read = 0
        unsure.recognize(image)
        assert unsure.read == searched
        many += searched > localization.max_candidates
    assert many >= 3


def _scene_reading(text: str, box: Box) -> PlateReading:
    segmentation = Segmentation((), "dark", 0, np.zeros((box.h, box.w), np.uint8))
    step = box.w // max(1, len(text))
    characters = tuple(CharacterReading(c, 0.9, Box(box.x + i * step, box.y, step, box.h)) for i, c in enumerate(text))
    return PlateReading(text, 0.9, box, characters, (), segmentation, box)


def test_readings_of_one_plate_agree_on_the_text_with_the_most_evidence():
    plate, elsewhere = Box(100, 50, 80, 40), Box(400, 300, 80, 40)
    scored = [
        (1.0, _scene_reading("UJ3E0J", plate)),
        (0.8, _scene_reading("UJ3V0J", Box(104, 52, 76, 38))),
        (0.7, _scene_reading("UJ3V0J", Box(98, 48, 84, 42))),
        (2.0, _scene_reading("UJ3E0J", elsewhere)),
    ]
    agreed = agreed_reading(scored, 0, 0.2)
    # 0.8 + 0.7 outweighs 1.0; the far reading of the same text is another plate.
    assert agreed.text == "UJ3V0J" and agreed.box == Box(104, 52, 76, 38)
    assert agreed_reading(scored, 3, 0.2).text == "UJ3E0J"
    # A tie keeps the kept reading's text.
    tied = [(1.0, _scene_reading("ABC123", plate)), (1.0, _scene_reading("ABC128", plate))]
    assert agreed_reading(tied, 0, 0.2).text == "ABC123"
    assert agreed_reading(tied, 1, 0.2).text == "ABC128"


def test_sure_plates_come_before_doubtful_ones_each_in_plate_score_order():
    sign = dataclasses.replace(_scene_reading("SIDHHC", Box(10, 10, 80, 40)), confidence=0.05)
    plate = dataclasses.replace(_scene_reading("1AMW240", Box(300, 200, 80, 40)), confidence=0.94)
    other = dataclasses.replace(_scene_reading("ABC123", Box(500, 200, 80, 40)), confidence=0.6)
    doubtful = dataclasses.replace(_scene_reading("XYZ", Box(700, 200, 80, 40)), confidence=0.2)
    ordered = sure_first([sign, plate, doubtful, other], 0.5)
    assert [r.text for r in ordered] == ["1AMW240", "ABC123", "SIDHHC", "XYZ"]
    assert sure_first([sign, plate], 0.0) == [sign, plate]


def test_short_scene_readings_need_a_higher_plate_score():
    rules = Config().recognition
    assert rules.short_reading_margin > 0
    short = required_plate_score(rules.short_reading_characters, 0.2, rules)
    assert short == pytest.approx(0.2 + rules.short_reading_margin)
    assert required_plate_score(rules.short_reading_characters + 1, 0.2, rules) == pytest.approx(0.2)
    assert required_plate_score(7, -1.0, rules) == pytest.approx(-1.0)


def test_without_verifier_scene_plates_are_gated_by_confidence(samples):
    import lpr

    model = load_model()
    plain = Recognizer(dataclasses.replace(model, verifier=None))
    assert plain.verifier is None
    truth = (samples / "scenes" / "scene-02.txt").read_text().split("\t")[-1].strip()
    plates = plain.recognize(lpr.read_image(samples / "scenes" / "scene-02.jpg"))
    assert truth in [p.text for p in plates]
    assert all(p.confidence >= plain.config.recognition.min_confidence for p in plates)


def paint_text(plate, text: str, x: int) -> int:
    """Dark 56 px characters painted on a plate from x (in place); the x after the last one out."""
    from lpr.datasets.synthetic import glyph_mask, paint

    for char in text:
        glyph = glyph_mask(char, 56)
        paint(plate, glyph, (30, 30, 30), x, 28)
        x += glyph.shape[1] + 7
    return x


def plate_with_logo(left: str, right: str):
    """A light (110, 300, 3) plate reading left + right, with a dark round logo between them overlapping the first of right by a stroke."""
    import numpy as np

    plate = np.full((110, 300, 3), 230, np.uint8)
    x = paint_text(plate, left, 14)
    radius = 22
    centre = x + radius + 2
    cv2.circle(plate, (centre, 56), radius, (50, 50, 50), -1)
    paint_text(plate, right, centre + radius - 6)
    return plate


def plates_read_right(draw, change: dict, seed: int, count: int = 20) -> tuple[int, int]:
    """A synthetic plate drawer (text, rng -> BGR plate), a change to the segmentation settings and a seed in, how many of count plates read right with the default settings and with the change out."""
    from lpr.datasets.synthetic import random_plate_text

    model = load_model()
    changed = dataclasses.replace(Config(), segmentation=dataclasses.replace(Config().segmentation, **change))
    recognizers = (Recognizer(model), Recognizer(model, changed))
    rng = np.random.default_rng(seed)
    right = [0, 0]
    for _ in range(count):
        text = random_plate_text(rng)[:7]
        plate = draw(text, rng)
        for k, recognizer in enumerate(recognizers):
            readings = recognizer.recognize(plate, cropped=True)
            right[k] += bool(readings) and readings[0].text == text
    return right[0], right[1]


def test_characters_touching_a_logo_are_read_back_from_windows():
    def draw(text, rng):
        cut = int(rng.integers(2, len(text) - 1))
        return plate_with_logo(text[:cut], text[cut:])

    split, unsplit = plates_read_right(draw, {"split_width": 0}, seed=0)
    # The merged logo + character is too wide for one character: without windows it is lost.
    assert split >= 12 and split >= unsplit + 6, (split, unsplit)


def plate_with_frame_post(text: str):
    """A light (110, 330, 3) plate reading text whose first character is joined by a smear to a dark frame post, taller than the characters."""
    import numpy as np

    plate = np.full((110, 330, 3), 230, np.uint8)
    paint_text(plate, text, 30)
    cv2.rectangle(plate, (8, 8), (19, 102), (40, 40, 40), -1)
    cv2.rectangle(plate, (19, 52), (34, 58), (40, 40, 40), -1)
    return plate


def test_a_first_character_touching_the_frame_is_read_back_from_a_window():
    with_ends, without_ends = plates_read_right(lambda text, rng: plate_with_frame_post(text), {"end_split_tolerance": 0}, seed=1)
    assert with_ends >= 12 and with_ends >= without_ends + 6, (with_ends, without_ends)


def plate_on_frame_edge(text: str) -> np.ndarray:
    """A light plate reading text whose every character stands on a dark frame edge (a frame whose opening is too tight)."""
    plate = np.full((110, 330, 3), 230, np.uint8)
    end = paint_text(plate, text, 20)
    cv2.rectangle(plate, (6, 83), (end + 10, 90), (30, 30, 30), -1)
    return plate[:, : end + 20]


def test_characters_standing_on_the_frame_edge_are_read_once_the_edge_is_removed():
    unlined, lined = plates_read_right(lambda text, rng: plate_on_frame_edge(text), {"line_length": 0}, seed=0)
    # Characters and edge are one component: there is no row, so no band to cut to either.
    assert unlined >= 18 and lined <= 2, (unlined, lined)


def test_window_places_are_wide_gaps_and_one_pitch_past_each_end():
    settings = Config().segmentation
    reach = settings.end_split_tolerance * 20
    places = window_places([10, 30, 50, 90, 110], settings)  # pitch 20, one gap of 40
    assert places == {3: (50, 90), 0: (-10 - reach, -10 + reach), 5: (130 - reach, 130 + reach)}
    no_ends = dataclasses.replace(settings, end_split_tolerance=0)
    assert window_places([10, 30, 50, 90, 110], no_ends) == {3: (50, 90)}
    assert window_places([10], settings) == {} and window_places([], settings) == {}


def test_pitch_spots_are_one_pitch_past_the_ends_and_from_both_sides_of_a_lost_character():
    settings = Config().segmentation
    centres = [10.0, 30.0, 50.0, 90.0, 110.0, 170.0, 190.0]  # pitch 20: a gap of 2 pitches and one of 3
    spots = pitch_spots(centres, window_places(centres, settings), 0.1)
    assert spots[0] == pytest.approx([-12, -10, -8]) and spots[7] == pytest.approx([208, 210, 212])
    assert spots[3] == pytest.approx([68, 70, 72])  # one pitch from either side is the same place
    assert spots[5] == pytest.approx([128, 130, 132, 148, 150, 152])
    assert set(spots) == {0, 3, 5, 7}
    # A gap of 1.7 pitches is a place for split windows, but no lost character fits it.
    narrow = [10.0, 30.0, 50.0, 84.0, 104.0]
    assert 3 in window_places(narrow, settings) and 3 not in pitch_spots(narrow, window_places(narrow, settings), 0.1)
    assert pitch_spots([10.0], {}, 0.1) == {}


def small_plate_with_dot(text: str, cut: int) -> np.ndarray:
    """A light plate reading text in 20 px characters, the ones before and after cut joined by a dark dot and a dash below them (a blurred sticker)."""
    plate = np.full((110, 400, 3), 230, np.uint8)
    gap = paint_text(plate, text[:cut], 20)
    end = paint_text(plate, text[cut:], gap)
    cv2.circle(plate, (gap - 3, 56), 9, (30, 30, 30), -1)
    cv2.rectangle(plate, (gap - 14, 80), (gap + 8, 84), (30, 30, 30), -1)
    return cv2.resize(plate[:, : end + 20], None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)


def test_small_characters_merged_with_a_dot_are_read_back_from_band_windows():
    def draw(text, rng):
        return small_plate_with_dot(text, int(rng.integers(2, len(text) - 1)))

    with_windows, without_windows = plates_read_right(draw, {"max_band_window_height": 0}, seed=0)
    # The two characters and the dot are one blob of no character's shape.
    assert with_windows >= 14 and with_windows >= without_windows + 3, (with_windows, without_windows)


def test_a_candidate_cutting_a_plate_is_read_again_from_the_plate_box(samples):
    import lpr
    from lpr.localization import PlateCandidate

    recognizer = Recognizer()
    for name in ("scene-01", "scene-02"):
        _, x, y, w, h, truth = (samples / "scenes" / f"{name}.txt").read_text().split("\t")
        label = Box(int(x), int(y), int(w), int(h))
        image = lpr.read_image(samples / "scenes" / f"{name}.jpg")
        # The lower part of the plate and the bumper below it: the blob cuts the characters' tops.
        cut = PlateCandidate(Box(label.x, label.y + label.h // 4, label.w, label.h // 2), 1.0)
        first, again = recognizer.candidate_readings(image, cut)
        assert again.text == truth.strip()
        assert again.box.iou(label) > 0.6 and first.box.iou(label) > 0.3
        once = Recognizer(recognizer.model, dataclasses.replace(Config(), recognition=RecognitionConfig(reread_plate_box=False)))
        assert [r.text for r in once.candidate_readings(image, cut)] == [first.text]
        # A region of road reads as nothing, so there is nothing to read again.
        assert recognizer.candidate_readings(image, PlateCandidate(Box(0, image.shape[0] - 60, 120, 60), 1.0)) == []


def test_a_cropped_plate_of_three_characters_is_read_but_a_scene_row_needs_four(samples):
    recognizer = Recognizer()
    with open(samples / "crops" / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        image = cv2.imread(str(samples / "crops" / row["image"]))
        characters = recognizer.read_plate(image).characters
        # Cut between the third and fourth characters: a plate of three.
        short = image[:, : (characters[2].box.x + characters[2].box.w + characters[3].box.x) // 2]
        assert recognizer.read_plate(short).text == row["plate"][:3]
        in_scene = recognizer.read_plate(short, in_scene=True)
        assert in_scene is None or len(in_scene.text) >= recognizer.config.recognition.min_characters
        strict = dataclasses.replace(Config(), recognition=RecognitionConfig(min_cropped_characters=4))
        reading = Recognizer(recognizer.model, strict).read_plate(short)
        assert reading is None or len(reading.text) >= 4


NAVY, ORANGE = (90, 30, 20), (0, 120, 255)


def plate_with_emblem(text: str, emblem_at: int, emblem: tuple[int, int, int]) -> tuple[np.ndarray, list[CharacterCrop]]:
    """Navy characters on a light plate with a filled oval of the given BGR colour before text[emblem_at] in, (plate, crops of the row left to right) out."""
    image = np.full((120, 420, 3), 235, np.uint8)
    crops, x = [], 20
    for i, char in enumerate(text):
        if i == emblem_at:
            oval = np.zeros((60, 40), np.uint8)
            cv2.ellipse(oval, (20, 30), (19, 29), 0, 0, 360, 255, -1)
            paint(image, oval / 255.0, emblem, x + 2, 30)
            crops.append(CharacterCrop(Box(x + 2, 30, 40, 60), oval, oval))
            x += 55
        mask = glyph_mask(char, 70)
        paint(image, mask, NAVY, x, 25)
        ink = np.where(mask > 0.5, 255, 0).astype(np.uint8)
        crops.append(CharacterCrop(Box(x, 25, mask.shape[1], mask.shape[0]), ink, ink))
        x += mask.shape[1] + 12
    return image, crops


def test_ink_colours_are_the_colours_under_the_masks():
    image, crops = plate_with_emblem("AB12", 2, ORANGE)
    colours = ink_colours(image, crops)
    assert colours.shape == (5, 3) and colours.dtype == np.float64
    navy, orange = (cv2.cvtColor(np.uint8([[colour]]), cv2.COLOR_BGR2Lab)[0, 0].astype(float) for colour in (NAVY, ORANGE))
    assert np.abs(colours[[0, 1, 3, 4]] - navy).max() < 12
    assert np.abs(colours[2] - orange).max() < 12
    assert ink_colours(image, []).shape == (0, 3)


def test_off_colour_members_are_doubtful_members_of_another_colour():
    rules = RecognitionConfig()
    image, crops = plate_with_emblem("ABC123", 3, ORANGE)
    doubtful = [0.9, 0.9, 0.9, 0.4, 0.9, 0.9, 0.9]
    assert off_colour_members(image, crops, doubtful, rules) == [3]
    # A sure character stays whatever its colour; an emblem of the characters' colour is no business of this rule.
    assert off_colour_members(image, crops, [0.9] * 7, rules) == []
    same, same_crops = plate_with_emblem("ABC123", 3, NAVY)
    assert off_colour_members(same, same_crops, doubtful, rules) == []
    # Small characters' colours are not trusted, and the rule can be turned off.
    small = [dataclasses.replace(c, box=dataclasses.replace(c.box, h=rules.min_colour_character_height - 1)) for c in crops]
    assert off_colour_members(image, small, doubtful, rules) == []
    assert off_colour_members(image, crops, doubtful, dataclasses.replace(rules, max_ink_colour_distance=None)) == []
    assert off_colour_members(image, [], [], rules) == []


def test_read_plate_leaves_out_an_emblem_not_of_the_characters_colour():
    rules = RecognitionConfig()
    colour_blind = Recognizer(config=dataclasses.replace(Config(), recognition=dataclasses.replace(rules, max_ink_colour_distance=None)))
    for text in ("ABC123", "BJL833"):
        image, _ = plate_with_emblem(text, 3, ORANGE)
        assert Recognizer().read_plate(image).text == text
        assert len(colour_blind.read_plate(image).text) == len(text) + 1  # the emblem read as a character


def test_without_members_keeps_the_row_when_too_few_would_be_left():
    assert without_members((4, 7, 9, 12, 15), [1, 3], 3) == (4, 9, 15)
    assert without_members((4, 7, 9, 12, 15), [1, 3], 4) == (4, 7, 9, 12, 15)
    assert without_members((4, 7, 9), [], 4) == (4, 7, 9)


def test_holds_in_order():
    assert holds_in_order("RULZ", "FZRULZ") and holds_in_order("13GD", "133GZD") and holds_in_order("", "ABC")
    assert not holds_in_order("ZLUR", "FZRULZ") and not holds_in_order("AB", "A") and not holds_in_order("AA", "ABC")


def test_a_short_reading_gives_way_to_the_longer_reading_of_its_plate():
    rules = RecognitionConfig()
    partial = _scene_reading("RULZ", Box(169, 332, 38, 22))
    whole = _scene_reading("FZRULZ", Box(149, 331, 60, 24))
    judged = [
        (1.25, partial),
        (0.19, whole),  # below the reporting threshold, above the verifier's boundary
        (1.0, _scene_reading("FZRULZ8", Box(600, 331, 60, 24))),  # elsewhere in the scene
        (-0.5, _scene_reading("FZRULZQ", Box(149, 331, 62, 24))),  # not plate-like enough
        (0.9, _scene_reading("RLUZXY", Box(150, 331, 60, 24))),  # other characters
    ]
    assert whole_plate_reading(partial, judged, rules) is whole
    assert whole_plate_reading(partial, judged[:1] + judged[2:], rules) is partial
    # Readings longer than short_reading_characters are plates of their own length.
    five = _scene_reading("3127K", Box(149, 331, 50, 24))
    assert whole_plate_reading(five, [*judged, (0.5, _scene_reading("3127K8", Box(149, 331, 60, 24)))], rules) is five
    # The longest reading holding the short one wins, then the best scored.
    longest = _scene_reading("FZRULZ1", Box(147, 331, 64, 24))
    assert whole_plate_reading(partial, [*judged, (0.05, longest)], rules) is longest


def test_a_candidate_reports_its_best_reading_that_passes():
    from lpr.localization import PlateCandidate

    partial = _scene_reading("13GD", Box(740, 490, 100, 50))
    whole = _scene_reading("133GZD", Box(735, 488, 140, 66))
    evidence = {"13GD": 0.4, "133GZD": 0.35}

    class ScriptedRecognizer(Recognizer):
        def candidates_to_read(self, image, gray):
            return [PlateCandidate(Box(732, 488, 166, 80), 1.0)]

        def candidate_readings(self, image, candidate):
            return [partial, whole]

        def _plate_evidence(self, gray, reading):
            return evidence[reading.text]

    recognizer = ScriptedRecognizer()
    rules, min_score = recognizer.config.recognition, recognizer.verifier.config.min_score
    # The 4-character part scores higher but short of what short readings need; the whole
    # plate passes.
    assert evidence["133GZD"] >= min_score > evidence["13GD"] - rules.short_reading_margin
    assert [r.text for r in recognizer.recognize(np.zeros((720, 1280, 3), np.uint8))] == ["133GZD"]
    evidence["133GZD"] = min_score - 0.01
    assert recognizer.recognize(np.zeros((720, 1280, 3), np.uint8)) == []
