"""Plate localization: a BGR scene in, plate candidate boxes out, by classic morphology."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import imutils
import numpy as np

from .config import LocalizationConfig
from .geometry import Box, iou_matrix, non_max_suppression, union_box
from .region import PlateGeometry


@dataclass(frozen=True)
class PlateCandidate:
    """A region of the scene that may hold a plate; score ranks candidates (higher first)."""

    box: Box
    score: float


@dataclass(frozen=True)
class MorphologySteps:
    """The intermediate images of plate localization at one working scale, all (H, W) uint8.

    closed and plate_mask hold one image per LocalizationConfig.gradient_levels entry.
    """

    gray: np.ndarray
    blackhat: np.ndarray
    light_mask: np.ndarray
    gradient: np.ndarray
    closed: tuple[np.ndarray, ...]
    plate_mask: tuple[np.ndarray, ...]


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR or (H, W) gray uint8 in, (H, W) uint8 gray out."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


# Computes only the Otsu level when the installed OpenCV can (4.11+): the binary image is not needed.
_OTSU_LEVEL_ONLY = cv2.THRESH_BINARY | cv2.THRESH_OTSU | getattr(cv2, "THRESH_DRYRUN", 0)


def text_steps(gray: np.ndarray, config: LocalizationConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(H, W) uint8 gray at one working scale in, (blackhat, light_mask, gradient, closed text, its Otsu level) out: all (H, W) uint8 but the level."""
    rect_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.blackhat_kernel)
    # Blackhat reveals dark characters against the light plate around them.
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, rect_kernel)

    light_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.light_kernel)
    light = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, light_kernel)
    if config.light_window > 0:
        # "Light" is relative to the surroundings, so a plate in shadow still counts.
        local = cv2.blur(light, (config.light_window, config.light_window))
        light_mask = cv2.compare(light, cv2.convertScaleAbs(local, alpha=config.light_ratio), cv2.CMP_GE)
    else:
        _, light_mask = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)

    # Character edges are mostly vertical, so the horizontal Scharr gradient marks text.
    # Of uint8 pixels it is an integer of at most 16 * 255 in size: int16 holds it exactly,
    # and is cheaper to compute, search and scale than float32 (the same values).
    grad = cv2.Scharr(blackhat, cv2.CV_16S, 1, 0)
    high = cv2.norm(grad, cv2.NORM_INF)
    # |gradient| scaled to 0-255 in one pass (flat areas make its minimum 0).
    gradient = cv2.convertScaleAbs(grad, alpha=255.0 / (high + 1e-6))

    gradient_blur = cv2.GaussianBlur(gradient, (5, 5), 0)
    close_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.closing_kernel)
    text = cv2.morphologyEx(gradient_blur, cv2.MORPH_CLOSE, close_kernel)
    otsu, _ = cv2.threshold(text, 0, 255, _OTSU_LEVEL_ONLY)
    return blackhat, light_mask, gradient, text, otsu


def plate_masks(text: np.ndarray, otsu: float, light_mask: np.ndarray, config: LocalizationConfig) -> tuple[np.ndarray, ...]:
    """(H, W) uint8 closed text, its Otsu level and the light-region mask in, the (H, W) uint8 plate_mask of every gradient level out."""
    # Erosion and dilation are min and max filters, which commute with a threshold, and
    # masked-out pixels (0) stay below every level: cleaning the gray text once and
    # thresholding it per level gives each level's plate_mask at the cost of one.
    cleaned = plate_mask(text, light_mask, config)
    return tuple(cv2.threshold(cleaned, otsu * level, 255, cv2.THRESH_BINARY)[1] for level in config.gradient_levels)


def morphology_steps(gray: np.ndarray, config: LocalizationConfig) -> MorphologySteps:
    """(H, W) uint8 gray at one working scale (see working_images) in, every morphology step of the plate masks out."""
    blackhat, light_mask, gradient, text, otsu = text_steps(gray, config)
    closed = tuple(cv2.threshold(text, otsu * level, 255, cv2.THRESH_BINARY)[1] for level in config.gradient_levels)
    return MorphologySteps(gray, blackhat, light_mask, gradient, closed, plate_masks(text, otsu, light_mask, config))


def plate_mask(closed: np.ndarray, light_mask: np.ndarray, config: LocalizationConfig) -> np.ndarray:
    """(H, W) uint8 thresholded text mask and light-region mask in, the (H, W) uint8 mask of text blobs on light regions out."""
    mask = cv2.erode(closed, None, iterations=config.erode_iterations)
    mask = cv2.dilate(mask, None, iterations=config.dilate_iterations)
    # Keep text that sits on a light region (the plate), then smooth the blob outline.
    mask = cv2.bitwise_and(mask, mask, mask=light_mask)
    mask = cv2.dilate(mask, None, iterations=config.dilate_iterations)
    return cv2.erode(mask, None, iterations=1)


def _blobs(mask: np.ndarray, min_height: int) -> list[tuple[Box, float]]:
    """(H, W) uint8 blob mask in, (bounding box, contour area) of every blob at least min_height tall out."""
    contours = imutils.grab_contours(cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE))
    blobs = []
    for contour in contours:
        box = Box(*cv2.boundingRect(contour))
        if box.h >= min_height:
            blobs.append((box, cv2.contourArea(contour)))
    return blobs


def joined_pairs(boxes: np.ndarray, config: LocalizationConfig) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) int x, y, w, h blob boxes sorted by x in, index arrays (left, right) of the pairs that look like two halves of one character row out.

    Two blobs join when they share a line (vertical overlap at least join_overlap of the
    lower one), have similar heights (within join_height_ratio) and a small gap (overlap
    up to the lower height, or at most join_gap times the taller height apart).
    """
    x, y, w, h = (boxes[:, i].astype(np.float64) for i in range(4))
    # Sorted by x, a blob's partners start before its right end plus the largest gap allowed.
    reach = x + w + config.join_gap * h.max(initial=0.0)
    last = np.searchsorted(x, reach, side="right")
    counts = np.maximum(last - np.arange(len(x)) - 1, 0)
    left = np.repeat(np.arange(len(x)), counts)
    right = left + 1 + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    low, high = np.minimum(h[left], h[right]), np.maximum(h[left], h[right])
    overlap = np.minimum(y[left] + h[left], y[right] + h[right]) - np.maximum(y[left], y[right])
    gap = x[right] - (x[left] + w[left])
    keep = (high <= config.join_height_ratio * low) & (overlap >= config.join_overlap * low) & (-low <= gap) & (gap <= config.join_gap * high)
    return left[keep], right[keep]


def mask_candidates(mask: np.ndarray, config: LocalizationConfig, plate_aspect: tuple[float, float]) -> list[PlateCandidate]:
    """(H, W) uint8 blob mask and the region's (lowest, highest) plate aspect in, boxes of plate-shaped blobs (and of joined blob pairs) out, in mask coordinates."""
    blobs = sorted(_blobs(mask, config.min_height), key=lambda b: b[0].x)
    # A plate's gap, logo or bolt often splits its characters into two blobs; their union is a candidate too.
    left, right = joined_pairs(np.array([(b.x, b.y, b.w, b.h) for b, _ in blobs], dtype=np.int64).reshape(-1, 4), config)
    joined = [(union_box([blobs[i][0], blobs[j][0]]), blobs[i][1] + blobs[j][1]) for i, j in zip(left.tolist(), right.tolist())]
    candidates = []
    for box, area in blobs + joined:
        if not (config.min_width <= box.w <= config.max_width and plate_aspect[0] <= box.aspect <= plate_aspect[1]):
            continue
        # A plate's text blob fills most of its bounding box; thin diagonal edges do not.
        candidates.append(PlateCandidate(box, area / float(box.area)))
    return candidates


def frame_scale(shape: tuple[int, ...], max_side: int) -> float:
    """An image shape (H, W, ...) and the longest side searched (0 = no limit) in, the factor (<= 1) the frame is shrunk by out."""
    longest = max(shape[:2])
    return 1.0 if max_side <= 0 or longest <= max_side else max_side / longest


def working_images(gray: np.ndarray, config: LocalizationConfig) -> list[tuple[float, np.ndarray]]:
    """(H, W) uint8 gray scene in, (scale relative to the scene, equalized gray at that scale) for every working scale out."""
    # The frame is shrunk once, to its largest working scale (and at most max_side), and
    # equalized there: a search that needs no full-resolution pass never pays for one.
    first = min(1.0, max(config.scales))
    frame = frame_scale(gray.shape, config.max_side) * first
    if frame < 1.0:
        # An explicit size of at least one pixel: a 1-pixel side times the factor rounds to 0.
        size = (max(1, round(gray.shape[1] * frame)), max(1, round(gray.shape[0] * frame)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if config.clahe_clip > 0:
        # Plates in shadow or under a dark bumper have a fraction of the contrast of the
        # brightest text in the frame; local equalization lets global thresholds find them.
        gray = cv2.createCLAHE(clipLimit=config.clahe_clip, tileGridSize=config.clahe_grid).apply(gray)
    working = []
    for scale in config.scales:
        relative = scale / first
        # Checked before resizing: a side that rounds to 0 pixels makes cv2.resize fail.
        if min(gray.shape) * relative < config.min_height:
            continue
        work = gray if relative == 1.0 else cv2.resize(gray, None, fx=relative, fy=relative, interpolation=cv2.INTER_AREA)
        if min(work.shape) >= config.min_height:
            working.append((relative * frame, work))
    return working


def plate_candidates(
    image: np.ndarray, config: LocalizationConfig, geometry: PlateGeometry | None = None, limit: int | None = None
) -> list[PlateCandidate]:
    """(H, W, 3) BGR or (H, W) gray uint8 scene, the region's plate geometry (default: PlateGeometry()) and a count in, the best limit (all: None) plate candidates in scene pixels out, best first."""
    aspect = (geometry or PlateGeometry()).plate_aspect
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) or image.size == 0:
        raise ValueError(f"expected a non-empty (H, W) or (H, W, 3) uint8 image, got {image.dtype} shape {image.shape}")
    per_level: list[list[PlateCandidate]] = [[] for _ in config.gradient_levels]
    for scale, work in working_images(to_gray(image), config):
        # morphology_steps without the per-level closed images, which only visualization shows.
        _, light_mask, _, text, otsu = text_steps(work, config)
        for found, mask in zip(per_level, plate_masks(text, otsu, light_mask, config)):
            found.extend(PlateCandidate(c.box.scaled(1.0 / scale), c.score) for c in mask_candidates(mask, config, aspect))
    # A higher level only adds blobs where the lower ones found none of that place: its
    # tighter blob of a plate fills its box better but cuts the plate's characters.
    kept: list[PlateCandidate] = []
    for found in per_level:
        best = [found[i] for i in non_max_suppression([c.box for c in found], [c.score for c in found], config.nms_iou)]
        overlaps = iou_matrix([c.box for c in best], [k.box for k in kept])
        kept.extend(c for c, row in zip(best, overlaps) if not (row > config.nms_iou).any())
    return sorted(kept, key=lambda c: -c.score)[:limit]
