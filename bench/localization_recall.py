"""Where plates are lost: for every labeled plate of a scene set, is it among localization's candidates, at which rank, and is it read, by plate height and contrast.

Run from the repository root:  python bench/localization_recall.py  (option: --set FOLDER=MODEL, repeatable;
default: us-scenes, eu-scenes and br-scenes of ../shared/data with the shipped us, eu and br models)
Writes results/localization_recall.json and prints one table per set.

Three stages are told apart for each plate: localization's morphology proposes a box on
it (IoU > 0.4 with the label, among all its candidates); the plate verifier ranks that
box among those read (`scene.read_candidates` + `scene.fallback_candidates` above
`verifier.min_candidate_score`); and recognition reads the plate's text exactly. The
morphology is not learned, so its recall is honest on any set; the verifier and the
character model of a shipped model were trained on the development scenes, so their
figures there are optimistic (pass a fold model from `training/crossval.py --models DIR`
with `--set` for held-out ones).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import REPO, machine, write_results
from threadpoolctl import threadpool_limits

from lpr import Recognizer, load_dataset, plate_candidates, read_image
from lpr.evaluation import chosen_reading
from lpr.localization import to_gray
from lpr.metrics import exact_match, is_detection

DATA = REPO.parent / "shared" / "data"
# Plate heights (px) and contrasts (the gray standard deviation inside the labeled box) that bin the plates.
HEIGHT_EDGES = (25, 35, 50)
CONTRAST_EDGES = (25, 45)


def bin_name(value: float, edges: tuple[int, ...], unit: str) -> str:
    """A value and ascending bin edges in, its bin's name ("<25 px", "25-35 px", ">=50 px") out."""
    if value < edges[0]:
        return f"<{edges[0]} {unit}"
    for low, high in zip(edges, edges[1:]):
        if value < high:
            return f"{low}-{high} {unit}"
    return f">={edges[-1]} {unit}"


def plate_outcomes(recognizer: Recognizer, folder: Path) -> list[dict]:
    """A recognizer and a scene folder in, one record per labeled plate out: height, contrast, proposed, rank among those read (None: not read), read exactly."""
    outcomes = []
    localization, geometry = recognizer.config.localization, recognizer.profile.geometry
    for labeled in load_dataset(folder).images:
        image = read_image(labeled.path)
        gray = to_gray(image)
        proposed = plate_candidates(image, localization, geometry)
        ranked = [candidate for candidate, _ in recognizer.scored_candidates(image, gray)]
        readings = recognizer.recognize(image)
        for index, plate in enumerate(labeled.plates):
            box = plate.box
            if box is None:
                continue
            patch = gray[max(box.y, 0) : box.y + box.h, max(box.x, 0) : box.x + box.w]
            rank = next((i for i, c in enumerate(ranked) if is_detection(c.box, box)), None)
            on_plate = [r for r in readings if is_detection(r.box, box)]
            chosen = chosen_reading(labeled, readings, False) if index == 0 else (on_plate[0] if on_plate else None)
            outcomes.append({
                "image": labeled.path.name,
                "height": int(box.h),
                "contrast": round(float(patch.std()), 1) if patch.size else 0.0,
                "proposed": any(is_detection(c.box, box) for c in proposed),
                "rank": rank,
                "read_exactly": chosen is not None and is_detection(chosen.box, box) and exact_match(chosen.text, plate.text),
            })
    return outcomes


def bin_names(edges: tuple[int, ...], unit: str) -> list[str]:
    """Bin edges in, the names of their bins, lowest first, out."""
    return [bin_name(value, edges, unit) for value in (edges[0] - 1, *edges)]


def table(outcomes: list[dict]) -> dict[str, dict]:
    """Plate records in, per bin (all, each height bin, each contrast bin, empty ones left out): plates, share proposed, share ranked among those read, share ranked first, share read exactly."""
    bins: dict[str, list[dict]] = defaultdict(list)
    for outcome in outcomes:
        bins["all"].append(outcome)
        bins[bin_name(outcome["height"], HEIGHT_EDGES, "px high")].append(outcome)
        bins[bin_name(outcome["contrast"], CONTRAST_EDGES, "contrast")].append(outcome)
    order = ["all", *bin_names(HEIGHT_EDGES, "px high"), *bin_names(CONTRAST_EDGES, "contrast")]
    return {
        name: {
            "plates": len(bins[name]),
            "proposed": round(float(np.mean([o["proposed"] for o in bins[name]])), 3),
            "ranked": round(float(np.mean([o["rank"] is not None for o in bins[name]])), 3),
            "first": round(float(np.mean([o["rank"] == 0 for o in bins[name]])), 3),
            "read_exactly": round(float(np.mean([o["read_exactly"] for o in bins[name]])), 3),
        }
        for name in order
        if bins[name]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", metavar="FOLDER=MODEL", help="a scene folder and the model (name or .npz) to read it with")
    args = parser.parse_args()
    pairs = [item.split("=", 1) for item in args.sets] if args.sets else [[str(DATA / f"{r}-scenes"), r] for r in ("us", "eu", "br")]
    figures: dict = {"benchmark": "localization_recall", "machine": machine(), "sets": {}}
    with threadpool_limits(1):
        for folder, model in pairs:
            folder = Path(folder)
            if not folder.is_dir():
                print(f"skipped {folder}: not a folder")
                continue
            outcomes = plate_outcomes(Recognizer(model), folder)
            rows = table(outcomes)
            missed = [o["image"] for o in outcomes if not o["proposed"]]
            figures["sets"][folder.name] = {"model": model, "bins": rows, "not_proposed": missed, "plates": outcomes}
            print(f"\n{folder.name} ({model}): plates / proposed / ranked among those read / ranked first / read exactly")
            for name, row in rows.items():
                print(f"  {name:>16}  {row['plates']:4d}  {row['proposed']:6.1%}  {row['ranked']:6.1%}  {row['first']:6.1%}  {row['read_exactly']:6.1%}")
    path = write_results("localization_recall", figures)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
