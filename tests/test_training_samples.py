"""lpr.training.samples: shrunk copies of training plates, labeling of characters (band cut included), two-line plates, character tiles, the labels of misread plates and self-labeled crops."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from lpr.classification import NOT_CHARACTER
from lpr.config import SegmentationConfig
from lpr.datasets.synthetic import glyph_mask, paint
from lpr.geometry import Box
from lpr.region import built_in_profile
from lpr.training.samples import aligned_labels, degraded_plate, labeled_characters, labeled_plate_characters, self_labeled_crops, shrunk_plates, tile_crops

CONFIG = SegmentationConfig()
WITHOUT_BAND = dataclasses.replace(CONFIG, band_margin=None)
GEOMETRY = built_in_profile("us").geometry


def plate_on_a_frame_line(text: str) -> np.ndarray:
    """A light (110, 60 + 36 per character, 3) plate whose dark characters run into a frame line below them through thin smears."""
    plate = np.full((110, 60 + 36 * len(text), 3), 230, np.uint8)
    x = 30
    for char in text:
        glyph = glyph_mask(char, 56)
        paint(plate, glyph, (30, 30, 30), x, 24)
        middle = x + glyph.shape[1] // 2
        cv2.rectangle(plate, (middle - 2, 76), (middle + 2, 92), (30, 30, 30), -1)
        x += glyph.shape[1] + 8
    cv2.rectangle(plate, (8, 92), (plate.shape[1] - 8, 98), (30, 30, 30), -1)
    return plate


def test_shrunk_plates_have_the_asked_heights_and_keep_the_aspect():
    plate = np.full((120, 240, 3), 200, np.uint8)
    shrunk = shrunk_plates(plate, (32, 60, 200))
    assert [s.shape for s in shrunk] == [(32, 64, 3), (60, 120, 3)]  # 200 px is no shrinking: skipped
    assert all(s.dtype == np.uint8 for s in shrunk)
    assert shrunk_plates(plate, ()) == []


def test_a_degraded_plate_is_shrunk_softer_and_flatter_and_still_labels_its_text():
    plate = plate_on_a_frame_line("ABC123")
    degraded = degraded_plate(plate, 40)
    assert degraded.shape[:2] == (40, round(plate.shape[1] * 40 / 110)) and degraded.dtype == np.uint8
    clean = shrunk_plates(plate, (40,))[0]
    # Less contrast and fewer sharp steps than the plate merely shrunk.
    assert np.ptp(degraded.astype(int)) < np.ptp(clean.astype(int))
    assert np.abs(np.diff(degraded.astype(int), axis=1)).mean() < np.abs(np.diff(clean.astype(int), axis=1)).mean()
    labels = [label for _, label in labeled_characters(degraded, "ABC123", CONFIG, GEOMETRY)]
    assert set(labels) - {NOT_CHARACTER} == set("ABC123")
    assert degraded_plate(plate, 110) is None  # no shrinking: no degraded copy


def test_characters_on_a_frame_line_are_labeled_once_cut_to_their_band():
    text = "7BX4K2"
    plate = plate_on_a_frame_line(text)
    assert labeled_plate_characters(plate, text, WITHOUT_BAND, GEOMETRY) is None  # one component with the frame line
    labeled = labeled_plate_characters(plate, text, CONFIG, GEOMETRY)
    assert labeled is not None
    characters = [label for _, label in labeled if label != NOT_CHARACTER]
    assert set(characters) == set(text)
    for crop, _ in labeled:
        assert crop.mask.dtype == np.uint8 and crop.mask.ndim == 2


def test_a_plate_that_does_not_segment_into_its_text_is_unusable():
    assert labeled_plate_characters(np.full((60, 200, 3), 220, np.uint8), "ABC123", CONFIG, GEOMETRY) is None


def two_line_plate(top: str, bottom: str) -> np.ndarray:
    """A light two-line plate, 40 px dark glyphs, the lines 12 px apart."""
    plate = np.full((116, 30 + 30 * max(len(top), len(bottom)), 3), 220, np.uint8)
    for y, text in ((12, top), (64, bottom)):
        x = 15
        for char in text:
            glyph = glyph_mask(char, 40)
            paint(plate, glyph, (35, 35, 35), x, y)
            x += glyph.shape[1] + 6
    return plate


def test_a_two_line_plate_is_labeled_line_by_line_with_the_one_split_that_fits():
    europe = built_in_profile("eu").geometry
    labeled = labeled_characters(two_line_plate("KL", "4827"), "KL4827", CONFIG, europe)
    assert labeled is not None
    # Every view of each character, top line first: K and L above the gap, the digits below.
    characters = [(crop, label) for crop, label in labeled if label != NOT_CHARACTER]
    assert {label for _, label in characters} == set("KL4827")
    assert all(crop.box.y < 58 for crop, label in characters if label in "KL")
    # A text that fits no split of the plate's lines teaches nothing.
    assert labeled_characters(two_line_plate("KL", "4827"), "KL48", CONFIG, europe) is None
    # A one-line region reads the same image as one row, which has no such text.
    assert labeled_characters(two_line_plate("KL", "4827"), "KL4827", CONFIG, GEOMETRY) is None


def test_a_tile_gives_its_character_cut_to_its_ink_and_shrunk():
    tile = np.full((40, 26, 3), 255, np.uint8)
    glyph = glyph_mask("8", 30)
    paint(tile, glyph, (0, 0, 0), 4, 5)
    tile[1, 1] = 0  # a speck far smaller than the character is left out
    full, shrunk = tile_crops(tile, (16, 64))
    assert full.box == Box(4, 5, glyph.shape[1], 30) and full.mask.shape == full.gray.shape == (30, glyph.shape[1])
    # The glyph is anti-aliased: its ink is its darker half, up to the odd edge pixel.
    assert np.mean((full.mask > 0) != (glyph > 0.5)) < 0.03
    # The tile is shrunk to 16 px, its 30 px character with it.
    assert 11 <= shrunk.mask.shape[0] <= 13 and shrunk.gray.shape == shrunk.mask.shape
    # White ink on black is the same character.
    (inverted, _) = tile_crops(255 - tile, (16,))
    assert np.array_equal(inverted.mask, full.mask)
    assert tile_crops(np.full((40, 26, 3), 255, np.uint8), (16,)) == []


@pytest.mark.parametrize(
    ("read", "truth", "labels"),
    [
        ("AB1234", "AB1234", list("AB1234")),
        ("9AB1234", "AB1234", [NOT_CHARACTER, *"AB1234"]),
        ("AB81234", "AB1234", ["A", "B", NOT_CHARACTER, *"1234"]),
        ("A81234", "AB1234", list("AB1234")),
        ("AB124", "AB1234", list("AB124")),
        ("", "AB1", []),
    ],
)
def test_a_misreading_is_labeled_by_the_truth_aligned_to_it(read: str, truth: str, labels: list[str]):
    assert aligned_labels(read, truth) == labels


def test_self_training_labels_only_sure_consistent_readings_in_a_known_layout(samples):
    """The shipped model reads the sample crops surely; a reading in a layout the region lacks, a doubtful one or one the shrunk crop contradicts labels nothing."""
    import lpr
    from lpr.datasets import load_plate_crops, load_unlabeled
    from lpr.region import layout

    reader = lpr.Recognizer()
    truth = {i.path.name: i.plates[0].text for i in load_plate_crops(samples / "crops").images}
    unlabeled = [load_unlabeled(samples / "crops")]
    assert unlabeled[0].kind == "unlabeled" and len(unlabeled[0]) == len(truth)

    def read(plate, in_scene):
        return reader.read_plate(plate, in_scene=in_scene)

    layouts = {layout(text): 1 for text in truth.values()}
    taught = self_labeled_crops(read, unlabeled, layouts, 0.8, (32,), progress=False)
    assert taught.kind == "crops" and {i.path.name: i.plates[0].text for i in taught.images} == truth
    assert not self_labeled_crops(read, unlabeled, {"LLLLLLLL": 1}, 0.8, (32,), progress=False).images
    assert not self_labeled_crops(read, unlabeled, layouts, 1.01, (32,), progress=False).images

    def shrunk_differs(plate, in_scene):
        reading = read(plate, in_scene)
        return reading if plate.shape[0] > 32 else dataclasses.replace(reading, text=reading.text[::-1])

    assert not self_labeled_crops(shrunk_differs, unlabeled, layouts, 0.8, (32,), progress=False).images


def test_self_labels_of_real_crops_are_mostly_right(shared_data):
    """Real US crops read as if unlabeled by the shipped model: what self-training keeps is right at least 95% of the time."""
    import lpr
    from lpr.datasets import load_plate_crops

    crops = load_plate_crops(shared_data / "us-plates")
    truth = {i.path: i.plates[0].text for i in crops.images[::5]}
    unlabeled = dataclasses.replace(crops, kind="unlabeled", images=tuple(dataclasses.replace(i, plates=()) for i in crops.images[::5]))
    reader = lpr.Recognizer()
    taught = self_labeled_crops(
        lambda plate, in_scene: reader.read_plate(plate, in_scene=in_scene), [unlabeled], reader.model.profile.layouts, 0.8, (32,), progress=False
    )
    right = sum(i.plates[0].text == truth[i.path] for i in taught.images)
    assert len(taught.images) >= len(truth) // 2 and right >= 0.95 * len(taught.images), (right, len(taught.images), len(truth))
