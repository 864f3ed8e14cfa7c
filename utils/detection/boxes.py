"""Boxes, intersection over union and non-maximum suppression.

Boxes are float arrays [N, 4] of (x_min, y_min, x_max, y_max) in pixels, continuous
coordinates (width = x_max - x_min, no +1). Taught in: notebooks/13_detection_metrics.ipynb.
"""

from __future__ import annotations

import numpy as np

from utils import validation

_LAYOUT = "[N, 4] of (x_min, y_min, x_max, y_max)"


def as_boxes(name: str, value) -> np.ndarray:
    """Check and convert boxes to float64 [N, 4] (x_min, y_min, x_max, y_max); [] gives [0, 4].

    Raises ValueError naming `name` for a wrong shape, NaN or infinity, or x_max < x_min or
    y_max < y_min (zero width or height is allowed); TypeError for a non-numeric array.
    """
    array = validation.as_array(name, value, dtype_kind="fiu", layout=_LAYOUT)
    if array.shape in ((0,), (0, 4)):
        return np.zeros((0, 4), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name}: expected boxes of shape {_LAYOUT}, got shape {array.shape}")
    array = array.astype(np.float64)
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        problem = "contains NaN" if np.isnan(array[row]).any() else "is not finite"
        raise ValueError(f"{name}: box {row} {problem}: {array[row].tolist()}")
    for axis, (low, high) in (("x", (0, 2)), ("y", (1, 3))):
        bad = np.flatnonzero(array[:, high] < array[:, low])
        if len(bad):
            row = int(bad[0])
            raise ValueError(f"{name}: box {row} has {axis}_max < {axis}_min ({array[row, high]:g} < "
                             f"{array[row, low]:g}); expected (x_min, y_min, x_max, y_max), got {array[row].tolist()}")
    return array


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of checked float boxes a [N, 4] and b [M, 4] -> [N, M]; 0 where the union is 0."""
    # IoU does not change when both boxes are scaled. Dividing each pair by a power of two near
    # its largest coordinate (exact) keeps the areas of huge or tiny boxes from overflowing to
    # inf or underflowing to 0; for ordinary boxes the result is bit for bit the same.
    largest = np.maximum(np.abs(a).max(axis=1, initial=0)[:, None], np.abs(b).max(axis=1, initial=0)[None, :])
    scale = np.ldexp(1.0, np.frexp(largest)[1])[..., None]  # [N, M, 1]
    # (width, height) [N, M, 2] of each pair's intersection and of each box, divided by the scale
    overlap = np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2])
    sides_i = np.clip(overlap, 0, None) / scale
    sides_a = (a[:, None, 2:] - a[:, None, :2]) / scale
    sides_b = (b[None, :, 2:] - b[None, :, :2]) / scale
    intersection = sides_i[..., 0] * sides_i[..., 1]
    union = sides_a[..., 0] * sides_a[..., 1] + sides_b[..., 0] * sides_b[..., 1] - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union area(A ∩ B) / area(A ∪ B) of every box in `boxes_a` [N, 4] with
    every box in `boxes_b` [M, 4] -> [N, M] float64 in [0, 1] (0 where the union has no area)."""
    return _iou(as_boxes("boxes_a", boxes_a), as_boxes("boxes_b", boxes_b))


def _check_scores(name: str, scores, count: int) -> np.ndarray:
    """One finite score per box: float64 [count] (a copy)."""
    scores = validation.as_array(name, scores, ndim=1, dtype_kind="fiu", layout="[N] of box scores",
                                 finite=True).astype(np.float64)
    if len(scores) != count:
        raise ValueError(f"{name}: expected one score per box ({count}), got {len(scores)}")
    return scores


def nms(boxes, scores, iou_threshold: float = 0.5, max_outputs: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression.

    boxes: [N, 4]; scores: [N]. Repeatedly keep the highest-scoring remaining box and drop
    every remaining box whose IoU with it is greater than `iou_threshold`. Equal scores keep
    the lower index first. Returns int64 indices [K] of the kept boxes, highest score first,
    K <= max_outputs (None: no limit): the result of `tf.image.non_max_suppression`.
    """
    boxes = as_boxes("boxes", boxes)
    scores = _check_scores("scores", scores, len(boxes))
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    limit = len(boxes) if max_outputs is None else validation.as_int("max_outputs", max_outputs, minimum=0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while len(order) and len(keep) < limit:
        best = order[0]
        keep.append(int(best))
        overlaps = _iou(boxes[best:best + 1], boxes[order[1:]])[0]
        order = order[1:][overlaps <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def count_all_boxes(height: int, width: int, *, ordered_corners: bool = True) -> int:
    """How many boxes an exhaustive search over an image of height x width pixels would score:
    the lecture's (H W)^2, any pixel as either corner (ordered_corners=True), or the distinct
    pixel-aligned rectangles C(W + 1, 2) C(H + 1, 2), about (H W)^2 / 4."""
    height = validation.as_int("height", height, minimum=1)
    width = validation.as_int("width", width, minimum=1)
    if validation.as_bool("ordered_corners", ordered_corners):
        return (height * width) ** 2
    return (width + 1) * width // 2 * ((height + 1) * height // 2)


def _check_window_sizes(window_sizes) -> list:
    """window_sizes [K, 2] of positive (height, width) pairs, as a list of pairs."""
    sizes = validation.as_array("window_sizes", window_sizes, ndim=2, dtype_kind="iu",
                                layout="[K, 2] of (window_height, window_width)", min_size=2)
    if sizes.shape[1] != 2 or sizes.min() < 1:
        raise ValueError(f"window_sizes: expected [K, 2] positive (height, width) pairs, got {sizes.tolist()}")
    return sizes.tolist()


def count_sliding_windows(height: int, width: int, window_sizes, stride: int) -> int:
    """Number of windows a sliding-window detector scores: for each (window_height,
    window_width) in `window_sizes`, (floor((H - h) / s) + 1) * (floor((W - w) / s) + 1)
    positions (windows larger than the image are skipped)."""
    height = validation.as_int("height", height, minimum=1)
    width = validation.as_int("width", width, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    total = 0
    for window_height, window_width in _check_window_sizes(window_sizes):
        if window_height <= height and window_width <= width:
            total += ((height - window_height) // stride + 1) * ((width - window_width) // stride + 1)
    return int(total)


MAX_DETECTIONS = 100   # kept per class by NMS and per image, as SSD and COCO's AR100 do


def select_detections(boxes, class_probabilities, *, score_threshold: float = 0.01,
                      iou_threshold: float = 0.45) -> dict:
    """Turn one image's scored boxes into detections: per class, drop scores below
    score_threshold, run `nms`, then keep the MAX_DETECTIONS highest scores overall.

    boxes: [P, 4], one box for all classes; class_probabilities: [P, C + 1] with column 0 the
    background. Returns {"boxes": [D, 4], "labels": [D] in 0..C-1, "scores": [D]}, highest
    score first.
    """
    probabilities = validation.as_array("class_probabilities", class_probabilities, ndim=2, dtype_kind="fiu",
                                        finite=True, layout="[P, C + 1], column 0 the background")
    boxes = as_boxes("boxes", boxes)
    if probabilities.shape[1] < 2:
        raise ValueError(f"class_probabilities: expected C + 1 >= 2 columns, got {probabilities.shape[1]}")
    if len(boxes) != len(probabilities):
        raise ValueError(f"boxes: expected {len(probabilities)} boxes like class_probabilities, got {len(boxes)}")
    score_threshold = validation.as_float("score_threshold", score_threshold, minimum=0.0)
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    kept_boxes, kept_labels, kept_scores = [], [], []
    for label in range(probabilities.shape[1] - 1):
        scores = probabilities[:, label + 1].astype(np.float64)
        candidates = np.flatnonzero(scores >= score_threshold)
        keep = candidates[nms(boxes[candidates], scores[candidates], iou_threshold, MAX_DETECTIONS)]
        kept_boxes.append(boxes[keep])
        kept_labels.append(np.full(len(keep), label, dtype=np.int64))
        kept_scores.append(scores[keep])
    scores = np.concatenate(kept_scores)
    order = np.argsort(-scores, kind="stable")[:MAX_DETECTIONS]
    return {"boxes": np.concatenate(kept_boxes)[order], "labels": np.concatenate(kept_labels)[order],
            "scores": scores[order]}
