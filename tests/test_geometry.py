"""lpr.geometry: boxes, overlap, scaling, clipping, union and non-maximum suppression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpr.geometry import Box, iou_matrix, non_max_suppression, union_box


def test_area_and_aspect():
    assert Box(3, 4, 10, 5).area == 50
    assert Box(0, 0, -4, 5).area == 0  # a degenerate box has no area, never a negative one
    assert Box(0, 0, 10, 5).aspect == 2.0
    assert Box(0, 0, 10, 0).aspect == 0.0


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (Box(0, 0, 10, 10), 1.0),
        (Box(5, 0, 10, 10), 50 / 150),
        (Box(0, 0, 5, 5), 25 / 100),
        (Box(10, 0, 10, 10), 0.0),  # touching edges share no pixel
        (Box(50, 50, 3, 3), 0.0),
    ],
)
def test_iou_known_values(other, expected):
    box = Box(0, 0, 10, 10)
    assert box.iou(other) == pytest.approx(expected)
    assert other.iou(box) == pytest.approx(expected)


def test_iou_of_empty_boxes_is_zero():
    assert Box(0, 0, 0, 0).iou(Box(0, 0, 0, 0)) == 0.0


def test_scaled_and_shifted():
    assert Box(10, 20, 30, 40).scaled(0.5) == Box(5, 10, 15, 20)
    assert Box(10, 20, 30, 40).scaled(2) == Box(20, 40, 60, 80)
    assert Box(10, 20, 30, 40).shifted(-10, 5) == Box(0, 25, 30, 40)


def test_expanded_grows_each_side_and_clips_to_image():
    assert Box(10, 10, 20, 10).expanded(0.5, 0.5, 100, 100) == Box(0, 5, 40, 20)
    assert Box(90, 90, 20, 20).expanded(0.5, 0.5, 100, 100) == Box(80, 80, 20, 20)


def test_to_list_and_union():
    assert Box(1, 2, 3, 4).to_list() == [1, 2, 3, 4]
    assert union_box([Box(0, 0, 2, 2), Box(5, 6, 1, 1)]) == Box(0, 0, 6, 7)
    assert union_box([Box(3, 3, 4, 4)]) == Box(3, 3, 4, 4)


def test_non_max_suppression_keeps_best_of_each_cluster():
    boxes = [Box(0, 0, 10, 10), Box(1, 0, 10, 10), Box(100, 100, 10, 10), Box(2, 1, 10, 10)]
    scores = [0.5, 0.9, 0.3, 0.1]
    assert non_max_suppression(boxes, scores, 0.3) == [1, 2]
    # With a threshold above every overlap nothing is dropped, best score first.
    assert non_max_suppression(boxes, scores, 1.0) == [1, 0, 2, 3]
    assert non_max_suppression([], [], 0.3) == []


boxes = st.builds(Box, st.integers(-5, 60), st.integers(-5, 60), st.integers(-3, 40), st.integers(-3, 40))


@given(st.lists(boxes, max_size=12), st.lists(boxes, max_size=6))
def test_iou_matrix_is_box_iou_of_every_pair(first, second):
    matrix = iou_matrix(first, second)
    assert matrix.shape == (len(first), len(second))
    assert all(matrix[i, j] == a.iou(b) for i, a in enumerate(first) for j, b in enumerate(second))


@given(st.lists(st.tuples(boxes, st.sampled_from([0.1, 0.5, 0.9])), max_size=15), st.sampled_from([0.0, 0.3, 0.7, 1.0]))
def test_non_max_suppression_is_the_greedy_rule(scored, max_iou):
    """Best first, a box is kept exactly when it overlaps no kept box by more than max_iou (ties keep the earlier box)."""
    boxes_given, scores = [b for b, _ in scored], [s for _, s in scored]
    kept: list[int] = []
    for i in sorted(range(len(boxes_given)), key=lambda i: -scores[i]):
        if all(boxes_given[i].iou(boxes_given[k]) <= max_iou for k in kept):
            kept.append(i)
    assert non_max_suppression(boxes_given, scores, max_iou) == kept


def test_centre_and_contains():
    box = Box(10, 20, 30, 40)
    assert box.centre == (25.0, 40.0)
    assert box.contains((10, 20)) and box.contains((40, 60)) and box.contains(box.centre)
    assert not box.contains((9.9, 30)) and not box.contains((25, 60.5))
