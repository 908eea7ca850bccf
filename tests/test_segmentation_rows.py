"""lpr.segmentation.rows: the character row of a plate, and the rules that edit it (ends, lonely members, colour, rescue, window places)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpr.config import SegmentationConfig
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.geometry import Box
from lpr.region import built_in_profile
from lpr.segmentation.components import CharacterCrop, candidate_variants, horizontal_overlap
from lpr.segmentation.rows import (
    fits_row,
    ink_colours,
    lonely_members,
    off_colour_members,
    pitch_spots,
    pooled_row,
    rescued_members,
    row_group,
    select_row,
    trim_row_ends,
    window_places,
    without_members,
)

CONFIG = SegmentationConfig()
GEOMETRY = built_in_profile("us").geometry
# The fewest and the most characters of a plate found in a scene (old RecognitionConfig min_characters, max_characters).
SCENE_FEWEST, SCENE_MOST = GEOMETRY.scene_characters


def labeled_crops(folder: Path, limit: int | None = None) -> list[tuple[np.ndarray, str]]:
    """A folder with labels.csv in, (BGR image, plate text) pairs out."""
    with open(folder / "labels.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))[:limit]
    return [(cv2.imread(str(folder / r["image"])), r["plate"]) for r in rows]


def synthetic_plate(text_boxes: int = 6) -> np.ndarray:
    """A light (60, 200, 3) plate with text_boxes dark character-sized bars."""
    plate = np.full((60, 200, 3), 220, np.uint8)
    for i in range(text_boxes):
        cv2.rectangle(plate, (12 + 30 * i, 12), (26 + 30 * i, 48), (20, 20, 20), -1)
    return plate


def row_lengths(plate: np.ndarray) -> list[int]:
    """A plate in, the length of each threshold setting's character row (select_row) out."""
    return [len(select_row(v, CONFIG, GEOMETRY.max_characters)) for v in candidate_variants(plate, CONFIG, GEOMETRY.character_height)]


def test_bars_make_one_row_left_to_right():
    dark = candidate_variants(synthetic_plate(6), CONFIG, GEOMETRY.character_height)[0]
    row = select_row(dark, CONFIG, GEOMETRY.max_characters)
    assert row == (0, 1, 2, 3, 4, 5)
    for i, character in enumerate(dark.characters[k] for k in row):
        assert abs(character.box.x - (12 + 30 * i)) <= 2 and abs(character.box.h - 37) <= 2
    # Never longer than the most characters a plate has.
    assert select_row(dark, CONFIG, 4) == (0, 1, 2, 3)


def test_pooled_row_keeps_the_best_of_rival_cuts_and_drops_an_off_row_box():
    boxes = [Box(0, 10, 10, 40), Box(20, 10, 10, 40), Box(21, 10, 9, 40), Box(40, 10, 10, 40), Box(60, 0, 10, 12)]
    scores = [0.9, 0.5, 0.8, 0.9, 0.99]
    assert pooled_row(boxes, scores, CONFIG, GEOMETRY.max_characters) == (0, 2, 3)
    assert horizontal_overlap(boxes[1], boxes[2]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        pooled_row(boxes, scores[:2], CONFIG, GEOMETRY.max_characters)


def test_synthetic_sample_plates_have_a_setting_whose_row_has_their_character_count(samples):
    for plate, text in labeled_crops(samples / "crops"):
        counts = row_lengths(plate)
        assert len(text) in counts, (text, counts)


def test_most_real_crops_have_a_setting_with_the_right_character_count(shared_data):
    crops = labeled_crops(shared_data / "us-plates", limit=40)
    right = sum(len(text) in row_lengths(plate) for plate, text in crops)
    # Cross-validation finds about 85% of real crops with the right count; 40 crops leave some slack.
    assert right >= 0.7 * len(crops)


def test_row_group_prefers_the_heaviest_group_then_the_taller_one():
    short_row = [Box(10 * i, 0, 5, 10) for i in range(3)]
    tall_row = [Box(10 * i, 50, 5, 30) for i in range(3)]
    assert row_group(short_row + tall_row, CONFIG) == [3, 4, 5]  # same size: the taller group
    assert row_group(short_row + tall_row[:2], CONFIG) == [0, 1, 2]  # the larger group
    assert row_group(short_row + tall_row, CONFIG, [1, 1, 1, 0.1, 0.1, 0.1]) == [0, 1, 2]  # the heavier group
    assert row_group([], CONFIG) == [] and row_group(short_row, CONFIG, [0, 0, 0]) == []


def trimming(min_end_score: float, min_fitting_end_score: float | None = None) -> SegmentationConfig:
    fitting = min_end_score if min_fitting_end_score is None else min_fitting_end_score
    return SegmentationConfig(min_end_score=min_end_score, min_fitting_end_score=fitting)


# Six characters 30 px apart; the first and last are pushed off the pitch, so none fits it.
UNEVEN = [Box(0, 10, 12, 40), *(Box(40 + 30 * i, 10, 20, 40) for i in range(4)), Box(190, 10, 20, 40)]


def test_trim_row_ends_drops_weak_end_members_only():
    scores = [0.1, 0.9, 0.05, 0.9, 0.9, 0.15]
    # Both weak ends go (weakest first); the weak middle member stays.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.2), 4) == (1, 2, 3, 4)
    # Never below the minimum length, and nothing changes with a threshold of 0.
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.2), 5) == (1, 2, 3, 4, 5)
    assert trim_row_ends((0, 1, 2, 3, 4, 5), scores, UNEVEN, trimming(0.0), 4) == (0, 1, 2, 3, 4, 5)
    assert trim_row_ends((), [], [], trimming(0.2), 4) == ()


def test_a_doubtful_end_member_one_pitch_away_stays():
    # A narrow "1" one pitch before four characters, and a bolt of half their height one pitch after.
    boxes = [Box(14, 10, 6, 40), *(Box(40 + 30 * i, 10, 20, 40) for i in range(4)), Box(165, 20, 10, 20)]
    scores = [0.15, 0.9, 0.9, 0.9, 0.9, 0.15]
    config = trimming(0.3, min_fitting_end_score=0.1)
    assert fits_row(boxes, 0, config) and not fits_row(boxes, 5, config)
    assert trim_row_ends(tuple(range(6)), scores, boxes, config, 4) == (0, 1, 2, 3, 4)
    # Off the pitch, the same "1" goes.
    shifted = [Box(0, 10, 6, 40), *boxes[1:]]
    assert not fits_row(shifted, 0, config)
    assert trim_row_ends(tuple(range(6)), scores, shifted, config, 4) == (1, 2, 3, 4)
    # Too few others to know the pitch: no end fits.
    assert not fits_row(boxes[:3], 0, config)


def test_a_doubtful_logo_alone_between_two_groups_goes():
    # "ABC <logo> 123": three letters 30 px apart, a logo in the 90 px gap, three digits.
    boxes = [*(Box(30 * i, 10, 20, 40) for i in range(3)), Box(110, 5, 20, 50), *(Box(180 + 30 * i, 10, 20, 40) for i in range(3))]
    scores = [0.9, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9]
    config = SegmentationConfig(min_lonely_score=0.5)
    assert lonely_members(boxes, scores, config) == [3]
    assert trim_row_ends(tuple(range(7)), scores, boxes, config, SCENE_FEWEST) == (0, 1, 2, 4, 5, 6)
    # A confident one stays, and so does a doubtful character one pitch from a neighbour.
    assert lonely_members(boxes, [*scores[:3], 0.8, *scores[4:]], config) == []
    assert lonely_members([*boxes[:3], Box(90, 10, 20, 40), *boxes[4:]], scores, config) == []
    # Never below the minimum length.
    assert trim_row_ends(tuple(range(7)), scores, boxes, config, 7) == tuple(range(7))


def test_a_junk_rated_candidate_that_fits_the_row_is_rescued():
    # Four characters 30 px apart; a narrow "1" one pitch before them, a bolt (half height)
    # one pitch after, a thin "T" in a 60 px gap, and a post far off the pitch.
    row = [Box(40, 10, 20, 40), Box(70, 10, 20, 40), Box(160, 10, 20, 40), Box(190, 10, 20, 40)]
    one, bolt, tee, post = Box(17, 10, 6, 40), Box(225, 20, 10, 20), Box(105, 10, 10, 40), Box(280, 10, 6, 40)
    config = SegmentationConfig(min_rescue_score=0.05)
    assert rescued_members(row, [bolt, one, post, tee], [0.5, 0.1, 0.5, 0.06], config, SCENE_MOST) == [1, 3]
    # Too doubtful, overlapping a member, or past max_characters: not rescued.
    assert rescued_members(row, [one], [0.04], config, SCENE_MOST) == []
    assert rescued_members(row, [Box(55, 10, 12, 40)], [0.9], config, SCENE_MOST) == []
    assert rescued_members(row, [one, tee], [0.1, 0.09], config, 5) == [0]


def test_fits_row_wants_one_pitch_from_a_neighbour_and_the_rows_line():
    row = [Box(40, 10, 20, 40), Box(70, 10, 20, 40), Box(100, 10, 20, 40), Box(190, 10, 20, 40)]
    config = SegmentationConfig()
    # In the gap, one pitch after the third character: fits; in the gap's middle: does not.
    assert fits_row([*row[:3], Box(130, 10, 20, 40), row[3]], 3, config)
    assert not fits_row([*row[:3], Box(145, 10, 20, 40), row[3]], 3, config)
    # Of another height or line: does not.
    assert not fits_row([*row[:3], Box(130, 10, 20, 30), row[3]], 3, config)
    assert not fits_row([*row[:3], Box(130, 20, 20, 40), row[3]], 3, config)


def test_window_places_are_wide_gaps_and_one_pitch_past_each_end():
    settings = SegmentationConfig()
    reach = settings.end_split_tolerance * 20
    places = window_places([10, 30, 50, 90, 110], settings)  # pitch 20, one gap of 40
    assert places == {3: (50, 90), 0: (-10 - reach, -10 + reach), 5: (130 - reach, 130 + reach)}
    no_ends = dataclasses.replace(settings, end_split_tolerance=0)
    assert window_places([10, 30, 50, 90, 110], no_ends) == {3: (50, 90)}
    assert window_places([10], settings) == {} and window_places([], settings) == {}


def test_pitch_spots_are_one_pitch_past_the_ends_and_from_both_sides_of_a_lost_character():
    settings = SegmentationConfig()
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
    # A gray plate (segment_plate takes one) has its inks' lightness, and no colour.
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lightness = ink_colours(gray, crops)
    assert lightness.shape == (5, 3) and np.abs(lightness[:, 1:] - 128).max() < 1
    assert np.abs(lightness[:, 0] - colours[:, 0]).max() < 12


def test_off_colour_members_are_doubtful_members_of_another_colour():
    rules = SegmentationConfig()
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


def test_without_members_keeps_the_row_when_too_few_would_be_left():
    assert without_members((4, 7, 9, 12, 15), [1, 3], 3) == (4, 9, 15)
    assert without_members((4, 7, 9, 12, 15), [1, 3], 4) == (4, 7, 9, 12, 15)
    assert without_members((4, 7, 9), [], 4) == (4, 7, 9)
