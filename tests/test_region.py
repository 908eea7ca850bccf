"""lpr.region: region profiles as data, sub-profiles per state, and the recognizer reading with them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import lpr
from lpr.datasets import load_dataset
from lpr.model import load_model
from lpr.region import (
    BUILT_IN,
    PlateGeometry,
    RegionProfile,
    built_in_profile,
    layout,
    pooled_layouts,
    region_code,
    spelled_layouts,
    state_region,
)

SAMPLE_CROP = Path(__file__).resolve().parent.parent / "datasets" / "samples" / "crops" / "synthetic-01.png"


def test_codes_and_the_state_alias():
    assert region_code(" US-VA ") == "us-va"
    assert state_region("VA") == "us-va"
    for bad in ("", "u s", "us_va", "toolong-x", "us-"):
        with pytest.raises(ValueError):
            region_code(bad)


def test_sub_profiles_share_the_geometry_and_rank_by_their_own_layouts():
    profile = RegionProfile("us", layouts=pooled_layouts({"va": {"LLLDDDD": 3}, "md": {"DLLDDD": 2, "LLLDDDD": 1}}),
                            subregions={"va": {"LLLDDDD": 3}, "md": {"DLLDDD": 2, "LLLDDDD": 1}})
    assert profile.layouts == {"DLLDDD": 2, "LLLDDDD": 4}
    va = profile.select("us-va")
    assert (va.code, va.parent, dict(va.layouts), va.geometry) == ("us-va", "us", {"LLLDDDD": 3}, profile.geometry)
    assert profile.select("us") is profile
    with pytest.raises(KeyError):
        profile.select("us-zz")


def test_profile_round_trip_and_malformed_data():
    profile = RegionProfile("us", geometry=PlateGeometry(scene_characters=(5, 7)), layouts={"LLD": 1}, subregions={"va": {"LLD": 1}})
    data = json.loads(json.dumps(profile.to_dict()))
    assert RegionProfile.from_dict(data) == profile
    broken = dict(data, geometry=dict(data["geometry"], scene_characters=[8, 4]))
    with pytest.raises(ValueError, match="reversed"):
        RegionProfile.from_dict(broken)
    with pytest.raises(ValueError, match="layouts"):
        RegionProfile.from_dict(dict(data, layouts={"LX": 1}))
    with pytest.raises(ValueError, match="malformed"):
        RegionProfile.from_dict({"code": "us"})


def test_alphabet_and_layouts():
    assert built_in_profile("us-va") is BUILT_IN["us"]
    assert BUILT_IN["us"].accepts("ABC123") and not BUILT_IN["us"].accepts("ABC-12") and not BUILT_IN["us"].accepts("")
    assert layout("AB12C") == "LLDDL"
    with pytest.raises(ValueError, match="no region profile"):
        built_in_profile("fr")


def test_brazil_has_its_own_geometry_and_look_alikes():
    brazil = built_in_profile("br")
    assert brazil.code == "br" and brazil.geometry != BUILT_IN["us"].geometry
    # 7 characters, but a cut-off reading of 6 is kept for its plate box to be read again whole.
    assert brazil.geometry.scene_characters == (6, 8) and brazil.geometry.plate_box_padding[0] > BUILT_IN["us"].geometry.plate_box_padding[0]
    # LLL-NNNN: the layout decides between characters printed alike.
    assert {"1I", "8B", "5S"} <= set(brazil.lookalikes) and any("0" in g and "O" in g for g in brazil.lookalikes)


def test_format_rules_spell_every_layout_of_their_runs():
    # A German plate: 1-3 letters of district, 1-2 letters, 1-4 digits.
    german = spelled_layouts(("L", 2, 5), ("D", 1, 4), longest=8)
    assert german[0] == "LLD" and "LLLLLDDD" in german and "LLLLLDDDD" not in german and len(german) == len(set(german))
    assert spelled_layouts(("D", 1, 1), ("L", 2, 2), ("D", 4, 4)) == ("DLLDDDD",)
    with pytest.raises(ValueError, match="run"):
        spelled_layouts(("X", 1, 2))


def test_europe_starts_from_each_countrys_format_rules():
    europe = built_in_profile("eu")
    assert {"sk", "cz", "d", "a", "pl", "gb", "nl", "b", "f"} <= set(europe.subregions)
    assert europe.select("eu-sk").layouts == {"LLDDDLL": 1} and "DLLDDDD" in europe.select("eu-cz").layouts
    # Slovakia, France, Austria and Poland all issue LLDDDLL: the region counts it once for each.
    assert europe.layouts == pooled_layouts(europe.subregions) and europe.layouts["LLDDDLL"] == 4
    assert europe.geometry.country_band and europe.geometry.lines == 2


def test_the_shipped_model_carries_its_profile():
    model = load_model()
    assert model.region == "us" and model.profile.code == "us"
    assert "va" in model.profile.subregions and model.profile.layouts == pooled_layouts(model.profile.subregions)


def test_recognizer_regions():
    model = load_model()
    va = lpr.Recognizer(model, region="us-va")
    assert va.region_known and va.profile.parent == "us" and va.layout_prior_counts()[1] == va.config.decoding.format_smoothing
    general = lpr.Recognizer(model)
    assert general.profile is model.profile and general.layout_prior_counts()[1] == general.config.decoding.general_format_smoothing
    unknown = lpr.Recognizer(model, region="us-zz")
    assert not unknown.region_known and unknown.profile is model.profile
    with pytest.raises(ValueError, match="not 'br'"):
        lpr.Recognizer(model, region="br")


def test_geometry_comes_from_the_profile():
    model = load_model()
    image = lpr.read_image(SAMPLE_CROP)
    assert lpr.Recognizer(model).recognize(image, cropped=True)[0].text == "685UWF"
    # A region whose cropped plates have 7-9 characters finds no row of six here.
    long_plates = dataclasses.replace(model.profile, geometry=dataclasses.replace(model.profile.geometry, cropped_characters=(7, 9)))
    assert lpr.Recognizer(dataclasses.replace(model, profile=long_plates)).recognize(image, cropped=True) == []


def test_the_shipped_brazilian_model_is_chosen_by_region(tmp_path, capsys):
    from lpr.cli import main

    model = load_model("br")
    assert model.region == "br" and model.profile.geometry == built_in_profile("br").geometry and model.verifier is not None
    assert max(model.profile.layouts, key=model.profile.layouts.get) == "LLLDDDD"
    assert model.config.segmentation.light_offsets == (5, 10, 20, 35, 50)
    # `--region br` loads it without --model (a US model would refuse the region).
    assert main(["recognize", "--region", "br", "--cropped", str(SAMPLE_CROP)]) == 0
    assert SAMPLE_CROP.name in capsys.readouterr().out


def test_the_shipped_brazilian_model_reads_mercosul_plates_drawn_with_glyphs_it_never_saw(shared_data, tmp_path):
    from lpr.training.rendered import font_tiles, write_rendered_plates

    # The test third of the FE-Schrift tiles, never drawn on the plates the model was trained on.
    write_rendered_plates(font_tiles(shared_data / "eu-chars", "germany", "test"), tmp_path / "mercosul", count=60, seed=11)
    plates = load_dataset(tmp_path / "mercosul")
    summary = lpr.evaluate(lpr.Recognizer(load_model("br")), plates, progress=False).summary
    # Before it was trained on rendered Mercosul plates, the model read about one in six.
    assert summary.exact_rate >= 0.8


def test_the_shipped_european_model_is_chosen_by_region(capsys):
    from lpr.cli import main

    model = load_model("eu")
    assert model.region == "eu" and model.profile.geometry == built_in_profile("eu").geometry and model.verifier is not None
    # Format rules and training plates together: Slovak plates, most of the scenes, lead the region's layouts.
    assert max(model.profile.layouts, key=model.profile.layouts.get) == "LLDDDLL"
    assert {"sk", "cz", "d", "nl", "dk"} <= set(model.profile.subregions)
    assert main(["recognize", "--region", "eu", "--cropped", str(SAMPLE_CROP)]) == 0
    assert SAMPLE_CROP.name in capsys.readouterr().out


def test_the_european_model_reads_european_scenes_and_stacked_plates(shared_data):
    """The shipped model read back on the sets it was trained on: a check that band, lines and layouts work together, not an accuracy figure (README has the held-out ones)."""
    recognizer = lpr.Recognizer(load_model("eu"))
    scenes = lpr.evaluate(recognizer, load_dataset(shared_data / "eu-scenes"), progress=False).summary
    stacked = load_dataset(shared_data / "eu-stacked-plates")
    stacked = lpr.evaluate(recognizer, dataclasses.replace(stacked, images=stacked.images[::4]), progress=False).summary
    assert scenes.exact_folded_rate >= 0.7 and scenes.detection_rate >= 0.85, scenes
    assert stacked.exact_rate >= 0.5 and stacked.char_accuracy >= 0.8, stacked
