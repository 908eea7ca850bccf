"""Held-out accuracy of the whole pipeline by k-fold cross-validation over labeled folders.

Every image is assigned to a fold by a hash of its file name (stable across runs and
machines). For each fold a model is trained on the crops and scenes of the other folds
and evaluated on this fold's images, so no figure comes from an image the model saw.
Negatives are never used for training, so they are evaluated with the model trained on
all folds. Usage (from the repository root):

    python training/crossval.py ../shared/data --folds 5 --out results/heldout.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from joblib import Parallel, delayed

import lpr
from lpr.datasets import Dataset, load_dataset
from lpr.evaluation import ImageOutcome, summarize
from lpr.verification import train_plate_verifier


def fold_of(path: Path, folds: int) -> int:
    """The fold (0..folds-1) of an image, from a hash of its file name."""
    return int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % folds


def subset(dataset: Dataset, folds: int, keep: set[int]) -> Dataset:
    """The images of a dataset whose fold is in keep."""
    return replace(dataset, images=tuple(i for i in dataset.images if fold_of(i.path, folds) in keep))


def run_fold(fold: int, folds: int, training: list[Dataset], evaluated: list[Dataset], config: lpr.Config) -> list[tuple[str, list[ImageOutcome]]]:
    """Train without one fold, evaluate on it; returns (dataset kind, outcomes) per evaluated dataset."""
    others = set(range(folds)) - {fold}
    kept = [subset(d, folds, others) for d in training]
    model, _ = lpr.train_model(kept, config=config, progress=False)
    recognizer = lpr.Recognizer(model, config, train_plate_verifier(kept, config))
    results = []
    for dataset in evaluated:
        part = subset(dataset, folds, {fold}) if dataset.kind != "negatives" else dataset
        results.append((dataset.kind, list(lpr.evaluate(recognizer, part, progress=False).outcomes)))
    return results


def cross_validate(data_root: Path, folds: int, jobs: int, config: lpr.Config) -> dict:
    """Data root with us-plates/, us-scenes/, negatives/ in, held-out summary figures per set out."""
    crops = load_dataset(data_root / "us-plates")
    scenes = load_dataset(data_root / "us-scenes")
    negatives_folder = data_root / "negatives"
    training = [crops, scenes]
    per_fold = Parallel(n_jobs=jobs)(
        delayed(run_fold)(fold, folds, training, training, config) for fold in range(folds)
    )
    figures = {}
    for name, kind in (("us-plates", "crops"), ("us-scenes", "scenes")):
        outcomes = [o for fold in per_fold for k, items in fold if k == kind for o in items]
        figures[name] = asdict(summarize(outcomes, kind))
    if negatives_folder.is_dir():
        model, _ = lpr.train_model(training, config=config, progress=False)
        recognizer = lpr.Recognizer(model, config, train_plate_verifier(training, config))
        evaluation = lpr.evaluate(recognizer, load_dataset(negatives_folder), progress=False)
        figures["negatives"] = asdict(evaluation.summary)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder holding us-plates/, us-scenes/ and negatives/")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="folds evaluated in parallel")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    figures = cross_validate(args.data, args.folds, args.jobs, lpr.Config())
    for name, summary in figures.items():
        line = [f"{name:10s} images={summary['images']:4d}"]
        for key in ("exact_rate", "char_accuracy", "top_n_rate", "detection_rate", "images_with_false_plates"):
            if summary[key] is not None:
                line.append(f"{key}={summary[key]:.3f}")
        line.append(f"median_ms={summary['median_time_ms']:.1f}")
        print("  ".join(line))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"method": f"{args.folds}-fold cross-validation by file-name hash", "figures": figures}
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
