"""lpr.config: one dataclass per stage, every field read by its stage, the model's settings used unless overridden."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

import lpr
from lpr.config import STAGES, Config, fixed_by_training, parse_override, setting_names, with_overrides
from lpr.model import load_model, save_model

LPR = Path(lpr.__file__).resolve().parent
# The modules that read each stage's settings: a field none of them reads is silently ignored.
READERS = {
    "localization": ["localization.py"],
    "verifier": ["verification.py", "pipeline.py"],
    "segmentation": ["segmentation/components.py", "segmentation/rows.py", "segmentation/plate.py", "segmentation/lines.py"],
    "features": ["features.py"],
    "decoding": ["decoding.py", "pipeline.py"],
    "scene": ["scene.py", "pipeline.py"],
}
SAMPLE_CROP = Path(__file__).resolve().parent.parent / "datasets" / "samples" / "crops" / "synthetic-01.png"


def attributes_read(paths: list[Path]) -> set[str]:
    """Python files in, every attribute name they read (x.name) out."""
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_field_is_read_by_its_stage(stage):
    read = attributes_read([LPR / name for name in READERS[stage]])
    unread = [f.name for f in dataclasses.fields(STAGES[stage]) if f.name not in read]
    assert not unread, f"{stage} settings no stage module reads: {unread}"


def test_every_field_has_a_one_line_reason():
    for stage, cls in STAGES.items():
        source = ast.get_source_segment(Path(lpr.config.__file__).read_text(), _class_node(cls.__name__))
        lines = source.splitlines()
        for f in dataclasses.fields(cls):
            line = next(i for i, text in enumerate(lines) if text.strip().startswith(f"{f.name}:"))
            assert lines[line - 1].strip().startswith("#"), f"{stage}.{f.name} has no comment saying why"


def _class_node(name: str) -> ast.ClassDef:
    tree = ast.parse(Path(lpr.config.__file__).read_text())
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def altered(value):
    """A setting's value in, a different value of the same type that is still valid out (odd sizes stay odd, fractions stay in range)."""
    if value is None:  # an optional threshold that is off: turn it on
        return 0.5
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 2
    if isinstance(value, float):
        return value * 0.75 if value else 0.125
    if isinstance(value, tuple):
        if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            return [altered(v) for v in value]
        return list(value[:-1]) if len(value) > 1 else [*value, *value]
    raise AssertionError(f"no alteration for {value!r}")


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_every_override_reaches_the_recognizer(model):
    fixed = [n for n in setting_names() if fixed_by_training(n)]
    assert "features.hog_cell" in fixed and "verifier.window" in fixed and "verifier.min_score" not in fixed
    for name in setting_names():
        if name in fixed:
            continue
        stage, field = name.split(".")
        value = altered(getattr(getattr(model.config, stage), field))
        recognizer = lpr.Recognizer(model, overrides={name: value})
        got = getattr(getattr(recognizer.config, stage), field)
        assert got == (tuple(value) if isinstance(value, list) else value), name
        # The verifier reads with the recognizer's settings, not the file's.
        if stage == "verifier":
            assert getattr(recognizer.verifier.config, field) == got
    for name in fixed:
        stage, field = name.split(".")
        with pytest.raises(ValueError, match="fixed by the model"):
            lpr.Recognizer(model, overrides={name: altered(getattr(getattr(model.config, stage), field))})


def test_recognition_uses_the_settings_a_model_was_trained_with(model, tmp_path):
    recorded = with_overrides(model.config, {"scene.sure_confidence": 0.9, "decoding.top_n": 2, "segmentation.light_offsets": []})
    path = save_model(dataclasses.replace(model, config=recorded), tmp_path / "m.npz")
    loaded = load_model(path)
    assert loaded.config == recorded
    recognizer = lpr.Recognizer(loaded)
    assert recognizer.config.scene.sure_confidence == 0.9
    # ...and reads with them: two candidates per plate instead of the default five.
    plate = recognizer.recognize(lpr.read_image(SAMPLE_CROP), cropped=True)[0]
    assert len(plate.candidates) == 2
    assert len(lpr.Recognizer(model).recognize(lpr.read_image(SAMPLE_CROP), cropped=True)[0].candidates) == 5
    # An explicit override still wins over the recorded value.
    assert lpr.Recognizer(loaded, overrides={"decoding.top_n": 3}).config.decoding.top_n == 3


def test_round_trip_and_defaults():
    config = with_overrides(Config(), {"localization.scales": [1.0], "segmentation.band_margin": None})
    data = json.loads(json.dumps(config.to_dict()))
    assert Config.from_dict(data) == config
    assert Config.from_dict({}) == Config()
    assert Config.from_dict({"scene": {"sure_confidence": 0.7}}).scene.sure_confidence == 0.7


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"scene.no_such_field": 1}, "no setting 'scene.no_such_field'"),
        ({"nostage.field": 1}, "no setting"),
        ({"scene.read_candidates": 1.5}, "whole number"),
        ({"scene.reread_plate_box": 1}, "true or false"),
        ({"localization.scales": 1.0}, "takes a list"),
        ({"scene.sure_confidence": None}, "cannot be null"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        with_overrides(Config(), overrides)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"segmentation.plate_height": 0}, "plate_height"),
        ({"segmentation.block_size": 40}, "block_size must be odd"),
        ({"segmentation.dark_offsets": [], "segmentation.light_offsets": []}, "cannot both be empty"),
        ({"scene.sure_confidence": float("nan")}, "must be finite"),
        ({"localization.scales": []}, "scales must be positive"),
        ({"decoding.top_n": 0}, "top_n"),
        ({"verifier.search_candidates": 0}, "search_candidates"),
    ],
)
def test_values_no_stage_can_run_with_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        with_overrides(Config(), overrides)


def test_from_dict_refuses_unknown_stages():
    with pytest.raises(ValueError, match="unknown settings stage"):
        Config.from_dict({"recognition": {}})


def test_parse_override():
    assert parse_override("segmentation.dark_offsets=[5, 10]") == ("segmentation.dark_offsets", [5, 10])
    assert parse_override("segmentation.band_margin=null") == ("segmentation.band_margin", None)
    for bad in ("scene.sure_confidence", "=1", "scene.sure_confidence=abc"):
        with pytest.raises(ValueError):
            parse_override(bad)
