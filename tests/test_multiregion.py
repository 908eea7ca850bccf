"""lpr.multiregion: --region auto reads with every installed region model, and each plate's look chooses its region."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_one_line_error, run_lpr

import lpr
from lpr.datasets import load_dataset
from lpr.multiregion import MultiRegionRecognizer, MultiRegionSpec, installed_regions
from lpr.pipeline import Recognizer

SAMPLES = Path(__file__).resolve().parent.parent / "datasets" / "samples"


@pytest.fixture(scope="module")
def auto() -> MultiRegionRecognizer:
    return MultiRegionRecognizer.installed()


def test_the_shipped_regions_are_installed(auto):
    assert installed_regions() == ["br", "eu", "us"]
    assert [r.model.profile.code for r in auto.recognizers] == ["br", "eu", "us"] and auto.region == "auto"


def test_a_us_scene_reads_as_with_the_us_model(auto):
    image = lpr.read_image(SAMPLES / "scenes" / "scene-02.jpg")
    alone = [p.text for p in Recognizer("us").recognize(image)]
    plates = auto.recognize(image)
    assert [p.text for p in plates][:1] == alone[:1] == ["BKK3953"]
    assert plates[0].region.code.startswith("us-") and 0 < plates[0].region.score <= 1


@pytest.mark.parametrize("region, folder, fewest", [("eu", "eu-scenes", 14), ("br", "br-scenes", 10)])
def test_european_and_brazilian_scenes_read_with_their_region(auto, shared_data, region, folder, fewest):
    # Of 16 scenes each, cross-validation by plate puts about 15 European and 12 Brazilian ones in their region.
    scenes = load_dataset(shared_data / folder).images[:16]
    own = Recognizer(region)
    right_region = same_text = 0
    for labeled in scenes:
        image = lpr.read_image(labeled.path)
        plates = auto.recognize(image)
        alone = own.recognize(image)
        right_region += bool(plates) and plates[0].region.code.split("-")[0] == region
        same_text += bool(plates) and bool(alone) and plates[0].text == alone[0].text
        # Brazil has no sub-regions: its plates are "br", never a sub-region named like it.
        assert all(p.region.code != "br-br" for p in plates)
    # Reading with the US model too must not take these plates from their own region's model.
    assert right_region >= fewest and same_text >= fewest


def test_mercosul_plates_go_to_the_brazilian_model_though_their_font_and_band_look_european(auto, shared_data, tmp_path):
    from lpr.training.rendered import font_tiles, write_rendered_plates

    write_rendered_plates(font_tiles(shared_data / "eu-chars", "germany", "test"), tmp_path / "mercosul", count=30, seed=12)
    plates = load_dataset(tmp_path / "mercosul")
    summary = lpr.evaluate(auto, plates, progress=False).summary
    # An identifier that never saw a Mercosul plate sent half of them to the European model.
    assert summary.exact_rate >= 0.8


def test_the_spec_builds_the_same_recognizer(auto):
    spec = auto.spec
    assert isinstance(spec, MultiRegionSpec) and spec.key == auto.spec.key
    again = spec.build()
    image = lpr.read_image(SAMPLES / "scenes" / "scene-02.jpg")
    assert [p.to_dict() for p in again.recognize(image)] == [p.to_dict() for p in auto.recognize(image)]


def test_one_region_is_not_auto(auto):
    with pytest.raises(ValueError, match="at least two distinct regions"):
        MultiRegionRecognizer(auto.recognizers[:1], auto.identifier)


def test_the_cli_reads_with_region_auto_and_refuses_it_where_one_region_is_read(tmp_path):
    result = run_lpr("recognize", str(SAMPLES / "scenes" / "scene-02.jpg"), "--region", "auto", "--json")
    assert result.returncode == 0, result.stderr
    plate = json.loads(result.stdout.splitlines()[0])["plates"][0]
    assert plate["plate"] == "BKK3953" and plate["region"]["code"].startswith("us-")
    assert_one_line_error(run_lpr("recognize", str(SAMPLES / "scenes" / "scene-02.jpg"), "--region", "auto", "--model", "us"))
    refused = run_lpr("watch", str(tmp_path / "clip.mp4"), "--region", "auto", "--db", f"sqlite:///{tmp_path / 'reads.db'}")
    assert_one_line_error(refused)
    assert "reads one region" in refused.stderr
