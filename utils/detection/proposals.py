"""Region proposals: sliding windows, selective search, and their recall.

Taught in: notebooks/14_rcnn.ipynb (also used by 15_fast_rcnn and 16_ssd).
Boxes are [N, 4] (x_min, y_min, x_max, y_max) pixels.
"""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.boxes import _check_window_sizes, _iou, as_boxes


def sliding_windows(image_size: int, window_sizes, stride: int) -> np.ndarray:
    """Every window of each (height, width) in window_sizes at every stride-th position of a
    square image: [P, 4], P = `count_sliding_windows(image_size, image_size, window_sizes, stride)`."""
    image_size = validation.as_int("image_size", image_size, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    windows = []
    for height, width in _check_window_sizes(window_sizes):
        if height > image_size or width > image_size:
            continue
        y, x = np.meshgrid(np.arange(0, image_size - height + 1, stride),
                           np.arange(0, image_size - width + 1, stride), indexing="ij")
        x, y = x.reshape(-1), y.reshape(-1)
        windows.append(np.stack([x, y, x + width, y + height], axis=1))
    return np.concatenate(windows).astype(np.float32) if windows else np.zeros((0, 4), np.float32)


def selective_search(image, *, max_proposals: int | None = None):
    """Selective search (Uijlings et al., 2013), OpenCV contrib's "fast" strategy set.

    image: [H, W, 3] float RGB in [0, 1], upsampled 1.5x first (the segmentation's minimum
    region size, 100 pixels, suits larger images); boxes are mapped back. OpenCV's defaults
    for the graph segmentations (k = 150, 300 and 450, smoothing sigma 0.8) suit an image
    upsampled 2x; k counts area and sigma length, so at 1.5x they are scaled by 0.75^2 and
    0.75 (k = 84, 168 and 252, sigma 0.6): about the same segmentation on fewer pixels, in
    about half the time of the 2x search and, on the shapes test set, with the same recall
    at 100 proposals.
    Returns [P, 4] float32 proposals (the first max_proposals; None: all) in OpenCV's order: by
    a region's level in the merge hierarchy times a random number from C's `rand()`, smallest
    first (the paper's order inverted). `cv2.setRNGSeed` does not seed `rand()`, so each call
    seeds it (`srand(0)`): an image gets the same proposals whatever ran before in the process
    (on Windows, where C's library is not reached this way, the order follows earlier calls).
    """
    import ctypes

    import cv2

    image = validation.as_array("image", image, ndim=3, dtype_kind="f", layout="[H, W, 3] RGB in [0, 1]")
    if image.shape[-1] != 3:
        raise ValueError(f"image: expected 3 channels (RGB, channels last), got shape {image.shape}")
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)[..., ::-1].copy()  # OpenCV wants BGR
    scale = 1.5
    pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(pixels)
    # OpenCV's defaults (k = 150 + 150 i, sigma 0.8) suit 2x; k scales with area, sigma with length
    k = round(150 * (scale / 2) ** 2)
    search.switchToSelectiveSearchFast(k, k, 0.8 * scale / 2)
    try:
        ctypes.CDLL(None).srand(0)
    except (OSError, TypeError, AttributeError):  # Windows
        pass
    rects = search.process().astype(np.float32).reshape(-1, 4) / scale  # (x, y, w, h)
    boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
    if max_proposals is not None:
        boxes = boxes[:validation.as_int("max_proposals", max_proposals, minimum=1)]
    return boxes


def proposal_recall(proposals, ground_truth_boxes, *, num_proposals: int | None = None):
    """Fraction of all objects covered by at least one of an image's first num_proposals
    (None: all) proposals with IoU >= 0.5. proposals, ground_truth_boxes: lists (one per image)
    of [P_i, 4] and [G_i, 4]."""
    if len(proposals) != len(ground_truth_boxes):
        raise ValueError(f"proposals: expected one entry per image ({len(ground_truth_boxes)}), got {len(proposals)}")
    limit = None if num_proposals is None else validation.as_int("num_proposals", num_proposals, minimum=1)
    found = total = 0
    for index, (boxes, truth) in enumerate(zip(proposals, ground_truth_boxes)):
        boxes = as_boxes(f"proposals[{index}]", boxes)[:limit]
        truth = as_boxes(f"ground_truth_boxes[{index}]", truth)
        total += len(truth)
        found += int(np.sum(_iou(truth, boxes).max(axis=1, initial=0) >= 0.5))
    if total == 0:
        raise ValueError("ground_truth_boxes: no objects to recall")
    return found / total
