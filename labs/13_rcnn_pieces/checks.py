"""Checks for Lab 13 (R-CNN's pieces: bilinear crops, RoI pooling, the RPN's anchor labels).
References: tf.image.crop_and_resize and tf.nn.max_pool2d (the "crop, resize, max pool" RoI
pooling of TensorFlow's Faster R-CNN implementations); pycocotools' IoU with the anchor
rule of Ren et al., "Faster R-CNN" (NeurIPS 2015), section 3.1.2."""

import numpy as np
import tensorflow as tf
from pycocotools import mask as coco_mask

from utils.labcheck import LOOKS_LIKE, CheckFailed, call, case_rng, compare

# (image height, width, channels, box (y1, x1, y2, x2) normalised, crop size)
CROP_CASES = [(8, 10, 3, (0.1, 0.2, 0.7, 0.9), (4, 5)),
              (6, 6, 2, (0.0, 0.0, 1.0, 1.0), (6, 6)),      # the whole image: the pixels
              (9, 7, 1, (0.25, 0.3, 0.8, 0.6), (7, 3)),     # upsampling
              (8, 8, 2, (0.5, -0.25, 1.25, 0.5), (5, 4)),   # partly outside: extrapolation 0
              (7, 9, 3, (0.8, 0.7, 0.2, 0.1), (3, 4)),      # y1 > y2, x1 > x2: a flipped crop
              (6, 8, 2, (0.2, 0.1, 0.6, 0.9), (1, 3))]      # one row: its centre
# (feature map height, width, channels, number of boxes, output size)
POOL_CASES = [(12, 10, 4, 5, 2), (8, 8, 3, 3, 3), (16, 9, 2, 4, 7)]


def _crop_scaled_by_size(image, box, crop_size):
    """The known mistake: sample positions y1 * H ... y2 * H (not H - 1), bilinear, 0 outside."""
    height, width = image.shape[:2]
    y1, x1, y2, x2 = box
    rows = np.linspace(y1 * height, y2 * height, crop_size[0]) if crop_size[0] > 1 else \
        np.array([(y1 + y2) * height / 2])
    columns = np.linspace(x1 * width, x2 * width, crop_size[1]) if crop_size[1] > 1 else \
        np.array([(x1 + x2) * width / 2])
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


def _reference_crop(image, box, crop_size):
    return tf.image.crop_and_resize(image[None].astype(np.float32), [list(box)], [0],
                                    list(crop_size)).numpy()[0]


def check_crop_and_resize(crop_and_resize):
    """crop_and_resize(image [H, W, C], box (y1, x1, y2, x2) in [0, 1], crop_size (h, w)) ->
    [h, w, C], bilinear, 0 outside the image: as tf.image.crop_and_resize."""
    rng = case_rng(130)
    for height, width, channels, box, crop_size in CROP_CASES:
        image = rng.normal(size=(height, width, channels)).astype(np.float32)
        case = f"image [{height}, {width}, {channels}], box {list(box)}, crop_size {crop_size}"
        got = call("crop_and_resize", crop_and_resize, image.copy(), tuple(box), tuple(crop_size),
                   case=case, numpy_only=True)
        expected = _reference_crop(image, box, crop_size)
        y1, x1, y2, x2 = box
        compare("crop", got, expected, case=case, atol=1e-4, hint=(
                "sample row i at y = y1 (H - 1) + i (y2 - y1) (H - 1) / (h - 1) (the centre "
                "(y1 + y2) (H - 1) / 2 when h = 1), the same for columns; interpolate the four "
                "neighbours bilinearly; a sample outside [0, H - 1] x [0, W - 1] is 0."),
                mistakes={
                    "the box is scaled by H and W instead of H - 1 and W - 1 (TensorFlow maps "
                    "0 and 1 to the first and last pixel centres).":
                    lambda: _crop_scaled_by_size(image, box, crop_size),
                    "nearest-neighbour sampling instead of bilinear interpolation.":
                    lambda: tf.image.crop_and_resize(image[None], [list(box)], [0], list(crop_size),
                                                     method="nearest").numpy()[0]})
    return f"{len(CROP_CASES)} crops agree with tf.image.crop_and_resize"


def _random_boxes(rng, count):
    start = rng.uniform(0.0, 0.6, size=(count, 2))
    extent = rng.uniform(0.15, 0.5, size=(count, 2))
    return np.concatenate([start, np.minimum(start + extent, 1.0)], axis=1).astype(np.float32)


def check_roi_pool(roi_pool):
    """roi_pool(feature_map [H, W, C], boxes [R, 4] (y1, x1, y2, x2) in [0, 1], output_size) ->
    [R, output_size, output_size, C]: each box cropped and resized to 2 * output_size, then
    2x2 max pooling with stride 2."""
    rng = case_rng(131)
    for height, width, channels, count, output_size in POOL_CASES:
        feature_map = rng.normal(size=(height, width, channels)).astype(np.float32)
        boxes = _random_boxes(rng, count)
        case = (f"feature map [{height}, {width}, {channels}], {count} boxes, output_size "
                f"{output_size}")
        got = call("roi_pool", roi_pool, feature_map.copy(), boxes.copy(), output_size,
                   case=case, numpy_only=True)
        crops = tf.image.crop_and_resize(feature_map[None], boxes, np.zeros(count, np.int32),
                                         [2 * output_size, 2 * output_size])
        expected = tf.nn.max_pool2d(crops, 2, 2, "VALID").numpy()
        compare("roi_pool", got, expected, case=case, atol=1e-4,
                hint="crop every box to 2 * output_size by 2 * output_size with your "
                     "crop_and_resize, then take the maximum of each 2x2 block.",
                mistakes={"the 2x2 blocks are averaged; RoI pooling takes their maximum.":
                          lambda: tf.nn.avg_pool2d(crops, 2, 2, "VALID").numpy(),
                          "each box is cropped straight to output_size, without the 2x2 max "
                          "pooling.": lambda: tf.image.crop_and_resize(
                              feature_map[None], boxes, np.zeros(count, np.int32),
                              [output_size, output_size]).numpy()})
    return f"{len(POOL_CASES)} feature maps agree with tf.image.crop_and_resize + tf.nn.max_pool2d"


def _iou(anchors, gt_boxes):
    if len(anchors) == 0 or len(gt_boxes) == 0:
        return np.zeros((len(anchors), len(gt_boxes)))
    xywh = lambda b: np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1).astype(np.float64)  # noqa: E731
    return np.asarray(coco_mask.iou(xywh(anchors), xywh(gt_boxes), [0] * len(gt_boxes)))


def _reference_labels(anchors, gt_boxes, positive, negative, *, force_best=True, all_ties=True,
                      ignore_between=True):
    overlaps = _iou(anchors, gt_boxes)
    labels = np.full(len(anchors), -1 if ignore_between else 0)
    if overlaps.shape[1] == 0:
        return np.zeros(len(anchors), int)
    best = overlaps.max(axis=1)
    labels[best < negative] = 0
    if force_best:
        for column in overlaps.T:
            if column.max() > 0:
                winners = np.flatnonzero(column == column.max()) if all_ties else [column.argmax()]
                labels[winners] = 1
    labels[best >= positive] = 1
    return labels


def _grid_anchors(size=64, stride=16, sizes=(16, 32), ratios=(0.5, 1.0, 2.0)):
    anchors = []
    for cy in np.arange(stride / 2, size, stride):
        for cx in np.arange(stride / 2, size, stride):
            for side in sizes:
                for ratio in ratios:
                    w, h = side * np.sqrt(ratio), side / np.sqrt(ratio)
                    anchors.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return np.array(anchors)


def check_anchor_labels(anchor_labels):
    """anchor_labels(anchors [A, 4], gt_boxes [G, 4], positive, negative) -> [A] ints: 1 for
    an anchor with IoU >= positive with some object, or among the best anchors (ties
    included) of an object it overlaps at all; 0 for max IoU < negative; -1 (ignored) else."""
    rng = case_rng(132)
    anchors = _grid_anchors()
    cases = []
    for count in (1, 3, 5):
        centre = rng.uniform(12, 52, size=(count, 2))
        half = rng.uniform(5, 20, size=(count, 2))
        cases.append((np.concatenate([centre - half, centre + half], axis=1), 0.7, 0.3,
                      f"{count} random objects"))
    # a small object no anchor reaches 0.7 with: only its best anchor makes it positive
    cases.append((np.array([[20.0, 20.0, 27.0, 25.0]]), 0.7, 0.3, "a small object"))
    # an object that several anchors overlap equally (ties for the best)
    cases.append((np.array([[16.0, 16.0, 32.0, 32.0]]), 0.7, 0.3,
                  "an object between anchor centres (tied best anchors)"))
    cases.append((np.zeros((0, 4)), 0.7, 0.3, "an image without objects"))
    cases.append((cases[1][0], 0.5, 0.1, "3 random objects, thresholds 0.5 and 0.1"))
    for gt_boxes, positive, negative, case in cases:
        case = f"{len(anchors)} anchors, {case}, positive {positive}, negative {negative}"
        got = call("anchor_labels", anchor_labels, anchors.copy(), gt_boxes.copy(), positive,
                   negative, case=case, numpy_only=True)
        expected = _reference_labels(anchors, gt_boxes, positive, negative)
        compare("labels", got, expected, case=case, hint=(
                "start from -1; 0 where the anchor's best IoU is below `negative`; 1 for every "
                "anchor with the highest IoU of an object (all of them when several tie, if that "
                "IoU is above 0); 1 where the best IoU is at least `positive`."),
                mistakes={
                    "the best anchor of each object is not made positive, so an object that no "
                    "anchor overlaps by `positive` has no positive anchor.":
                    lambda: _reference_labels(anchors, gt_boxes, positive, negative, force_best=False),
                    "only one of the tied best anchors of an object is made positive; all of "
                    "them are.":
                    lambda: _reference_labels(anchors, gt_boxes, positive, negative, all_ties=False),
                    "anchors between the two thresholds are labelled 0 (background); they are "
                    "ignored (-1).":
                    lambda: _reference_labels(anchors, gt_boxes, positive, negative,
                                              ignore_between=False)})
    return f"{len(cases)} cases agree with the paper's rule (IoU from pycocotools)"
