"""Plate Recognizer's Snapshot API format: lpr's results in, the JSON its clients expect out (POST /v1/plate-reader/ of `lpr serve`).

Field by field, as Plate Recognizer documents and its own client reads them: `plate` in
lower case, `score` the reading's confidence, `dscore` how plate-like the region is, `box` in
xmin/ymin/xmax/ymax pixels, `candidates` best first with the plate itself first. lpr detects
no vehicles: `vehicle` is there (clients index it) with score 0 and an empty box. `region`
is the region the plate was read for (the request's or the model's) with score 1; lpr does
not tell regions apart from the plate's look.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timezone
from typing import Any

from .records import ImageResult, PlateRead
from .region import region_code

# Plate Recognizer rounds its scores to 3 decimals.
SCORE_DECIMALS = 3


def region_codes(values: Sequence[str]) -> list[str]:
    """The request's `regions` values (repeatable, or comma-separated) in, lower-case codes out; ValueError naming a malformed one."""
    try:
        return [region_code(part) for value in values for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(f"regions: {error}") from None


def chosen_region(requested: Sequence[str], readable: Collection[str], default: str) -> str:
    """The requested region codes, those the model has layouts for and its own region in, the first requested one it can read for out, else its own."""
    return next((code for code in requested if code in readable), default)


def snapshot_timestamp(value: str | None, now: datetime) -> str:
    """The request's `timestamp` (ISO 8601; without a zone, UTC) or None, and the time now in, the response's UTC timestamp out; ValueError for a malformed one."""
    if value is None or not value.strip():
        moment = now
    else:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"timestamp: {value!r} is not an ISO 8601 time such as 2024-05-01T12:00:00Z") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _box(plate: PlateRead) -> dict[str, int]:
    box = plate.box
    return {"xmin": box.x, "ymin": box.y, "xmax": box.x + box.w, "ymax": box.y + box.h}


def snapshot_plate(plate: PlateRead, detection_score: float, region: str) -> dict[str, Any]:
    """A plate read, how plate-like its region is (0..1) and the region read for in, one entry of the response's `results` out."""
    code, score = (plate.region.code, plate.region.score) if plate.region is not None else (region, 1.0)
    candidates = [(plate.text, plate.confidence)] + [(c.plate, c.confidence) for c in plate.candidates if c.plate != plate.text]
    return {
        "box": _box(plate),
        "plate": plate.text.lower(),
        "region": {"code": code, "score": round(score, SCORE_DECIMALS)},
        "score": round(plate.confidence, SCORE_DECIMALS),
        "candidates": [{"score": round(score, SCORE_DECIMALS), "plate": text.lower()} for text, score in candidates],
        "dscore": round(detection_score, SCORE_DECIMALS),
        "vehicle": {"score": 0.0, "type": "Unknown", "box": {"xmin": 0, "ymin": 0, "xmax": 0, "ymax": 0}},
    }


def snapshot_response(
    result: ImageResult,
    detection_scores: Sequence[float],
    region: str,
    size: tuple[int, int] | None,
    camera_id: str | None,
    timestamp: str,
    processing_time_ms: float,
) -> dict[str, Any]:
    """An image's result, each plate's detection score, the region read for, the image's (width, height), the request's camera and timestamp and the time taken in, the Snapshot response out."""
    if len(detection_scores) != len(result.plates):
        raise ValueError(f"{len(result.plates)} plates but {len(detection_scores)} detection scores")
    response: dict[str, Any] = {
        "processing_time": round(processing_time_ms, 3),
        "results": [snapshot_plate(plate, score, region) for plate, score in zip(result.plates, detection_scores)],
        "filename": result.image,
        "version": 1,
        "camera_id": camera_id,
        "timestamp": timestamp,
    }
    if size is not None:
        response["image_width"], response["image_height"] = size
    return response
