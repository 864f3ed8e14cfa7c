"""Lab 13: each checker rejects plausible wrong answers: library shortcuts, boundary cases
(boxes outside the image, flipped boxes, one-row crops, tied anchors, no objects), with the
known mistakes named."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "13_rcnn_pieces"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def _bilinear(image, rows, columns):
    height, width = image.shape[:2]
    out = np.zeros((len(rows), len(columns), image.shape[2]))
    for i, y in enumerate(rows):
        for j, x in enumerate(columns):
            if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                continue
            top, left = int(np.floor(y)), int(np.floor(x))
            bottom, right = min(top + 1, height - 1), min(left + 1, width - 1)
            dy, dx = y - top, x - left
            out[i, j] = ((1 - dy) * ((1 - dx) * image[top, left] + dx * image[top, right])
                         + dy * ((1 - dx) * image[bottom, left] + dx * image[bottom, right]))
    return out


def test_crop_and_resize_rejects(solution):
    def positions(start, end, size, count, scale=None):
        scale = size - 1 if scale is None else scale
        if count == 1:
            return np.array([(start + end) * scale / 2])
        return start * scale + np.arange(count) * (end - start) * scale / (count - 1)

    def scaled_by_size(image, box, crop_size):
        y1, x1, y2, x2 = box
        return _bilinear(image, positions(y1, y2, image.shape[0], crop_size[0], image.shape[0]),
                         positions(x1, x2, image.shape[1], crop_size[1], image.shape[1]))

    def one_row_at_the_top(image, box, crop_size):  # linspace with one sample gives the start
        y1, x1, y2, x2 = box
        rows = np.linspace(y1, y2, crop_size[0]) * (image.shape[0] - 1)
        columns = np.linspace(x1, x2, crop_size[1]) * (image.shape[1] - 1)
        return _bilinear(image, rows, columns)

    def clamps_outside(image, box, crop_size):  # edge pixels repeated instead of 0
        y1, x1, y2, x2 = box
        rows = np.clip(positions(y1, y2, image.shape[0], crop_size[0]), 0, image.shape[0] - 1)
        columns = np.clip(positions(x1, x2, image.shape[1], crop_size[1]), 0, image.shape[1] - 1)
        return _bilinear(image, rows, columns)

    def sorts_the_box(image, box, crop_size):  # "fixes" a flipped box
        y1, x1, y2, x2 = box
        return solution["crop_and_resize"](image, (min(y1, y2), min(x1, x2), max(y1, y2), max(x1, x2)),
                                           crop_size)

    def nearest(image, box, crop_size):
        y1, x1, y2, x2 = box
        rows = np.floor(positions(y1, y2, image.shape[0], crop_size[0]) + 0.5)
        columns = np.floor(positions(x1, x2, image.shape[1], crop_size[1]) + 0.5)
        return _bilinear(image, rows, columns)

    def with_tensorflow(image, box, crop_size):
        import tensorflow as tf
        return tf.image.crop_and_resize(image[None], [list(box)], [0], list(crop_size)).numpy()[0]

    assert_mistake_named(LAB, "crop_and_resize", scaled_by_size, r"scaled by H and W instead of H - 1")
    assert_rejected(LAB, "crop_and_resize", one_row_at_the_top, r"crop_size \(1, 3\)")
    assert_rejected(LAB, "crop_and_resize", clamps_outside, r"box \[0.5, -0.25, 1.25, 0.5\]")
    assert_rejected(LAB, "crop_and_resize", sorts_the_box, r"box \[0.8, 0.7, 0.2, 0.1\]")
    assert_mistake_named(LAB, "crop_and_resize", nearest, r"nearest-neighbour")
    assert_shortcut_rejected(LAB, "crop_and_resize", with_tensorflow)


def test_roi_pool_rejects(solution):
    crop = solution["crop_and_resize"]

    def averages(feature_map, boxes, output_size):
        crops = [crop(feature_map, b, (2 * output_size, 2 * output_size)) for b in boxes]
        return np.stack([c.reshape(output_size, 2, output_size, 2, -1).mean(axis=(1, 3)) for c in crops])

    def no_pooling(feature_map, boxes, output_size):
        return np.stack([crop(feature_map, b, (output_size, output_size)) for b in boxes])

    def pools_wrong_axes(feature_map, boxes, output_size):  # reshape without splitting rows and columns
        crops = [crop(feature_map, b, (2 * output_size, 2 * output_size)) for b in boxes]
        return np.stack([c.reshape(output_size, output_size, 4, -1).max(axis=2) for c in crops])

    def keras_pooling(feature_map, boxes, output_size):
        import keras
        crops = np.stack([crop(feature_map, b, (2 * output_size, 2 * output_size)) for b in boxes])
        return np.asarray(keras.layers.MaxPooling2D(2)(crops))

    assert_mistake_named(LAB, "roi_pool", averages, r"blocks are averaged")
    assert_mistake_named(LAB, "roi_pool", no_pooling, r"without the 2x2 max pooling")
    assert_rejected(LAB, "roi_pool", pools_wrong_axes, r"roi_pool has wrong values")
    assert_shortcut_rejected(LAB, "roi_pool", keras_pooling)


def _labels(anchors, gt_boxes, positive, negative, iou, *, force=True, ties=True, ignore=True):
    if len(gt_boxes) == 0:
        return np.zeros(len(anchors), int)
    overlaps = iou(anchors, gt_boxes)
    best = overlaps.max(axis=1)
    labels = np.full(len(anchors), -1 if ignore else 0)
    labels[best < negative] = 0
    if force:
        for column in overlaps.T:
            if column.max() > 0:
                labels[np.flatnonzero(column == column.max()) if ties else [column.argmax()]] = 1
    labels[best >= positive] = 1
    return labels


def test_anchor_labels_rejects(solution):
    iou = solution["pairwise_iou"]

    def no_forced_best(anchors, gt_boxes, positive=0.7, negative=0.3):
        return _labels(anchors, gt_boxes, positive, negative, iou, force=False)

    def first_tie_only(anchors, gt_boxes, positive=0.7, negative=0.3):
        return _labels(anchors, gt_boxes, positive, negative, iou, ties=False)

    def between_is_background(anchors, gt_boxes, positive=0.7, negative=0.3):
        return _labels(anchors, gt_boxes, positive, negative, iou, ignore=False)

    def needs_an_object(anchors, gt_boxes, positive=0.7, negative=0.3):
        overlaps = iou(anchors, gt_boxes)
        best = overlaps.max(axis=1)  # ValueError on an image without objects
        return _labels(anchors, gt_boxes, positive, negative, iou) if best.size else None

    def course_iou(anchors, gt_boxes, positive=0.7, negative=0.3):
        from utils.detection import boxes
        return _labels(anchors, gt_boxes, positive, negative, boxes.iou)

    assert_mistake_named(LAB, "anchor_labels", no_forced_best, r"best anchor of each object is not made positive")
    assert_mistake_named(LAB, "anchor_labels", first_tie_only, r"only one of the tied best anchors")
    assert_mistake_named(LAB, "anchor_labels", between_is_background, r"between the two thresholds")
    assert_rejected(LAB, "anchor_labels", needs_an_object, r"an image without objects")
    assert_shortcut_rejected(LAB, "anchor_labels", course_iou)


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
