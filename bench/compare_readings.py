"""Compare the readings of two `lpr recognize --json` runs over the same images, image by image.

Usage: python bench/compare_readings.py BEFORE.jsonl AFTER.jsonl [--out SUMMARY.json]

Per image, the plates (text, box, confidence), their characters' boxes and their candidates
(text, confidence) are compared as printed (confidences to 6 decimals); timing is ignored.
Prints how many images are identical and lists the ones that differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(path: Path) -> dict[str, dict]:
    """A JSON Lines file of image records in, {image: record} out."""
    return {record["image"]: record for record in map(json.loads, path.read_text().splitlines()) if record}


def readings(record: dict) -> tuple:
    """An image record in, what a reading comparison looks at out (everything but the time)."""
    plates = tuple(
        (
            p["plate"], tuple(p["box"]), p["confidence"],
            tuple(tuple(c["box"]) for c in p["characters"]),
            tuple((c["plate"], c["confidence"]) for c in p["candidates"]),
        )
        for p in record["plates"]
    )
    return plates, record["error"]


def difference(before: dict, after: dict | None) -> str:
    """Two records of one image in, a short description of how their readings differ out."""
    if after is None:
        return "missing after"
    texts = [p["plate"] for p in before["plates"]], [p["plate"] for p in after["plates"]]
    if texts[0] != texts[1]:
        return f"plates {texts[0]} -> {texts[1]}"
    return "same plates; boxes, confidences or candidates differ"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args(argv)
    before, after = load(args.before), load(args.after)
    differ = {image: difference(record, after.get(image)) for image, record in before.items() if readings(record) != readings(after.get(image) or {"plates": [], "error": "missing"})}
    extra = sorted(set(after) - set(before))
    summary = {"before": str(args.before), "after": str(args.after), "images": len(before), "identical": len(before) - len(differ), "differ": differ, "only_after": extra}
    print(f"{args.before.name} -> {args.after.name}: {summary['identical']} of {len(before)} images identical, {len(differ)} differ, {len(extra)} only after")
    for image, what in differ.items():
        print(f"  {Path(image).name}: {what}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
