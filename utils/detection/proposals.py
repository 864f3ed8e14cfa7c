"""Region proposals: sliding windows, selective search, and their recall.

Taught in: notebooks/14_rcnn.ipynb. Boxes are [N, 4] (x_min, y_min, x_max, y_max) pixels.
"""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.boxes import _iou, as_boxes


def sliding_windows(image_size: int, window_sizes, stride: int) -> np.ndarray:
    """Every window of each (height, width) in window_sizes at every stride-th position of a
    square image: [P, 4], P = `count_sliding_windows(image_size, image_size, window_sizes, stride)`."""
    image_size = validation.as_int("image_size", image_size, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    sizes = validation.as_array("window_sizes", window_sizes, ndim=2, dtype_kind="iu", min_size=2)
    if sizes.shape[1] != 2 or sizes.min() < 1:
        raise ValueError(f"window_sizes: expected [K, 2] positive (height, width) pairs, got {sizes.tolist()}")
    windows = []
    for height, width in sizes.tolist():
        if height > image_size or width > image_size:
            continue
        y, x = np.meshgrid(np.arange(0, image_size - height + 1, stride),
                           np.arange(0, image_size - width + 1, stride), indexing="ij")
        x, y = x.reshape(-1), y.reshape(-1)
        windows.append(np.stack([x, y, x + width, y + height], axis=1))
    return np.concatenate(windows).astype(np.float32) if windows else np.zeros((0, 4), np.float32)


def selective_search(image, *, scale: float = 2.0, mode: str = "fast", max_proposals: int | None = None):
    """Selective search (Uijlings et al., 2013) by OpenCV contrib's implementation.

    image: [H, W, 3] float RGB in [0, 1]. It is upsampled by `scale` first (the
    segmentation's minimum region size suits larger images), and boxes are mapped back.
    mode: "fast" or "quality" (OpenCV's two strategy sets).
    Returns [P, 4] float32 proposals in OpenCV's order: by a region's level in the merge
    hierarchy times a random number from C's `rand()`, smallest first (OpenCV's comment: the
    paper's order inverted). `cv2.setRNGSeed` does not seed `rand()`, so the order depends on the
    searches run before in the process; a notebook repeats its results because it makes the
    same calls in the same order (threads would not).
    """
    import cv2

    image = validation.as_array("image", image, ndim=3, dtype_kind="f", layout="[H, W, 3] RGB in [0, 1]")
    if image.shape[-1] != 3:
        raise ValueError(f"image: expected 3 channels (RGB, channels last), got shape {image.shape}")
    scale = validation.as_float("scale", scale, minimum=0.25, maximum=8.0)
    validation.as_choice("mode", mode, ("fast", "quality"))
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)[..., ::-1].copy()  # OpenCV wants BGR
    if scale != 1:
        pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(pixels)
    search.switchToSelectiveSearchFast() if mode == "fast" else search.switchToSelectiveSearchQuality()
    rects = search.process().astype(np.float32).reshape(-1, 4) / scale  # (x, y, w, h)
    boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
    if max_proposals is not None:
        boxes = boxes[:validation.as_int("max_proposals", max_proposals, minimum=1)]
    return boxes


def proposal_recall(proposals, ground_truth_boxes, *, iou_threshold: float = 0.5, num_proposals: int | None = None):
    """Fraction of all objects covered by at least one of an image's first num_proposals
    proposals with IoU >= iou_threshold. proposals, ground_truth_boxes: lists (one per image)
    of [P_i, 4] and [G_i, 4]."""
    if len(proposals) != len(ground_truth_boxes):
        raise ValueError(f"proposals: expected one entry per image ({len(ground_truth_boxes)}), got {len(proposals)}")
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    limit = None if num_proposals is None else validation.as_int("num_proposals", num_proposals, minimum=1)
    found = total = 0
    for index, (boxes, truth) in enumerate(zip(proposals, ground_truth_boxes)):
        boxes = as_boxes(f"proposals[{index}]", boxes)[:limit]
        truth = as_boxes(f"ground_truth_boxes[{index}]", truth)
        total += len(truth)
        if len(truth) and len(boxes):
            found += int(np.sum(_iou(truth, boxes).max(axis=1) >= iou_threshold))
    if total == 0:
        raise ValueError("ground_truth_boxes: no objects to recall")
    return found / total
