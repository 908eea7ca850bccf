"""Held-out accuracy of the whole pipeline by k-fold cross-validation over labeled folders.

Every image is assigned to a fold by a hash of its plates' texts (stable across runs and
machines), so the photos of one plate never straddle a split. For each fold a model
(character classifier and plate verifier) is trained on the crops, scenes and negatives of
the other folds and evaluated on this fold's images, so no figure comes from an image or a
plate the model saw; each set's figures are over the union of its held-out folds. Usage (from the repository root):

    python training/crossval.py ../shared/data --folds 5 --out results/heldout.json
    python training/crossval.py ../shared/data --region br --folds 3 --out results/heldout_br.json
    python training/crossval.py ../shared/data --region eu-stacked --folds 5 --out results/heldout_eu_stacked.json

--region picks the sets (REGION_SETS) and the region their models are trained for
(SET_REGIONS); --deal name deals by file name instead (as US figures made before
2026-12-07 were). --seed deals the images to folds anew; --seeds 0 1 2 repeats the run with
each deal and reports each figure's mean and spread over them (compare_crossval.py pairs two
such runs). --sweep reads every value of one reading setting with kept fold models and
reports the nested estimate of choosing among them (see nested_sweep).

--state-given reads the crops without and with each one's state (general model);
--state-models va nc reads each state's crops with that state's own model (us-va, us-nc).
--models DIR keeps the fold models: a second run (e.g. with --set of a reading setting, or
--state-given) reads with them instead of training again, in minutes instead of the better
part of an hour. Kept models are read with the run's --set settings; a run that changes
one fixed by training (features, the verifier's descriptor, training.*) stops.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from joblib import Parallel, delayed

import lpr
from lpr.config import fixed_by_training, parse_override, with_overrides
from lpr.datasets import Dataset, LabeledImage, load_dataset, load_unlabeled
from lpr.evaluation import ImageOutcome, summarize
from lpr.model import save_model
from lpr.region import state_region
from lpr.training import TrainingConfig, train_model
from lpr.training.model import json_ready, region_config, region_training


def parse_settings(assignments: list[str], training: TrainingConfig | None = None) -> tuple[dict[str, object], TrainingConfig]:
    """--set "stage.field=JSON" texts (and the training settings they change, default the defaults) in, (recognition overrides, training settings) out; SystemExit with a one-line reason when one is bad.

    Names under "training." are TrainingConfig fields; the others are lpr.Config settings.
    """
    overrides: dict[str, object] = {}
    training = training or TrainingConfig()
    try:
        for assignment in assignments:
            name, value = parse_override(assignment)
            if name.startswith("training."):
                field_name = name.removeprefix("training.")
                if field_name not in {f.name for f in fields(TrainingConfig)}:
                    raise ValueError(f"no setting {name!r} in TrainingConfig")
                current = getattr(training, field_name)
                training = replace(training, **{field_name: tuple(value) if isinstance(current, tuple) else type(current)(value)})
            else:
                overrides[name] = value
        with_overrides(lpr.Config(), overrides)
    except (ValueError, TypeError) as error:
        raise SystemExit(f"crossval: {error}") from None
    return overrides, training


def reading_overrides(model: lpr.Model, overrides: dict[str, object], source: str) -> dict[str, object]:
    """A fold model, the run's overrides and where the model came from in, the overrides its settings lack out; SystemExit when one is fixed by its training.

    A kept model is read with the run's reading settings; a setting that shapes the trained
    weights (features, the verifier's descriptor) needs the model trained again.
    """
    changed = {name: value for name, value in overrides.items() if with_overrides(model.config, {name: value}) != model.config}
    fixed = [name for name in changed if fixed_by_training(name)]
    if fixed:
        raise SystemExit(f"crossval: {source} was trained with other {', '.join(fixed)}; empty the --models folder to train again")
    return changed


# The sets of each region's cross-validation under the data root: (folder, evaluated). A set not
# evaluated is only trained on (rendered plates say nothing of how real ones are read).
REGION_SETS = {
    "us": (("us-plates", True), ("us-scenes", True), ("negatives", True)),
    "br": (("br-plates", True), ("br-plates-synthetic", False), ("br-scenes", True), ("negatives", True)),
    # European scenes and two-line plates, with the character tiles of European fonts to learn from.
    "eu": (("eu-scenes", True), ("eu-stacked-plates", True), ("eu-chars", False), ("gb-chars", False), ("negatives", True)),
    # The two-line plates alone (no scenes, so no verifier): minutes instead of an hour.
    "eu-stacked": (("eu-stacked-plates", True), ("eu-chars", False), ("gb-chars", False)),
    # Brazilian crops alone, likewise.
    "br-crops": (("br-plates", True), ("br-plates-synthetic", False)),
}
# Folders of unlabeled plate crops each region's fold models self-train on (lpr train --unlabeled): every
# fold reads all of them, as they carry no labels to leak.
REGION_UNLABELED = {"eu": ("eu-plates-unlabeled",)}
# The region each set group's models are trained for (a group named for its region needs no entry).
SET_REGIONS = {"eu-stacked": "eu", "br-crops": "br"}


@dataclass(frozen=True)
class Folds:
    """How images are dealt to folds: how many, whether by plate text, and the seed of the deal."""

    count: int
    # Deal by plate text, so that the photos of one plate (crops, scenes, br-plates' several a plate) never straddle a split.
    by_plate: bool = True
    # Another seed deals the images anew (repeated cross-validation); seed 0 is the deal README's figures were made with.
    seed: int = 0

    def of(self, image: LabeledImage) -> int:
        """The fold (0..count-1) of an image, from a hash of its file name, or by_plate of its plates' texts (a plate-free image: its name)."""
        key = "+".join(sorted(p.text for p in image.plates)) if self.by_plate and image.plates else image.path.name
        key = key if self.seed == 0 else f"{self.seed}:{key}"
        return int(hashlib.sha1(key.encode()).hexdigest(), 16) % self.count

    def subset(self, dataset: Dataset, keep: set[int]) -> Dataset:
        """The images of a dataset whose fold is in keep."""
        return replace(dataset, images=tuple(i for i in dataset.images if self.of(i) in keep))


def check_deal(models: Path, folds: Folds) -> None:
    """A fold model folder and the run's deal in, nothing out: the deal is recorded in models/deal.json the first time; SystemExit when its models were trained on another deal.

    A fold model read with another deal would score images it was trained on.
    """
    recorded = models / "deal.json"
    deal = {"folds": folds.count, "by_plate": folds.by_plate, "seed": folds.seed}
    if recorded.is_file():
        if json.loads(recorded.read_text()) != deal:
            raise SystemExit(f"crossval: the fold models in {models} were trained on another deal ({recorded.read_text().strip()}); use another --models folder")
        return
    if any(models.glob("fold*.npz")):
        raise SystemExit(f"crossval: {models} holds fold models of an unrecorded deal; use another --models folder")
    models.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(deal) + "\n")


def kept_fold_model(models: Path | None, fold: int) -> lpr.Model | None:
    """The --models folder (or None) and a fold in, the fold's kept model out, or None when there is none."""
    path = None if models is None else models / f"fold{fold}.npz"
    return lpr.load_model(path) if path is not None and path.is_file() else None


def fold_model(
    fold: int, folds: Folds, datasets: list[Dataset], config: lpr.Config, training: TrainingConfig, models: Path | None, region: str = "us",
    unlabeled: Sequence[Dataset] = (), always_trained: Sequence[Dataset] = (),
) -> lpr.Model:
    """The region's model trained on every fold but one (with its plate verifier) and on always_trained whole: kept in models/foldK.npz when there, else trained with config and training (and kept there when models is given)."""
    saved = kept_fold_model(models, fold)
    if saved is not None:
        # A setting added since the model was trained counts as its default; the identifier does not change readings.
        recorded = {**json_ready(asdict(TrainingConfig())), **saved.training, "identify_subregions": training.identify_subregions}
        if saved.training and recorded != json_ready(asdict(training)):
            raise SystemExit(f"crossval: {saved.source} was trained with other training settings; empty the --models folder to train again")
        return saved
    others = set(range(folds.count)) - {fold}
    kept = [folds.subset(d, others) for d in datasets] + list(always_trained)
    labeled = [d for d in kept if d.kind != "negatives"]
    negatives = [d for d in kept if d.kind == "negatives"]
    # No held-out probe inside training: the held-out fold is this one (and the probe costs a second fit; the model is the same).
    model, _ = train_model(
        labeled, region=region, config=config, training=training, heldout_fraction=0.0, progress=False, negatives=negatives, unlabeled=unlabeled,
    )
    if models is not None:
        models.mkdir(parents=True, exist_ok=True)
        save_model(model, models / f"fold{fold}.npz")
    return model


def run_fold(
    fold: int, folds: Folds, datasets: list[Dataset], evaluated: list[bool], overrides: dict[str, object], training: TrainingConfig,
    models: Path | None = None, region: str = "us", unlabeled: Sequence[Dataset] = (), always_trained: Sequence[Dataset] = (),
    never_trained: Sequence[Dataset] = (),
) -> list[list[ImageOutcome]]:
    """Train without one fold (or load its model, see fold_model), evaluate on it; returns the outcomes per dataset (none for a set not evaluated).

    always_trained sets are trained on whole in every fold and never scored; never_trained ones
    are scored whole by every fold's model (their outcomes follow the datasets').
    """
    model = fold_model(fold, folds, datasets, region_config(region, overrides), training, models, region, unlabeled, always_trained)
    recognizer = lpr.Recognizer(model, overrides=reading_overrides(model, overrides, model.source or f"fold {fold}"))
    results = []
    for dataset, judged in zip(datasets, evaluated):
        part = folds.subset(dataset, {fold})
        results.append(list(lpr.evaluate(recognizer, part, progress=False).outcomes) if judged else [])
    for dataset in never_trained:
        results.append(list(lpr.evaluate(recognizer, dataset, progress=False).outcomes))
    return results


def by_state(dataset: Dataset) -> dict[str | None, Dataset]:
    """A dataset in, its images grouped by their labeled state out (None for images without one)."""
    states = sorted({i.state for i in dataset.images}, key=lambda s: s or "")
    return {s: replace(dataset, images=tuple(i for i in dataset.images if i.state == s)) for s in states}


def run_fold_states(
    fold: int, folds: Folds, training: list[Dataset], crops: Dataset, overrides: dict[str, object], settings: TrainingConfig, models: Path | None = None
) -> dict[str, list[ImageOutcome]]:
    """Train without one fold (or load its model from models/), read its crops without and with each image's own state: {"without": ..., "with": ...} outcomes."""
    # Crops are read by the character model alone: a whole run's fold model serves. One
    # trained here has no verifier, so it is not kept for whole runs.
    model = kept_fold_model(models, fold)
    if model is None:
        others = set(range(folds.count)) - {fold}
        # No held-out probe inside training: this fold is the held-out set (and the probe costs a second fit).
        config = with_overrides(lpr.Config(), overrides)
        model, _ = train_model([folds.subset(d, others) for d in training], config=config, training=settings, heldout_fraction=0.0, progress=False)
    reading = reading_overrides(model, overrides, model.source or f"fold {fold}")
    held = folds.subset(crops, {fold})
    without = list(lpr.evaluate(lpr.Recognizer(model, overrides=reading), held, progress=False).outcomes)
    given = [
        o
        for state, part in by_state(held).items()
        for o in lpr.evaluate(lpr.Recognizer(model, state_region(state) if state else None, reading), part, progress=False).outcomes
    ]
    return {"without": without, "with": given}


# Plate-confidence bands for the calibration check: a confidence means something when
# readings above 0.8 are mostly right and those below 0.5 mostly wrong.
CONFIDENCE_BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01))


def calibration(outcomes: list[ImageOutcome]) -> dict[str, dict[str, float]]:
    """Outcomes in, {"lo-hi": {"images": n, "exact_rate": fraction}} per plate-confidence band out."""
    bands = {}
    for low, high in CONFIDENCE_BANDS:
        inside = [o for o in outcomes if o.predicted and low <= o.confidence < high]
        bands[f"{low:.1f}-{min(high, 1.0):.1f}"] = {"images": len(inside), "exact_rate": sum(o.exact for o in inside) / max(1, len(inside))}
    return bands


def cross_validate_states(
    data_root: Path, folds: Folds, jobs: int, overrides: dict[str, object], training: TrainingConfig, models: Path | None = None
) -> dict:
    """Data root in, held-out crop figures read without and with each image's own state (its layouts ranked first) out."""
    crops = load_dataset(data_root / "us-plates")
    sets = [crops, load_dataset(data_root / "us-scenes")]
    per_fold = Parallel(n_jobs=jobs)(delayed(run_fold_states)(fold, folds, sets, crops, overrides, training, models) for fold in range(folds.count))
    figures = {}
    for mode in ("without", "with"):
        outcomes = [o for fold in per_fold for o in fold[mode]]
        figures[f"{mode}-state"] = asdict(summarize(outcomes, "crops")) | {"calibration": calibration(outcomes)}
    return figures


def run_fold_state_model(
    fold: int, folds: Folds, training: list[Dataset], crops: Dataset, state: str, overrides: dict[str, object], settings: TrainingConfig
) -> list[ImageOutcome]:
    """Train a state's model (lpr train --region us-XX) without one fold, read that fold's crops of the state, told the state."""
    others = set(range(folds.count)) - {fold}
    held = by_state(folds.subset(crops, {fold})).get(state)
    if held is None:
        return []
    config = with_overrides(lpr.Config(), overrides)
    region = state_region(state)
    model, _ = train_model(
        [folds.subset(d, others) for d in training], region=region, config=config, training=settings, heldout_fraction=0.0, progress=False
    )
    return list(lpr.evaluate(lpr.Recognizer(model, region), held, progress=False).outcomes)


def cross_validate_state_models(
    data_root: Path, folds: Folds, jobs: int, overrides: dict[str, object], training: TrainingConfig, states: list[str]
) -> dict:
    """Data root and states in, held-out figures of each state's own model on that state's crops (state given) out.

    Compare with the state's row of --state-given ("with-state" per_state): the general model told the state.
    """
    crops = load_dataset(data_root / "us-plates")
    sets = [crops, load_dataset(data_root / "us-scenes")]
    jobs_list = [(state, fold) for state in states for fold in range(folds.count)]
    per_job = Parallel(n_jobs=jobs)(delayed(run_fold_state_model)(fold, folds, sets, crops, state, overrides, training) for state, fold in jobs_list)
    figures = {}
    for state in states:
        outcomes = [o for (s, _), items in zip(jobs_list, per_job) if s == state for o in items]
        figures[f"{state}-model"] = asdict(summarize(outcomes, "crops"))
    return figures


def fold_outcomes(
    data_root: Path, folds: Folds, jobs: int, overrides: dict[str, object], training: TrainingConfig, models: Path | None = None, sets_of: str = "us",
    also_trained: Sequence[Path] = (), also_scored: Sequence[Path] = (),
) -> tuple[list[tuple[str, bool]], list[Dataset], list[list[list[ImageOutcome]]]]:
    """Data root holding the REGION_SETS named sets_of (negatives/ optional) in, ((set name, evaluated) pairs, their datasets, outcomes per fold per set) out.

    also_trained folders (rendered plates) are trained on whole in every fold; also_scored ones,
    never trained on, are scored whole by every fold's model, and named by their path.
    """
    sets = [(name, judged) for name, judged in REGION_SETS[sets_of] if name != "negatives" or (data_root / name).is_dir()]
    datasets = [load_dataset(data_root / name) for name, _ in sets]
    evaluated = [judged for _, judged in sets]
    region = SET_REGIONS.get(sets_of, sets_of)
    unlabeled = [load_unlabeled(data_root / name) for name in REGION_UNLABELED.get(sets_of, ()) if (data_root / name).is_dir()]
    always = [load_dataset(path) for path in also_trained]
    never = [load_dataset(path) for path in also_scored]
    per_fold = Parallel(n_jobs=jobs)(
        delayed(run_fold)(fold, folds, datasets, evaluated, overrides, training, models, region, unlabeled, always, never)
        for fold in range(folds.count)
    )
    return sets + [(str(path), True) for path in also_scored], datasets + never, per_fold


def fold_figures(sets: list[tuple[str, bool]], datasets: list[Dataset], per_fold: list[list[list[ImageOutcome]]]) -> dict:
    """fold_outcomes' sets, datasets and outcomes per fold in, held-out summary figures per evaluated set out (the union of its folds)."""
    figures = {}
    for index, ((name, judged), dataset) in enumerate(zip(sets, datasets)):
        outcomes = [o for fold in per_fold for o in fold[index]]
        if judged and outcomes:
            # Each fold's own exact rate too: their range is the spread a figure has within one deal.
            per_fold_exact = [summarize(fold[index], dataset.kind).exact_rate for fold in per_fold if fold[index]]
            # How many plates a figure rests on: the photos of one plate are not independent trials.
            plates = len({o.truth for o in outcomes if o.truth})
            figures[name] = asdict(summarize(outcomes, dataset.kind)) | {"fold_exact_rates": per_fold_exact, "plates": plates}
    return figures


def cross_validate(
    data_root: Path, folds: Folds, jobs: int, overrides: dict[str, object], training: TrainingConfig, models: Path | None = None, sets_of: str = "us",
    also_trained: Sequence[Path] = (), also_scored: Sequence[Path] = (),
) -> dict:
    """Data root holding the REGION_SETS named sets_of in, held-out summary figures per evaluated set out (see fold_outcomes)."""
    return fold_figures(*fold_outcomes(data_root, folds, jobs, overrides, training, models, sets_of, also_trained, also_scored))


def parse_sweep(assignment: str) -> tuple[str, list]:
    """A --sweep "stage.field=[v1, v2, ...]" text in, (setting name, its values) out; SystemExit with a one-line reason when it is not a reading setting with a list of values."""
    try:
        name, values = parse_override(assignment)
    except ValueError as error:
        raise SystemExit(f"crossval: {error}") from None
    if not isinstance(values, list) or len(values) < 2:
        raise SystemExit(f"crossval: --sweep {name} needs a JSON list of at least two values, got {values!r}")
    if name.startswith("training.") or fixed_by_training(name):
        raise SystemExit(f"crossval: --sweep {name}: only reading settings can be swept (the fold models are trained once)")
    for value in values:
        parse_settings([f"{name}={json.dumps(value)}"])
    return name, values


def nested_sweep(
    data_root: Path, folds: Folds, jobs: int, overrides: dict[str, object], training: TrainingConfig, models: Path | None, sets_of: str,
    setting: str, values: list, select_on: str,
) -> dict:
    """A reading setting and its values in, the figures of each value and the nested estimate of choosing among them out.

    Every value is read on every held-out fold with the same fold models. For each outer fold
    the value with the most exact readings of select_on on the other folds is chosen (ties go
    to the earlier value: list the shipped one first), and the outer fold is scored with it;
    "nested" holds the union of those scores, an estimate of the sweep that never looked at the
    fold it reports. The other folds are read by models that were trained on the outer fold,
    so the inner scores are not fully independent of it; the choice never sees its readings.
    """
    runs = []
    for value in values:
        sets, datasets, per_fold = fold_outcomes(data_root, folds, jobs, {**overrides, setting: value}, training, models, sets_of)
        runs.append(per_fold)
    names = [name for name, _ in sets]
    if select_on not in names:
        raise SystemExit(f"crossval: --select-on {select_on} is not one of this run's sets ({', '.join(names)})")
    index = names.index(select_on)
    chosen, nested = [], []
    for fold in range(folds.count):
        inner = [sum(o.exact for other, outcomes in enumerate(run) if other != fold for o in outcomes[index]) for run in runs]
        best = inner.index(max(inner))
        chosen.append(values[best])
        nested.append(runs[best][fold])
    return {
        "setting": setting, "values": values, "select_on": select_on, "chosen_per_fold": chosen,
        "per_value": [fold_figures(sets, datasets, run) for run in runs], "nested": fold_figures(sets, datasets, nested),
    }


# The figures whose spread over fold seeds is reported (each a rate in [0, 1], None where it does not apply).
SPREAD_FIGURES = ("exact_rate", "exact_folded_rate", "char_accuracy", "detection_rate", "images_with_false_plates")


def across_seeds(per_seed: dict[int, dict]) -> dict:
    """{seed: {set: figures}} in, {set: {figure: {mean, min, max, stdev, per_seed}, "seeds", "images", "plates"}} out, for the sets every seed has.

    The spread (min to max, and the standard deviation over seeds) is how far a figure moves
    with the deal alone: a change that moves it less is not shown to be a change.
    """
    seeds = sorted(per_seed)
    common = [name for name in per_seed[seeds[0]] if all(name in per_seed[seed] for seed in seeds)]
    spread = {}
    for name in common:
        entry: dict = {"seeds": seeds, "images": per_seed[seeds[0]][name]["images"], "plates": per_seed[seeds[0]][name].get("plates")}
        for figure in SPREAD_FIGURES:
            values = [per_seed[seed][name].get(figure) for seed in seeds]
            if any(v is None for v in values):
                continue
            entry[figure] = {
                "mean": statistics.fmean(values), "min": min(values), "max": max(values),
                "stdev": statistics.stdev(values) if len(values) > 1 else 0.0, "per_seed": values,
            }
        spread[name] = entry
    return spread


def print_figures(figures: dict) -> None:
    """One seed's {set: figures} in, a line per set (and its confidence bands) printed."""
    for name, summary in figures.items():
        line = [f"{name:10s} images={summary['images']:4d}"]
        for key in ("exact_rate", "exact_folded_rate", "char_accuracy", "top_n_rate", "detection_rate", "images_with_false_plates"):
            if summary[key] is not None:
                line.append(f"{key}={summary[key]:.3f}")
        line.append(f"median_ms={summary['median_time_ms']:.1f}")
        if any(rate is not None for rate in summary.get("fold_exact_rates", [])):
            line.append("folds=" + "/".join(f"{rate:.3f}" for rate in summary["fold_exact_rates"] if rate is not None))
        print("  ".join(line))
        for band, figures_of_band in summary.get("calibration", {}).items():
            print(f"    confidence {band}: images={figures_of_band['images']:4d}  exact_rate={figures_of_band['exact_rate']:.3f}")


def print_spread(spread: dict) -> None:
    """across_seeds' figures in, a line per set printed: each figure's mean and its range over the seeds."""
    for name, entry in spread.items():
        plates = f" of {entry['plates']} plates" if entry.get("plates") else ""
        line = [f"{name:10s} {len(entry['seeds'])} seeds, images={entry['images']}{plates}"]
        for figure in SPREAD_FIGURES:
            if figure in entry:
                f = entry[figure]
                line.append(f"{figure}={f['mean']:.3f} ({f['min']:.3f}-{f['max']:.3f}, sd {f['stdev']:.3f})")
        print("  ".join(line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder holding us-plates/, us-scenes/ and negatives/")
    parser.add_argument("--region", default="us", choices=sorted(REGION_SETS), help="whose sets to cross-validate (default us)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="deal the images to folds anew with this seed (repeated cross-validation; default 0)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", metavar="SEED",
        help="repeat the whole cross-validation with each of these fold seeds and report each figure's mean and spread over them (instead of --seed)",
    )
    parser.add_argument(
        "--deal", choices=("plate", "name"), default="plate",
        help="deal images to folds by a hash of their plates' texts (default: every photo of a plate in one fold) or of their file names (US figures before 2026-12-07)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="folds evaluated in parallel")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--state-given", action="store_true", help="only crops, read without and with each image's own state")
    parser.add_argument(
        "--state-models", nargs="+", metavar="STATE", help="only these states' crops, each read by its own state model (lpr train --state)"
    )
    parser.add_argument(
        "--models", type=Path, metavar="DIR",
        help="fold models: loaded from DIR/foldK.npz when there, else trained and saved there; "
        "re-reads saved folds after a change to reading only (empty DIR after a change to training)",
    )
    parser.add_argument("--also-train", type=Path, action="append", default=[], metavar="DIR", help="a folder trained on whole in every fold, never scored (rendered plates; repeatable)")
    parser.add_argument(
        "--also-score", type=Path, action="append", default=[], metavar="DIR",
        help="a folder never trained on, scored whole by every fold's model (rendered test plates; repeatable)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="STAGE.FIELD=JSON",
        help="change one setting for this run, e.g. segmentation.dark_offsets=[5,10,20] or training.shrunk_heights=[24,32] (repeatable)",
    )
    parser.add_argument(
        "--sweep", metavar="STAGE.FIELD=[JSON,...]",
        help="read every value of one reading setting with the same fold models and report each, and the nested estimate of choosing among them "
        "on the other folds (list the shipped value first: ties go to the earlier value)",
    )
    parser.add_argument("--select-on", metavar="SET", help="the set whose exact readings choose a --sweep value (default: the region's scene set)")
    args = parser.parse_args(argv)
    sweep = parse_sweep(args.sweep) if args.sweep else None
    if sweep and (args.state_given or args.state_models or args.also_train or args.also_score):
        raise SystemExit("crossval: --sweep reads the region's own sets only (no --state-given, --state-models, --also-train or --also-score)")
    # Fold models read as the shipped ones do without the state identifier, which only costs their training time.
    reading_training = replace(region_training(SET_REGIONS.get(args.region, args.region)), identify_subregions=False)
    overrides, training = parse_settings(args.set, reading_training)
    seeds = args.seeds or [args.seed]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"crossval: --seeds {' '.join(map(str, seeds))} repeats a seed")
    # A sweep's value is chosen by the scene set's readings unless told otherwise (the crops of most regions are read near perfectly).
    select_on = args.select_on or next((name for name, _ in REGION_SETS[args.region] if name.endswith("scenes")), REGION_SETS[args.region][0][0])
    per_seed = {}
    sweeps: dict[int, dict] = {}
    for seed in seeds:
        folds = Folds(args.folds, args.deal == "plate", seed)
        # Each seed's deal has its own fold models; seed 0's stay where a single run keeps them.
        models = args.models if args.models is None or seed == 0 else args.models / f"seed{seed}"
        if models is not None:
            check_deal(models, folds)
        if len(seeds) > 1:
            print(f"seed {seed}:")
        if sweep:
            swept = nested_sweep(args.data, folds, args.jobs, overrides, training, models, args.region, *sweep, select_on)
            for value, value_figures in zip(swept["values"], swept["per_value"]):
                print(f"{sweep[0]}={json.dumps(value)}:")
                print_figures(value_figures)
            print(f"nested (chosen per fold on {select_on}: {', '.join(json.dumps(v) for v in swept['chosen_per_fold'])}):")
            sweeps[seed] = swept
            figures = swept["nested"]
        elif args.state_models:
            figures = cross_validate_state_models(args.data, folds, args.jobs, overrides, training, [s.lower() for s in args.state_models])
        elif args.state_given:
            figures = cross_validate_states(args.data, folds, args.jobs, overrides, training, models)
        else:
            figures = cross_validate(args.data, folds, args.jobs, overrides, training, models, args.region, args.also_train, args.also_score)
        print_figures(figures)
        per_seed[seed] = figures
    spread = across_seeds(per_seed) if len(seeds) > 1 else None
    if spread is not None:
        for index, value in enumerate(sweep[1] if sweep else []):
            print(f"over the seeds, {sweep[0]}={json.dumps(value)}:")
            print_spread(across_seeds({seed: swept["per_value"][index] for seed, swept in sweeps.items()}))
        print("over the seeds" + (", nested:" if sweep else ":"))
        print_spread(spread)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        grouping = "plate-text" if folds.by_plate else "file-name"
        payload = {
            "method": f"{args.folds}-fold cross-validation by {grouping} hash, seed{'s' if spread else ''} {', '.join(map(str, seeds))}",
            "sets": args.region, "region": SET_REGIONS.get(args.region, args.region), "seed": seeds[0], "settings": args.set,
            "also_trained": [str(p) for p in args.also_train], "also_scored": [str(p) for p in args.also_score], "figures": per_seed[seeds[0]],
        }
        if sweeps:
            payload["sweep"] = {str(seed): swept for seed, swept in sweeps.items()}
        if spread is not None:
            payload |= {"seeds": seeds, "per_seed": {str(seed): figures for seed, figures in per_seed.items()}, "across_seeds": spread}
        if args.models is not None:
            payload["models"] = str(args.models)
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
