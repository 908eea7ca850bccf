"""Segmentation primitives: a plate image in, thresholded binaries and their character-shaped components, bands and windows out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

import cv2
import numpy as np

from ..config import SegmentationConfig
from ..geometry import Box
from ..localization import to_gray

POLARITIES = ("dark", "light")


@dataclass(frozen=True)
class CharacterCrop:
    """One character: its box in the plate image given, its (h, w) uint8 mask (255 = ink) and the (h, w) uint8 gray pixels under it."""

    box: Box
    mask: np.ndarray
    # The plate's gray pixels at the mask's resolution: the classifier also reads the
    # character's shading, which a blurred character's thresholded mask loses.
    gray: np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """The characters found with one threshold setting, left to right (a two-line plate's top line first), and the binary plate it came from."""

    characters: tuple[CharacterCrop, ...]
    polarity: str
    offset: int
    binary: np.ndarray
    # Index of each line's first character: (0,) for a one-line plate.
    line_starts: tuple[int, ...] = (0,)


def local_contrast(gray: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """(H, W) uint8 gray plate in, (H, W) int16 pixel minus the mean of its block_size neighbourhood out."""
    # The same rounded mean cv2.adaptiveThreshold uses, computed once for every polarity and offset.
    mean = cv2.boxFilter(gray, -1, (config.block_size, config.block_size), borderType=cv2.BORDER_REPLICATE | cv2.BORDER_ISOLATED)
    return cv2.subtract(gray, mean, dtype=cv2.CV_16S)


def binarize(contrast: np.ndarray, polarity: str, offset: int) -> np.ndarray:
    """(H, W) int16 local contrast, a polarity and an offset in, (H, W) uint8 binary out with characters as 255."""
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    # Dark characters are pixels darker than their neighbourhood's mean by at least offset;
    # light ones are lighter by more than offset (cv2.adaptiveThreshold's own rule).
    if polarity == "dark":
        return cv2.compare(contrast, float(-offset), cv2.CMP_LE)
    return cv2.compare(contrast, float(offset), cv2.CMP_GT)


def threshold_plate(gray: np.ndarray, polarity: str, offset: int, config: SegmentationConfig) -> np.ndarray:
    """(H, W) uint8 gray plate in, (H, W) uint8 binary out with characters as 255, by adaptive (local mean) thresholding."""
    return binarize(local_contrast(gray, config), polarity, offset)


def character_components(
    stats: np.ndarray, height: int, config: SegmentationConfig, character_height: tuple[float, float]
) -> list[tuple[Box, int]]:
    """(N, 5) connected-component stats of a plate of given height and the region's (lowest, highest) character height fractions in, (box, label) of character-shaped ones out."""
    # Thresholded plates have hundreds of specks: filter them all at once, not one by one.
    x, y, w, h, area = stats[1:, :5].T.astype(np.float64)
    aspect = w / h
    fill = area / (w * h)
    keep = (
        (h >= character_height[0] * height)
        & (h <= character_height[1] * height)
        & (aspect >= config.min_aspect)
        & (aspect <= config.max_aspect)
        & (fill >= config.min_fill)
        & (fill <= config.max_fill)
    )
    labels = np.flatnonzero(keep) + 1
    return [(Box(*row[:4]), label) for label, row in zip(labels.tolist(), stats[labels].tolist())]


def horizontal_overlap(a: Box, b: Box) -> float:
    """Two boxes in, the length of their overlap along x over the narrower one's width out."""
    overlap = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    return max(0, overlap) / max(1, min(a.w, b.w))


def clear_of(boxes: np.ndarray, row: Sequence[Box], max_overlap: float) -> np.ndarray:
    """(n, 4) int x, y, w, h window boxes, the row's boxes and an overlap limit in, (n,) bool: whether each overlaps no row member by more (see horizontal_overlap) out."""
    if not row:
        return np.ones(len(boxes), bool)
    members = np.array([b.to_list() for b in row])
    x, w = boxes[:, 0:1], boxes[:, 2:3]
    overlap = np.minimum(x + w, members[:, 0] + members[:, 2]) - np.maximum(x, members[:, 0])
    # horizontal_overlap's own arithmetic, for every window and member at once.
    share = np.maximum(0, overlap) / np.maximum(1, np.minimum(w, members[:, 2]))
    return (share <= max_overlap).all(axis=1)


def ink_bounds(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(H, W) uint8 mask in, (top, bottom, left, right) of its nonzero pixels (bottom and right exclusive) out, or None when it has none."""
    if mask.size == 0:
        return None
    left, top, width, height = cv2.boundingRect(mask)
    if width == 0:
        return None
    return top, top + height, left, left + width


def split_windows(crop: CharacterCrop, width: float, height: float, config: SegmentationConfig) -> list[CharacterCrop]:
    """A too-wide component and the row's median character (width, height) in plate pixels in, character-wide windows cut from it out.

    Each window keeps the component's ink between its columns, trimmed to that ink's box;
    windows whose ink is shorter than min_split_height x height are dropped.
    """
    if config.split_width <= 0 or width <= 0:
        return []
    mask_height, mask_width = crop.mask.shape
    per_column = crop.box.w / mask_width
    per_row = crop.box.h / mask_height
    window = config.split_width * width
    step = max(config.split_step * width, per_column)
    windows = []
    for left in np.arange(0.0, crop.box.w - window + step / 2, step):
        first, last = int(round(left / per_column)), int(round((left + window) / per_column))
        ink = ink_bounds(crop.mask[:, first:last])
        if ink is None or (ink[1] - ink[0]) * per_row < config.min_split_height * height:
            continue
        top, bottom, start, end = ink[0], ink[1], first + ink[2], first + ink[3]
        box = Box(
            crop.box.x + int(round(start * per_column)), crop.box.y + int(round(top * per_row)),
            max(1, int(round((end - start) * per_column))), max(1, int(round((bottom - top) * per_row))),
        )
        windows.append(CharacterCrop(box, crop.mask[top:bottom, start:end], crop.gray[top:bottom, start:end]))
    return windows


def band_windows(candidates: Candidates, band: tuple[float, float], centres: Sequence[float], width: float, height: float, config: SegmentationConfig) -> list[CharacterCrop]:
    """Candidates of one threshold setting, the row's (top, bottom) band, x centres, and the row's median character (width, height), all in plate pixels, in; a window of the band's ink at each centre out.

    A small blurred character merges with a neighbour, a dot or the frame into a component
    of no character's shape, which split_windows never sees; the ink of the binary between
    a window's columns, within the band, is the character. Each window is split_width x
    width wide and trimmed to its ink; windows whose ink is shorter than min_split_height x
    height are dropped.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"character width and height must be positive, got {width} and {height}")
    scale = candidates.scale
    limit_y, limit_x = candidates.binary.shape
    top, bottom = (min(limit_y, max(0, round(v * scale))) for v in band)
    half = config.split_width * width * scale / 2
    windows = []
    for centre in centres:
        first, last = max(0, round(centre * scale - half)), min(limit_x, round(centre * scale + half))
        ink = ink_bounds(candidates.binary[top:bottom, first:last])
        if ink is None or ink[1] - ink[0] < config.min_split_height * height * scale:
            continue
        y0, y1, x0, x1 = top + ink[0], top + ink[1], first + ink[2], first + ink[3]
        box = Box(round(x0 / scale), round(y0 / scale), max(1, round((x1 - x0) / scale)), max(1, round((y1 - y0) / scale)))
        windows.append(CharacterCrop(box, candidates.binary[y0:y1, x0:x1], candidates.gray[y0:y1, x0:x1]))
    return windows


def wide_members(boxes: Sequence[Box], row: Sequence[Box], config: SegmentationConfig) -> tuple[list[int], float, float]:
    """Candidate boxes and the boxes of a chosen row in, (indices of candidates in line with the row but too wide, median width, median height) out."""
    if not row:
        return [], 0.0, 0.0
    width = float(median([b.w for b in row]))
    height = float(median([b.h for b in row]))
    wide = [i for i in in_line(boxes, row, config) if boxes[i].w > config.max_width_ratio * width]
    return wide, width, height


@dataclass(frozen=True)
class Candidates:
    """Every character-shaped component of one threshold setting, left to right, before the row is chosen."""

    characters: tuple[CharacterCrop, ...]
    polarity: str
    offset: int
    binary: np.ndarray
    # The resized gray plate the binary was thresholded from.
    gray: np.ndarray
    # binary's height over the plate's: boxes are in plate pixels, binary is resized.
    scale: float
    # The region's (lowest, highest) character height as fractions of the plate's.
    character_height: tuple[float, float]


def resize_plate(plate: np.ndarray, config: SegmentationConfig) -> tuple[np.ndarray, float]:
    """(H, W, 3) or (H, W) uint8 plate in, (plate_height, W') uint8 gray plate and the scale applied out."""
    if plate.dtype != np.uint8 or plate.ndim not in (2, 3) or (plate.ndim == 3 and plate.shape[2] != 3) or min(plate.shape[:2]) < 4:
        raise ValueError(f"expected a (H, W) or (H, W, 3) uint8 plate image of at least 4x4 pixels, got {plate.dtype} shape {plate.shape}")
    gray = to_gray(plate)
    scale = config.plate_height / gray.shape[0]
    size = (max(4, round(gray.shape[1] * scale)), config.plate_height)
    return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA), scale


def threshold_candidates(
    gray: np.ndarray,
    contrast: np.ndarray,
    scale: float,
    polarity: str,
    offset: int,
    config: SegmentationConfig,
    character_height: tuple[float, float],
) -> Candidates:
    """(plate_height, W) uint8 resized gray plate, its int16 local contrast and its scale in, its character-shaped components (boxes in plate pixels) out."""
    return binary_candidates(binarize(contrast, polarity, offset), gray, scale, polarity, offset, config, character_height)


def binary_candidates(
    binary: np.ndarray,
    gray: np.ndarray,
    scale: float,
    polarity: str,
    offset: int,
    config: SegmentationConfig,
    character_height: tuple[float, float],
    rows: tuple[int, int] | None = None,
    known: frozenset[Box] = frozenset(),
) -> Candidates:
    """(plate_height, W) uint8 binary plate (255 = ink), the gray plate it came from and its scale in, its character-shaped components (boxes in plate pixels) out.

    With rows=(top, bottom), only the binary's rows top..bottom-1 are searched; components
    whose box is in known are left out.
    """
    top, bottom = rows if rows is not None else (0, binary.shape[0])
    band = binary[top:bottom]
    # 16-bit labels are faster to write; a band has at most a quarter of its pixels as components.
    label_type = cv2.CV_16U if band.size // 4 < np.iinfo(np.uint16).max else cv2.CV_32S
    _, labels, stats, _ = cv2.connectedComponentsWithStats(band, connectivity=8, ltype=label_type)
    stats[:, 1] += top
    characters = []
    for box, label in sorted(character_components(stats, binary.shape[0], config, character_height), key=lambda c: c[0].x):
        plate_box = box.scaled(1.0 / scale)
        if plate_box in known:
            continue
        # 255 where the pixel belongs to this component, in one call.
        mask = cv2.compare(labels[box.y - top : box.y - top + box.h, box.x : box.x + box.w], label, cv2.CMP_EQ)
        characters.append(CharacterCrop(plate_box, mask, gray[box.y : box.y + box.h, box.x : box.x + box.w]))
    return Candidates(tuple(characters), polarity, offset, binary, gray, scale, character_height)


def character_band(row: Sequence[Box], config: SegmentationConfig) -> tuple[float, float]:
    """Boxes of a chosen character row in plate pixels in, (top, bottom) of the band holding the characters out.

    The band is the row's median top and bottom, grown by band_margin x its median height.
    """
    if not row:
        raise ValueError("a character band needs at least one character box")
    height = float(median([b.h for b in row]))
    margin = (config.band_margin or 0.0) * height
    return float(median([b.y for b in row])) - margin, float(median([b.y + b.h for b in row])) + margin


def band_candidates(candidates: Candidates, band: tuple[float, float], config: SegmentationConfig, new_only: bool = False) -> Candidates:
    """Candidates of one threshold setting and a (top, bottom) band in plate pixels in, the components of its binary cut to the band out.

    A character touching the plate frame, a bolt or the slogan above or below it is one
    component with them; cutting the binary to the band sets it free. new_only: only those
    the uncut binary does not have (changed_candidates), without cutting out the others.
    """
    height = candidates.binary.shape[0]
    top, bottom = (min(height, max(0, round(v * candidates.scale))) for v in band)
    if bottom <= top:
        return replace(candidates, characters=())
    return binary_candidates(
        candidates.binary, candidates.gray, candidates.scale, candidates.polarity, candidates.offset, config, candidates.character_height, (top, bottom),
        known_boxes(candidates) if new_only else frozenset(),
    )


def in_line(boxes: Sequence[Box], row: Sequence[Box], config: SegmentationConfig) -> list[int]:
    """Candidate boxes and the boxes of a chosen row in, indices of those in line with the row and of about its height out.

    A candidate may be as tall as the character band (see band_candidates): a frame post
    or picture merged with a character is cut to the band's height.
    """
    if not row:
        return []
    height = float(median([b.h for b in row]))
    centre = float(median([b.y + b.h / 2 for b in row]))
    low = (1 - config.height_tolerance) * height
    high = (1 + config.height_tolerance + 2 * (config.band_margin or 0.0)) * height
    return [
        i for i, b in enumerate(boxes) if low <= b.h <= high and abs(b.y + b.h / 2 - centre) <= config.center_tolerance * height
    ]


def known_boxes(candidates: Candidates) -> frozenset[Box]:
    """Candidates of one threshold setting in, the set of their boxes out."""
    return frozenset(c.box for c in candidates.characters)


def changed_candidates(cut: Candidates, original: Candidates) -> Candidates:
    """Candidates of a binary cut to a band and of the same binary uncut in, the cut ones the uncut binary does not have out."""
    known = known_boxes(original)
    return replace(cut, characters=tuple(c for c in cut.characters if c.box not in known))


def unlined_candidates(candidates: Candidates, config: SegmentationConfig, new_only: bool = False) -> Candidates:
    """Candidates of one threshold setting in, the components of its binary less its horizontal runs longer than line_length x its height out.

    A character touching the plate frame's top or bottom edge is one component with it;
    the edge is a long horizontal run, a character's strokes are not. No candidates when
    line_length is 0 or the binary has no such run (nothing would change). new_only: only
    those the binary with its runs has not (changed_candidates).
    """
    length = round(config.line_length * candidates.binary.shape[0])
    if length <= 0:
        return replace(candidates, characters=())
    lines = cv2.morphologyEx(candidates.binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    if not lines.any():
        return replace(candidates, characters=())
    return binary_candidates(
        cv2.subtract(candidates.binary, lines), candidates.gray, candidates.scale, candidates.polarity, candidates.offset, config,
        candidates.character_height, known=known_boxes(candidates) if new_only else frozenset(),
    )


def threshold_settings(config: SegmentationConfig) -> list[tuple[str, int]]:
    """Segmentation settings in, every (polarity, offset) to threshold a plate with out."""
    if not config.dark_offsets and not config.light_offsets:
        raise ValueError("segmentation settings have no threshold offsets")
    return [("dark", o) for o in config.dark_offsets] + [("light", o) for o in config.light_offsets]


# Blue in OpenCV's HSV (hue 0-180): the EU band's blue, saturated and not dark; blue plate ink is the
# same hue, which is why only runs of columns at a plate's ends count as a band.
BAND_HUE = (95, 130)
BAND_MIN_SATURATION = 90
BAND_MIN_VALUE = 40


def country_band_columns(plate: np.ndarray, config: SegmentationConfig) -> tuple[int, int]:
    """(H, W, 3) uint8 BGR plate in, (first, end) of the columns between the country bands at its ends out ((0, W) without one).

    A band is a run of columns, mostly blue (config.band_blue_fraction of their rows),
    starting within config.band_edge of an end and no wider than config.band_max_width of
    the plate (EU plates carry it at the left, Italian ones at both ends).
    """
    width = plate.shape[1]
    if plate.ndim != 3 or width < 8:
        return 0, width
    hsv = cv2.cvtColor(plate, cv2.COLOR_BGR2HSV)
    blue = (hsv[..., 0] >= BAND_HUE[0]) & (hsv[..., 0] <= BAND_HUE[1]) & (hsv[..., 1] >= BAND_MIN_SATURATION) & (hsv[..., 2] >= BAND_MIN_VALUE)
    fractions = blue.mean(axis=0)
    edge, widest = max(1, round(config.band_edge * width)), round(config.band_max_width * width)

    def run_from(fraction: np.ndarray) -> int:
        """Columns' blue fractions from one end in, how many columns the band there covers (0: none) out."""
        banded = fraction >= config.band_blue_fraction
        if not banded[:edge].any():
            return 0
        start = int(np.argmax(banded[:edge]))
        gaps = np.flatnonzero(~banded[start:])
        end = start + (int(gaps[0]) if gaps.size else banded.size - start)
        # The band's blurred inner edge is blue in fewer rows: it goes with the band.
        while end < fraction.size and fraction[end] >= config.band_blue_fraction / 3:
            end += 1
        return end if end - start >= 2 and end <= widest else 0

    return run_from(fractions), width - run_from(fractions[::-1])


def without_country_band(plate: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """(H, W, 3) uint8 BGR plate in, a copy with its country bands (see country_band_columns) painted in the plate's median colour out (the plate itself without one)."""
    first, end = country_band_columns(plate, config)
    if (first, end) == (0, plate.shape[1]) or end <= first:
        return plate
    painted = plate.copy()
    background = np.median(plate[:, first:end].reshape(-1, 3), axis=0).astype(np.uint8)
    painted[:, :first] = background
    painted[:, end:] = background
    return painted


def candidate_variants(
    plate: np.ndarray, config: SegmentationConfig, character_height: tuple[float, float], country_band: bool = False
) -> list[Candidates]:
    """(H, W, 3) or (H, W) uint8 plate and the region's character height fractions in, the candidate components of every polarity and threshold offset out.

    country_band: the region's plates carry a country band, which is painted out first (without_country_band).
    """
    if country_band:
        plate = without_country_band(plate, config)
    resized, scale = resize_plate(plate, config)
    contrast = local_contrast(resized, config)
    return [threshold_candidates(resized, contrast, scale, p, o, config, character_height) for p, o in threshold_settings(config)]
