"""The HTML evaluation report: tables, gallery, escaping, files, refusal to overwrite, and a headless render."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

import lpr
from lpr.cli import main
from lpr.datasets import load_dataset
from lpr.errors import OutputExistsError
from lpr.evaluation import Evaluation, FailedImage, FailurePictures, ImageOutcome, WorstFailures, evaluate, summarize
from lpr.metrics import character_accuracy
from lpr.report import marked_text, render_report, write_report
from lpr.training import train_model

PLATES = Path(__file__).resolve().parents[2] / "shared" / "data" / "us-plates"
CHROMIUM = Path("/usr/bin/chromium")
EVALUATED = 30


def outcome(image: str, truth: str, predicted: str, state: str | None = "md", **changes) -> ImageOutcome:
    exact = predicted == truth and bool(truth)
    fields = dict(
        image=image, state=state, truth=truth, predicted=predicted, confidence=0.5, exact=exact,
        char_accuracy=character_accuracy(predicted, truth), detected=None, false_plates=0,
        in_top_n=exact, time_ms=12.0,
    )
    fields.update(changes)
    return ImageOutcome(**fields)


def pictures(seed: int, scene: bool = False) -> FailurePictures:
    noise = np.random.default_rng(seed).integers(0, 256, (60, 160, 3), dtype=np.uint8)
    return FailurePictures(noise, noise[:, :, :1].repeat(3, axis=2), noise if scene else None)


@pytest.fixture
def fabricated() -> Evaluation:
    outcomes = [
        outcome("/data/ok.png", "ABC123", "ABC123"),
        outcome("/data/<script>alert(1)</script>.png", "AB8123", "A8B123", state="<b>"),
        outcome("/data/missed.png", "XYZ9", ""),
    ]
    failures = tuple(FailedImage(o, pictures(i)) for i, o in enumerate(outcomes[1:]))
    return Evaluation(tuple(outcomes), summarize(outcomes, "crops"), failures)


def test_report_holds_the_tables_and_escapes_every_text(fabricated, tmp_path):
    files = write_report(tmp_path / "report", fabricated, "model <x>", "/data & more")
    page = files.index.read_text(encoding="utf-8")
    assert "<table class=metrics>" in page and "Exact match" in page
    assert "By state" in page and "<table class=states>" in page
    assert "Character confusions" in page and "<table class=confusions>" in page
    assert page.count("<figure class=card>") == 2
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "model &lt;x&gt;" in page and "/data &amp; more" in page
    assert "&lt;B&gt;" in page
    assert "nothing read" in page


def test_report_is_self_contained(fabricated, tmp_path):
    page = render_report(fabricated, "us", "/data")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    assert len(re.findall(r'src="data:image/(?:jpeg|png);base64,[A-Za-z0-9+/=]+"', page)) == 4


def test_predicted_text_is_marked_right_and_wrong():
    assert marked_text("A8C", "ABC") == "<span class=good>A</span><span class=bad>8</span><span class=good>C</span>"
    assert "missed B" in marked_text("AC", "ABC")
    assert marked_text("<X>", "") == "<span class=bad>&lt;X&gt;</span>"


def test_report_writes_the_json_files_and_refuses_to_overwrite(fabricated, tmp_path):
    folder = tmp_path / "report"
    files = write_report(folder, fabricated, "us", "/data")
    assert json.loads(files.summary.read_text()) == json.loads(json.dumps(fabricated.summary.to_dict()))
    lines = files.outcomes.read_text().splitlines()
    assert [json.loads(line)["image"] for line in lines] == [o.image for o in fabricated.outcomes]
    with pytest.raises(OutputExistsError):
        write_report(folder, fabricated, "us", "/data")
    write_report(folder, fabricated, "other model", "/data", force=True)
    assert "other model" in files.index.read_text()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_keep_failures_keeps_only_the_worst_few():
    kept = WorstFailures(2)
    ranked = [outcome(f"/d/{i}.png", "ABCD", text, confidence=c) for i, (text, c) in enumerate([("ABCD", 0.9), ("ABCX", 0.9), ("AXXX", 0.2), ("AXXX", 0.8), ("ABXX", 0.9)])]
    for order, item in enumerate(ranked):
        if kept.wants(item):
            kept.add(FailedImage(item, pictures(order)), order)
    assert [f.outcome.image for f in kept.worst_first()] == ["/d/3.png", "/d/2.png"]
    assert not WorstFailures(0).wants(ranked[2])


@pytest.fixture(scope="module")
def real_report(tmp_path_factory) -> tuple[Path, Path, Evaluation]:
    """A report on the first crops of the shared us-plates set, by a model trained on the next ones."""
    if not (PLATES / "labels.csv").is_file():
        pytest.skip("shared data ../shared/data/us-plates not present")
    plates = load_dataset(PLATES)
    model, _ = train_model([dataclasses.replace(plates, images=plates.images[EVALUATED : EVALUATED + 150])], progress=False)
    model_path = lpr.save_model(model, tmp_path_factory.mktemp("model") / "m.npz")
    subset = dataclasses.replace(plates, images=plates.images[:EVALUATED])
    evaluation = evaluate(lpr.Recognizer(model), subset, progress=False, keep_failures=8)
    folder = tmp_path_factory.mktemp("report") / "report"
    write_report(folder, evaluation, str(model_path), str(PLATES))
    return folder, model_path, evaluation


def test_real_report_shows_failures_with_pictures(real_report):
    folder, _, evaluation = real_report
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert 0 < len(evaluation.failures) <= 8
    assert page.count("<figure class=card>") == len(evaluation.failures)
    assert len(re.findall(r'src="data:image/jpeg;base64,', page)) == len(evaluation.failures)
    assert "By state" in page and "Character confusions" in page
    assert len((folder / "outcomes.jsonl").read_text().splitlines()) == EVALUATED
    assert (folder / "index.html").stat().st_size < 10_000_000
    for failed in evaluation.failures:
        assert max(failed.pictures.plate.shape[:2]) <= 320  # thumbnails, not whole frames


def test_cli_writes_a_report_and_refuses_an_existing_one(real_report, tmp_path, capsys):
    _, model_path, _ = real_report
    # A small labeled folder of links to the shared images: the data itself is never copied.
    data = tmp_path / "plates"
    data.mkdir()
    rows = (PLATES / "labels.csv").read_text().splitlines()[: 1 + 6]
    for row in rows[1:]:
        name = row.split(",")[0]
        (data / name).symlink_to(PLATES / name)
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "report"
    arguments = ["evaluate", str(data), "--model", str(model_path), "--report", str(out), "--gallery", "3"]
    assert main(arguments) == 0
    assert {p.name for p in out.iterdir()} == {"index.html", "summary.json", "outcomes.jsonl"}
    written = (out / "index.html").read_bytes()
    assert main(arguments) == 2
    assert "already there" in capsys.readouterr().err
    assert (out / "index.html").read_bytes() == written
    assert main([*arguments, "--force"]) == 0


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_report_renders_in_a_headless_browser(real_report, tmp_path):
    folder, _, _ = real_report
    screenshot = tmp_path / "report.png"
    profile = tempfile.mkdtemp()
    try:
        subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={screenshot}", "--window-size=1280,2000",
             (folder / "index.html").resolve().as_uri()],
            check=True, capture_output=True, timeout=180,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert screenshot.stat().st_size > 20_000
    image = cv2.imread(str(screenshot))
    assert image is not None and image.shape[:2] == (2000, 1280)
    assert float(image.std()) > 10  # not one flat colour: tables and pictures were drawn
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 1000
