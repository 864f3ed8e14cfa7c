"""R-CNN on region proposals: sampling regions of interest, warping them to a fixed size, the
per-region network and its box loss.

Taught in: notebooks/14_rcnn.ipynb (which trains R-CNN and detects with it); reused by
15_fast_rcnn.ipynb (training regions, box loss, the per-region network's cost) and 16_ssd.ipynb
(the per-region network's cost).
Boxes are [N, 4] (x_min, y_min, x_max, y_max) pixels.
"""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.anchors import encode_boxes
from utils.detection.boxes import _iou, as_boxes

RCNN_VARIANCES = (0.1, 0.1, 0.2, 0.2)


def sample_rois(proposals, gt_boxes, gt_labels, *, num_rois: int = 32, rng):
    """Training regions of interest for R-CNN and Fast R-CNN, as in Fast R-CNN (Girshick, 2015).

    proposals: [P, 4]; gt_boxes: [G, 4]; gt_labels: [G] in 0..C-1; rng: a NumPy Generator. The
    ground-truth boxes are added to the proposals. Foreground: IoU >= 0.5 with an object (label
    = its class + 1, box target = `encode_boxes` of the object with RCNN_VARIANCES); background:
    IoU in [0.1, 0.5) (label 0). Up to a quarter of num_rois foreground, the rest background
    (drawn with replacement if too few, then from any IoU < 0.5).
    Returns rois [num_rois, 4] float32, labels [num_rois] int64, box_targets [num_rois, 4] float32.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    proposals = as_boxes("proposals", proposals)
    gt_boxes = as_boxes("gt_boxes", gt_boxes)
    gt_labels = validation.as_labels("gt_labels", gt_labels, length=len(gt_boxes))
    num_rois = validation.as_int("num_rois", num_rois, minimum=1)
    candidates = np.concatenate([proposals, gt_boxes])
    candidates = candidates[(candidates[:, 2] - candidates[:, 0] >= 1) & (candidates[:, 3] - candidates[:, 1] >= 1)]
    overlaps = _iou(candidates, gt_boxes)  # [P + G, G]
    best_iou = overlaps.max(axis=1, initial=0)
    best = overlaps.argmax(axis=1) if len(gt_boxes) else np.zeros(len(candidates), dtype=np.int64)
    foreground = np.flatnonzero(best_iou >= 0.5)
    background = np.flatnonzero((best_iou >= 0.1) & (best_iou < 0.5))
    if len(background) == 0:
        background = np.flatnonzero(best_iou < 0.5)
    num_foreground = min(len(foreground), int(round(0.25 * num_rois)))
    chosen_fg = rng.choice(foreground, num_foreground, replace=False) if num_foreground else np.zeros(0, np.int64)
    num_background = num_rois - num_foreground
    chosen_bg = rng.choice(background, num_background, replace=len(background) < num_background)
    rois = candidates[np.concatenate([chosen_fg, chosen_bg]).astype(np.int64)]
    labels = np.zeros(num_rois, dtype=np.int64)
    labels[:num_foreground] = gt_labels[best[chosen_fg]] + 1
    targets = np.zeros((num_rois, 4), dtype=np.float32)
    targets[:num_foreground] = encode_boxes(gt_boxes[best[chosen_fg]], rois[:num_foreground], RCNN_VARIANCES)
    return rois.astype(np.float32), labels, targets


def warp(images, image_indices, boxes, size: int):
    """R-CNN's warp: crop each box from its image and resize it to size x size (bilinear),
    whatever its aspect ratio, with `tf.image.crop_and_resize`.

    images: [N, H, W, C]; image_indices: [R] which image each box comes from; boxes: [R, 4]
    pixels. Returns [R, size, size, C] float32.
    """
    import tensorflow as tf

    images = validation.as_images("images", images)
    boxes = as_boxes("boxes", boxes)
    image_indices = validation.as_labels("image_indices", image_indices, num_classes=len(images), length=len(boxes))
    size = validation.as_int("size", size, minimum=1)
    height, width = images.shape[1:3]
    # crop_and_resize samples at corner-aligned normalised (y, x) coordinates: the pixel centres of
    # a size x size grid over the box, half a step in from its edges
    half_step = (boxes[:, 2:] - boxes[:, :2]) / (2 * size)  # (x, y)
    pixel_scale = [max(width - 1, 1), max(height - 1, 1)]
    corners = np.concatenate([(boxes[:, :2] + half_step - 0.5) / pixel_scale,
                              (boxes[:, 2:] - half_step - 0.5) / pixel_scale], axis=1)
    crops = tf.image.crop_and_resize(images, corners[:, [1, 0, 3, 2]].astype(np.float32),
                                     image_indices.astype(np.int32), (size, size))
    return crops.numpy()


def rcnn_network(crop_size: int, num_classes: int):
    """R-CNN's per-region network: a small CNN on a warped crop [crop_size, crop_size, 3] with
    two heads, "class" (C + 1 logits, 0 = background) and "box" (4 class-agnostic box deltas)."""
    import keras

    crop_size = validation.as_int("crop_size", crop_size, minimum=8)
    num_classes = validation.as_int("num_classes", num_classes, minimum=1)
    inputs = keras.Input((crop_size, crop_size, 3), name="crop")
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    class_logits = keras.layers.Dense(num_classes + 1, name="class")(x)
    box_deltas = keras.layers.Dense(4, name="box")(x)
    return keras.Model(inputs, {"class": class_logits, "box": box_deltas}, name="rcnn")


def foreground_smooth_l1(y_true, y_pred):
    """Smooth L1 box loss over foreground regions only: y_true [B, 5] = (4 targets, label);
    background rows (label 0) contribute nothing. Mean over the batch's foreground rows."""
    from keras import ops

    foreground = ops.cast(y_true[..., 4] > 0, "float32")
    difference = ops.abs(y_true[..., :4] - y_pred)
    smooth = ops.sum(ops.where(difference < 1.0, 0.5 * difference**2, difference - 0.5), axis=-1)
    return ops.sum(smooth * foreground) / ops.maximum(ops.sum(foreground), 1.0)
