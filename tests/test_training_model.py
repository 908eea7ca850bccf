"""lpr.training.model: train_model's errors on too little data and on a region without plates; the profiles it learns."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from lpr.datasets import Dataset, LabeledImage, PlateLabel
from lpr.errors import LprError
from lpr.training import train_model


def test_training_refuses_too_little_data_and_an_absent_state(samples):
    from lpr.datasets import load_dataset

    crops = load_dataset(samples / "crops")
    with pytest.raises(LprError, match="not enough to train"):
        train_model([dataclasses.replace(crops, images=())], progress=False)
    # A sub-region (state) none of the labeled plates is of.
    with pytest.raises(LprError, match="no usable plates of region 'us-zz'"):
        train_model([crops], region="us-zz", progress=False)
    # A region without a profile cannot be trained for at all.
    with pytest.raises(LprError, match="no region profile for 'zz'"):
        train_model([crops], region="zz", progress=False)


def test_a_brazilian_model_learns_the_brazilian_layout_and_reads_unseen_plates(shared_data):
    """Trained on 150 real Brazilian crops, read 30 others (other plates): the profile is Brazil's, its layout learned, most plates read."""
    from lpr import Recognizer, evaluate
    from lpr.datasets import load_dataset

    crops = load_dataset(shared_data / "br-plates")
    by_plate: dict[str, list] = {}
    for image in crops.images:
        by_plate.setdefault(image.plates[0].text, []).append(image)
    plates = sorted(by_plate)
    train = [image for plate in plates[:150] for image in by_plate[plate]]
    held = [by_plate[plate][0] for plate in plates[150:180]]
    model, report = train_model([dataclasses.replace(crops, images=tuple(train))], region="br", heldout_fraction=0.0, progress=False)
    assert model.region == "br" and model.profile.geometry.scene_characters == (6, 8)
    # Every Brazilian plate of these is LLL-NNNN (a few labels are off by one character).
    assert max(model.profile.layouts, key=model.profile.layouts.get) == "LLLDDDD"
    figures = evaluate(Recognizer(model), dataclasses.replace(crops, images=tuple(held)), progress=False).summary
    assert figures.char_accuracy >= 0.85 and figures.exact_rate >= 0.5, figures


def test_a_european_profile_adds_learned_layouts_to_the_format_rules(shared_data):
    """Stacked plates add to their country's layouts; the scenes (no country) count in the region's only with scene_layouts."""
    from lpr.datasets import load_dataset
    from lpr.region import built_in_profile
    from lpr.training import TrainingConfig
    from lpr.training.model import learned_profile

    stacked, scenes = load_dataset(shared_data / "eu-stacked-plates"), load_dataset(shared_data / "eu-scenes")
    base = built_in_profile("eu")
    profile = learned_profile(base, [stacked, scenes], TrainingConfig(scene_layouts=True))
    dutch = sum(1 for i in stacked.images if i.state == "nl")
    assert sum(profile.subregions["nl"].values()) == dutch + len(base.subregions["nl"])
    # Countries of the stacked plates that have no format rule are learned all the same.
    assert "dk" in profile.subregions and "dk" not in base.subregions
    # Most scenes are Slovak (LLDDDLL): the region's commonest layout once they count.
    assert max(profile.layouts, key=profile.layouts.get) == "LLDDDLL"
    without = learned_profile(base, [stacked, scenes], TrainingConfig())
    assert profile.layouts["LLDDDLL"] - without.layouts["LLDDDLL"] == sum(
        1 for i in scenes.images for p in i.plates if p.text[:2].isalpha() and p.text[2:5].isdigit() and p.text[5:].isalpha() and len(p.text) == 7
    )
    # A US model's profile is unchanged by the rule: no format rules, no scene layouts by default.
    us = learned_profile(built_in_profile("us"), [scenes], TrainingConfig())
    assert us.layouts == {} and us.subregions == {}


def test_crops_labeled_with_the_region_itself_count_in_the_region_not_as_a_sub_region(shared_data):
    """br-plates give "br" as every crop's state: that is Brazil's own layouts, not a sub-region "br-br"."""
    from lpr.datasets import load_dataset
    from lpr.region import built_in_profile
    from lpr.training import TrainingConfig
    from lpr.training.model import learned_profile

    crops = load_dataset(shared_data / "br-plates")
    base = built_in_profile("br")
    profile = learned_profile(base, [crops], TrainingConfig())
    assert "br" not in profile.subregions
    # Brazil's two format rules (it has no sub-regions) count once each, then every crop...
    assert base.subregions == {} and base.layouts == {"LLLDDDD": 1, "LLLDLDD": 1}
    plates = sum(len(i.plates) for i in crops.images) + 2
    assert profile.layouts["LLLDDDD"] > 1000
    # ...and no crop is Mercosul: its layout is there by the format rule, as its share of them.
    assert profile.layouts["LLLDLDD"] == math.ceil(TrainingConfig().format_rule_share * plates)
    assert sum(profile.layouts.values()) == plates - 1 + profile.layouts["LLLDLDD"]


def _crops(texts: list[str], rendered: bool = False) -> Dataset:
    """Plate crops labeled "br" with these texts (files that need not exist: a profile is learned from labels alone)."""
    images = tuple(LabeledImage(Path(f"/nowhere/{k}-{t}.jpg"), (PlateLabel(t),), "br") for k, t in enumerate(texts))
    return Dataset("crops", Path("/nowhere"), images, rendered=rendered)


def test_rendered_plates_show_no_layout_and_each_format_rule_keeps_its_share():
    """Mercosul plates drawn for their font do not make Mercosul as common as the photographed plates; drawn or not, it keeps a tenth."""
    from lpr.region import built_in_profile
    from lpr.training import TrainingConfig
    from lpr.training.model import learned_profile

    base = built_in_profile("br")
    photographed = _crops([f"ABC{k:04d}" for k in range(198)])
    drawn = _crops([f"ABC{k % 10}D{k % 100:02d}" for k in range(500)], rendered=True)
    alone = learned_profile(base, [photographed], TrainingConfig())
    # 198 crops and the two rules: the old format 199, Mercosul a tenth of the 200 counted.
    assert alone.layouts == {"LLLDDDD": 199, "LLLDLDD": 20}
    assert learned_profile(base, [photographed, drawn], TrainingConfig()).layouts == alone.layouts
    assert learned_profile(base, [photographed, drawn], TrainingConfig(format_rule_share=0.5)).layouts["LLLDLDD"] == 100
    # The same plates in a folder not marked as drawn are counted as seen on the road.
    counted = learned_profile(base, [photographed, dataclasses.replace(drawn, rendered=False)], TrainingConfig())
    assert counted.layouts == {"LLLDDDD": 199, "LLLDLDD": 501}
    # A region without format rules of its own (the US: its states') keeps its layouts as learned.
    us = learned_profile(built_in_profile("us"), [dataclasses.replace(drawn, rendered=False)], TrainingConfig(format_rule_share=0.9))
    assert us.layouts == learned_profile(built_in_profile("us"), [dataclasses.replace(drawn, rendered=False)], TrainingConfig(format_rule_share=0.0)).layouts
