"""Lab 06: each checker rejects plausible wrong answers."""

import numpy as np
import pytest

from test_lab_framework import assert_rejected, solution_namespace

LAB = "06_iou_nms"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def _iou_from(top_left, bottom_right, boxes_a, boxes_b, plus_one=0.0, clamp=True, subtract=True):
    extent = bottom_right - top_left + plus_one
    if clamp:
        extent = np.clip(extent, 0, None)
    intersection = extent[..., 0] * extent[..., 1]
    area = lambda b: (b[:, 2] - b[:, 0] + plus_one) * (b[:, 3] - b[:, 1] + plus_one)  # noqa: E731
    union = area(boxes_a)[:, None] + area(boxes_b)[None, :] - (intersection if subtract else 0)
    return intersection / union


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_iou_rejects():
    def corners(a, b):
        return (np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:]))

    def plus_one_pixel(a, b):
        return _iou_from(*corners(a, b), a, b, plus_one=1.0)

    def no_clamp(a, b):
        return _iou_from(*corners(a, b), a, b, clamp=False)

    def union_without_subtracting(a, b):
        return _iou_from(*corners(a, b), a, b, subtract=False)

    def min_and_max_swapped(a, b):
        top_left = np.minimum(a[:, None, :2], b[None, :, :2])
        bottom_right = np.maximum(a[:, None, 2:], b[None, :, 2:])
        return _iou_from(top_left, bottom_right, a, b)

    def reads_x_min_x_max_y_min_y_max(a, b):
        return _iou_from(*corners(a[:, [0, 2, 1, 3]], b[:, [0, 2, 1, 3]]),
                         a[:, [0, 2, 1, 3]], b[:, [0, 2, 1, 3]])

    assert_rejected(LAB, "iou", plus_one_pixel, r"identical|wrong values")
    assert_rejected(LAB, "iou", no_clamp, r"the pair \[0.0, 0.0, 10.0, 10.0\] and \[20.0, 20.0")
    assert_rejected(LAB, "iou", union_without_subtracting, r"expected 1, got 0.5")
    assert_rejected(LAB, "iou", min_and_max_swapped, r"wrong values")
    assert_rejected(LAB, "iou", reads_x_min_x_max_y_min_y_max, r"wrong values|NaN")


def test_nms_rejects(solution):
    iou = solution["iou"]

    def greedy(boxes, scores, threshold, max_outputs, order=None, suppress=lambda o, t: o > t,
               by_all=False):
        order = np.argsort(-scores) if order is None else order
        overlaps = iou(boxes, boxes)
        kept, visited = [], []
        for index in order:
            if len(kept) == max_outputs:
                break
            against = visited if by_all else kept
            if not any(suppress(overlaps[index, other], threshold) for other in against):
                kept.append(index)
            visited.append(index)
        return np.array(kept)

    def input_order(boxes, scores, threshold, max_outputs):
        return greedy(boxes, scores, threshold, max_outputs, order=np.arange(len(scores)))

    def suppressed_boxes_suppress_too(boxes, scores, threshold, max_outputs):
        return greedy(boxes, scores, threshold, max_outputs, by_all=True)

    def suppresses_at_equal_iou(boxes, scores, threshold, max_outputs):
        return greedy(boxes, scores, threshold, max_outputs, suppress=lambda o, t: o >= t)

    def ignores_max_outputs(boxes, scores, threshold, max_outputs):
        return greedy(boxes, scores, threshold, 10**6)

    def ascending_indices(boxes, scores, threshold, max_outputs):
        return np.sort(greedy(boxes, scores, threshold, max_outputs))

    assert_rejected(LAB, "nms", input_order, r"kept indices is wrong")
    assert_rejected(LAB, "nms", suppressed_boxes_suppress_too, r"clusters.*expected 17 entries, got 16")
    assert_rejected(LAB, "nms", suppresses_at_equal_iou, r"IoU exactly 0.5")
    assert_rejected(LAB, "nms", ignores_max_outputs, r"max_outputs 3: expected 3 entries")
    assert_rejected(LAB, "nms", ascending_indices, r"first difference")


def test_batched_nms_rejects(solution):
    nms = solution["non_max_suppression"]
    right = solution["batched_nms"]

    def class_agnostic(boxes, scores, classes, threshold):
        return nms(boxes, scores, threshold, len(boxes))

    def grouped_by_class(boxes, scores, classes, threshold):
        kept = []
        for label in np.unique(classes):
            members = np.flatnonzero(classes == label)
            kept.extend(members[nms(boxes[members], scores[members], threshold, len(members))])
        return np.array(kept)

    def positions_within_class(boxes, scores, classes, threshold):
        kept = []
        for label in np.unique(classes):
            members = np.flatnonzero(classes == label)
            kept.extend(nms(boxes[members], scores[members], threshold, len(members)))
        return np.array(kept)

    def first_class_only(boxes, scores, classes, threshold):
        kept = right(boxes, scores, classes, threshold)
        return kept[classes[kept] == classes.min()]

    assert_rejected(LAB, "batched_nms", class_agnostic, r"2 classes")
    assert_rejected(LAB, "batched_nms", grouped_by_class, r"kept indices is wrong")
    assert_rejected(LAB, "batched_nms", positions_within_class, r"kept indices is wrong")
    assert_rejected(LAB, "batched_nms", first_class_only, r"expected \d+ entries")
