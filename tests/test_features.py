"""lpr.features: BBPS + HOG vectors of character masks and their shading (the scikit-learn descriptor is in tests/test_training_descriptor.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lpr.config import FeatureConfig
from lpr.features import (
    bbps_features,
    character_features,
    feature_length,
    hog_features,
    normalize_character,
    shade_character,
    validate_feature_config,
)

CONFIG = FeatureConfig()
# The same block sizes without HOG: every feature is an ink fraction, so known inputs give known values.
BBPS_ONLY = FeatureConfig(CONFIG.char_size, CONFIG.block_sizes, CONFIG.hog_cell, 0, CONFIG.gray_hog_cell, 0)
BBPS_LENGTH = 128 + 32 + 8 + 4
# The mask's HOG alone, in 8 px cells: 4x2 cells, so 3x1 blocks of 2x2 cells with 9 bins each.
MASK_HOG = FeatureConfig(CONFIG.char_size, CONFIG.block_sizes, 8, 9, CONFIG.gray_hog_cell, 0)
MASK_HOG_LENGTH = 3 * 1 * 4 * 9


def test_feature_length_of_default_config():
    # 32x16 character: 16*8 blocks of 2x2, 8*4 of 4x4, 4*2 of 8x8, 2*2 of 16x8...
    assert feature_length(BBPS_ONLY) == BBPS_LENGTH
    assert feature_length(MASK_HOG) == BBPS_LENGTH + MASK_HOG_LENGTH
    # ...then each HOG: C px cells make (32/C)x(16/C) cells, so (32/C-1)x(16/C-1) blocks of 2x2 cells.
    hogs = [(CONFIG.hog_cell, CONFIG.hog_bins), (CONFIG.gray_hog_cell, CONFIG.gray_hog_bins)]
    assert feature_length(CONFIG) == BBPS_LENGTH + sum((32 // c - 1) * (16 // c - 1) * 4 * b for c, b in hogs)


def test_hog_part_is_block_normalized_and_follows_the_bbps_part():
    mask = np.zeros((32, 16), np.uint8)
    mask[:, 6:10] = 255  # a vertical bar: horizontal gradients only
    vector = bbps_features(mask, MASK_HOG)
    assert np.array_equal(vector[:BBPS_LENGTH], bbps_features(mask, BBPS_ONLY))
    blocks = vector[BBPS_LENGTH:].reshape(-1, 4 * CONFIG.hog_bins)
    assert np.all(np.linalg.norm(blocks, axis=1) <= 1.0 + 1e-5)
    # Unsigned orientation bin 0 holds horizontal gradients (the bar's two edges).
    per_bin = blocks.reshape(-1, 4, CONFIG.hog_bins).sum(axis=(0, 1))
    assert int(np.argmax(per_bin)) == 0


@pytest.mark.parametrize("shape", [(40, 20), (7, 3), (100, 90), (1, 1)])
def test_shape_dtype_and_range(shape):
    mask = np.where(np.random.default_rng(1).random(shape) > 0.5, 255, 0).astype(np.uint8)
    vector = bbps_features(mask, CONFIG)
    assert vector.shape == (feature_length(CONFIG),)
    assert vector.dtype == np.float32
    assert vector.min() >= 0.0 and vector.max() <= 1.0


def test_full_ink_mask_with_target_aspect_is_all_ones():
    vector = bbps_features(np.full((64, 32), 255, np.uint8), CONFIG)
    assert np.allclose(vector[:BBPS_LENGTH], 1.0)
    # A uniform character has no edges: its gradient histograms are empty.
    assert np.allclose(vector[BBPS_LENGTH:], 0.0)


def test_empty_mask_is_all_zeros():
    assert np.array_equal(bbps_features(np.zeros((40, 20), np.uint8), CONFIG), np.zeros(feature_length(CONFIG), np.float32))


def test_padding_keeps_a_narrow_bar_narrow():
    # A solid 32x4 bar (aspect 1/8) is centred, not stretched to fill the 32x16 cell.
    grid = normalize_character(np.full((32, 4), 255, np.uint8), (32, 16))
    assert grid.shape == (32, 16)
    assert np.allclose(grid[:, 6:10], 1.0)
    assert np.allclose(grid[:, :6], 0.0) and np.allclose(grid[:, 10:], 0.0)
    assert grid.mean() == pytest.approx(4 / 16)


def test_padding_keeps_a_wide_bar_flat():
    grid = normalize_character(np.full((4, 16), 255, np.uint8), (32, 16))
    assert np.allclose(grid[14:18], 1.0) and grid.mean() == pytest.approx(8 / 32 * 0.5)


def test_known_block_values():
    # Left half inked: each block is 1 on the left and 0 on the right, and 16x8 blocks split exactly.
    mask = np.zeros((32, 16), np.uint8)
    mask[:, :8] = 255
    vector = bbps_features(mask, FeatureConfig((32, 16), ((16, 8),), hog_bins=0, gray_hog_bins=0))
    assert vector.tolist() == [1.0, 0.0, 1.0, 0.0]
    quarter = bbps_features(mask, FeatureConfig((32, 16), ((32, 16),), hog_bins=0, gray_hog_bins=0))
    assert quarter.tolist() == [0.5]


def test_any_nonzero_pixel_is_ink():
    ones = np.ones((32, 16), np.uint8)  # masks may be 0/1 instead of 0/255
    assert np.allclose(bbps_features(ones, BBPS_ONLY), 1.0)
    assert np.array_equal(bbps_features(ones, CONFIG), bbps_features(np.full((32, 16), 255, np.uint8), CONFIG))


@pytest.mark.parametrize("bad", [np.zeros((0, 5), np.uint8), np.zeros((4, 4, 3), np.uint8), np.zeros(7, np.uint8)])
def test_bad_masks_raise(bad):
    with pytest.raises(ValueError):
        bbps_features(bad, CONFIG)


@pytest.mark.parametrize(
    "config",
    [
        FeatureConfig((32, 16), ((5, 4),)),
        FeatureConfig((32, 16), ((4, 3),)),
        FeatureConfig((32, 16), ()),
        FeatureConfig((32, 16), ((0, 4),)),
        FeatureConfig((0, 16), ((2, 2),)),
    ],
)
def test_block_sizes_that_do_not_divide_are_rejected(config):
    with pytest.raises(ValueError):
        validate_feature_config(config)


def test_hog_is_the_same_whatever_the_memory_alignment_of_its_input():
    # A SIMD path taken or not by alignment must not change a feature: readings must repeat exactly.
    grids = np.random.default_rng(0).random((37, 32, 16)).astype(np.float32)
    expected = hog_features(grids, 8, 9)
    for offset in range(1, 8):
        shifted = np.empty(grids.size + offset, np.float32)[offset:].reshape(grids.shape)
        shifted[:] = grids
        assert np.array_equal(hog_features(shifted, 8, 9), expected)


def blurred_bar(dark: bool) -> tuple[np.ndarray, np.ndarray]:
    """A (40, 20) gray patch of a blurred vertical bar (dark on light or light on dark) and its thresholded mask."""
    gray = np.full((40, 20), 200.0)
    gray[4:36, 7:13] = 40.0
    gray = cv2.GaussianBlur(gray, (7, 7), 2.0)
    if not dark:
        gray = 240.0 - gray
    gray = gray.astype(np.uint8)
    mask = np.where((gray < 120) if dark else (gray > 120), 255, 0).astype(np.uint8)
    return mask, gray


def test_shading_is_the_same_for_dark_and_light_characters():
    dark, light = shade_character(*blurred_bar(True), (32, 16)), shade_character(*blurred_bar(False), (32, 16))
    assert dark.shape == (32, 16) and dark.dtype == np.float32
    assert dark.min() >= 0.0 and dark.max() <= 1.0
    assert np.allclose(dark, light, atol=0.02)
    # Ink near 1 in the middle of the bar, background near 0 away from it, blur in between.
    assert dark[16, 8] > 0.9 and dark[16, 1] < 0.1 and 0.1 < dark[16, 5] < 0.9


def test_shading_of_a_mask_without_background_is_the_mask():
    full = np.full((30, 15), 255, np.uint8)
    assert np.array_equal(shade_character(full, np.zeros_like(full), (32, 16)), normalize_character(full, (32, 16)))


def test_shading_errors():
    with pytest.raises(ValueError, match="gray pixels of the mask.s shape"):
        shade_character(np.zeros((10, 5), np.uint8), np.zeros((10, 6), np.uint8), (32, 16))
    with pytest.raises(ValueError, match="gray patches for"):
        character_features([np.zeros((10, 5), np.uint8)], CONFIG, [])


def test_without_gray_patches_a_mask_is_its_own_gray_patch():
    masks = [blurred_bar(True)[0], np.zeros((12, 6), np.uint8)]
    assert np.array_equal(character_features(masks, CONFIG), character_features(masks, CONFIG, [255 - m for m in masks]))


def test_gray_hog_sees_what_the_mask_loses():
    # Two thresholds of one blurred bar give masks of different widths; the shading is one.
    mask, gray = blurred_bar(True)
    thin = np.where(gray < 80, 255, 0).astype(np.uint8)
    gray_part = slice(feature_length(FeatureConfig(CONFIG.char_size, CONFIG.block_sizes, CONFIG.hog_cell, CONFIG.hog_bins, 4, 0)), None)
    wide_vector, thin_vector = character_features([mask, thin], CONFIG, [gray, gray])
    assert not np.allclose(wide_vector[:BBPS_LENGTH], thin_vector[:BBPS_LENGTH])
    assert np.linalg.norm(wide_vector[gray_part] - thin_vector[gray_part]) < 0.5 * np.linalg.norm(wide_vector[:BBPS_LENGTH] - thin_vector[:BBPS_LENGTH])


def test_batched_ink_and_shading_equal_each_character_alone():
    # Characters of many shapes (several sharing a canvas), all-ink and empty masks among them:
    # the batch is resized together, and must give what each character gives on its own.
    rng = np.random.default_rng(7)
    masks, grays = [], []
    for h, w in [(40, 18), (40, 20), (40, 12), (41, 18), (25, 30), (8, 3), (60, 29), (40, 18)]:
        masks.append(np.where(rng.random((h, w)) < 0.4, 255, 0).astype(np.uint8))
        grays.append(rng.integers(0, 256, (h, w), dtype=np.uint8))
    masks += [np.full((30, 15), 255, np.uint8), np.zeros((30, 15), np.uint8)]
    grays += [rng.integers(0, 256, (30, 15), dtype=np.uint8) for _ in range(2)]
    batch = character_features(masks, CONFIG, grays)
    for i, (mask, gray) in enumerate(zip(masks, grays)):
        assert np.array_equal(batch[i], bbps_features(mask, CONFIG, gray))
        ink, shading = normalize_character(mask, CONFIG.char_size), shade_character(mask, gray, CONFIG.char_size)
        alone = np.concatenate([
            character_features([mask], BBPS_ONLY, [gray])[0],
            hog_features(ink[None], CONFIG.hog_cell, CONFIG.hog_bins)[0],
            hog_features(shading[None], CONFIG.gray_hog_cell, CONFIG.gray_hog_bins)[0],
        ])
        assert np.allclose(batch[i], alone, atol=1e-6)
