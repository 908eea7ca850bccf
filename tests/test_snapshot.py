"""lpr.snapshot: lpr's results as Plate Recognizer's Snapshot API returns them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from lpr.geometry import Box
from lpr.records import CharacterRead, ImageResult, PlateRead, RegionGuess, TextCandidate
from lpr.snapshot import chosen_region, region_codes, snapshot_plate, snapshot_response, snapshot_timestamp

NOW = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def plate(text: str = "BKK3953", candidates: tuple[TextCandidate, ...] | None = None) -> PlateRead:
    chars = tuple(CharacterRead(c, 0.99, Box(673 + 12 * i, 455, 10, 30)) for i, c in enumerate(text))
    return PlateRead(text, 0.99263, Box(673, 448, 93, 47), chars, candidates if candidates is not None else (TextCandidate(text, 0.99263), TextCandidate("BKK3153", 0.0009)))


def test_regions_are_lower_case_codes_repeated_or_comma_separated():
    assert region_codes(["US-CA", "br, gb", ""]) == ["us-ca", "br", "gb"]
    with pytest.raises(ValueError, match="regions: region 'usa-california' is not a code"):
        region_codes(["usa-california"])


def test_the_first_region_the_model_has_layouts_for_is_chosen():
    readable = {"us", "us-va", "us-ca"}
    assert chosen_region(["fr", "us-va", "us"], readable, "us") == "us-va"
    # A state the model learned no layouts for is read as the model's region, and says so.
    assert chosen_region(["us-zz", "gb"], readable, "us") == "us" and chosen_region([], readable, "us") == "us"


def test_timestamps_come_back_in_utc_with_a_z():
    assert snapshot_timestamp(None, NOW) == "2024-05-01T12:00:00.123456Z"
    assert snapshot_timestamp("2024-05-01T14:00:00+02:00", NOW) == "2024-05-01T12:00:00.000000Z"
    assert snapshot_timestamp("2024-05-01T12:00:00", NOW) == "2024-05-01T12:00:00.000000Z"
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        snapshot_timestamp("yesterday", NOW)


def test_a_plate_has_plate_recognizer_fields_with_the_plate_first_among_candidates():
    result = snapshot_plate(plate(candidates=(TextCandidate("BKK3153", 0.0009),)), 0.9061, "us")
    assert result["box"] == {"xmin": 673, "ymin": 448, "xmax": 766, "ymax": 495}
    assert result["plate"] == "bkk3953" and result["score"] == 0.993 and result["dscore"] == 0.906
    # Without a region guess the plate is said to be of the region read for.
    assert result["region"] == {"code": "us", "score": 1.0}
    assert result["candidates"] == [{"score": 0.993, "plate": "bkk3953"}, {"score": 0.001, "plate": "bkk3153"}]
    assert result["vehicle"]["score"] == 0.0 and set(result["vehicle"]["box"]) == {"xmin", "ymin", "xmax", "ymax"}


def test_the_response_holds_every_plate_and_the_request_details():
    image = ImageResult("car.jpg", (plate(), plate("ABC1234")), 81.2)
    response = snapshot_response(image, (0.9, 0.7), "us-ca", (1280, 720), "gate-7", "2024-05-01T12:00:00.000000Z", 84.56789)
    assert [r["plate"] for r in response["results"]] == ["bkk3953", "abc1234"]
    assert {k: v for k, v in response.items() if k != "results"} == {
        "processing_time": 84.568, "filename": "car.jpg", "version": 1, "camera_id": "gate-7",
        "timestamp": "2024-05-01T12:00:00.000000Z", "image_width": 1280, "image_height": 720,
    }  # fmt: skip
    with pytest.raises(ValueError, match="2 plates but 1 detection scores"):
        snapshot_response(image, (0.9,), "us", None, None, "t", 1.0)


def test_a_plate_s_region_is_the_guess_from_its_look():
    guessed = replace(plate(), region=RegionGuess("us-ca", 0.87654))
    assert snapshot_plate(guessed, 0.9, "us")["region"] == {"code": "us-ca", "score": 0.877}
