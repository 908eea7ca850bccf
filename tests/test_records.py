"""lpr.records: the one record type; what `lpr recognize --json` prints reads back into the same records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lpr
from lpr.records import ImageResult, PlateRead, RegionGuess

SAMPLES = Path(__file__).resolve().parent.parent / "datasets" / "samples"


@pytest.fixture(scope="module")
def results() -> list[ImageResult]:
    recognizer = lpr.Recognizer()
    paths = sorted((SAMPLES / "scenes").glob("*.jpg")) + sorted((SAMPLES / "crops").glob("*.png"))
    return [lpr.recognize_file(recognizer, p, cropped=p.suffix == ".png") for p in paths] + [lpr.recognize_file(recognizer, SAMPLES / "missing.jpg")]


def test_round_trip_through_json(results):
    assert sum(len(r.plates) for r in results) >= 5 and results[-1].error
    for result in results:
        text = json.dumps(result.to_dict())
        again = ImageResult.from_dict(json.loads(text))
        assert json.dumps(again.to_dict()) == text
        # Confidences are kept to 6 decimals; everything else exactly.
        assert [p.text for p in again.plates] == [p.text for p in result.plates]
        assert [p.box for p in again.plates] == [p.box for p in result.plates]


def test_pipeline_readings_are_records(results):
    plate = lpr.Recognizer().recognize(lpr.read_image(SAMPLES / "crops" / "synthetic-01.png"), cropped=True)[0]
    assert isinstance(plate, PlateRead) and type(plate.record()) is PlateRead
    assert plate.record().to_dict() == plate.to_dict()


def test_plates_carry_their_region(results):
    plates = [p for r in results for p in r.plates]
    assert all(isinstance(p.region, RegionGuess) and p.region.code.startswith("us") and 0 <= p.region.score <= 1 for p in plates)
    record = plates[0].to_dict()
    assert PlateRead.from_dict(record).region == RegionGuess(record["region"]["code"], record["region"]["score"])
    # Records written before regions were identified read with none.
    assert PlateRead.from_dict({k: v for k, v in record.items() if k != "region"}).region is None


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p.pop("box"), "malformed plate"),
        (lambda p: p.update(box=[1, 2, 3]), "box is"),
        (lambda p: p.update(box=[1, 2, 3, 4.5]), "box is"),
        (lambda p: p.update(confidence=1.5), "confidence"),
        (lambda p: p["characters"][0].update(confidence="high"), "confidence"),
        (lambda p: p.update(region={"code": "us-va", "score": 2}), "confidence"),
        (lambda p: p.update(region={"score": 0.5}), "malformed plate"),
    ],
)
def test_malformed_plates_are_value_errors(results, change, message):
    record = next(r for r in results if r.plates).to_dict()
    change(record["plates"][0])
    with pytest.raises(ValueError, match=message):
        ImageResult.from_dict(record)


def test_malformed_image_records_are_value_errors(results):
    record = results[0].to_dict()
    for bad in ({**record, "processing_time_ms": -1}, {**record, "error": 3}, {k: v for k, v in record.items() if k != "image"}):
        with pytest.raises(ValueError):
            ImageResult.from_dict(bad)
