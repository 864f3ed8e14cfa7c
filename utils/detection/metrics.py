"""Detection metrics: matching detections to ground truth, precision-recall, AP and mAP in
the PASCAL VOC and COCO conventions.

Taught in: notebooks/13_detection_metrics.ipynb. `coco_evaluate` reproduces pycocotools'
COCOeval for boxes (tests/test_detection.py compares them on random cases).

Inputs are per-image lists: `ground_truths[i] = {"boxes": [N_i, 4], "labels": [N_i]}` and
`detections[i] = {"boxes": [D_i, 4], "labels": [D_i], "scores": [D_i]}`, boxes as
(x_min, y_min, x_max, y_max) pixels. Rows with label -1 (the padding `augment.pad_boxes`
adds) are left out.
"""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.boxes import _iou, as_boxes

# COCO's ten IoU thresholds 0.50:0.05:0.95 and 101 recall points, built as pycocotools does.
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
COCO_RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
# COCO's area ranges in pixels^2 (bounds included on both sides, as in pycocotools).
COCO_AREA_RANGES = {"all": (0.0, 1e5**2), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2),
                    "large": (96.0**2, 1e5**2)}
AP_METHODS = ("all", "11point", "coco101")


# --------------------------------------------------------------------------- input checks
def _check_image(name: str, entry, *, with_scores: bool):
    if not isinstance(entry, dict):
        wanted = "'boxes', 'labels', 'scores'" if with_scores else "'boxes', 'labels'"
        raise TypeError(f"{name}: expected a dict with {wanted}, got {type(entry).__name__}")
    keys = ("boxes", "labels", "scores") if with_scores else ("boxes", "labels")
    for key in keys:
        if key not in entry:
            raise ValueError(f"{name}: missing key {key!r} (expected keys {', '.join(keys)})")
    boxes = as_boxes(f"{name}['boxes']", entry["boxes"])
    labels = validation.as_array(f"{name}['labels']", entry["labels"], ndim=1, dtype_kind="iu",
                                 layout="[N] of integer class ids").astype(np.int64)
    if len(labels) != len(boxes):
        raise ValueError(f"{name}: expected one label per box ({len(boxes)}), got {len(labels)}")
    if labels.size and labels.min() < -1:
        raise ValueError(f"{name}['labels']: expected class ids >= 0 (or -1 for a padding row), got {labels.min()}")
    real = labels >= 0  # rows with label -1 are the padding of augment.pad_boxes: not boxes
    if with_scores:
        scores = validation.as_array(f"{name}['scores']", entry["scores"], ndim=1, dtype_kind="fiu",
                                     finite=True).astype(np.float64)
        if len(scores) != len(boxes):
            raise ValueError(f"{name}: expected one score per box ({len(boxes)}), got {len(scores)}")
        return boxes[real], labels[real], scores[real]
    return boxes[real], labels[real]


def _check_dataset(ground_truths, detections):
    for name, value in (("ground_truths", ground_truths), ("detections", detections)):
        if isinstance(value, dict) or not hasattr(value, "__len__"):
            raise TypeError(f"{name}: expected a list with one dict per image, got {type(value).__name__}")
    if len(ground_truths) != len(detections):
        raise ValueError(f"detections: expected one entry per image ({len(ground_truths)}), "
                         f"got {len(detections)}")
    truths = [_check_image(f"ground_truths[{i}]", g, with_scores=False) for i, g in enumerate(ground_truths)]
    found = [_check_image(f"detections[{i}]", d, with_scores=True) for i, d in enumerate(detections)]
    return truths, found


# --------------------------------------------------------------------------- matching, PR, AP
def match_detections(gt_boxes, det_boxes, det_scores, iou_threshold: float = 0.5, *, rule: str = "coco"):
    """Decide which detections of one class in one image are true positives.

    gt_boxes: [G, 4]; det_boxes: [D, 4]; det_scores: [D]. Detections are taken from the
    highest score down; each ground-truth box can be matched once.
    rule="coco": a detection matches the still-unmatched ground truth with the highest IoU,
        if that IoU >= iou_threshold (pycocotools).
    rule="voc": a detection looks at the ground truth with the highest IoU overall; it is a
        true positive if IoU > iou_threshold and that box is still unmatched, otherwise a false
        positive (a duplicate) (the PASCAL VOC devkit).
    Returns (is_true_positive [D] bool, matched_gt [D] int, -1 for none), in the input order.
    """
    gt_boxes = as_boxes("gt_boxes", gt_boxes)
    det_boxes = as_boxes("det_boxes", det_boxes)
    det_scores = validation.as_array("det_scores", det_scores, ndim=1, dtype_kind="fiu", finite=True)
    if len(det_scores) != len(det_boxes):
        raise ValueError(f"det_scores: expected one score per box ({len(det_boxes)}), got {len(det_scores)}")
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    validation.as_choice("rule", rule, ("coco", "voc"))
    overlaps = _iou(det_boxes, gt_boxes)
    matched_gt = np.full(len(det_boxes), -1, dtype=np.int64)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for d in np.argsort(-det_scores, kind="stable"):
        if len(gt_boxes) == 0:
            break
        if rule == "voc":
            g = int(np.argmax(overlaps[d]))
            if overlaps[d, g] > iou_threshold and not taken[g]:
                taken[g], matched_gt[d] = True, g
        else:
            best, g_best = min(iou_threshold, 1 - 1e-10), -1
            for g in range(len(gt_boxes)):
                if taken[g] or overlaps[d, g] < best:
                    continue
                best, g_best = overlaps[d, g], g
            if g_best >= 0:
                taken[g_best], matched_gt[d] = True, g_best
    return matched_gt >= 0, matched_gt


def precision_recall(scores, is_true_positive, num_ground_truths: int):
    """Precision and recall after each detection, from the highest score down.

    scores: [D]; is_true_positive: [D] bool (or 0/1); num_ground_truths: positives in the data (> 0).
    Returns (precision [D], recall [D]): precision_k = TP_k / k, recall_k = TP_k / num_ground_truths.
    """
    scores = validation.as_array("scores", scores, ndim=1, dtype_kind="fiu", finite=True)
    hits = validation.as_array("is_true_positive", is_true_positive, ndim=1, dtype_kind="biu")
    if len(hits) != len(scores):
        raise ValueError(f"is_true_positive: expected {len(scores)} entries like scores, got {len(hits)}")
    if hits.dtype != bool and np.any((hits != 0) & (hits != 1)):
        raise ValueError(f"is_true_positive: expected True/False (or 0/1) flags, got values "
                         f"{np.unique(hits).tolist()[:5]}; pass the first output of match_detections, "
                         f"not its matched indices (-1 = no match)")
    num_ground_truths = validation.as_int("num_ground_truths", num_ground_truths, minimum=1)
    order = np.argsort(-scores, kind="stable")
    true_positives = np.cumsum(hits[order].astype(bool))
    if true_positives.size and true_positives[-1] > num_ground_truths:
        raise ValueError(f"is_true_positive: {true_positives[-1]} true positives but only "
                         f"{num_ground_truths} ground-truth boxes")
    ranks = np.arange(1, len(order) + 1)
    return true_positives / ranks, true_positives / num_ground_truths


def average_precision(precision, recall, *, method: str = "all") -> float:
    """Area under the precision-recall curve, as the benchmarks compute it.

    precision, recall: [D] after each detection, from the highest score down (recall
    non-decreasing), as returned by `precision_recall`.
    method="all": PASCAL VOC 2010-2012. Replace precision by its running maximum from the
        right (the "interpolated" precision, monotone non-increasing), then sum the exact
        area under that step curve: sum over recall steps of delta_recall * precision.
    method="11point": PASCAL VOC 2007. Mean of the interpolated precision at recall
        0, 0.1, ..., 1.0 (the highest precision at any recall >= r, 0 if r is never reached).
    method="coco101": COCO. The interpolated precision read at recall 0, 0.01, ..., 1.0 at
        the first detection reaching that recall, 0 beyond the last recall, averaged.
    Empty inputs (no detections) give 0.
    """
    precision = validation.as_array("precision", precision, ndim=1, dtype_kind="fiu", finite=True).astype(float)
    recall = validation.as_array("recall", recall, ndim=1, dtype_kind="fiu", finite=True).astype(float)
    validation.as_choice("method", method, AP_METHODS)
    if len(precision) != len(recall):
        raise ValueError(f"recall: expected {len(precision)} values like precision, got {len(recall)}")
    for name, values in (("precision", precision), ("recall", recall)):
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(f"{name}: expected values in [0, 1], got range [{values.min():g}, {values.max():g}]")
    if np.any(np.diff(recall) < 0):
        raise ValueError("recall: expected a non-decreasing sequence (detections sorted by score)")
    if len(recall) == 0:
        return 0.0
    if method == "all":
        recall_steps = np.concatenate([[0.0], recall, [1.0]])
        envelope = np.concatenate([[0.0], precision, [0.0]])
        envelope = np.maximum.accumulate(envelope[::-1])[::-1]
        changes = np.flatnonzero(recall_steps[1:] != recall_steps[:-1])
        return float(np.sum((recall_steps[changes + 1] - recall_steps[changes]) * envelope[changes + 1]))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if method == "11point":
        points = np.linspace(0, 1, 11)
        return float(np.mean([envelope[recall >= r].max() if np.any(recall >= r) else 0.0 for r in points]))
    indices = np.searchsorted(recall, COCO_RECALL_POINTS, side="left")
    sampled = np.where(indices < len(envelope), envelope[np.minimum(indices, len(envelope) - 1)], 0.0)
    return float(np.mean(sampled))


def voc_evaluate(ground_truths, detections, *, iou_threshold: float = 0.5, method: str = "all") -> dict:
    """PASCAL VOC mean average precision at one IoU threshold.

    Per class: all detections of the class over all images, sorted by score, matched with
    `match_detections(rule="voc")` (IoU > iou_threshold), then `average_precision(method)`.
    Classes are those with at least one ground-truth box; mAP is their mean.
    Returns {"mAP": float, "AP_per_class": {label: AP}}.
    """
    truths, found = _check_dataset(ground_truths, detections)
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    validation.as_choice("method", method, AP_METHODS)
    classes = sorted({int(c) for _, labels in truths for c in labels})
    per_class = {}
    for label in classes:
        scores, hits, num_gt = [], [], 0
        for (gt_boxes, gt_labels), (det_boxes, det_labels, det_scores) in zip(truths, found):
            gt = gt_boxes[gt_labels == label]
            mine = det_labels == label
            num_gt += len(gt)
            if mine.any():
                is_tp, _ = match_detections(gt, det_boxes[mine], det_scores[mine], iou_threshold, rule="voc")
                scores.append(det_scores[mine])
                hits.append(is_tp)
        scores = np.concatenate(scores) if scores else np.zeros(0)
        hits = np.concatenate(hits) if hits else np.zeros(0, dtype=bool)
        precision, recall = precision_recall(scores, hits, num_gt)
        per_class[label] = average_precision(precision, recall, method=method)
    mean = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return {"mAP": mean, "AP_per_class": per_class}


# --------------------------------------------------------------------------- COCO
def _coco_image(gt_boxes, det_boxes, det_scores, area_range, thresholds, max_detections):
    """pycocotools' evaluateImg for one image, one class and one area range."""
    low, high = area_range
    gt_area = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
    gt_ignore = (gt_area < low) | (gt_area > high)
    gt_order = np.argsort(gt_ignore, kind="mergesort")  # boxes to ignore go last
    gt_boxes, gt_ignore = gt_boxes[gt_order], gt_ignore[gt_order]
    det_order = np.argsort(-det_scores, kind="mergesort")[:max_detections]
    det_boxes, det_scores = det_boxes[det_order], det_scores[det_order]
    overlaps = _iou(det_boxes, gt_boxes)
    num_t, num_d, num_g = len(thresholds), len(det_boxes), len(gt_boxes)
    det_matched = np.zeros((num_t, num_d), dtype=bool)
    det_ignore = np.zeros((num_t, num_d), dtype=bool)
    for t, threshold in enumerate(thresholds):
        gt_taken = np.zeros(num_g, dtype=bool)
        for d in range(num_d):
            best, match = min(threshold, 1 - 1e-10), -1
            for g in range(num_g):
                if gt_taken[g]:
                    continue
                if match > -1 and not gt_ignore[match] and gt_ignore[g]:
                    break  # already matched a real box; only ignored ones are left
                if overlaps[d, g] < best:
                    continue
                best, match = overlaps[d, g], g
            if match == -1:
                continue
            det_ignore[t, d] = gt_ignore[match]
            det_matched[t, d] = True
            gt_taken[match] = True
    det_area = (det_boxes[:, 2] - det_boxes[:, 0]) * (det_boxes[:, 3] - det_boxes[:, 1])
    outside = (det_area < low) | (det_area > high)
    det_ignore |= ~det_matched & outside[None, :]
    return det_scores, det_matched, det_ignore, int(np.sum(~gt_ignore))


def coco_evaluate(ground_truths, detections, *, max_detections=(1, 10, 100)) -> dict:
    """COCO box evaluation, the numbers pycocotools' COCOeval(iouType="bbox").summarize() prints.

    For every class, image and IoU threshold t in 0.50:0.05:0.95: detections sorted by score
    (at most max(max_detections) per image and class) are matched greedily to the unmatched
    ground truth of highest IoU >= t. Over all images, the precision-recall curve of the class
    is read at 101 recall points (`average_precision(method="coco101")`); AP averages over
    thresholds, recall points and classes. Classes without ground-truth boxes are left out
    (their detections are never scored); a class with boxes but no detections counts as 0.
    Images without boxes count: their detections are false positives. Area ranges (small
    < 32^2 <= medium < 96^2 <= large) ignore boxes outside the range, as COCO does.

    Returns a dict of floats: "AP" (AP@[.50:.95]), "AP50", "AP75", "APs", "APm", "APl",
    "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" (maximum recall with at most 1, 10, 100
    detections per image), -1 where nothing can be measured (as pycocotools), and
    "AP_per_class" {label: AP@[.50:.95]}.
    """
    truths, found = _check_dataset(ground_truths, detections)
    limits = validation.as_array("max_detections", max_detections, ndim=1, dtype_kind="iu", min_size=1)
    if limits.min() < 1 or np.any(np.diff(limits) <= 0):
        raise ValueError(f"max_detections: expected increasing positive integers, got {limits.tolist()}")
    limits = [int(m) for m in limits]
    thresholds, points = COCO_IOU_THRESHOLDS, COCO_RECALL_POINTS
    classes = sorted({int(c) for _, labels in truths for c in labels})
    areas = list(COCO_AREA_RANGES)
    # precision [T, R, K, A, M] and recall [T, K, A, M], -1 where undefined (as pycocotools)
    precision = -np.ones((len(thresholds), len(points), len(classes), len(areas), len(limits)))
    recall = -np.ones((len(thresholds), len(classes), len(areas), len(limits)))
    for k, label in enumerate(classes):
        for a, area in enumerate(areas):
            per_image = []
            for (gt_boxes, gt_labels), (det_boxes, det_labels, det_scores) in zip(truths, found):
                gt, mine = gt_labels == label, det_labels == label
                if gt.any() or mine.any():
                    per_image.append(_coco_image(gt_boxes[gt], det_boxes[mine], det_scores[mine],
                                                 COCO_AREA_RANGES[area], thresholds, limits[-1]))
            num_positives = sum(entry[3] for entry in per_image)
            if num_positives == 0:
                continue
            for m, limit in enumerate(limits):
                scores = np.concatenate([entry[0][:limit] for entry in per_image])
                matched = np.concatenate([entry[1][:, :limit] for entry in per_image], axis=1)
                ignore = np.concatenate([entry[2][:, :limit] for entry in per_image], axis=1)
                order = np.argsort(-scores, kind="mergesort")
                matched, ignore = matched[:, order], ignore[:, order]
                true_pos = np.cumsum(matched & ~ignore, axis=1).astype(float)
                false_pos = np.cumsum(~matched & ~ignore, axis=1).astype(float)
                for t in range(len(thresholds)):
                    tp, fp = true_pos[t], false_pos[t]
                    rc = tp / num_positives
                    pr = tp / (fp + tp + np.spacing(1))
                    recall[t, k, a, m] = rc[-1] if len(tp) else 0.0
                    pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
                    indices = np.searchsorted(rc, points, side="left")
                    valid = indices < len(pr)
                    q = np.zeros(len(points))
                    q[valid] = pr[indices[valid]]
                    precision[t, :, k, a, m] = q

    def mean_valid(values):
        values = values[values > -1]
        return float(np.mean(values)) if values.size else -1.0

    last = len(limits) - 1
    t50 = np.flatnonzero(thresholds == 0.5)
    t75 = np.flatnonzero(thresholds == 0.75)
    result = {
        "AP": mean_valid(precision[..., 0, last]),
        "AP50": mean_valid(precision[t50, :, :, 0, last]),
        "AP75": mean_valid(precision[t75, :, :, 0, last]),
        "APs": mean_valid(precision[..., 1, last]),
        "APm": mean_valid(precision[..., 2, last]),
        "APl": mean_valid(precision[..., 3, last]),
    }
    for m, limit in enumerate(limits):
        result[f"AR{limit}"] = mean_valid(recall[:, :, 0, m])
    result["ARs"] = mean_valid(recall[:, :, 1, last])
    result["ARm"] = mean_valid(recall[:, :, 2, last])
    result["ARl"] = mean_valid(recall[:, :, 3, last])
    result["AP_per_class"] = {label: mean_valid(precision[:, :, k, 0, last]) for k, label in enumerate(classes)}
    return result
