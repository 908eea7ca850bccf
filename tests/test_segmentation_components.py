"""lpr.segmentation.components: thresholding, character-shaped components, bands and windows."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from lpr.config import SegmentationConfig
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.geometry import Box
from lpr.region import built_in_profile
from lpr.segmentation.components import (
    Candidates,
    CharacterCrop,
    band_candidates,
    band_windows,
    candidate_variants,
    changed_candidates,
    character_band,
    country_band_columns,
    in_line,
    split_windows,
    threshold_plate,
    unlined_candidates,
    wide_members,
    without_country_band,
)

CONFIG = SegmentationConfig()
# The US plates' character heights (fractions of the plate's), which decide which components are character-shaped.
HEIGHTS = built_in_profile("us").geometry.character_height


def synthetic_plate(text_boxes: int = 6) -> np.ndarray:
    """A light (60, 200, 3) plate with text_boxes dark character-sized bars."""
    plate = np.full((60, 200, 3), 220, np.uint8)
    for i in range(text_boxes):
        cv2.rectangle(plate, (12 + 30 * i, 12), (26 + 30 * i, 48), (20, 20, 20), -1)
    return plate


def test_threshold_plate_shape_dtype_and_polarity():
    gray = cv2.cvtColor(synthetic_plate(), cv2.COLOR_BGR2GRAY)
    dark = threshold_plate(gray, "dark", 10, CONFIG)
    assert dark.shape == gray.shape and dark.dtype == np.uint8
    assert set(np.unique(dark)) <= {0, 255}
    assert dark[30, 19] == 255 and threshold_plate(gray, "light", 10, CONFIG)[30, 19] == 0


def test_bad_polarity_and_bad_images_raise():
    with pytest.raises(ValueError):
        threshold_plate(np.zeros((10, 10), np.uint8), "grey", 5, CONFIG)
    for bad in (np.zeros((2, 2, 3), np.uint8), np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 4), np.uint8)):
        with pytest.raises(ValueError):
            candidate_variants(bad, CONFIG, HEIGHTS)


def test_bars_are_components_left_to_right_with_boxes_on_the_bars():
    # The first setting (dark, the first offset): the one lpr.segmentation.segment_characters used to read.
    dark = candidate_variants(synthetic_plate(6), CONFIG, HEIGHTS)[0]
    assert (dark.polarity, dark.offset, dark.character_height) == ("dark", CONFIG.dark_offsets[0], HEIGHTS)
    assert len(dark.characters) == 6
    for i, character in enumerate(dark.characters):
        # Boxes are in plate pixels; masks stay at the working height (plate_height) for the classifier.
        assert abs(character.box.x - (12 + 30 * i)) <= 2 and abs(character.box.h - 37) <= 2
        assert character.mask.ndim == 2 and character.mask.dtype == np.uint8 and character.mask.max() == 255


def test_one_variant_per_polarity_and_offset():
    settings = len(CONFIG.dark_offsets) + len(CONFIG.light_offsets)
    variants = candidate_variants(synthetic_plate(), CONFIG, HEIGHTS)
    assert len(variants) == settings
    assert [(v.polarity, v.offset) for v in variants] == [("dark", o) for o in CONFIG.dark_offsets] + [("light", o) for o in CONFIG.light_offsets]
    dark_only = SegmentationConfig(dark_offsets=(5, 20), light_offsets=())
    assert [(v.polarity, v.offset) for v in candidate_variants(synthetic_plate(), dark_only, HEIGHTS)] == [("dark", 5), ("dark", 20)]
    # Settings without any threshold offset are refused as soon as they are made.
    with pytest.raises(ValueError, match="cannot both be empty"):
        SegmentationConfig(dark_offsets=(), light_offsets=())


def merged_component() -> CharacterCrop:
    """A (40, 60) mask in plate pixels: a 14 px wide full-height bar touching a 40 px wide half-height blob."""
    mask = np.zeros((80, 120), np.uint8)  # twice the box size, as masks are cut at the resized plate height
    mask[:, 88:116] = 255
    mask[20:60, 0:88] = 255
    return CharacterCrop(Box(100, 10, 60, 40), mask, 255 - mask)


def test_split_windows_find_the_bar_inside_a_merged_component():
    windows = split_windows(merged_component(), width=14, height=40, config=CONFIG)
    assert windows, "the full-height bar should give at least one window"
    for window in windows:
        # Only windows whose ink spans the row height survive, and they all sit on the bar.
        assert window.box.h >= CONFIG.min_split_height * 40
        assert window.box.x + window.box.w >= 144 and window.box.x + window.box.w <= 160
        assert window.mask.ndim == 2 and window.mask.any()
    assert any(abs(w.box.x - 144) <= 1 and abs(w.box.w - 14) <= 1 for w in windows)


def test_split_windows_are_off_when_split_width_is_zero():
    off = SegmentationConfig(split_width=0)
    assert split_windows(merged_component(), width=14, height=40, config=off) == []


def merged_binary() -> Candidates:
    """Dark-polarity candidates of a (60, 120) plate thresholded at twice its size: 10 px wide, 30 px high bars at x 20, 50 and 80 (plate pixels), the last two joined by a blob at mid-height."""
    binary = np.zeros((120, 240), np.uint8)
    for x in (20, 50, 80):
        binary[30:90, 2 * x : 2 * x + 20] = 255
    binary[50:70, 120:160] = 255  # the blob joining the second and third bars
    return Candidates((), "dark", 10, binary, 255 - binary, 2.0, HEIGHTS)


def test_band_windows_cut_a_character_out_of_a_merged_blob():
    band = (12.0, 48.0)
    # Windows at the second and third bars' centres, and one in the blob between them.
    windows = band_windows(merged_binary(), band, [55.0, 85.0, 70.0], width=10, height=30, config=CONFIG)
    assert [w.box for w in windows[:2]] == [Box(50, 15, 10, 30), Box(80, 15, 10, 30)]
    for window in windows[:2]:
        assert window.mask.shape[0] == 60 and 20 <= window.mask.shape[1] <= 22 and window.mask.dtype == np.uint8
        assert window.gray.shape == window.mask.shape
    # The window between the bars holds only the blob, too short for a character.
    assert len(windows) == 2


def test_band_windows_need_ink_of_the_row_height():
    candidates = merged_binary()
    # Between the bars' tops and the blob there is no ink of a character's height.
    assert band_windows(candidates, (12.0, 24.0), [55.0], width=10, height=30, config=CONFIG) == []
    assert band_windows(candidates, (12.0, 48.0), [5.0, 110.0], width=10, height=30, config=CONFIG) == []
    with pytest.raises(ValueError, match="positive"):
        band_windows(candidates, (12.0, 48.0), [55.0], width=0, height=30, config=CONFIG)


def test_wide_members_are_in_line_with_the_row_and_too_wide():
    row = [Box(10 + 20 * i, 10, 14, 40) for i in range(5)]
    boxes = row + [Box(120, 12, 60, 38), Box(200, 10, 15, 40), Box(240, 60, 60, 38), Box(300, 10, 60, 12)]
    wide, width, height = wide_members(boxes, row, CONFIG)
    assert wide == [5]  # the wide box in the row; not the narrow one, the one below, or the flat one
    assert (width, height) == (14, 40)
    assert wide_members(boxes, [], CONFIG) == ([], 0.0, 0.0)


def plate_with_frame_line() -> np.ndarray:
    """A light (60, 200, 3) plate whose six dark bars (y 12-48) run into a dark frame line (y 56-59) through thin smears."""
    plate = synthetic_plate(6)
    for i in range(6):
        cv2.rectangle(plate, (17 + 30 * i, 48), (20 + 30 * i, 56), (20, 20, 20), -1)
    cv2.rectangle(plate, (4, 56), (195, 59), (20, 20, 20), -1)
    return plate


def test_character_band_is_the_rows_median_extent_grown_by_the_margin():
    row = [Box(10, 20, 10, 40), Box(30, 22, 10, 40), Box(50, 18, 10, 44)]
    top, bottom = character_band(row, CONFIG)
    assert top == pytest.approx(20 - CONFIG.band_margin * 40)
    assert bottom == pytest.approx(62 + CONFIG.band_margin * 40)  # bottoms 60, 62, 62
    with pytest.raises(ValueError, match="at least one"):
        character_band([], CONFIG)


def test_cutting_to_the_band_frees_characters_touching_a_frame_line():
    dark = next(v for v in candidate_variants(plate_with_frame_line(), CONFIG, HEIGHTS) if v.polarity == "dark")
    # Bars and frame line are one component, far too wide for a character.
    assert not any(abs(c.box.h - 37) <= 3 for c in dark.characters)
    bars = [Box(12 + 30 * i, 12, 15, 37) for i in range(6)]
    freed = changed_candidates(band_candidates(dark, character_band(bars, CONFIG), CONFIG), dark)
    assert len(freed.characters) == 6
    for i, character in enumerate(sorted(freed.characters, key=lambda c: c.box.x)):
        assert abs(character.box.x - (12 + 30 * i)) <= 2 and character.box.y + character.box.h < 56
        assert character.mask.dtype == np.uint8 and character.mask.any()


def test_removing_long_horizontal_runs_frees_characters_touching_a_frame_line():
    dark = next(v for v in candidate_variants(plate_with_frame_line(), CONFIG, HEIGHTS) if v.polarity == "dark")
    freed = sorted(changed_candidates(unlined_candidates(dark, CONFIG), dark).characters, key=lambda c: c.box.x)
    assert len(freed) == 6
    for i, character in enumerate(freed):
        # Each bar keeps its smear (a short run) and loses the line under it.
        assert abs(character.box.x - (12 + 30 * i)) <= 2 and 54 <= character.box.y + character.box.h <= 57


def test_without_long_runs_or_with_line_length_zero_nothing_is_unlined():
    plain = candidate_variants(synthetic_plate(6), CONFIG, HEIGHTS)[0]
    assert unlined_candidates(plain, CONFIG).characters == ()
    framed = candidate_variants(plate_with_frame_line(), CONFIG, HEIGHTS)[0]
    assert unlined_candidates(framed, CONFIG).characters != ()
    assert unlined_candidates(framed, dataclasses.replace(CONFIG, line_length=0)).characters == ()


def test_an_empty_band_has_no_candidates_and_an_unchanged_cut_adds_none():
    dark = candidate_variants(synthetic_plate(6), CONFIG, HEIGHTS)[0]
    assert band_candidates(dark, (70.0, 80.0), CONFIG).characters == ()
    whole = band_candidates(dark, (0.0, 60.0), CONFIG)
    assert len(whole.characters) == len(dark.characters)
    assert changed_candidates(whole, dark).characters == ()


def test_in_line_keeps_candidates_of_the_rows_height_and_line_up_to_the_band_height():
    row = [Box(10 + 20 * i, 10, 14, 40) for i in range(4)]
    band_high = 40 * (1 + 2 * CONFIG.band_margin)
    boxes = [Box(100, 12, 14, 38), Box(120, 60, 14, 40), Box(140, 10, 14, 15), Box(160, 30 - band_high / 2, 30, band_high), Box(200, 0, 14, 80)]
    assert in_line(boxes, row, CONFIG) == [0, 3]  # not the one below, the short one, or the one twice as tall
    assert in_line(boxes, [], CONFIG) == []


EU_BLUE = (160, 60, 20)  # BGR: the band's saturated blue


def eu_plate(band_left: int = 0, band_right: int = 0, ink: tuple[int, int, int] = (30, 30, 30)) -> np.ndarray:
    """A light (60, 260, 3) plate with dark (or given) glyphs "AB123", a blue band of band_left px at its left (a white "D" in it) and of band_right px at its right."""
    plate = np.full((60, 260, 3), 225, np.uint8)
    plate[:, :2] = 90  # the frame's edge before the band
    if band_left:
        plate[:, 2 : 2 + band_left] = EU_BLUE
        cv2.putText(plate, "D", (4, 52), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    if band_right:
        plate[:, 260 - band_right :] = EU_BLUE
    x = 40
    for char in "AB123":
        glyph = glyph_mask(char, 40)
        paint(plate, glyph, ink, x, 10)
        x += glyph.shape[1] + 8
    return plate


def test_a_country_band_is_found_at_either_end_and_painted_out():
    config = SegmentationConfig()
    assert country_band_columns(eu_plate(band_left=24), config) == (26, 260)
    assert country_band_columns(eu_plate(band_left=24, band_right=20), config) == (26, 240)
    assert country_band_columns(eu_plate(), config) == (0, 260)
    painted = without_country_band(eu_plate(band_left=24), config)
    # No blue is left, and nothing right of the band changed.
    assert not (painted[..., 0].astype(int) > painted[..., 2].astype(int) + 60).any()
    assert np.array_equal(painted[:, 26:], eu_plate(band_left=24)[:, 26:])
    # Without a band the plate is read as it is.
    plain = eu_plate()
    assert without_country_band(plain, config) is plain


def test_blue_characters_and_wide_blue_are_no_band():
    config = SegmentationConfig()
    # Blue ink (Latvian and Dutch plates' characters, French serials) does not start at an end.
    assert country_band_columns(eu_plate(ink=EU_BLUE), config) == (0, 260)
    # Blue wider than band_max_width of the plate is the plate itself.
    assert country_band_columns(eu_plate(band_left=120), config) == (0, 260)


def test_the_band_letter_is_no_candidate_once_painted_out():
    plate = eu_plate(band_left=24)
    europe = built_in_profile("eu").geometry
    with_band = candidate_variants(plate, SegmentationConfig(), europe.character_height)
    painted = candidate_variants(plate, SegmentationConfig(), europe.character_height, country_band=True)
    assert any(c.box.x < 26 for v in with_band for c in v.characters)
    assert not any(c.box.x < 26 for v in painted for c in v.characters)


def test_new_only_cuts_build_just_the_components_the_uncut_binary_lacks():
    dark = next(v for v in candidate_variants(plate_with_frame_line(), CONFIG, HEIGHTS) if v.polarity == "dark")
    band = character_band([Box(12 + 30 * i, 12, 15, 37) for i in range(6)], CONFIG)
    for cut, new in (
        (band_candidates(dark, band, CONFIG), band_candidates(dark, band, CONFIG, new_only=True)),
        (unlined_candidates(dark, CONFIG), unlined_candidates(dark, CONFIG, new_only=True)),
    ):
        expected = changed_candidates(cut, dark).characters
        assert len(new.characters) == len(expected) == 6
        for got, want in zip(new.characters, expected):
            assert got.box == want.box and np.array_equal(got.mask, want.mask) and np.array_equal(got.gray, want.gray)
