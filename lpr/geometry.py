"""Axis-aligned boxes in pixel coordinates, shared by every stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box: top-left corner (x, y), width w and height h in pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.w / self.h if self.h else 0.0

    def iou(self, other: Box) -> float:
        """Intersection over union with another box, in [0, 1]."""
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    @property
    def centre(self) -> tuple[float, float]:
        """The (x, y) centre in pixels."""
        return self.x + self.w / 2, self.y + self.h / 2

    def contains(self, point: tuple[float, float]) -> bool:
        """Whether the (x, y) point lies inside the box (edges included)."""
        return self.x <= point[0] <= self.x + self.w and self.y <= point[1] <= self.y + self.h

    def scaled(self, factor: float) -> Box:
        """The same box in an image resized by factor."""
        return Box(round(self.x * factor), round(self.y * factor), round(self.w * factor), round(self.h * factor))

    def shifted(self, dx: int, dy: int) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def expanded(self, fx: float, fy: float, width: int, height: int) -> Box:
        """Grown by fractions fx, fy of its size on each side, clipped to a width x height image."""
        x0 = max(0, int(round(self.x - fx * self.w)))
        y0 = max(0, int(round(self.y - fy * self.h)))
        x1 = min(width, int(round(self.x + self.w + fx * self.w)))
        y1 = min(height, int(round(self.y + self.h + fy * self.h)))
        return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def to_list(self) -> list[int]:
        return [int(self.x), int(self.y), int(self.w), int(self.h)]


def union_box(boxes: list[Box]) -> Box:
    """The smallest box containing every box given (at least one)."""
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


def iou_matrix(first: list[Box], second: list[Box]) -> np.ndarray:
    """n and m boxes in, the (n, m) float64 matrix of their intersections over unions out (Box.iou's arithmetic)."""
    a = np.array([(b.x, b.y, b.w, b.h) for b in first], np.int64).reshape(-1, 4)
    b = np.array([(b.x, b.y, b.w, b.h) for b in second], np.int64).reshape(-1, 4)
    ix = np.maximum(0, np.minimum((a[:, 0] + a[:, 2])[:, None], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0][:, None], b[:, 0]))
    iy = np.maximum(0, np.minimum((a[:, 1] + a[:, 3])[:, None], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1][:, None], b[:, 1]))
    inter = ix * iy
    area_a = np.maximum(a[:, 2], 0) * np.maximum(a[:, 3], 0)
    area_b = np.maximum(b[:, 2], 0) * np.maximum(b[:, 3], 0)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros(inter.shape), where=union > 0)


def non_max_suppression(boxes: list[Box], scores: list[float], max_iou: float) -> list[int]:
    """Indices of the boxes kept, best score first, dropping any overlapping a kept one by more than max_iou."""
    # One IoU matrix instead of a Python loop over pairs: localization suppresses hundreds of blobs a frame.
    overlaps = iou_matrix(boxes, boxes)
    suppressed = np.zeros(len(boxes), bool)
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: -scores[i]):
        if not suppressed[i]:
            kept.append(i)
            suppressed |= overlaps[i] > max_iou
    return kept
