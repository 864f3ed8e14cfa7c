"""Object detection: boxes, IoU, non-maximum suppression, AP and mAP (VOC and COCO),
default boxes and their encoding, and pictures of detections.

Boxes everywhere are float arrays [N, 4] of (x_min, y_min, x_max, y_max) in pixels, in
continuous coordinates: pixel (row i, column j) covers [j, j + 1) x [i, i + 1), so a box's
width is x_max - x_min (no "+1" as in the original VOC code).

Taught in: notebooks/13_detection_metrics.ipynb (boxes, metrics), notebooks/14_rcnn.ipynb
(proposals, anchors) and notebooks/15_ssd.ipynb (default boxes, encoding, matching).

- `boxes`: `as_boxes`, `box_area`, `iou`, `nms`, `soft_nms`, `count_all_boxes`,
  `count_sliding_windows`.
- `metrics`: `match_detections`, `precision_recall`, `average_precision`, `voc_evaluate`,
  `coco_evaluate`.
- `anchors`: `default_boxes`, `encode_boxes`, `decode_boxes`, `match_anchors`.
- `plots`: `detection_grid`.
"""

from utils.detection.anchors import decode_boxes, default_boxes, encode_boxes, match_anchors
from utils.detection.boxes import (
    as_boxes,
    box_area,
    count_all_boxes,
    count_sliding_windows,
    iou,
    nms,
    soft_nms,
)
from utils.detection.metrics import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    coco_evaluate,
    match_detections,
    precision_recall,
    voc_evaluate,
)
from utils.detection.plots import detection_grid

__all__ = [
    "COCO_IOU_THRESHOLDS", "as_boxes", "average_precision", "box_area", "coco_evaluate",
    "count_all_boxes", "count_sliding_windows", "decode_boxes", "default_boxes", "detection_grid",
    "encode_boxes", "iou", "match_anchors", "match_detections", "nms", "precision_recall",
    "soft_nms", "voc_evaluate",
]
