"""The `lpr` command: parses arguments and calls the library; every error is one line on stderr.

Exit codes: 0 success; 1 some inputs could not be read (the others were processed: images,
watched sources, hotlist rows); 2 bad usage or unusable input (model, labels, paths, an
unreachable reads database); 130 interrupted.
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
from .multiregion import AUTO, MultiRegionRecognizer
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
        if region and region.strip().lower() == AUTO:
            return AUTO
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


def build_recognizer(args: argparse.Namespace, auto: bool = False) -> Recognizer | MultiRegionRecognizer:
    """The Recognizer the arguments ask for (--model, --region/--state, --set; --region auto where the command allows it); LprError for a bad region or setting."""
    region = chosen_region(args)
    try:
        overrides = dict(parse_override(assignment) for assignment in args.set)
        if region == AUTO:
            if not auto:
                raise LprError(f"lpr {args.command} reads one region: give --region us, eu or br (--region auto works with recognize and evaluate)")
            if args.model:
                raise LprError("--region auto reads with every installed region model: leave out --model")
            return MultiRegionRecognizer.installed(overrides)
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
    recognizer = build_recognizer(args, auto=True)
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
    negatives = [image_folder(folder) for folder in args.negatives]
    unlabeled = [image_folder(folder, unlabeled=True) for folder in args.unlabeled]
    for dataset in datasets:
        report_skipped(dataset)
    model, report = train_model(datasets, region=region, progress=None, negatives=negatives, unlabeled=unlabeled)
    saved = save_model(model, out, force=args.force)
    if report.skipped_images:
        print(f"lpr: warning: skipped {report.skipped_images} unreadable image(s)", file=sys.stderr)
    print(f"plates: {report.usable_plates} of {report.plates} usable (segmented into as many characters as labeled)")
    print(f"characters: {report.characters} in {len(report.class_counts)} classes")
    if unlabeled:
        print(f"self-training: {report.self_labeled_plates} of {sum(len(d) for d in unlabeled)} unlabeled crops read surely and consistently, learned")
    print(f"held-out character accuracy: {report.heldout_accuracy:.3f} on {report.heldout_characters} characters of unseen plates")
    if model.verifier is not None:
        print(f"plate verifier: trained on the scenes{' and ' + str(len(negatives)) + ' negatives folder(s)' if negatives else ''}")
    print(f"model written to {saved}")
    return EXIT_OK


def image_folder(folder: str, unlabeled: bool = False):
    """A --negatives folder in, its "negatives" Dataset out (every image counts as plate-free), or with unlabeled an --unlabeled folder's "unlabeled" one; LprError when empty."""
    from lpr.datasets import load_negatives, load_unlabeled

    if not Path(folder).is_dir():
        raise LprError(f"{folder}: not a folder")
    dataset = load_unlabeled(folder) if unlabeled else load_negatives(folder)
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
    recognizer = build_recognizer(args, auto=True)
    model_name = AUTO if recognizer.region == AUTO else model_for(args.model, chosen_region(args))
    evaluation = evaluate(recognizer, dataset, progress=None, keep_failures=args.gallery if args.report else 0)
    summary = evaluation.summary
    print(f"dataset: {dataset.root} ({summary.kind})")
    print(f"images: {summary.images} ({summary.errors} unreadable)")
    if summary.kind != "negatives":
        print(f"plate exact match: {format_rate(summary.exact_rate)} ({format_rate(summary.exact_folded_rate)} with O and 0 as one)")
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


DEFAULT_DB = "sqlite:///lpr-reads.db"


def report(line: str) -> None:
    """One line of news for the user, on stderr."""
    print(f"lpr: {line}", file=sys.stderr, flush=True)


def watch_settings(args: argparse.Namespace):
    """`lpr watch`'s and `lpr serve`'s camera options in, (WatchConfig, alert destinations, hotlist watchers) out; LprError for a bad one."""
    from .alerts import destinations
    from .hotlist import HotlistWatcher
    from .watch import WatchConfig

    try:
        config = WatchConfig(
            sample=args.sample, motion=not args.no_motion, media_dir=Path(args.media) if args.media else None, keep_days=args.keep_days,
            json=getattr(args, "json", False), workers=args.workers,
        )  # fmt: skip
        alerts_to = destinations(args.alert_url, args.alert_command, args.mqtt)
        hotlists = [HotlistWatcher(path, report) for path in args.hotlist]
    except ValueError as error:
        raise LprError(str(error)) from None
    return config, alerts_to, hotlists


def logging_to_stderr():
    """Nothing in; lpr's warnings and errors (sources, alerts, the server) go to stderr as "lpr: ..." lines until the returned function is called."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("lpr: %(message)s"))
    handler.setLevel(logging.WARNING)
    package_logger = logging.getLogger("lpr")
    level = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.WARNING)

    def restore() -> None:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)

    return restore


def command_watch(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .store import open_store
    from .watch import Watcher, open_sources, output_line, start_delivery

    config, alerts_to, hotlists = watch_settings(args)
    stop, signals = threading.Event(), []

    def on_signal(number: int, _frame: object) -> None:
        if stop.is_set():
            # A second Ctrl-C means now: the reads already printed are committed.
            raise KeyboardInterrupt
        signals.append(number)
        stop.set()

    # From here a SIGTERM or Ctrl-C stops the watch cleanly, even one arriving while the model loads.
    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    # The sources and the alert deliverer log their failures; each is one line on stderr.
    restore_logging = logging_to_stderr()
    delivery_stop = threading.Event()
    delivery = None
    try:
        # The database first: an unreachable one is refused before the model takes its time to load.
        with open_store(args.db) as store:
            recognizer = build_recognizer(args)
            sources, failed = open_sources(args.sources, args.camera, config.source_config(), report)
            if not sources:
                raise LprError("none of the sources could be opened")
            delivery = start_delivery(store, delivery_stop) if alerts_to else None
            watcher = Watcher(recognizer, store, config, hotlists, alerts_to, lambda read: print(output_line(read, config.json), flush=True), report)
            outcome = watcher.run(sources, stop, failed)
            delivery_stop.set()
            if delivery is not None:
                # It finishes the pass it is in; alerts still in the outbox go at the next start.
                delivery.join(timeout=5.0)
    finally:
        delivery_stop.set()
        for number, old in previous.items():
            signal.signal(number, old)
        restore_logging()
    for camera in outcome.cameras:
        report(camera.line())
    if signal.SIGINT in signals:
        return EXIT_INTERRUPTED
    return EXIT_IMAGE_FAILED if outcome.failed else EXIT_OK


def watched_cameras(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """`lpr serve`'s --watch, --camera and --cameras in, (sources, camera names) in order out; LprError for a bad cameras file."""
    from .sources import camera_name
    from .watch import read_camera_file

    if len(args.camera) > len(args.watch):
        raise LprError(f"{len(args.camera)} --camera names for {len(args.watch)} --watch sources (--camera names them in order)")
    specs = list(args.watch)
    names = [args.camera[i] if i < len(args.camera) else camera_name(spec) for i, spec in enumerate(specs)]
    for name, spec in read_camera_file(args.cameras) if args.cameras else []:
        specs.append(spec)
        names.append(name)
    return specs, names


def command_serve(args: argparse.Namespace) -> int:
    import socket
    import threading

    from .server import ServeConfig, Service, serve, watching
    from .store import open_store
    from .tokens import load_tokens, new_token, parse_tokens
    from .watch import Watcher, open_sources, start_delivery

    watch_config, alerts_to, hotlists = watch_settings(args)
    if args.token_file:
        tokens = load_tokens(args.token_file)
    else:
        token = new_token()
        tokens = parse_tokens(token)
        report(f"no --token-file: this run's admin token is {token}")
    # Refused here with one line, rather than by uvicorn after the model and the workers have loaded.
    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as error:
        raise LprError(f"cannot listen on {args.host}:{args.port} ({error.strerror or error})") from None
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        report(f"listening on {args.host}: other machines can reach this server; keep its tokens secret")
    restore_logging = logging_to_stderr()
    try:
        with open_store(args.db) as store:
            recognizer = build_recognizer(args)
            config = ServeConfig(workers=args.workers, media_dir=watch_config.media_dir, watch=watch_config)
            service = Service(store, tokens, recognizer, config, hotlists, alerts_to)
            specs, names = watched_cameras(args)
            if specs:
                sources, failed = open_sources(specs, names, watch_config.source_config(), report)
                if not sources:
                    raise LprError("none of the cameras to watch could be opened")
                watcher = Watcher(recognizer, store, watch_config, hotlists, alerts_to, report=report)
                service.background.append(watching(lambda stop: watcher.run(sources, stop, failed)))
            if alerts_to:
                delivery_stop = threading.Event()
                service.background.append((lambda: start_delivery(store, delivery_stop), delivery_stop.set))
            report(f"serving http://{args.host}:{args.port}/ (API at /docs) with {args.workers} worker(s); Ctrl-C stops")
            serve(service, args.host, args.port)
    finally:
        restore_logging()
    return EXIT_OK


def command_reads(args: argparse.Namespace) -> int:
    from .store import open_store
    from .watch import csv_text, human_line, parse_time

    if args.near and not args.plate:
        raise LprError("--near needs --plate")
    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until, end_of_day=True) if args.until else None
    except ValueError as error:
        raise LprError(str(error)) from None
    with open_store(args.db) as store:
        found = store.reads(plate=args.plate, near=args.near, camera=args.camera, since=since, until=until, hotlist_only=args.hotlist_only, limit=args.limit)
    if args.csv:
        sys.stdout.write(csv_text(found))
    for read in [] if args.csv else found:
        print(json.dumps(read.to_dict()) if args.json else human_line(read))
    return EXIT_OK


def command_hotlist_import(args: argparse.Namespace) -> int:
    from .hotlist import load_hotlist
    from .store import open_store

    try:
        entries, errors = load_hotlist(args.file)
    except ValueError as error:
        raise LprError(str(error)) from None
    for error in errors:
        print(f"lpr: {error}", file=sys.stderr)
    with open_store(args.db) as store:
        count = store.replace_hotlist(Path(args.file).name, entries)
    skipped = f" ({len(errors)} malformed row(s) skipped)" if errors else ""
    print(f"imported {count} hotlist entries from {args.file}{skipped}")
    return EXIT_IMAGE_FAILED if errors else EXIT_OK


def non_negative_float(text: str) -> float:
    """argparse type: a number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected at least 0, got {value}")
    return value


def add_region_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose what a recognizer reads: region, state alias and setting overrides."""
    parser.add_argument(
        "--region",
        help="region of the plates, e.g. us or us-va: readings in its plate layouts rank first, and its shipped model is used when there is one; "
        "auto: every installed region model reads and each plate's look chooses (recognize, evaluate)",
    )
    parser.add_argument("--state", help="alias: --state va is --region us-va")
    parser.add_argument("--set", action="append", default=[], metavar="STAGE.FIELD=VALUE", help="override one of the model's settings, e.g. scene.sure_confidence=0.6 (repeatable; VALUE is JSON)")


def add_camera_arguments(parser: argparse.ArgumentParser, db_help: str) -> None:
    """The options `lpr watch` and `lpr serve` share: the database, pictures, cameras, hotlists, alerts, model and sampling."""
    parser.add_argument("--camera", action="append", default=[], metavar="NAME", help="name of the camera, given to the sources in order (repeatable; default: the file's stem or the URL's host/path)")
    parser.add_argument("--db", default=DEFAULT_DB, metavar="URL", help=db_help)
    parser.add_argument("--media", metavar="DIR", help="save each read's best frame and plate crop as JPEG under DIR/CAMERA/DATE/")
    parser.add_argument("--hotlist", action="append", default=[], metavar="FILE", help="CSV of plates to watch for (plate,list,note), re-read when it changes (repeatable)")
    parser.add_argument("--alert-url", action="append", default=[], metavar="URL", help="POST each hotlist read's JSON to this webhook (repeatable)")
    parser.add_argument("--alert-command", metavar="CMD", help="run this shell command for each hotlist read, its JSON on standard input")
    parser.add_argument("--mqtt", metavar="URL", help="publish each hotlist read's JSON to mqtt://HOST[:PORT]/TOPIC")
    parser.add_argument("--model", help=f"model name or .npz path (default: the state's model, else {DEFAULT_MODEL})")
    add_region_arguments(parser)
    parser.add_argument("--sample", type=positive_int, default=1, metavar="N", help="video files: read every Nth frame (default 1)")
    parser.add_argument("--no-motion", action="store_true", help="recognize every frame, not only frames with motion")
    parser.add_argument("--keep-days", type=non_negative_float, metavar="N", help="delete reads and their pictures older than N days, at start and hourly")


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
    train.add_argument(
        "--unlabeled", action="append", default=[], metavar="DIR",
        help="folder of plate crops without labels: the sure, consistent readings of a first model are learned (self-training; repeatable)",
    )
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

    db_help = f"reads database: sqlite:///PATH or postgresql://USER@HOST/DB (default {DEFAULT_DB})"
    watch = commands.add_parser("watch", help="read plates from cameras and videos into the reads database", description="Read cameras, streams, video files and upload folders: one read per vehicle pass, stored, printed, matched against hotlists and alerted on.")
    watch.add_argument("sources", nargs="+", metavar="SOURCE", help="video file, folder of uploaded images, /dev/videoN, rtsp:// or http(s):// URL")
    add_camera_arguments(watch, db_help)
    watch.add_argument("--json", action="store_true", help="print one JSON object per read (JSON Lines)")
    watch.add_argument("--workers", type=positive_int, default=1, metavar="N", help="recognize moving frames in N processes; the reads are the same as with 1 (default 1)")
    watch.set_defaults(handler=command_watch)

    serving = commands.add_parser(
        "serve", help="serve the reads, recognition and the cameras over HTTP",
        description="Serve a Plate Recognizer-compatible snapshot route, lpr's API (documented at /docs), Prometheus metrics and a web page of reads; optionally watch cameras too.",
    )  # fmt: skip
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every network)")
    serving.add_argument("--port", type=positive_int, default=8080, help="port to listen on (default 8080)")
    serving.add_argument("--token-file", metavar="FILE", help="API tokens, one a line, optionally followed by 'read' for a read-only token (default: a new admin token for this run, printed)")
    serving.add_argument("--watch", action="append", default=[], metavar="SOURCE", help="also watch this camera, stream, video or upload folder, as lpr watch does (repeatable)")
    serving.add_argument("--cameras", metavar="FILE", help="also watch the cameras of FILE: one 'NAME SOURCE' a line")
    add_camera_arguments(serving, db_help)
    serving.add_argument("--workers", type=positive_int, default=1, metavar="N", help="recognize uploads in N processes (and the cameras' moving frames in N more); default 1")
    serving.set_defaults(handler=command_serve)

    reads = commands.add_parser("reads", help="list stored reads", description="List the reads in the reads database, newest first.")
    reads.add_argument("--db", default=DEFAULT_DB, metavar="URL", help=db_help)
    reads.add_argument("--plate", metavar="TEXT", help="only this plate")
    reads.add_argument("--near", action="store_true", help="with --plate: also plates one character or OCR look-alikes away")
    reads.add_argument("--camera", metavar="NAME", help="only this camera")
    reads.add_argument("--since", metavar="T", help="only reads first seen at or after T (ISO 8601 date or time; without a zone, UTC)")
    reads.add_argument("--until", metavar="T", help="only reads first seen before T (a bare date includes that whole day)")
    reads.add_argument("--hotlist-only", action="store_true", help="only reads that matched a hotlist")
    formats = reads.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="one JSON object per read (JSON Lines)")
    formats.add_argument("--csv", action="store_true", help="CSV with a header row")
    reads.add_argument("--limit", type=positive_int, metavar="N", help="at most N reads")
    reads.set_defaults(handler=command_reads)

    hotlist = commands.add_parser("hotlist", help="manage hotlists in the reads database", description="Manage the hotlists stored in the reads database.")
    hotlist_commands = hotlist.add_subparsers(dest="hotlist_command", required=True, metavar="ACTION")
    importing = hotlist_commands.add_parser("import", help="import a hotlist CSV", description="Import a hotlist CSV (plate,list,note), replacing an earlier import of a file of the same name; malformed rows are reported and skipped.")
    importing.add_argument("file", metavar="FILE", help="CSV of plate,list,note rows (header optional)")
    importing.add_argument("--db", default=DEFAULT_DB, metavar="URL", help=db_help)
    importing.set_defaults(handler=command_hotlist_import)
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
