"""lpr.localization: plate candidates from a scene, their shapes, errors and the 4K downsizing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import conftest
import cv2
import numpy as np
import pytest
from conftest import few_images

from lpr.config import LocalizationConfig, SceneConfig, VerifierConfig
from lpr.datasets import load_dataset
from lpr.geometry import Box
from lpr.imageio import read_image
from lpr.localization import PlateCandidate, frame_scale, joined_pairs, morphology_steps, plate_candidates, to_gray

CONFIG = LocalizationConfig()
# Candidates a scene reads first (plate_candidates returns all of them unless given a limit).
READ = SceneConfig().read_candidates
# Candidates the verifier ranks per scene.
SEARCHED = VerifierConfig().search_candidates


def first_scene(folder: Path, name: str = "scene-02.jpg") -> tuple[np.ndarray, Box]:
    """An OpenALPR scene folder in, (the named image, its labeled box) out."""
    labeled = next(i for i in load_dataset(folder).images if i.path.name == name)
    return read_image(labeled.path), labeled.plates[0].box


def overlaps(candidates: list[PlateCandidate], truth: Box, iou: float = 0.1) -> bool:
    return any(c.box.iou(truth) > iou for c in candidates)


def test_morphology_steps_keep_the_frame_shape() -> None:
    gray = np.random.default_rng(0).integers(0, 255, (120, 200), dtype=np.uint8)
    steps = morphology_steps(gray, CONFIG)
    assert len(steps.closed) == len(steps.plate_mask) == len(CONFIG.gradient_levels)
    for image in (steps.gray, steps.blackhat, steps.light_mask, steps.gradient, *steps.closed, *steps.plate_mask):
        assert image.shape == gray.shape and image.dtype == np.uint8


@pytest.mark.parametrize("image", [np.zeros((0, 10, 3), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8)])
def test_bad_images_raise(image: np.ndarray) -> None:
    with pytest.raises(ValueError):
        plate_candidates(image, CONFIG)


def test_blank_and_tiny_frames_give_no_candidates() -> None:
    assert plate_candidates(np.full((240, 320, 3), 128, np.uint8), CONFIG) == []
    assert plate_candidates(np.zeros((3, 3), np.uint8), CONFIG) == []


def test_candidates_are_ranked_inside_the_frame_and_capped(samples: Path) -> None:
    image, _ = first_scene(samples / "scenes")
    candidates = plate_candidates(image, CONFIG, limit=READ)
    assert 0 < len(candidates) <= READ
    # The limit keeps the best: the first of all the candidates.
    assert candidates == plate_candidates(image, CONFIG)[:READ]
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    height, width = image.shape[:2]
    assert all(0 <= c.box.x and 0 <= c.box.y and c.box.x + c.box.w <= width + 1 and c.box.y + c.box.h <= height + 1 for c in candidates)


def test_synthetic_scene_yields_its_plate(samples: Path) -> None:
    image, truth = first_scene(samples / "scenes")
    assert overlaps(plate_candidates(image, CONFIG, limit=READ), truth)
    # Gray input gives the same candidates as BGR.
    assert plate_candidates(to_gray(image), CONFIG) == plate_candidates(image, CONFIG)


def test_plate_on_dark_car_over_asphalt_is_found_by_a_higher_gradient_level(samples: Path) -> None:
    # On a near-black car over textured asphalt, the closed gradient at its Otsu level
    # covers the whole frame; the plate's own blob appears only above it.
    image, truth = first_scene(samples / "scenes", "scene-01.jpg")
    assert not overlaps(plate_candidates(image, replace(CONFIG, gradient_levels=(1.0,)), limit=READ), truth)
    assert overlaps(plate_candidates(image, CONFIG, limit=READ), truth)


def test_a_higher_gradient_level_only_adds_candidates(samples: Path) -> None:
    # Its tighter blob of a plate must not displace the lower level's blob of it: on any
    # scene, every candidate of the Otsu level alone is still a candidate with both levels.
    scenes = sorted((samples / "scenes").glob("*.jpg")) + few_images(4)
    added = []
    for path in scenes:
        image = read_image(path)
        alone = {c.box for c in plate_candidates(image, replace(CONFIG, gradient_levels=CONFIG.gradient_levels[:1]))}
        together = {c.box for c in plate_candidates(image, CONFIG)}
        assert alone <= together, path
        added.append(alone < together)
    # And on the real scenes (when ../shared/data is there) the higher level does add some.
    # The shipped samples alone may not need it: their plates stand out at the Otsu level.
    real = [i for i, path in enumerate(scenes) if path.is_relative_to(conftest.SHARED_DATA)]
    if real:
        assert any(added[i] for i in real), "the higher gradient level added no candidate to any real scene"


def test_gradient_levels_find_more_real_plates(shared_data: Path) -> None:
    dataset = load_dataset(shared_data / "us-scenes")

    def found(config: LocalizationConfig) -> int:
        return sum(any(c.box.iou(i.plates[0].box) > 0.4 for c in plate_candidates(read_image(i.path), config, limit=SEARCHED)) for i in dataset.images)

    assert found(CONFIG) > found(replace(CONFIG, gradient_levels=(1.0,))) >= 0.9 * len(dataset.images)


def test_the_brazilian_model_finds_large_close_plates(shared_data: Path) -> None:
    from lpr.model import load_model

    model = load_model("br")
    big = [i for i in load_dataset(shared_data / "br-scenes").images if i.plates[0].box.h >= 100]

    def found(config: LocalizationConfig) -> int:
        return sum(any(c.box.iou(i.plates[0].box) > 0.4 for c in plate_candidates(read_image(i.path), config, model.profile.geometry)) for i in big)

    # Plates 100-130 px high are caught at the third, smaller working scale Brazil's model searches.
    assert len(model.config.localization.scales) == 3 and len(big) >= 10
    assert found(model.config.localization) >= 0.9 * len(big) > found(replace(model.config.localization, scales=(1.0, 0.5)))


def test_real_scene_yields_its_plate(shared_data: Path) -> None:
    dataset = load_dataset(shared_data / "us-scenes")
    # Localization is a recall stage: most plates must be among the candidates the verifier ranks.
    found = sum(overlaps(plate_candidates(read_image(i.path), CONFIG, limit=SEARCHED), i.plates[0].box) for i in dataset.images[:5])
    assert found >= 4


def test_frame_scale() -> None:
    assert frame_scale((1080, 1920, 3), 1920) == 1.0
    assert frame_scale((2160, 3840, 3), 1920) == 0.5
    assert frame_scale((2160, 3840), 0) == 1.0


def test_4k_frame_boxes_come_back_in_full_resolution(samples: Path) -> None:
    image, truth = first_scene(samples / "scenes")
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    limited = replace(CONFIG, max_side=max(image.shape[:2]))
    candidates = plate_candidates(big, limited, limit=READ)
    assert overlaps(candidates, truth.scaled(3), iou=0.3)
    # Searched at the original size, so the boxes are the original ones scaled up, up to
    # what resampling the frame up and back down changes (near-equal fill scores may swap).
    small = plate_candidates(image, limited, limit=READ)
    shrunk = [c.box.scaled(1 / 3) for c in candidates]
    assert all(any(b.iou(c.box) > 0.7 for b in shrunk) for c in small[:3])


def test_joined_pairs_are_halves_of_one_row():
    config = LocalizationConfig()
    boxes = np.array(
        [
            (0, 0, 40, 20),  # 0 and 1: same line, same height, a 10 px gap
            (50, 2, 40, 20),
            (95, 0, 30, 60),  # three times as tall as 1, though adjacent
            (200, 0, 40, 20),  # 110 px after 1: too far
            (245, 30, 40, 20),  # beside 3 but below its line
        ]
    )
    left, right = joined_pairs(boxes, config)
    assert list(zip(left.tolist(), right.tolist())) == [(0, 1)]
    assert [len(a) for a in joined_pairs(np.zeros((0, 4), np.int64), config)] == [0, 0]
