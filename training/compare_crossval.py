"""Whether a change wins: two repeated cross-validations (crossval.py --seeds ... --out) in, each set's paired difference out.

The same fold seed deals the same folds, so a seed's figure before and after a change is a
pair. A change wins a set when it is better with every seed and its mean gain is larger
than the spread (max - min over the seeds) of the figure before it; anything less is
within what the deal alone moves. Usage (from the repository root):

    python training/crossval.py ../shared/data --seeds 0 1 2 --out /tmp/before.json
    python training/crossval.py ../shared/data --seeds 0 1 2 --set scene.read_candidates=2 --out /tmp/after.json
    python training/compare_crossval.py /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

# Figures where less is better; every other compared figure is a rate where more is.
LOWER_IS_BETTER = {"images_with_false_plates"}


def paired_difference(before: dict, after: dict, figure: str = "exact_rate") -> dict:
    """Two crossval --seeds payloads (same seeds) and a figure in, {set: {differences, mean, spread_before, verdict}} out for the sets both hold.

    verdict is "better" or "worse" when every seed moves the same way by a mean beyond the
    spread before, else "within the spread".
    """
    seeds_before, seeds_after = before.get("seeds"), after.get("seeds")
    if not seeds_before or len(seeds_before) < 2:
        raise ValueError("the first run has no spread: run crossval.py with --seeds and at least two seeds")
    if seeds_before != seeds_after:
        raise ValueError(f"the runs used other fold seeds ({seeds_before} and {seeds_after}): pairs need the same deals")
    # "5-fold cross-validation by plate-text hash": a seed deals other folds by file name.
    deal_before, deal_after = (run.get("method", "").split(", seed")[0] for run in (before, after))
    if deal_before != deal_after:
        raise ValueError(f"the runs dealt their folds otherwise ({deal_before!r} and {deal_after!r}): pairs need the same deals")
    sign = -1.0 if figure in LOWER_IS_BETTER else 1.0
    compared = {}
    for name, spread in before["across_seeds"].items():
        other = after["across_seeds"].get(name)
        if other is None or figure not in spread or figure not in other:
            continue
        differences = [b - a for a, b in zip(spread[figure]["per_seed"], other[figure]["per_seed"])]
        mean = statistics.fmean(differences)
        width = spread[figure]["max"] - spread[figure]["min"]
        gains = [sign * d for d in differences]
        if all(g > 0 for g in gains) and sign * mean > width:
            verdict = "better"
        elif all(g < 0 for g in gains) and -sign * mean > width:
            verdict = "worse"
        else:
            verdict = "within the spread"
        compared[name] = {"differences": differences, "mean": mean, "spread_before": width, "verdict": verdict}
    return compared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="crossval.py --seeds --out JSON of the run without the change")
    parser.add_argument("after", type=Path, help="the same with the change")
    parser.add_argument("--figure", default="exact_rate", help="which figure to compare (default exact_rate)")
    args = parser.parse_args(argv)
    try:
        before, after = (json.loads(path.read_text()) for path in (args.before, args.after))
        compared = paired_difference(before, after, args.figure)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"compare_crossval: error: {error}", file=sys.stderr)
        return 1
    if not compared:
        print(f"compare_crossval: error: no set has {args.figure} in both runs", file=sys.stderr)
        return 1
    for name, entry in compared.items():
        steps = " / ".join(f"{100 * d:+.1f}" for d in entry["differences"])
        print(f"{name:12s} {args.figure} {100 * entry['mean']:+.2f} points (per seed {steps}; spread before {100 * entry['spread_before']:.1f}): {entry['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
