"""Default boxes (anchors), their encoding as regression targets, and matching to objects.

Taught in: notebooks/16_ssd.ipynb (default boxes, matching, encoding with variances); also
used by notebooks/14_rcnn.ipynb (R-CNN's box regression) and 15_fast_rcnn.ipynb (Faster R-CNN's
anchors).
Boxes are [N, 4] (x_min, y_min, x_max, y_max) pixels.
"""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.boxes import _iou, as_boxes

SSD_VARIANCES = (0.1, 0.1, 0.2, 0.2)


def default_boxes(image_size: int, feature_map_sizes, scales, aspect_ratios=(1.0, 2.0, 0.5)) -> np.ndarray:
    """SSD's default boxes over several square feature maps.

    image_size: side of the square input in pixels.
    feature_map_sizes: [L] sides f_l of the feature maps; map l has f_l x f_l cells of
        image_size / f_l pixels, with boxes centred at ((j + 0.5) / f_l, (i + 0.5) / f_l) * image_size.
    scales: [L + 1] box sizes s_l as fractions of image_size, one per map plus the next one.
    aspect_ratios: ratios a = width / height; each gives a box of width s_l sqrt(a) and height
        s_l / sqrt(a) (times image_size). SSD's extra square box of side sqrt(s_l s_{l+1}) follows.
    Returns [sum_l f_l^2 B, 4] with B = len(aspect_ratios) + 1 boxes per cell, ordered
    map by map, then row, column, box: the order of a Conv2D head's [N, f, f, B * 4] output
    reshaped to [N, f * f * B, 4]. Boxes may reach outside the image.
    """
    image_size = validation.as_int("image_size", image_size, minimum=1)
    sizes = validation.as_array("feature_map_sizes", feature_map_sizes, ndim=1, dtype_kind="iu", min_size=1)
    scales = validation.as_array("scales", scales, ndim=1, dtype_kind="fiu", finite=True, min_size=1).astype(float)
    ratios = validation.as_array("aspect_ratios", aspect_ratios, ndim=1, dtype_kind="fiu", finite=True,
                                 min_size=1).astype(float)
    for name, values in (("feature_map_sizes", sizes), ("scales", scales), ("aspect_ratios", ratios)):
        if values.min() <= 0:
            raise ValueError(f"{name}: expected positive values, got {values.tolist()}")
    if len(scales) != len(sizes) + 1:
        raise ValueError(f"scales: expected {len(sizes) + 1} values (one per feature map and the next one), "
                         f"got {len(scales)}")
    all_boxes = []
    for level, size in enumerate(sizes.tolist()):
        scale, side = scales[level], np.sqrt(scales[level] * scales[level + 1])
        shapes = np.array([(scale * np.sqrt(r), scale / np.sqrt(r)) for r in ratios] + [(side, side)])
        shapes = shapes * image_size  # [B, 2] (width, height)
        centres = (np.arange(size) + 0.5) / size * image_size
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        width, height = np.tile(shapes, (size * size, 1)).T
        cx = np.repeat(cx.reshape(-1), len(shapes))  # each cell's centre, once per box
        cy = np.repeat(cy.reshape(-1), len(shapes))
        all_boxes.append(_corner_form(cx, cy, width, height))
    return np.concatenate(all_boxes).astype(np.float32)


def _centre_form(boxes):
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + width / 2, boxes[:, 1] + height / 2, width, height


def _corner_form(cx, cy, width, height):
    return np.stack([cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2], axis=1)


def _check_variances(variances):
    variances = validation.as_array("variances", variances, shape=(4,), dtype_kind="fiu", finite=True)
    if variances.min() <= 0:
        raise ValueError(f"variances: expected 4 positive numbers, got {variances.tolist()}")
    return variances.astype(np.float64)


def encode_boxes(boxes, anchors, variances=SSD_VARIANCES) -> np.ndarray:
    """Regression targets of `boxes` [N, 4] relative to `anchors` [N, 4] (one anchor per box):

        t_x = (c_x - a_x) / (a_w v_0),  t_y = (c_y - a_y) / (a_h v_1),
        t_w = log(w / a_w) / v_2,       t_h = log(h / a_h) / v_3,

    (c_x, c_y, w, h) the box's centre and size, (a_x, a_y, a_w, a_h) the anchor's. The
    variances scale the targets to about unit spread (SSD's (0.1, 0.1, 0.2, 0.2); use
    (1, 1, 1, 1) for R-CNN's plain encoding). Boxes and anchors need positive width and height.
    Returns [N, 4] float32.
    """
    boxes, anchors = as_boxes("boxes", boxes), as_boxes("anchors", anchors)
    if boxes.shape != anchors.shape:
        raise ValueError(f"anchors: expected one anchor per box, shape {boxes.shape}, got {anchors.shape}")
    variances = _check_variances(variances)
    bx, by, bw, bh = _centre_form(boxes)
    ax, ay, aw, ah = _centre_form(anchors)
    for name, width, height in (("boxes", bw, bh), ("anchors", aw, ah)):
        if np.any(width <= 0) or np.any(height <= 0):
            raise ValueError(f"{name}: expected positive widths and heights (their log is taken)")
    deltas = np.stack([(bx - ax) / aw, (by - ay) / ah, np.log(bw / aw), np.log(bh / ah)], axis=1)
    return (deltas / variances).astype(np.float32)


def decode_boxes(deltas, anchors, variances=SSD_VARIANCES) -> np.ndarray:
    """Inverse of `encode_boxes`: deltas [N, 4] and anchors [N, 4] -> boxes [N, 4] float32.
    Widths use exp(t_w v_2), clipped at exp(4) times the anchor so wild outputs stay finite."""
    deltas = validation.as_array("deltas", deltas, ndim=2, dtype_kind="fiu", finite=True).astype(np.float64)
    anchors = as_boxes("anchors", anchors)
    if deltas.shape != anchors.shape:
        raise ValueError(f"deltas: expected shape {anchors.shape} (one row per anchor), got {deltas.shape}")
    variances = _check_variances(variances)
    ax, ay, aw, ah = _centre_form(anchors)
    deltas = deltas * variances
    cx, cy = ax + deltas[:, 0] * aw, ay + deltas[:, 1] * ah
    width = aw * np.exp(np.minimum(deltas[:, 2], 4.0))
    height = ah * np.exp(np.minimum(deltas[:, 3], 4.0))
    return _corner_form(cx, cy, width, height).astype(np.float32)


def match_anchors(gt_boxes, anchors, iou_threshold: float = 0.5, *, negative_threshold: float | None = None):
    """Assign each anchor an object, SSD-style (and Faster R-CNN's RPN with two thresholds).

    gt_boxes: [G, 4]; anchors: [A, 4]. An anchor whose best IoU with an object is >=
    iou_threshold takes that object; anchors below negative_threshold (default: iou_threshold)
    are background (-1); anchors in between are ignored (-2). Each object also takes the anchor
    that overlaps it most, so no object is left without an anchor.
    Returns [A] int64: the matched object's index, -1 background, -2 ignored.
    """
    gt_boxes, anchors = as_boxes("gt_boxes", gt_boxes), as_boxes("anchors", anchors)
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    negative_threshold = iou_threshold if negative_threshold is None else validation.as_float(
        "negative_threshold", negative_threshold, minimum=0.0, maximum=iou_threshold)
    matches = np.full(len(anchors), -1, dtype=np.int64)
    if len(gt_boxes) == 0:
        return matches
    overlaps = _iou(anchors, gt_boxes)  # [A, G]
    best_gt, best_iou = overlaps.argmax(axis=1), overlaps.max(axis=1)
    matches[best_iou >= iou_threshold] = best_gt[best_iou >= iou_threshold]
    matches[(best_iou >= negative_threshold) & (best_iou < iou_threshold)] = -2
    for g, anchor in enumerate(overlaps.argmax(axis=0)):
        if overlaps[anchor, g] > 0:
            matches[anchor] = g
    return matches
