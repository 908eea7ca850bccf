"""The `lpr` command: parses arguments and calls the library; every error is one line on stderr.

Exit codes: 0 success; 1 some images could not be read (the others were processed);
2 bad usage or unusable input (model, labels, paths); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from .batch import available_cores, recognize_paths
from .config import parse_override
from .errors import LprError
from .files import write_atomically, write_image
from .imageio import list_images, read_image
from .model import DEFAULT_MODEL, load_model, save_model, shipped_model_path
from .pipeline import Recognizer
from .region import region_code, state_region
from .report import DEFAULT_GALLERY, check_report_folder, write_report
from .visualize import debug_images, draw_readings

EXIT_OK = 0
EXIT_IMAGE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def chosen_region(args: argparse.Namespace) -> str | None:
    """The region asked for: --region, or --state XX as its alias us-XX; LprError when both or malformed."""
    region, state = getattr(args, "region", None), getattr(args, "state", None)
    if region and state:
        raise LprError("give --region or --state, not both (--state va means --region us-va)")
    try:
        if state:
            return DEFAULT_MODEL if state.lower() == DEFAULT_MODEL else state_region(state)
        return region_code(region) if region else None
    except ValueError as error:
        raise LprError(str(error)) from None


def model_for(model: str | None, region: str | None) -> str:
    """The model to load: the one named, else the region's shipped model if there is one, else the general model."""
    if model:
        return model
    if region and shipped_model_path(region).is_file():
        return region
    return DEFAULT_MODEL


def build_recognizer(args: argparse.Namespace) -> Recognizer:
    """The Recognizer the arguments ask for (--model, --region/--state, --set); LprError for a bad region or setting."""
    region = chosen_region(args)
    try:
        overrides = dict(parse_override(assignment) for assignment in args.set)
        recognizer = Recognizer(load_model(model_for(args.model, region)), region=region, overrides=overrides)
    except ValueError as error:
        raise LprError(str(error)) from None
    if not recognizer.region_known:
        print(f"lpr: warning: the model has no plate layouts for region {recognizer.region!r}; reading with those of {recognizer.profile.code!r}", file=sys.stderr)
    return recognizer


def output_path(directory: Path, image: Path, suffix: str, inputs: set[Path]) -> Path:
    """Where an output derived from an image goes; refuses a path that is one of the inputs."""
    target = directory / f"{image.stem}{suffix}"
    if target.resolve() in inputs:
        raise LprError(f"{target}: would overwrite an input image")
    return target


def write_pictures(args: argparse.Namespace, recognizer: Recognizer, image_path: Path, readings: list, inputs: set[Path]) -> None:
    """Write the annotated copy and/or the debug images of one recognized image."""
    image = read_image(image_path)
    if args.annotate:
        target = output_path(Path(args.annotate), image_path, ".lpr.png", inputs)
        write_image(target, draw_readings(image, readings), force=args.force)
    if args.debug:
        folder = Path(args.debug) / image_path.stem
        for item in debug_images(image, recognizer, args.cropped):
            # Debug images replace earlier debug images, but never an input that lives in that folder.
            write_image(output_path(folder, Path(item.name), ".png", inputs), item.image, force=True)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def recognition_results(args: argparse.Namespace, recognizer: Recognizer, paths: list[Path]):
    """The results of recognizing paths in input order: on the Dask cluster given, else in local worker processes."""
    if args.scheduler:
        if args.workers is not None:
            raise LprError("--workers is for local runs; a cluster's workers are chosen when they are started")
        from .cluster import recognize_on_cluster

        return recognize_on_cluster(recognizer, paths, args.scheduler, args.cropped)
    workers = args.workers if args.workers is not None else available_cores()
    # More processes than images would only cost start-up time.
    return recognize_paths(recognizer, paths, args.cropped, workers=min(workers, len(paths)))


def command_recognize(args: argparse.Namespace) -> int:
    recognizer = build_recognizer(args)
    paths = list_images(args.paths)
    if not paths:
        raise LprError("no images found in the paths given")
    inputs = {p.resolve() for p in paths}
    failed = 0
    progress = tqdm(total=len(paths), unit="image", leave=False, disable=None if len(paths) > 1 else True)
    for result in recognition_results(args, recognizer, paths):
        progress.update()
        if args.json:
            print(json.dumps(result.to_dict()), flush=True)
        elif result.error is None:
            plates = ", ".join(f"{p.text} ({p.confidence:.2f})" for p in result.plates) or "no plate found"
            tqdm.write(f"{result.image}: {plates}", file=sys.stdout)
        if result.error is None and (args.annotate or args.debug):
            try:
                write_pictures(args, recognizer, Path(result.image), list(result.plates), inputs)
            except LprError as error:
                result = replace(result, error=str(error))
        if result.error is not None:
            failed += 1
            if not args.json:
                tqdm.write(f"lpr: {result.error}", file=sys.stderr)
    progress.close()
    return EXIT_IMAGE_FAILED if failed else EXIT_OK


def command_train(args: argparse.Namespace) -> int:
    from lpr.datasets import load_dataset
    from lpr.training import train_model

    region = chosen_region(args)
    if region is None:
        raise LprError("lpr train needs --region (e.g. us, or us-va for a state's model)")
    out = Path(args.out) if args.out else Path(f"{region}.npz")
    # save_model writes NAME.npz: check that file, not the name as typed, before training.
    out = out if out.suffix == ".npz" else out.with_suffix(".npz")
    if out.exists() and not args.force:
        raise LprError(f"{out}: already exists (use --force to overwrite)")
    datasets = [load_dataset(folder) for folder in args.data]
    negatives = [plate_free_folder(folder) for folder in args.negatives]
    for dataset in datasets:
        report_skipped(dataset)
    model, report = train_model(datasets, region=region, progress=None, negatives=negatives)
    saved = save_model(model, out, force=args.force)
    if report.skipped_images:
        print(f"lpr: warning: skipped {report.skipped_images} unreadable image(s)", file=sys.stderr)
    print(f"plates: {report.usable_plates} of {report.plates} usable (segmented into as many characters as labeled)")
    print(f"characters: {report.characters} in {len(report.class_counts)} classes")
    print(f"held-out character accuracy: {report.heldout_accuracy:.3f} on {report.heldout_characters} characters of unseen plates")
    if model.verifier is not None:
        print(f"plate verifier: trained on the scenes{' and ' + str(len(negatives)) + ' negatives folder(s)' if negatives else ''}")
    print(f"model written to {saved}")
    return EXIT_OK


def plate_free_folder(folder: str):
    """A --negatives folder in, its "negatives" Dataset out (every image counts as plate-free); LprError when empty."""
    from lpr.datasets import load_negatives

    if not Path(folder).is_dir():
        raise LprError(f"{folder}: not a folder")
    dataset = load_negatives(folder)
    if not dataset.images:
        raise LprError(f"{folder}: no images found")
    return dataset


def report_skipped(dataset) -> None:
    """Tell the user how many label rows were skipped and the first few reasons."""
    if dataset.skipped:
        print(f"{dataset.root}: skipped {len(dataset.skipped)} label row(s):", file=sys.stderr)
        for row in dataset.skipped[:5]:
            print(f"  {row}", file=sys.stderr)
        if len(dataset.skipped) > 5:
            print(f"  ... and {len(dataset.skipped) - 5} more", file=sys.stderr)


def format_rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def command_evaluate(args: argparse.Namespace) -> int:
    from lpr.datasets import load_dataset
    from lpr.evaluation import evaluate

    if args.json and Path(args.json).exists() and not args.force:
        raise LprError(f"{args.json}: already exists (use --force to overwrite)")
    if args.report:
        # Refused before the (long) evaluation rather than after it.
        check_report_folder(args.report, args.force)
    if args.gallery < 0:
        raise LprError("--gallery must be 0 or more")
    dataset = load_dataset(args.data)
    report_skipped(dataset)
    recognizer = build_recognizer(args)
    model_name = model_for(args.model, chosen_region(args))
    evaluation = evaluate(recognizer, dataset, progress=None, keep_failures=args.gallery if args.report else 0)
    summary = evaluation.summary
    print(f"dataset: {dataset.root} ({summary.kind})")
    print(f"images: {summary.images} ({summary.errors} unreadable)")
    if summary.kind != "negatives":
        print(f"plate exact match: {format_rate(summary.exact_rate)}")
        print(f"character accuracy: {format_rate(summary.char_accuracy)}")
        print(f"truth in top candidates: {format_rate(summary.top_n_rate)}")
    if summary.kind == "scenes":
        print(f"detection rate (IoU > 0.4): {format_rate(summary.detection_rate)}")
    if summary.kind != "crops":
        print(f"false plates per image: {summary.false_plates_per_image:.3f}")
        print(f"images with a false plate: {format_rate(summary.images_with_false_plates)}")
    print(f"time per image: median {summary.median_time_ms:.1f} ms, mean {summary.mean_time_ms:.1f} ms")
    if summary.per_state:
        print(f"{'state':>5} {'images':>6} {'exact':>7} {'chars':>7}")
        for row in summary.per_state:
            print(f"{row.state:>5} {row.images:>6} {format_rate(row.exact_rate):>7} {format_rate(row.char_accuracy):>7}")
    if args.json:
        payload = json.dumps(summary.to_dict(), indent=2).encode() + b"\n"
        write_atomically(Path(args.json), lambda stream: stream.write(payload), force=args.force)
    if args.report:
        model_label = model_name if recognizer.model.source in ("", model_name) else f"{model_name} ({recognizer.model.source})"
        files = write_report(args.report, evaluation, model_label, str(dataset.root), force=args.force)
        print(f"report written to {files.index}")
    return EXIT_OK


def add_region_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose what a recognizer reads: region, state alias and setting overrides."""
    parser.add_argument("--region", help="region of the plates, e.g. us or us-va: readings in its plate layouts rank first, and its shipped model is used when there is one")
    parser.add_argument("--state", help="alias: --state va is --region us-va")
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.FIELD=VALUE", help="override one of the model's settings, e.g. scene.sure_confidence=0.6 (repeatable; VALUE is JSON)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lpr", description="Automatic license plate recognition.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    recognize = commands.add_parser("recognize", help="read the plates in images", description="Read the plates in images and print them, one line (or one JSON object) per image.")
    recognize.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    recognize.add_argument("--model", help=f"model name (e.g. {DEFAULT_MODEL}) or .npz path (default: the state's model, else {DEFAULT_MODEL})")
    add_region_arguments(recognize)
    recognize.add_argument("--cropped", action="store_true", help="each image is already a plate: skip localization")
    recognize.add_argument("--json", action="store_true", help="print one JSON object per image (JSON Lines)")
    recognize.add_argument("--annotate", metavar="DIR", help="write copies of the images with plates drawn into DIR")
    recognize.add_argument("--debug", metavar="DIR", help="write every stage's intermediate images into DIR/IMAGE_NAME/")
    recognize.add_argument("--force", action="store_true", help="overwrite existing annotated images")
    recognize.add_argument("--workers", type=positive_int, metavar="N", help="recognize N images at a time in N processes (default: the cores available)")
    recognize.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster of this scheduler (e.g. tcp://host:8786); needs lpr[cluster]")
    recognize.set_defaults(handler=command_recognize)

    train = commands.add_parser("train", help="train a character model", description="Train a character model from labeled plate crops and/or OpenALPR-format scenes.")
    train.add_argument("data", nargs="+", metavar="DATA", help="folder with labels.csv (image,state,plate) or OpenALPR X.jpg + X.txt scenes")
    train.add_argument("--region", help="region of the model: 'us' for the general US model, or a sub-region such as us-va, whose plates weigh more")
    train.add_argument("--state", help="alias: --state va is --region us-va, --state us is --region us")
    train.add_argument("--out", help="model file to write (default: STATE.npz in the current folder)")
    train.add_argument("--force", action="store_true", help="overwrite an existing model file")
    train.add_argument("--negatives", action="append", default=[], metavar="DIR", help="folder of plate-free images: non-plates the scene verifier learns to reject (repeatable)")
    train.set_defaults(handler=command_train)

    evaluation = commands.add_parser("evaluate", help="measure a model against labeled images", description="Recognize a labeled folder and report exact-match rate, character accuracy, detection and false plates.")
    evaluation.add_argument("data", metavar="DATA", help="labeled folder: labels.csv crops, OpenALPR scenes, or plate-free images")
    evaluation.add_argument("--model", help=f"model name or .npz path (default: the state's model, else {DEFAULT_MODEL})")
    add_region_arguments(evaluation)
    evaluation.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    evaluation.add_argument("--report", metavar="DIR", help="also write an HTML report (index.html, summary.json, outcomes.jsonl) into DIR")
    evaluation.add_argument("--gallery", type=int, default=DEFAULT_GALLERY, metavar="N", help=f"show the N worst failures in the report (default {DEFAULT_GALLERY})")
    evaluation.add_argument("--force", action="store_true", help="overwrite an existing JSON file or report")
    evaluation.set_defaults(handler=command_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lpr` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except LprError as error:
        print(f"lpr: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lpr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
