"""Object detection: boxes, IoU, non-maximum suppression, AP and mAP (VOC and COCO), default
boxes and their encoding, region proposals, R-CNN, the shapes detection data set, and pictures
of detections (one module each; the imports below list what each provides).

Boxes everywhere are float arrays [N, 4] of (x_min, y_min, x_max, y_max) in pixels, in
continuous coordinates: pixel (row i, column j) covers [j, j + 1) x [i, i + 1), so a box's
width is x_max - x_min (no "+1" as in the original VOC code).

Taught in: notebooks/13_detection_metrics.ipynb (boxes, metrics), notebooks/14_rcnn.ipynb
(proposals, R-CNN), notebooks/15_fast_rcnn.ipynb (anchors) and notebooks/16_ssd.ipynb (default
boxes, encoding, matching).
"""

from utils.detection.anchors import decode_boxes, default_boxes, encode_boxes, match_anchors
from utils.detection.boxes import as_boxes, count_all_boxes, count_sliding_windows, iou, nms, select_detections
from utils.detection.data import DetectionDataset, load_shapes_detection
from utils.detection.metrics import (
    COCO_IOU_THRESHOLDS, average_precision, coco_evaluate, match_detections, precision_recall, voc_evaluate,
)
from utils.detection.plots import detection_grid
from utils.detection.proposals import proposal_recall, selective_search, sliding_windows
from utils.detection.rcnn import RCNN_VARIANCES, foreground_smooth_l1, rcnn_network, sample_rois, warp

__all__ = [
    "COCO_IOU_THRESHOLDS", "DetectionDataset", "RCNN_VARIANCES", "as_boxes", "average_precision", "coco_evaluate",
    "count_all_boxes", "count_sliding_windows", "decode_boxes", "default_boxes", "detection_grid", "encode_boxes",
    "foreground_smooth_l1", "iou", "load_shapes_detection", "match_anchors", "match_detections", "nms",
    "precision_recall", "proposal_recall", "rcnn_network", "sample_rois", "select_detections", "selective_search",
    "sliding_windows", "voc_evaluate", "warp",
]
