"""Block Binary Pixel Sum features: binary character masks (and the gray pixels under them) in, fixed-length float32 vectors out."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

from .config import FeatureConfig


def validate_feature_config(config: FeatureConfig) -> None:
    """Raise ValueError unless every block size divides the character size."""
    height, width = config.char_size
    if height <= 0 or width <= 0:
        raise ValueError(f"char_size must be positive, got {config.char_size}")
    if not config.block_sizes:
        raise ValueError("block_sizes must not be empty")
    for bh, bw in config.block_sizes:
        if bh <= 0 or bw <= 0 or height % bh or width % bw:
            raise ValueError(f"block size {(bh, bw)} does not divide char_size {config.char_size}")
    for name, cell, bins in (("hog", config.hog_cell, config.hog_bins), ("gray_hog", config.gray_hog_cell, config.gray_hog_bins)):
        if bins < 0:
            raise ValueError(f"{name}_bins must be >= 0, got {bins}")
        if bins and (cell <= 0 or height % cell or width % cell or min(height, width) < 2 * cell):
            raise ValueError(f"{name}_cell {cell} must divide char_size {config.char_size} with at least 2 cells a side")


def hog_length(char_size: tuple[int, int], cell: int, bins: int) -> int:
    """Length of the HOG vector of a char_size character with this cell size and bin count (0 bins: 0)."""
    if not bins:
        return 0
    return (char_size[0] // cell - 1) * (char_size[1] // cell - 1) * 4 * bins


def feature_length(config: FeatureConfig) -> int:
    """Length of the feature vector for this configuration: BBPS, mask HOG, gray HOG."""
    height, width = config.char_size
    bbps = sum((height // bh) * (width // bw) for bh, bw in config.block_sizes)
    return bbps + hog_length(config.char_size, config.hog_cell, config.hog_bins) + hog_length(
        config.char_size, config.gray_hog_cell, config.gray_hog_bins
    )


@functools.lru_cache(maxsize=16)
def _cell_slots(height: int, width: int, cell: int, bins: int) -> np.ndarray:
    """A character's size, HOG cell and bin count in, (H, W) int64 first histogram slot of each pixel's cell out."""
    return ((np.arange(height)[:, None] // cell) * (width // cell) + np.arange(width)[None, :] // cell) * bins


@functools.lru_cache(maxsize=16)
def _unsigned_bins(bins: int) -> np.ndarray:
    """A bin count in, (2 * bins + 1,) int64 table from a signed orientation's bin (0-360 degrees) to its unsigned bin out."""
    return np.arange(2 * bins + 1) % bins


def hog_features(grids: np.ndarray, cell: int, bins: int) -> np.ndarray:
    """(n, H, W) float32 normalized characters in, (n, blocks * 4 * bins) float32 HOG out: unsigned gradient histograms per cell, L2-normalized per 2x2-cell block."""
    n, height, width = grids.shape
    gx = np.zeros_like(grids)
    gy = np.zeros_like(grids)
    np.subtract(grids[:, :, 2:], grids[:, :, :-2], out=gx[:, :, 1:-1])
    np.subtract(grids[:, 2:, :], grids[:, :-2, :], out=gy[:, 1:-1, :])
    # Not cv2.magnitude: its result depends on the arrays' memory alignment (SIMD or scalar
    # path), which would make the same image read differently from run to run.
    magnitude = np.square(gx)
    magnitude += np.square(gy)
    np.sqrt(magnitude, out=magnitude)
    # cv2.phase (degrees, about 0.3 degrees accurate, the same on every alignment) is many
    # times faster than np.arctan2.
    angle = cv2.phase(gx.reshape(-1, width), gy.reshape(-1, width), angleInDegrees=True)
    angle *= bins / 180.0
    # Unsigned orientation: a stroke's two edges point opposite ways but mean the same stroke.
    slot = _unsigned_bins(bins).take(angle.astype(np.int32).reshape(grids.shape))
    # Each pixel's histogram slot: its bin, within its cell, within its character.
    rows, cols = height // cell, width // cell
    slot += _cell_slots(height, width, cell, bins) + (np.arange(n) * (rows * cols * bins))[:, None, None]
    histograms = np.bincount(slot.ravel(), magnitude.ravel(), n * rows * cols * bins).reshape(n, rows, cols, bins)
    blocks = np.concatenate(
        [histograms[:, :-1, :-1], histograms[:, :-1, 1:], histograms[:, 1:, :-1], histograms[:, 1:, 1:]], axis=3
    )
    blocks /= np.sqrt((blocks**2).sum(axis=3, keepdims=True) + 1e-6)
    return blocks.reshape(n, -1).astype(np.float32)


def canvas_shape(h: int, w: int, char_size: tuple[int, int]) -> tuple[int, int]:
    """An (h, w) character and the (H, W) character size in, the (rows, columns) of the smallest canvas of char_size's aspect holding it out."""
    height, width = char_size
    # Pad to the target aspect instead of stretching, so a narrow "1" keeps its shape
    # and does not turn into a block that looks like a wide letter.
    return max(h, int(np.ceil(w * height / width))), max(w, int(np.ceil(h * width / height)))


def padded_canvas(shape: tuple[int, ...], char_size: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]]:
    """An (h, w, ...) shape and the (H, W) character size in, a zero float32 canvas of char_size's aspect holding it and the (rows, columns) where it goes, centred, out."""
    h, w = shape[:2]
    target_h, target_w = canvas_shape(h, w, char_size)
    top, left = (target_h - h) // 2, (target_w - w) // 2
    return np.zeros((target_h, target_w, *shape[2:]), np.float32), (slice(top, top + h), slice(left, left + w))


def fit_to_size(ink: np.ndarray, char_size: tuple[int, int]) -> np.ndarray:
    """(h, w) or (h, w, c) float32 ink in [0, 1] in, (H, W) or (H, W, c) float32 ink in [0, 1] out, padded to char_size's aspect with 0, centred and resized."""
    canvas, place = padded_canvas(ink.shape, char_size)
    canvas[place] = ink
    # INTER_AREA's float sums can overshoot 1 by a rounding error; coverage is a fraction.
    return np.clip(cv2.resize(canvas, (char_size[1], char_size[0]), interpolation=cv2.INTER_AREA), 0.0, 1.0)


def check_mask(mask: np.ndarray, gray: np.ndarray | None = None) -> None:
    """Raise ValueError unless mask is a non-empty 2-D array (and gray, when given, has its shape)."""
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(f"expected a non-empty 2-D character mask, got shape {mask.shape}")
    if gray is not None and gray.shape != mask.shape:
        raise ValueError(f"expected gray pixels of the mask's shape {mask.shape}, got {gray.shape}")


def normalize_character(mask: np.ndarray, char_size: tuple[int, int]) -> np.ndarray:
    """(h, w) character mask in, (H, W) float32 ink coverage in [0, 1] out, centred with its aspect kept."""
    check_mask(mask)
    return fit_to_size((mask > 0).astype(np.float32), char_size)


def shading(mask: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """(h, w) character mask and the (h, w) uint8 gray pixels under it in, (h, w) float32 shading out: 0 at the background's mean gray, 1 at the ink's.

    Dark and light characters come out alike. A mask that is all ink or all background
    has no contrast to measure: the mask itself is the shading.
    """
    check_mask(mask, gray)
    inked = cv2.countNonZero(mask)
    if inked in (0, mask.size):
        return (mask > 0).astype(np.float32)
    ink_mean = cv2.mean(gray, mask)[0]
    background = (cv2.mean(gray)[0] * mask.size - ink_mean * inked) / (mask.size - inked)
    # At least one gray level apart, on the ink's side, so a flat patch does not blow up.
    contrast = ink_mean - background
    contrast = contrast if abs(contrast) >= 1.0 else (1.0 if contrast >= 0 else -1.0)
    return np.clip((gray.astype(np.float32) - background) / contrast, 0.0, 1.0)


def shade_character(mask: np.ndarray, gray: np.ndarray, char_size: tuple[int, int]) -> np.ndarray:
    """(h, w) character mask and the (h, w) uint8 gray pixels under it in, (H, W) float32 shading (see shading) out, centred like normalize_character."""
    return fit_to_size(shading(mask, gray), char_size)


def block_sums(grids: np.ndarray, block_sizes: Sequence[tuple[int, int]]) -> np.ndarray:
    """(n, H, W) float32 normalized characters in, (n, sum of blocks) float32 ink fraction per block at every block size out."""
    n, height, width = grids.shape
    # A float64 integral image gives every block's sum from four of its entries: one pass
    # for all block sizes, and a character's features do not depend on its batch.
    integral = np.zeros((n, height + 1, width + 1))
    np.cumsum(grids, axis=1, dtype=np.float64, out=integral[:, 1:, 1:])
    np.cumsum(integral[:, 1:, 1:], axis=2, out=integral[:, 1:, 1:])
    parts = []
    for bh, bw in block_sizes:
        corners = integral[:, ::bh, ::bw]
        sums = corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]
        parts.append(sums.reshape(n, -1) / (bh * bw))
    return np.concatenate(parts, axis=1).astype(np.float32)


def character_features(masks: Sequence[np.ndarray], config: FeatureConfig, grays: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """n (h, w) character masks (and the n (h, w) uint8 gray patches under them) in, (n, feature_length) float32 matrix out.

    The vector is BBPS at every block size, then HOG of the mask, then HOG of the
    shading (see shade_character); without grays, each mask is its own gray patch.
    """
    if grays is not None and len(grays) != len(masks):
        raise ValueError(f"{len(grays)} gray patches for {len(masks)} masks")
    if len(masks) == 0:
        return np.zeros((0, feature_length(config)), np.float32)
    if config.gray_hog_bins and grays is not None:
        both = ink_and_shading(masks, grays, config.char_size)
        grids, shades = both[:, 0], both[:, 1]
    else:
        grids = np.stack([normalize_character(m, config.char_size) for m in masks])
        shades = grids
    parts = [block_sums(grids, config.block_sizes)]
    if config.hog_bins:
        parts.append(hog_features(grids, config.hog_cell, config.hog_bins))
    if config.gray_hog_bins:
        parts.append(hog_features(shades, config.gray_hog_cell, config.gray_hog_bins))
    return np.concatenate(parts, axis=1)


def ink_and_shading(masks: Sequence[np.ndarray], grays: Sequence[np.ndarray], char_size: tuple[int, int]) -> np.ndarray:
    """n (h, w) character masks and the (h, w) uint8 gray patches under them in, (n, 2, H, W) float32 ink coverage and shading (see shading) out, each centred like normalize_character."""
    height, width = char_size
    for mask, gray in zip(masks, grays):
        check_mask(mask, gray)
    # Every character's pixels end to end: shading()'s statistics and arithmetic for all at
    # once (cv2.mean's sum times 1 / count included), not a dozen small calls each.
    shapes = np.array([mask.shape for mask in masks])
    sizes = shapes[:, 0] * shapes[:, 1]
    starts = np.cumsum(sizes) - sizes
    ink = np.concatenate([mask.ravel() for mask in masks]) > 0
    gray = np.concatenate([g.ravel() for g in grays]).astype(np.int32)
    inked = np.add.reduceat(ink.astype(np.int32), starts)
    gray_sum = np.add.reduceat(gray, starts)
    ink_gray_sum = np.add.reduceat(gray * ink, starts)
    contrasted = (inked > 0) & (inked < sizes)
    ink_mean = ink_gray_sum * (1.0 / np.maximum(inked, 1))
    background = (gray_sum * (1.0 / sizes) * sizes - ink_mean * inked) / np.maximum(sizes - inked, 1)
    # At least one gray level apart, on the ink's side, so a flat patch does not blow up.
    contrast = ink_mean - background
    contrast = np.where(np.abs(contrast) >= 1.0, contrast, np.where(contrast >= 0, 1.0, -1.0))
    pixels = np.empty((len(gray), 2), np.float32)
    pixels[:, 0] = ink
    shade = gray.astype(np.float32)
    shade -= np.repeat(background.astype(np.float32), sizes)
    shade /= np.repeat(contrast.astype(np.float32), sizes)
    np.clip(shade, 0.0, 1.0, out=pixels[:, 1])
    # A character that is all ink or all background has no contrast: its mask is its shading.
    for i in np.flatnonzero(~contrasted):
        pixels[starts[i] : starts[i] + sizes[i], 1] = pixels[starts[i] : starts[i] + sizes[i], 0]
    # Each padded to char_size's aspect (see padded_canvas); characters on canvases of one
    # shape are resized together, stacked as one tall two-channel image (ink, shading).
    by_canvas: dict[tuple[int, int], list[int]] = {}
    for i, mask in enumerate(masks):
        by_canvas.setdefault(canvas_shape(*mask.shape, char_size), []).append(i)
    both = np.empty((len(masks), 2, height, width), np.float32)
    for (rows, columns), members in by_canvas.items():
        canvas = np.zeros((len(members), rows, columns, 2), np.float32)
        for j, i in enumerate(members):
            (h, w), start = masks[i].shape, starts[i]
            top, left = (rows - h) // 2, (columns - w) // 2
            canvas[j, top : top + h, left : left + w] = pixels[start : start + h * w].reshape(h, w, 2)
        resized = cv2.resize(canvas.reshape(-1, columns, 2), (width, len(members) * height), interpolation=cv2.INTER_AREA)
        both[members] = resized.reshape(len(members), height, width, 2).transpose(0, 3, 1, 2)
    # As fit_to_size: INTER_AREA's float sums can overshoot 1 by a rounding error.
    return np.clip(both, 0.0, 1.0, out=both)


def bbps_features(mask: np.ndarray, config: FeatureConfig, gray: np.ndarray | None = None) -> np.ndarray:
    """(h, w) character mask (and the (h, w) uint8 gray pixels under it) in, (feature_length,) float32 feature vector out."""
    return character_features([mask], config, None if gray is None else [gray])[0]
