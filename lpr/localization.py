"""Plate localization: a BGR scene in, plate candidate boxes out, by classic morphology."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import imutils
import numpy as np

from .config import LocalizationConfig
from .geometry import Box, non_max_suppression


@dataclass(frozen=True)
class PlateCandidate:
    """A region of the scene that may hold a plate; score ranks candidates (higher first)."""

    box: Box
    score: float


@dataclass(frozen=True)
class MorphologySteps:
    """The intermediate images of plate localization at one working scale, all (H, W) uint8."""

    gray: np.ndarray
    blackhat: np.ndarray
    light_mask: np.ndarray
    gradient: np.ndarray
    closed: np.ndarray
    plate_mask: np.ndarray


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR or (H, W) gray uint8 in, (H, W) uint8 gray out."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def morphology_steps(gray: np.ndarray, config: LocalizationConfig) -> MorphologySteps:
    """(H, W) uint8 gray in, every morphology step of the plate mask out."""
    rect_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.blackhat_kernel)
    # Blackhat reveals dark characters against the light plate around them.
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, rect_kernel)

    light_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.light_kernel)
    light = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, light_kernel)
    _, light_mask = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)

    # Character edges are mostly vertical, so the horizontal Scharr gradient marks text.
    grad = np.abs(cv2.Scharr(blackhat, cv2.CV_32F, 1, 0))
    low, high = float(grad.min()), float(grad.max())
    gradient = ((grad - low) / (high - low + 1e-6) * 255).astype(np.uint8)

    gradient_blur = cv2.GaussianBlur(gradient, (5, 5), 0)
    close_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, config.closing_kernel)
    closed = cv2.morphologyEx(gradient_blur, cv2.MORPH_CLOSE, close_kernel)
    _, closed = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)

    mask = cv2.erode(closed, None, iterations=config.erode_iterations)
    mask = cv2.dilate(mask, None, iterations=config.dilate_iterations)
    # Keep text that sits on a light region (the plate), then smooth the blob outline.
    mask = cv2.bitwise_and(mask, mask, mask=light_mask)
    mask = cv2.dilate(mask, None, iterations=config.dilate_iterations)
    mask = cv2.erode(mask, None, iterations=1)
    return MorphologySteps(gray, blackhat, light_mask, gradient, closed, mask)


def mask_candidates(mask: np.ndarray, config: LocalizationConfig) -> list[PlateCandidate]:
    """(H, W) uint8 blob mask in, boxes of plate-shaped blobs out (in mask coordinates)."""
    contours = imutils.grab_contours(cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE))
    candidates = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (config.min_width <= w <= config.max_width and h >= config.min_height):
            continue
        aspect = w / h
        if not (config.min_aspect <= aspect <= config.max_aspect):
            continue
        # A plate's text blob fills most of its bounding box; thin diagonal edges do not.
        fill = cv2.contourArea(contour) / float(w * h)
        candidates.append(PlateCandidate(Box(x, y, w, h), fill))
    return candidates


def plate_candidates(image: np.ndarray, config: LocalizationConfig) -> list[PlateCandidate]:
    """(H, W, 3) BGR or (H, W) gray uint8 scene in, plate candidates in scene pixels out, best first."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"expected a non-empty (H, W) or (H, W, 3) image, got shape {image.shape}")
    gray = to_gray(image)
    found: list[PlateCandidate] = []
    for scale in config.scales:
        work = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if min(work.shape) < config.min_height:
            continue
        steps = morphology_steps(work, config)
        for candidate in mask_candidates(steps.plate_mask, config):
            found.append(PlateCandidate(candidate.box.scaled(1.0 / scale), candidate.score))
    kept = non_max_suppression([c.box for c in found], [c.score for c in found], config.nms_iou)
    return [found[i] for i in kept[: config.max_candidates]]
