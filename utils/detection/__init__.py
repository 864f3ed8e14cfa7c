"""Object detection: boxes, IoU, non-maximum suppression, AP and mAP (VOC and COCO),
default boxes and their encoding, and pictures of detections.

Boxes everywhere are float arrays [N, 4] of (x_min, y_min, x_max, y_max) in pixels, in
continuous coordinates: pixel (row i, column j) covers [j, j + 1) x [i, i + 1), so a box's
width is x_max - x_min (no "+1" as in the original VOC code).

Taught in: notebooks/13_detection_metrics.ipynb (boxes, metrics), notebooks/14_rcnn.ipynb
(proposals, anchors) and notebooks/15_ssd.ipynb (default boxes, encoding, matching).

- `boxes`: `as_boxes`, `iou`, `nms`, `soft_nms`, `count_all_boxes`,
  `count_sliding_windows`, `select_detections`.
- `metrics`: `match_detections`, `precision_recall`, `average_precision`, `voc_evaluate`,
  `coco_evaluate`.
- `anchors`: `default_boxes`, `encode_boxes`, `decode_boxes`, `match_anchors`.
- `proposals`: `sliding_windows`, `selective_search`, `proposal_recall`.
- `rcnn`: R-CNN on those proposals: `sample_rois`, `warp`, `rcnn_network`, `train_rcnn`,
  `rcnn_detect`.
- `plots`: `detection_grid`.
- `data`: `load_shapes_detection` (the shapes-on-photographs set of notebooks 14 and 15).
"""

from utils.detection.data import DetectionDataset, load_shapes_detection
from utils.detection.anchors import decode_boxes, default_boxes, encode_boxes, match_anchors
from utils.detection.boxes import (
    as_boxes,
    count_all_boxes,
    count_sliding_windows,
    iou,
    nms,
    select_detections,
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
from utils.detection.proposals import proposal_recall, selective_search, sliding_windows
from utils.detection.rcnn import RCNN_VARIANCES, rcnn_detect, rcnn_network, sample_rois, train_rcnn, warp

__all__ = [
    "COCO_IOU_THRESHOLDS", "DetectionDataset", "load_shapes_detection", "as_boxes", "average_precision", "coco_evaluate",
    "count_all_boxes", "count_sliding_windows", "decode_boxes", "default_boxes", "detection_grid",
    "encode_boxes", "iou", "match_anchors", "match_detections", "nms", "precision_recall",
    "select_detections", "soft_nms", "voc_evaluate", "RCNN_VARIANCES", "proposal_recall", "rcnn_detect",
    "rcnn_network", "sample_rois", "selective_search", "sliding_windows", "train_rcnn", "warp",
]
