"""Fitting region identifiers: plate crops labeled with where they were issued in, a RegionIdentifier out.

A model's identifier tells its sub-regions apart (the US model's: states, from crops
labeled with a state); models/regions.npz tells regions apart (us, eu, br) and chooses the
model that reads a plate under --region auto.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
from sklearn.svm import LinearSVC
from tqdm import tqdm

from lpr.config import IdentificationConfig
from lpr.datasets import Dataset, load_dataset
from lpr.errors import ImageReadError, LprError, ModelError
from lpr.identification import RegionIdentifier, layout_likelihoods, plate_image, plate_look
from lpr.imageio import read_image
from lpr.model import save_identifier
from lpr.region import region_code

# The crop sets every region identifier learns from, and the scene sets of each region (cross-validated by plate).
REGION_CROPS = {"us": ("us-plates",), "eu": ("eu-plates-unlabeled", "eu-stacked-plates"), "br": ("br-plates",)}
REGION_SCENES = {"us": "us-scenes", "eu": "eu-scenes", "br": "br-scenes"}
# Region identifier examples are also described shrunk to these heights (px): scene plates are 20-40 px high.
REGION_SHRUNK_HEIGHTS = (20, 32)
# Scene plates are also described in boxes grown by these (x, y) fractions a side: the boxes
# a model reads a plate in are larger than the labeled ones (with the car around them).
REGION_GROWN_MARGINS = ((0.1, 0.1), (0.05, 0.3))
# Softmax temperatures tried on held-out decision scores; the one with the least log loss is kept.
TEMPERATURES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)
# Folds of the training crops whose held-out scores choose the temperature.
TEMPERATURE_FOLDS = 3


def shrunk(plate: np.ndarray, height: int) -> np.ndarray:
    """(H, W, 3) uint8 plate and a height in, the plate resized to that height (keeping its aspect) out, unless it is already no taller."""
    if plate.shape[0] <= height:
        return plate
    width = max(2, round(plate.shape[1] * height / plate.shape[0]))
    return cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA)


def plate_looks(
    datasets: Sequence[Dataset], config: IdentificationConfig, label_of, progress: bool | None = None, shrunk_heights: Sequence[int] = (),
    grown_margins: Sequence[tuple[float, float]] = (),
) -> tuple[np.ndarray, list[str], list[str]]:
    """Datasets and a LabeledImage -> label (or None to skip) function in, ((n, d) looks, n labels, n group keys) out.

    A crop's look is the whole image's, a scene's each labeled plate box's and that box
    grown by each of grown_margins ((x, y) fractions a side), and each also shrunk to every
    one of shrunk_heights (px), as plates far from a camera look; the group key (the plate
    text) keeps the photos of one plate in one fold. Unreadable images are skipped.
    """
    looks, labels, groups = [], [], []
    images = [(d, labeled) for d in datasets for labeled in d.images]
    for dataset, labeled in tqdm(images, desc="learning where plates are from", unit="image", disable=not progress if progress is not None else None):
        label = label_of(dataset, labeled)
        if label is None:
            continue
        try:
            image = read_image(labeled.path)
        except ImageReadError:
            continue
        height, width = image.shape[:2]
        plates = [(p.text, [p.box, *(p.box.expanded(fx, fy, width, height) for fx, fy in grown_margins)]) for p in labeled.plates] if dataset.kind == "scenes" else [
            (labeled.plates[0].text if labeled.plates else "", [None])
        ]
        for text, boxes in plates:
            for box in boxes:
                pixels = image if box is None else plate_image(image, tuple(box.to_list()))
                if pixels is None:
                    continue
                for version in (pixels, *(shrunk(pixels, h) for h in shrunk_heights if h < pixels.shape[0])):
                    looks.append(plate_look(version, config))
                    labels.append(label)
                    groups.append(text or labeled.path.name)
    if not looks:
        raise ModelError("no labeled plates to learn regions from")
    return np.vstack(looks), labels, groups


def _fit(looks: np.ndarray, labels: Sequence[str], regularization: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(n, d) looks and labels in, (mean, scale, coef (k, d), intercept (k,), classes) of a balanced one-vs-rest LinearSVC out."""
    mean = looks.mean(axis=0)
    scale = looks.std(axis=0) + 1e-6
    svm = LinearSVC(C=regularization, class_weight="balanced", max_iter=5000, random_state=seed)
    svm.fit((looks - mean) / scale, np.asarray(labels))
    coef, intercept, classes = svm.coef_, svm.intercept_, [str(c) for c in svm.classes_]
    if len(classes) == 2:
        # A two-class LinearSVC keeps one row (the second class's score); the first's is its negative.
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return mean, scale, coef, intercept, classes


def fold_of(group: str, folds: int, seed: int = 0) -> int:
    """A group key (plate text) in, its fold out, from a hash so that all photos of one plate share it."""
    return int(hashlib.sha1(f"{seed}:{group}".encode()).hexdigest(), 16) % folds


def fit_identifier(
    looks: np.ndarray, labels: Sequence[str], groups: Sequence[str], config: IdentificationConfig, regularization: float = 0.01, seed: int = 0,
) -> RegionIdentifier:
    """(n, d) plate looks, their region codes and group keys in, a RegionIdentifier out.

    The temperature that turns scores into probabilities is chosen by log loss on scores
    held out by group (TEMPERATURE_FOLDS folds), so the reported scores are calibrated on
    plates the weights did not see.
    """
    labels = [region_code(label) for label in labels]
    if len(set(labels)) < 2:
        raise ModelError("a region identifier needs plates of at least two regions")
    folds = np.array([fold_of(g, TEMPERATURE_FOLDS, seed) for g in groups])
    held_scores, held_labels = [], []
    for fold in range(TEMPERATURE_FOLDS):
        train, test = folds != fold, folds == fold
        if not test.any() or len({labels[i] for i in np.flatnonzero(train)}) < 2:
            continue
        mean, scale, coef, intercept, classes = _fit(looks[train], [labels[i] for i in np.flatnonzero(train)], regularization, seed)
        index = {c: i for i, c in enumerate(classes)}
        scores = ((looks[test] - mean) / scale) @ coef.T + intercept
        for row, label in zip(scores, (labels[i] for i in np.flatnonzero(test))):
            if label in index:
                held_scores.append(row)
                held_labels.append(index[label])
    mean, scale, coef, intercept, classes = _fit(looks, labels, regularization, seed)
    temperature = best_temperature(held_scores, held_labels) if held_scores else 1.0
    return RegionIdentifier(
        tuple(classes), mean.astype(np.float32), scale.astype(np.float32), coef.astype(np.float32), intercept.astype(np.float64), temperature, config,
    )


def best_temperature(scores: Sequence[np.ndarray], truths: Sequence[int]) -> float:
    """Held-out score rows (each fold's own classes) and the true class index of each in, the TEMPERATURES entry with the least mean log loss out."""
    losses = []
    for temperature in TEMPERATURES:
        loss = 0.0
        for row, truth in zip(scores, truths):
            z = row / temperature
            z = z - z.max()
            loss -= z[truth] - np.log(np.exp(z).sum())
        losses.append(loss / len(truths))
    return TEMPERATURES[int(np.argmin(losses))]


def state_label(dataset: Dataset, labeled, country: str = "us") -> str | None:
    """A crop labeled with a state in, its sub-region code ("us-va") out; anything else None."""
    if dataset.kind != "crops" or not labeled.state:
        return None
    try:
        return region_code(f"{country}-{labeled.state}")
    except ValueError:
        return None


def train_state_identifier(
    datasets: Sequence[Dataset], region: str, config: IdentificationConfig | None = None, regularization: float = 0.01,
    progress: bool | None = None, min_plates: int = 2,
) -> RegionIdentifier | None:
    """A region's training datasets in, the identifier of its sub-regions (from crops labeled with one) out; None when fewer than two have min_plates crops."""
    config = config or IdentificationConfig()
    root = region_code(region).split("-", 1)[0]
    try:
        looks, labels, groups = plate_looks(datasets, config, lambda d, labeled: state_label(d, labeled, root), progress)
    except ModelError:
        return None
    counts = {label: labels.count(label) for label in set(labels)}
    keep = [i for i, label in enumerate(labels) if counts[label] >= min_plates]
    if len({labels[i] for i in keep}) < 2:
        return None
    return fit_identifier(looks[keep], [labels[i] for i in keep], [groups[i] for i in keep], config, regularization)


def train_region_identifier(
    folders: Sequence[tuple[str, Path]], config: IdentificationConfig | None = None, progress: bool | None = None,
    shrunk_heights: Sequence[int] = REGION_SHRUNK_HEIGHTS, grown_margins: Sequence[tuple[float, float]] = REGION_GROWN_MARGINS,
) -> RegionIdentifier:
    """(region code, folder of crops or scenes) pairs in, the identifier that tells those regions apart out (see plate_looks for shrunk_heights and grown_margins); LprError for a bad folder."""
    config = config or IdentificationConfig()
    datasets, regions = [], {}
    for region, folder in folders:
        dataset = load_dataset(folder)
        if dataset.kind not in ("crops", "scenes", "unlabeled", "negatives"):
            raise LprError(f"{folder}: holds {dataset.kind}, not plate crops or scenes")
        datasets.append(dataset)
        regions[id(dataset)] = region_code(region)

    def label(dataset: Dataset, labeled) -> str | None:
        # A folder of images without labels is taken as plate crops of its region.
        return regions[id(dataset)]

    looks, labels, groups = plate_looks(datasets, config, label, progress, shrunk_heights, grown_margins)
    return fit_identifier(looks, labels, groups, config)




def top_rates(probabilities: np.ndarray, classes: Sequence[str], truths: Sequence[str], ranks: Sequence[int] = (1, 3)) -> dict[str, float]:
    """(n, k) probabilities, the k classes and n true codes in, {"top1": share, "top3": share} out (a truth no class names is a miss)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")
    named = np.asarray(classes)[order]
    return {f"top{r}": float(np.mean([truth in row[:r] for row, truth in zip(named, truths)])) for r in ranks}


def state_figures(data_root: Path, folds: int, seed: int, config: IdentificationConfig | None = None) -> dict:
    """The data root holding us-plates/ in, US state identification held out by plate (folds by plate text) out: top-1/top-3 by look, and by look and layout."""
    from .model import learn_formats

    config = config or IdentificationConfig()
    crops = load_dataset(data_root / "us-plates")
    looks, labels, groups = plate_looks([crops], config, state_label, progress=False)
    texts = groups
    fold = np.array([fold_of(g, folds, seed) for g in groups])
    by_look, by_both, truths, per_fold = [], [], [], []
    for k in range(folds):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        identifier = fit_identifier(looks[train], [labels[i] for i in train], [groups[i] for i in train], config, seed=seed)
        formats = learn_formats((labels[i].split("-", 1)[1], texts[i]) for i in train)
        layouts = {f"us-{state}": counts for state, counts in formats.items()}
        look = identifier.look_probabilities(looks[test])
        both = look * np.array([layout_likelihoods(texts[i], layouts, identifier.classes, config.layout_smoothing) for i in test]) ** config.layout_weight
        both /= both.sum(axis=1, keepdims=True)
        truth = [labels[i] for i in test]
        per_fold.append(top_rates(both, identifier.classes, truth)["top1"])
        by_look.append((look, identifier.classes))
        by_both.append((both, identifier.classes))
        truths.append(truth)

    def pooled(parts) -> dict[str, float]:
        n = sum(len(t) for t in truths)
        rates = [top_rates(p, c, t) for (p, c), t in zip(parts, truths)]
        return {key: sum(r[key] * len(t) for r, t in zip(rates, truths)) / n for key in rates[0]}

    return {"plates": len(labels), "states": len(set(labels)), "look": pooled(by_look), "look_and_layout": pooled(by_both), "fold_top1": per_fold}


def _labeled_looks(
    datasets: Sequence[Dataset], region: str, config: IdentificationConfig, shrunk_heights: Sequence[int] = (), grown_margins: Sequence[tuple[float, float]] = (),
) -> tuple[np.ndarray, list[str], list[str]]:
    """Datasets of one region in, plate_looks of every plate in them labeled with that region out."""
    return plate_looks(datasets, config, lambda d, labeled: region, False, shrunk_heights, grown_margins)


def fold_region_identifiers(
    data_root: Path, folds: int = 3, seed: int = 0, shrunk_heights: Sequence[int] = REGION_SHRUNK_HEIGHTS, config: IdentificationConfig | None = None,
    grown_margins: Sequence[tuple[float, float]] = REGION_GROWN_MARGINS,
) -> Iterator[tuple[int, RegionIdentifier, dict[str, tuple[np.ndarray, list[str], list[str]]]]]:
    """The data root in, (fold, identifier, {scene set name: (looks, regions, groups) of its plates at their labeled boxes}) per fold out, folds by plate.

    Each fold's identifier learns from the plates of the other folds: every crop set's and
    every scene set's (see plate_looks for shrunk_heights and grown_margins), the way
    models/regions.npz is built.
    """
    config = config or IdentificationConfig()
    trained, judged = [], {}
    for region, names in REGION_CROPS.items():
        sets = [load_dataset(data_root / name) for name in names if (data_root / name).is_dir()]
        trained.append(_labeled_looks(sets, region, config, shrunk_heights))
    for region, name in REGION_SCENES.items():
        dataset = load_dataset(data_root / name)
        judged[name] = _labeled_looks([dataset], region, config)
        trained.append(_labeled_looks([dataset], region, config, shrunk_heights, grown_margins))
    for fold in range(folds):
        looks, labels, groups = [], [], []
        for part_looks, part_labels, part_groups in trained:
            keep = [i for i, group in enumerate(part_groups) if fold_of(group, folds, seed) != fold]
            looks.append(part_looks[keep])
            labels += [part_labels[i] for i in keep]
            groups += [part_groups[i] for i in keep]
        yield fold, fit_identifier(np.vstack(looks), labels, groups, config, seed=seed), judged


def region_figures(data_root: Path, folds: int = 3, seed: int = 0, shrunk_heights: Sequence[int] = REGION_SHRUNK_HEIGHTS, config: IdentificationConfig | None = None) -> dict:
    """The data root in, region (us/eu/br) identification of the labeled plates of the scene sets out, cross-validated by plate (see fold_region_identifiers)."""
    guesses: dict[str, list] = {}
    for fold, identifier, judged in fold_region_identifiers(data_root, folds, seed, shrunk_heights, config):
        for name, (looks, _, groups) in judged.items():
            found = guesses.setdefault(name, [None] * len(groups))
            held = [i for i, group in enumerate(groups) if fold_of(group, folds, seed) == fold]
            if held:
                codes = np.asarray(identifier.classes)[identifier.look_probabilities(looks[held]).argmax(axis=1)]
                for i, code in zip(held, codes):
                    found[i] = str(code)
    figures, right, total = {}, 0, 0
    for name, (_, truths, _) in judged.items():
        hits = sum(g == t for g, t in zip(guesses[name], truths))
        taken = {code: guesses[name].count(code) for code in sorted(set(guesses[name]))}
        figures[name] = {"plates": len(truths), "right": hits, "rate": hits / len(truths), "taken_for": taken}
        right, total = right + hits, total + len(truths)
    figures["all scenes"] = {"plates": total, "right": right, "rate": right / total}
    return {"folds": folds, "seed": seed, "shrunk_heights": list(shrunk_heights), "scenes": figures}


def auto_figures(data_root: Path, folds: int = 3, seed: int = 0, sets: Sequence[str] = ("us-scenes", "eu-scenes", "br-scenes", "us-plates")) -> dict:
    """The data root in, how --region auto reads each set against its own region's model out: exact rates and the share of plates given the right region.

    The readers are the shipped region models, in both arms; the region identifier of each
    fold learned from the other folds' plates (fold_region_identifiers), so what differs
    between the arms is the choice of region, judged on plates it did not learn from.
    """
    from lpr.evaluation import chosen_reading, score_image
    from lpr.model import load_model
    from lpr.multiregion import MultiRegionRecognizer
    from lpr.pipeline import Recognizer

    regions = {name: region for region, names in REGION_CROPS.items() for name in names} | {name: region for region, name in REGION_SCENES.items()}
    readers = {region: Recognizer(load_model(region)) for region in REGION_SCENES}
    datasets = {name: load_dataset(data_root / name) for name in sets}
    counts = {name: {"images": 0, "own_exact": 0, "auto_exact": 0, "region_right": 0} for name in sets}
    for fold, identifier, _ in fold_region_identifiers(data_root, folds, seed):
        auto = MultiRegionRecognizer(list(readers.values()), identifier)
        for name, dataset in datasets.items():
            cropped, own = dataset.kind == "crops", readers[regions[name]]
            held = [labeled for labeled in dataset.images if labeled.plates and fold_of(labeled.plates[0].text, folds, seed) == fold]
            for labeled in tqdm(held, desc=f"fold {fold} {name}", unit="image", leave=False):
                try:
                    image = read_image(labeled.path)
                except ImageReadError:
                    continue
                figures = counts[name]
                auto_readings = auto.recognize(image, cropped=cropped)
                figures["images"] += 1
                figures["own_exact"] += score_image(labeled, own.recognize(image, cropped=cropped), 0.0, cropped).exact
                figures["auto_exact"] += score_image(labeled, auto_readings, 0.0, cropped).exact
                chosen = chosen_reading(labeled, auto_readings, cropped)
                figures["region_right"] += chosen is not None and chosen.region is not None and chosen.region.code.split("-")[0] == regions[name]
    for figures in counts.values():
        n = max(1, figures["images"])
        figures.update(own_rate=figures["own_exact"] / n, auto_rate=figures["auto_exact"] / n, region_right_rate=figures["region_right"] / n)
    return {"folds": folds, "seed": seed, "sets": counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the region identifier (models/regions.npz) from plate crops or scenes of each region.")
    parser.add_argument("folders", nargs="+", metavar="REGION=FOLDER", help="e.g. us=../shared/data/us-plates (repeat a region for more folders)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--force", action="store_true", help="overwrite --out")
    args = parser.parse_args(argv)
    try:
        pairs = []
        for item in args.folders:
            region, sep, folder = item.partition("=")
            if not sep or not folder:
                raise LprError(f"{item!r} is not REGION=FOLDER")
            pairs.append((region, Path(folder)))
        identifier = train_region_identifier(pairs, progress=True)
        info = {"folders": {str(folder): region for region, folder in pairs}}
        path = save_identifier(identifier, args.out, info, force=args.force)
    except (LprError, ValueError) as error:
        print(f"identifier: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}: regions {', '.join(identifier.classes)}, temperature {identifier.temperature}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
