"""Checks for Lab 06 (IoU and non-maximum suppression). References: pycocotools'
mask.iou for IoU, tf.image.non_max_suppression for NMS."""

import numpy as np
import tensorflow as tf
from pycocotools import mask as coco_mask

from utils.labcheck import CheckFailed, call, compare, compare_sequence, to_numpy, case_rng


def _random_boxes(rng, count, size=100.0):
    corner = rng.uniform(0, size * 0.8, size=(count, 2))
    extent = rng.uniform(2, size * 0.4, size=(count, 2))
    return np.concatenate([corner, corner + extent], axis=1).astype(np.float32)


def _coco_iou(boxes_a, boxes_b):
    to_xywh = lambda b: np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1).astype(np.float64)  # noqa: E731
    if len(boxes_a) == 0 or len(boxes_b) == 0:
        return np.zeros((len(boxes_a), len(boxes_b)))
    return np.asarray(coco_mask.iou(to_xywh(boxes_a), to_xywh(boxes_b), [0] * len(boxes_b)))


# hand-made pairs: identical, contained, disjoint, touching edges, crossing (a plus sign),
# disjoint in x only and in y only (where a missing clamp at zero shows)
SPECIAL_A = np.array([[10, 10, 50, 30], [0, 0, 100, 100], [0, 0, 10, 10], [0, 0, 10, 10],
                      [40, 0, 60, 100], [0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
SPECIAL_B = np.array([[10, 10, 50, 30], [20, 30, 40, 60], [20, 20, 30, 30], [10, 0, 20, 10],
                      [0, 40, 100, 60], [20, 0, 30, 10], [0, 20, 10, 30]], np.float32)


# (boxes in A, boxes in B); boundary: no box at all on one side
IOU_SIZES = [(5, 7), (1, 9), (12, 3), (0, 4), (3, 0)]


def _iou_plus_one(a, b):
    area = lambda q: (q[:, 2] - q[:, 0] + 1) * (q[:, 3] - q[:, 1] + 1)  # noqa: E731
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + 1, 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + 1, 0, None)
    return w * h / (area(a)[:, None] + area(b)[None, :] - w * h)


def check_iou(iou):
    """iou(boxes_a [N, 4], boxes_b [M, 4]) -> [N, M], boxes (x_min, y_min, x_max, y_max)."""
    rng = case_rng(50)
    hint = ("intersection = max(0, min of the x_max - max of the x_min) times the same in y; "
            "union = area_a + area_b - intersection; boxes are continuous coordinates, so "
            "no +1 on widths.")
    special_a, special_b = (np.asarray(v, np.float32).reshape(-1, 4) for v in (SPECIAL_A, SPECIAL_B))
    for index, (a, b) in enumerate(zip(special_a, special_b)):
        case = f"the pair {a.tolist()} and {b.tolist()}"
        got = call("iou", iou, a[None].copy(), b[None].copy(), case=case, numpy_only=True)
        compare("iou", got, _coco_iou(a[None], b[None]), case=case, hint=hint)
    for count_a, count_b in IOU_SIZES:
        a, b = _random_boxes(rng, count_a), _random_boxes(rng, count_b)
        case = f"{count_a} random boxes against {count_b}"
        got = call("iou", iou, a.copy(), b.copy(), case=case, numpy_only=True)
        compare("iou", got, _coco_iou(a, b), case=case, hint=hint, mistakes={
                    "the widths and heights have +1 (the old pixel-inclusive convention); "
                    "boxes here are continuous coordinates.": lambda: _iou_plus_one(a, b)})
    return f"{len(SPECIAL_A) + len(IOU_SIZES)} cases agree with pycocotools"


def _tf_nms(boxes, scores, iou_threshold, max_outputs):
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    yxyx = boxes[:, [1, 0, 3, 2]]
    return tf.image.non_max_suppression(yxyx, scores, max_outputs, iou_threshold).numpy()


def _nms_cases(rng):
    # clusters of overlapping boxes, so suppression chains happen
    centres = rng.uniform(20, 80, size=(4, 2))
    boxes = []
    for centre in centres:
        for _ in range(6):
            c = centre + rng.normal(scale=4, size=2)
            half = rng.uniform(6, 14, size=2)
            boxes.append(np.concatenate([c - half, c + half]))
    boxes = np.array(boxes, np.float32)
    scores = rng.permutation(np.linspace(0.05, 0.95, len(boxes))).astype(np.float32)
    yield boxes, scores, 0.5, 100, "24 boxes in 4 clusters, iou_threshold 0.5"
    yield boxes, scores, 0.3, 100, "24 boxes in 4 clusters, iou_threshold 0.3"
    yield boxes, scores, 0.5, 3, "24 boxes in 4 clusters, iou_threshold 0.5, max_outputs 3"
    # a chain: A overlaps B, B overlaps C, A does not overlap C
    chain = np.array([[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]], np.float32)
    yield chain, np.array([0.9, 0.8, 0.7], np.float32), 0.2, 10, "a chain A-B-C where only neighbours overlap"
    # exactly at the threshold: IoU 0.5 is kept, as TensorFlow does
    edge = np.array([[0, 0, 30, 10], [10, 0, 40, 10], [50, 50, 60, 60]], np.float32)
    yield edge, np.array([0.6, 0.9, 0.3], np.float32), 0.5, 10, "two boxes with IoU exactly 0.5"
    # boundary: nothing to suppress from
    yield np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5, 10, "no boxes at all"


def check_nms(non_max_suppression):
    """non_max_suppression(boxes, scores, iou_threshold, max_outputs) -> kept indices,
    highest score first, against tf.image.non_max_suppression."""
    rng = case_rng(51)
    count = 0
    for boxes, scores, threshold, max_outputs, case in _nms_cases(rng):
        got = call("non_max_suppression", non_max_suppression, boxes.copy(), scores.copy(),
                   threshold, max_outputs, case=case, numpy_only=True)
        compare_sequence("kept indices", got, _tf_nms(boxes, scores, threshold, max_outputs),
                         case=case,
                         hint="visit boxes from the highest score down; keep a box unless its "
                              "IoU with an already KEPT box is above the threshold (equal is "
                              "kept); stop after max_outputs.")
        count += 1
    return f"{count} cases agree with tf.image.non_max_suppression"


# the class sets of the per-class cases: 1, 2 or 3 classes numbered from 0, and labels with
# gaps (a class set the numbered ones never produce)
CLASS_SETS = [1, 2, 3, [3, 7]]


def check_batched_nms(batched_nms):
    """batched_nms(boxes, scores, classes, iou_threshold) -> kept indices, highest score
    first; boxes of different classes never suppress each other."""
    rng = case_rng(52)
    count = 0
    for boxes, scores, threshold, _, case in list(_nms_cases(rng))[:2]:
        for num_classes in CLASS_SETS:
            if isinstance(num_classes, int):
                classes = rng.integers(0, num_classes, size=len(boxes))
            else:  # labels that are not 0..K-1
                classes = rng.choice(num_classes, size=len(boxes))
            kept = []
            for label in np.unique(classes):
                members = np.flatnonzero(classes == label)
                kept.extend(members[_tf_nms(boxes[members], scores[members], threshold, len(members))])
            expected = sorted(kept, key=lambda i: -scores[i])
            case_here = f"{case}, {num_classes} classes"
            got = call("batched_nms", batched_nms, boxes.copy(), scores.copy(), classes.copy(),
                       threshold, case=case_here, numpy_only=True)
            compare_sequence("kept indices", got, expected, case=case_here, mistakes={
                                 "the kept boxes are listed class by class; they should be "
                                 "ordered by score over every class.": kept,
                                 "the classes were ignored: boxes of different classes "
                                 "suppressed each other.":
                                 lambda: _tf_nms(boxes, scores, threshold, len(boxes))},
                             hint="run NMS within each class separately (indices into the full "
                                  "arrays), then order everything kept by score, highest first.")
            count += 1
    return f"{count} cases agree with per-class tf.image.non_max_suppression"
