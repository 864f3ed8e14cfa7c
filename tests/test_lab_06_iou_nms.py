"""Lab 06: each checker rejects plausible wrong answers."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

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


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    import tensorflow as tf
    from pycocotools import mask as coco_mask

    from utils.detection import boxes as course_boxes

    def coco_iou(a, b):
        xywh = lambda q: np.concatenate([q[:, :2], q[:, 2:] - q[:, :2]], 1).astype(float)  # noqa: E731
        return np.asarray(coco_mask.iou(xywh(a), xywh(b), [0] * len(b))) if len(a) and len(b) \
            else np.zeros((len(a), len(b)))

    def course_iou(a, b):
        return course_boxes.iou(a, b)

    def tensorflow_nms(boxes, scores, iou_threshold, max_outputs):
        return tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, max_outputs,
                                            iou_threshold).numpy()

    def course_nms(boxes, scores, iou_threshold, max_outputs):
        return course_boxes.nms(boxes, scores, iou_threshold, max_outputs)

    assert_shortcut_rejected(LAB, "iou", coco_iou)
    assert_shortcut_rejected(LAB, "iou", course_iou)
    assert_shortcut_rejected(LAB, "nms", tensorflow_nms)
    assert_shortcut_rejected(LAB, "nms", course_nms)


def test_boundaries_are_visited(solution):
    right_iou, right_nms, right_batched = solution["iou"], solution["non_max_suppression"], solution["batched_nms"]

    def iou_without_empty_case(a, b):
        if len(a) == 0 or len(b) == 0:
            return np.zeros((0, 0))  # forgets that the result is still [N, M]
        return right_iou(a, b)

    def nms_that_needs_a_box(boxes, scores, iou_threshold, max_outputs):
        order = np.argsort(-scores)
        first = order[0]  # IndexError when there is no box
        return right_nms(boxes, scores, iou_threshold, max_outputs) if first >= 0 else []

    def labels_as_positions(boxes, scores, classes, iou_threshold):
        # per-class loop over range(classes.max() + 1) with np.bincount-style indexing: works
        # for labels 0..K-1, breaks when labels have gaps
        counts = np.bincount(classes)
        if np.any(counts == 0):
            return right_batched(boxes, scores, np.searchsorted(np.unique(classes), classes) * 0, iou_threshold)
        return right_batched(boxes, scores, classes, iou_threshold)

    assert_rejected(LAB, "iou", iou_without_empty_case, r"wrong shape for 0 random boxes against 4")
    assert_rejected(LAB, "nms", nms_that_needs_a_box, r"no boxes at all")
    assert_rejected(LAB, "batched_nms", labels_as_positions, r"classes|kept indices")


def test_known_mistakes_are_named(solution):
    def plus_one_pixel(a, b):
        w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + 1, 0, None)
        h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + 1, 0, None)
        area = lambda q: (q[:, 2] - q[:, 0] + 1) * (q[:, 3] - q[:, 1] + 1)  # noqa: E731
        return w * h / (area(a)[:, None] + area(b)[None, :] - w * h)

    def grouped_by_class(boxes, scores, classes, iou_threshold):
        kept = []
        for label in np.unique(classes):
            members = np.flatnonzero(classes == label)
            kept.extend(members[solution["non_max_suppression"](boxes[members], scores[members],
                                                                iou_threshold, len(members))])
        return np.array(kept, int)

    def suppressed_boxes_suppress_too(boxes, scores, classes, iou_threshold):
        return solution["non_max_suppression"](boxes, scores, iou_threshold, len(boxes))

    assert_mistake_named(LAB, "iou", lambda a, b: plus_one_pixel(a, b) if len(a) > 1 else solution["iou"](a, b),
                         r"\+1 \(the old pixel-inclusive")
    assert_mistake_named(LAB, "batched_nms", grouped_by_class, r"class by class")
    assert_mistake_named(LAB, "batched_nms", suppressed_boxes_suppress_too, r"classes were ignored")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
