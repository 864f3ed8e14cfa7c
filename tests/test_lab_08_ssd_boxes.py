"""Lab 08: each checker rejects plausible wrong answers."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "08_ssd_boxes"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_ssd_scales_rejects():
    def divides_by_m(num_maps, s_min, s_max):
        return s_min + (s_max - s_min) * np.arange(num_maps) / num_maps

    def one_based_k(num_maps, s_min, s_max):
        return s_min + (s_max - s_min) * np.arange(1, num_maps + 1) / (num_maps - 1)

    def geometric(num_maps, s_min, s_max):
        return np.geomspace(s_min, s_max, num_maps)

    for wrong in (divides_by_m, one_based_k, geometric):
        assert_rejected(LAB, "ssd_scales", wrong, r"ssd_scales has wrong values")


def _boxes(size, widths, heights, offset=0.5, swap=False):
    boxes = []
    for row in range(size):
        for column in range(size):
            cx, cy = (column + offset) / size, (row + offset) / size
            if swap:
                cx, cy = cy, cx
            boxes.extend([cx, cy, w, h] for w, h in zip(widths, heights))
    return np.array(boxes)


def _shapes(scale, next_scale, ratios, extra=True, flip=False):
    r = np.asarray(ratios, float)
    widths, heights = scale * np.sqrt(r), scale / np.sqrt(r)
    if flip:
        widths, heights = heights, widths
    if extra:
        widths = np.append(widths, np.sqrt(scale * next_scale))
        heights = np.append(heights, np.sqrt(scale * next_scale))
    return widths, heights


def test_default_boxes_rejects():
    def centres_at_cell_corner(size, scale, next_scale, ratios):
        return _boxes(size, *_shapes(scale, next_scale, ratios), offset=0.0)

    def x_from_row(size, scale, next_scale, ratios):
        return _boxes(size, *_shapes(scale, next_scale, ratios), swap=True)

    def width_and_height_swapped(size, scale, next_scale, ratios):
        return _boxes(size, *_shapes(scale, next_scale, ratios, flip=True))

    def no_extra_box(size, scale, next_scale, ratios):
        return _boxes(size, *_shapes(scale, next_scale, ratios, extra=False))

    def extra_box_at_next_scale(size, scale, next_scale, ratios):
        widths, heights = _shapes(scale, next_scale, ratios)
        widths[-1] = heights[-1] = next_scale
        return _boxes(size, widths, heights)

    assert_rejected(LAB, "default_boxes", centres_at_cell_corner, r"wrong values")
    assert_rejected(LAB, "default_boxes", x_from_row, r"wrong values for size 3")
    assert_rejected(LAB, "default_boxes", width_and_height_swapped, r"wrong values")
    assert_rejected(LAB, "default_boxes", no_extra_box, r"wrong shape.*expected \(36, 4\), got \(27, 4\)")
    assert_rejected(LAB, "default_boxes", extra_box_at_next_scale, r"wrong values")


def test_encode_decode_rejects(solution):
    encode, decode = solution["encode"], solution["decode"]

    def no_variances(boxes, defaults, variances):
        return encode(boxes, defaults, (1.0, 1.0))

    def linear_size(boxes, defaults, variances):
        offsets = encode(boxes, defaults, variances)
        offsets[:, 2:] = (boxes[:, 2:] / defaults[:, 2:] - 1) / variances[1]
        return offsets

    def x_divided_by_height(boxes, defaults, variances):
        offsets = encode(boxes, defaults, variances)
        offsets[:, :2] = (boxes[:, :2] - defaults[:, :2]) / defaults[:, [3, 2]] / variances[0]
        return offsets

    def variances_swapped(boxes, defaults, variances):
        return encode(boxes, defaults, variances[::-1])

    def decode_without_exp(offsets, defaults, variances):
        boxes = decode(offsets, defaults, variances)
        boxes[:, 2:] = offsets[:, 2:] * variances[1] * defaults[:, 2:]
        return boxes

    assert_rejected(LAB, "encode_decode", no_variances, r"encode\(boxes, defaults\) has wrong values for 6 boxes", decode)
    assert_rejected(LAB, "encode_decode", linear_size, r"encode.*wrong values", decode)
    assert_rejected(LAB, "encode_decode", x_divided_by_height, r"encode.*wrong values", decode)
    assert_rejected(LAB, "encode_decode", variances_swapped, r"encode.*wrong values", decode)
    assert_rejected(LAB, "encode_decode", encode, r"decode\(offsets, defaults\)", decode_without_exp)


def test_match_rejects(solution):
    box_iou = solution["box_iou"]

    def threshold_only(gt_boxes, defaults, threshold):
        overlaps = box_iou(defaults, gt_boxes)
        return np.where(overlaps.max(axis=1) >= threshold, overlaps.argmax(axis=1), -1)

    def no_threshold(gt_boxes, defaults, threshold):
        return box_iou(defaults, gt_boxes).argmax(axis=1)

    def forced_first_then_threshold(gt_boxes, defaults, threshold):
        overlaps = box_iou(defaults, gt_boxes)
        matches = np.full(len(defaults), -1)
        for index in range(len(gt_boxes)):
            matches[overlaps[:, index].argmax()] = index
        good = overlaps.max(axis=1) >= threshold
        matches[good] = overlaps.argmax(axis=1)[good]
        return matches

    def best_default_only(gt_boxes, defaults, threshold):
        overlaps = box_iou(defaults, gt_boxes)
        matches = np.full(len(defaults), -1)
        for index in range(len(gt_boxes)):
            matches[overlaps[:, index].argmax()] = index
        return matches

    assert_rejected(LAB, "match", threshold_only, r"matches has wrong values.*expected 1, got -1")
    assert_rejected(LAB, "match", no_threshold, r"matches has wrong values")
    assert_rejected(LAB, "match", forced_first_then_threshold, r"two objects that want the same default box")
    assert_rejected(LAB, "match", best_default_only, r"matches has wrong values")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    from utils.detection import anchors

    def course_encode(boxes, defaults, variances):
        corners = lambda b: np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], 1)  # noqa: E731
        return anchors.encode_boxes(corners(boxes), corners(defaults), variances)

    def course_match(gt_boxes, defaults, threshold):
        return anchors.match_anchors(gt_boxes, defaults, threshold)

    assert_shortcut_rejected(LAB, "encode_decode", course_encode, solution["decode"])
    assert_shortcut_rejected(LAB, "match", course_match)


def test_boundary_image_without_objects(solution):
    right = solution["match_default_boxes"]

    def needs_an_object(gt_boxes, defaults, threshold):
        if len(gt_boxes) == 0:
            raise ValueError("attempt to get argmax of an empty sequence")
        return right(gt_boxes, defaults, threshold)

    assert_rejected(LAB, "match", needs_an_object, r"an image with no objects")


def test_known_mistakes_are_named(solution):
    def no_variances(boxes, defaults, variances):
        return solution["encode"](boxes, defaults, (1.0, 1.0))

    assert_mistake_named(LAB, "encode_decode", no_variances, r"not divided by the variances",
                         solution["decode"])


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
