"""Region identification figures, cross-validated by plate: US states on us-plates, regions on the scene sets, and --region auto against each set's own region.

Run from the repository root:
    python training/identification_figures.py ../shared/data --seeds 0 1 --out results/heldout_identification.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lpr.training.identifier import auto_figures, region_figures, state_figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the data root (holding us-plates/, us-scenes/, eu-scenes/, br-scenes/, ...)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="fold seeds: each deals the plates to folds anew")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--state-folds", type=int, default=5, help="folds of the state figures (605 crops)")
    parser.add_argument("--no-auto", action="store_true", help="skip reading the sets with --region auto (the slow part)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not (args.data / "us-plates").is_dir():
        print(f"identification figures: error: {args.data} holds no us-plates/", file=sys.stderr)
        return 1
    figures: dict = {"states": [], "regions": [], "auto": []}
    for seed in args.seeds:
        figures["states"].append({"seed": seed, **state_figures(args.data, args.state_folds, seed)})
        figures["regions"].append(region_figures(args.data, args.folds, seed))
        if not args.no_auto:
            figures["auto"].append(auto_figures(args.data, args.folds, seed))
        print(json.dumps({key: value[-1] for key, value in figures.items() if value}, indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
