"""Batch recognition: worker processes give the same results as one process, in input order, with per-image errors."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import pickle
import re
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES, SHARED_DATA, comparable, few_images

from lpr.batch import done, ordered_results, recognize_paths
from lpr.cli import main
from lpr.imageio import read_image
from lpr.model import _IDENTIFIER_KINDS as IDENTIFIER_ARRAYS
from lpr.model import _VERIFIER_KINDS as VERIFIER_ARRAYS
from lpr.model import load_model, model_from_bytes, model_to_bytes
from lpr.pipeline import Recognizer, RecognizerSpec


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(load_model())


@pytest.fixture()
def mixed_paths(tmp_path: Path) -> list[str]:
    """Real images with a corrupt file and a missing one in between."""
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    images = [str(p) for p in few_images()]
    return images[:2] + [str(corrupt), str(tmp_path / "missing.png")] + images[2:]


def test_two_workers_give_the_results_of_one_in_input_order(recognizer: Recognizer, mixed_paths: list[str]) -> None:
    serial = list(recognize_paths(recognizer, mixed_paths, workers=1))
    parallel = list(recognize_paths(recognizer, mixed_paths, workers=2))
    assert [r.image for r in parallel] == mixed_paths
    assert [comparable(r) for r in parallel] == [comparable(r) for r in serial]


def test_bad_images_become_error_records_and_the_batch_goes_on(recognizer: Recognizer, mixed_paths: list[str]) -> None:
    results = list(recognize_paths(recognizer, mixed_paths, workers=2))
    errors = {Path(r.image).name: r.error for r in results if r.error is not None}
    assert set(errors) == {"corrupt.jpg", "missing.png"}
    assert "not a readable image" in errors["corrupt.jpg"] and "no such file" in errors["missing.png"]
    assert all(r.error is None for r in results if Path(r.image).name not in errors)


def test_stopping_early_does_not_hang(recognizer: Recognizer) -> None:
    paths = [str(p) for p in few_images()] * 5
    results = recognize_paths(recognizer, paths, workers=2, lookahead=1)
    assert next(results).image == paths[0]
    results.close()  # the pool must shut down without finishing the queued images


def test_workers_must_be_positive(recognizer: Recognizer) -> None:
    with pytest.raises(ValueError):
        recognize_paths(recognizer, [], workers=0)


def test_ordered_results_keep_order_and_bound_the_work_in_flight() -> None:
    submitted: list[int] = []

    def submit(value: int) -> Future:
        submitted.append(value)
        return done(value * 10)

    taken = []
    for result in ordered_results(map(submit, range(20)), in_flight=3):
        # Never more than in_flight submitted beyond what was consumed.
        assert len(submitted) - len(taken) <= 3
        taken.append(result)
    assert taken == [v * 10 for v in range(20)]


def test_model_travels_as_npz_bytes_unchanged() -> None:
    model = load_model()
    data = model_to_bytes(model)
    # The shipped model was trained with scenes, so it carries a plate verifier, and a state identifier.
    assert model.verifier is not None and model.identifier is not None
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:  # plain arrays, nothing to unpickle
        assert set(arrays.files) == {"coef", "intercept", "classes", "metadata"} | set(VERIFIER_ARRAYS) | set(IDENTIFIER_ARRAYS)
    copy = model_from_bytes(data, model.source)
    assert np.array_equal(copy.verifier.reading.coef, model.verifier.reading.coef)
    assert copy.verifier.candidate.intercept == model.verifier.candidate.intercept
    assert copy.identifier.classes == model.identifier.classes
    masks = [np.pad(np.full((20, 8), 255, np.uint8), 2), np.eye(24, dtype=np.uint8) * 255]
    assert copy.classifier.probabilities(masks).tolist() == model.classifier.probabilities(masks).tolist()
    assert model_to_bytes(copy) == data


def test_cli_workers_output_is_identical(capsys: pytest.CaptureFixture[str]) -> None:
    images = [str(p) for p in few_images(3)]
    outputs = []
    for workers in ("1", "2"):
        assert main(["recognize", *images, "--json", "--workers", workers]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        outputs.append([{k: v for k, v in line.items() if k != "processing_time_ms"} for line in lines])
    assert outputs[0] == outputs[1]
    assert [line["image"] for line in outputs[1]] == images


def test_cli_rejects_bad_worker_counts(capsys: pytest.CaptureFixture[str]) -> None:
    images = [str(p) for p in few_images(1)]
    with pytest.raises(SystemExit) as exit_info:
        main(["recognize", *images, "--workers", "0"])
    assert exit_info.value.code == 2
    assert main(["recognize", *images, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("lpr: error: --workers is for local runs")


def test_spec_pickles_and_builds_the_same_recognizer() -> None:
    original = Recognizer(load_model(), region="us-va", overrides={"scene.sure_confidence": 0.6, "decoding.top_n": 3})
    spec = pickle.loads(pickle.dumps(original.spec))
    assert isinstance(spec, RecognizerSpec) and spec == original.spec
    built = spec.build()
    assert built.config == original.config and built.config.scene.sure_confidence == 0.6 and built.config.decoding.top_n == 3
    assert (built.region, built.profile, built.region_known) == (original.region, original.profile, True)
    assert built.region == "us-va"
    images = [(read_image(p), False) for p in few_images(2)] + [(read_image(p), True) for p in va_crops()[:2]]
    for image, cropped in images:
        assert [r.record().to_dict() for r in built.recognize(image, cropped)] == [r.record().to_dict() for r in original.recognize(image, cropped)]


# --- Determinism of `lpr recognize --json` with a region and with setting overrides ----------------


def va_crops() -> list[Path]:
    """A few real Virginia plate crops (va*.png of ../shared/data/us-plates), else the project's sample crops."""
    crops = sorted((SHARED_DATA / "us-plates").glob("va*.png"))[:4] or sorted((SAMPLES / "crops").glob("*.png"))
    if not crops:
        pytest.skip("no crops: neither ../shared/data/us-plates nor datasets/samples/crops")
    return crops


def real_data() -> bool:
    return bool(sorted((SHARED_DATA / "us-plates").glob("va*.png"))) and bool(sorted((SHARED_DATA / "us-scenes").glob("*.jpg")))


def recognize_case(case: str) -> tuple[list[str], list[str], list[str]]:
    """A determinism case in: its image paths, its options, and the options of the same run without its region or setting."""
    if case == "state":
        # --state va on Virginia crops; without the real data, the sample crops with --region us.
        region = ["--state", "va"] if real_data() else ["--region", "us"]
        return [str(p) for p in va_crops()], [*region, "--cropped"], ["--cropped"]
    if case == "region":
        return [str(p) for p in few_images(3)], ["--region", "us-va"], []
    assert case == "setting"
    return [str(p) for p in few_images(3)], ["--set", "scene.sure_confidence=0.9"], []


CASES = ["state", "region", "setting"]
TIMING = re.compile(r'"processing_time_ms": [0-9.eE+-]+')


@functools.cache
def recognize_json(*args: str) -> tuple[str, ...]:
    """`lpr recognize ARGS --json` run in this process: its JSON lines as printed, with only the timing's value blanked."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["recognize", *args, "--json"]) == 0
    lines = []
    for line in stdout.getvalue().splitlines():
        assert isinstance(json.loads(line)["processing_time_ms"], float)
        blanked, count = TIMING.subn('"processing_time_ms": null', line)
        assert count == 1
        lines.append(blanked)
    return tuple(lines)


@pytest.mark.parametrize("case", CASES)
def test_cli_output_is_byte_identical_for_one_and_two_workers_with_region_and_settings(case: str) -> None:
    paths, options, plain = recognize_case(case)
    serial = recognize_json(*paths, *options, "--workers", "1")
    assert [json.loads(line)["image"] for line in serial] == paths
    assert all(json.loads(line)["error"] is None for line in serial)
    assert recognize_json(*paths, *options, "--workers", "2") == serial
    if case != "setting" and real_data():
        # The region changes what is read: equal outputs above prove it reached the workers.
        assert any(a != b for a, b in zip(serial, recognize_json(*paths, *plain, "--workers", "1"), strict=True))
