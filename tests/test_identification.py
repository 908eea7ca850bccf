"""lpr.identification: a plate's look descriptor, layout likelihoods and the linear region identifier."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from lpr.config import IdentificationConfig
from lpr.identification import RegionIdentifier, layout_guesses, layout_likelihoods, look_length, plate_image, plate_look
from lpr.records import RegionGuess


def plate(colour: tuple[int, int, int], size: tuple[int, int] = (120, 60)) -> np.ndarray:
    """A plate-sized (height, width, 3) uint8 BGR image of one colour with dark characters drawn on it."""
    image = np.full((size[1], size[0], 3), colour, np.uint8)
    cv2.putText(image, "ABC123", (5, size[1] * 2 // 3), cv2.FONT_HERSHEY_SIMPLEX, size[1] / 50, (20, 20, 20), 2)
    return image


def test_look_has_its_length_and_tells_colours_apart():
    config = IdentificationConfig()
    yellow, white = plate_look(plate((0, 220, 240)), config), plate_look(plate((235, 235, 235)), config)
    assert yellow.shape == white.shape == (look_length(config),) and yellow.dtype == np.float32
    # Only the colour differs: the hue histograms carry the difference, the gray print barely.
    hues = config.colour_grid[0] * config.colour_grid[1] * (config.hue_bins + 3)
    assert np.abs(yellow[:hues] - white[:hues]).sum() > 10 * np.abs(yellow[hues:-1] - white[hues:-1]).mean()
    # The last value is the plate's log aspect ratio: a 4.5:1 plate differs from a 2:1 one.
    assert plate_look(plate((235, 235, 235), (225, 50)), config)[-1] == pytest.approx(np.log(4.5), abs=1e-5)


@pytest.mark.parametrize("bad", [np.zeros((1, 40, 3), np.uint8), np.zeros((20, 40), np.uint8), np.zeros((20, 40, 3), np.float32)])
def test_look_refuses_what_is_not_a_colour_plate(bad):
    with pytest.raises(ValueError, match="BGR plate"):
        plate_look(bad, IdentificationConfig())


def test_settings_are_checked():
    with pytest.raises(ValueError, match="identification settings"):
        IdentificationConfig(window=(0, 64))
    with pytest.raises(ValueError, match="hog_cell"):
        IdentificationConfig(hog_cell=40)
    with pytest.raises(ValueError, match="layout_weight"):
        IdentificationConfig(layout_weight=-1)


def test_layout_likelihoods_favour_the_region_that_issues_the_layout():
    layouts = {"us-va": {"LLLDDDD": 30}, "us-ca": {"DLLLDDD": 20, "LLLDDDD": 1}, "us-zz": {}}
    va, ca, unknown = layout_likelihoods("ABC1234", layouts, ["us-va", "us-ca", "us-zz"], 1.0)
    assert va > ca and va > unknown > 0
    guesses = layout_guesses("1ABC234", layouts, 1.0)
    assert guesses[0].code == "us-ca" and sum(g.score for g in guesses) == pytest.approx(1.0)
    assert layout_guesses("ABC", {}, 1.0) == ()


def identifier(classes=("br", "eu", "us"), **changes) -> RegionIdentifier:
    """A RegionIdentifier whose look scores the first cell's mean saturation: saturated plates are the first class's; grey ones, by a small intercept, the last's."""
    config = IdentificationConfig()
    length = look_length(config)
    coef = np.zeros((len(classes), length), np.float32)
    saturation = config.hue_bins
    coef[0, saturation], coef[-1, saturation] = 1.0, -1.0
    values = dict(
        classes=tuple(classes), mean=np.zeros(length, np.float32), scale=np.ones(length, np.float32), coef=coef,
        intercept=np.array([0.0] * (len(classes) - 1) + [0.05]), temperature=0.1, config=config,
    )
    return RegionIdentifier(**(values | changes))


def test_identifier_ranks_regions_by_look_and_checks_its_weights():
    found = identifier()
    saturated = found.identify(plate((0, 220, 240)))
    grey = found.identify(plate((200, 200, 200)))
    assert saturated[0].code == "br" and grey[0].code == "us"
    assert all(isinstance(g, RegionGuess) for g in saturated) and sum(g.score for g in saturated) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="do not fit"):
        identifier(coef=np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="two distinct"):
        identifier(classes=("us", "us", "br"))
    with pytest.raises(ValueError, match="finite"):
        identifier(temperature=0.0)


def test_layout_weight_lets_the_layout_overrule_an_unsure_look():
    found = identifier(classes=("us-ca", "us-md", "us-va"))
    layouts = {"us-ca": {"DLLLDDD": 50}, "us-md": {"DLLDDD": 50}, "us-va": {"LLLDDDD": 50}}
    grey = plate((200, 200, 200))
    assert found.identify(grey, "1ABC234", layouts)[0].code == "us-va"
    weighted = dataclasses.replace(found, config=dataclasses.replace(found.config, layout_weight=1.0))
    assert weighted.identify(grey, "1ABC234", layouts)[0].code == "us-ca"


def test_plate_image_is_the_box_clipped_to_the_image():
    image = np.arange(10 * 20 * 3, dtype=np.uint8).reshape(10, 20, 3)
    assert plate_image(image, (15, 5, 10, 10)).shape == (5, 5, 3)
    assert plate_image(image, (19, 9, 5, 5)) is None
