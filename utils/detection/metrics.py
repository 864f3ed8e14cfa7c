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
from utils.detection.boxes import _check_scores, _iou, as_boxes

# COCO's ten IoU thresholds 0.50:0.05:0.95 and 101 recall points, built as pycocotools does.
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
COCO_RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
# COCO's area ranges in pixels^2 (bounds included on both sides, as in pycocotools).
COCO_AREA_RANGES = {"all": (0.0, 1e5**2), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2),
                    "large": (96.0**2, 1e5**2)}
COCO_MAX_DETECTIONS = (1, 10, 100)  # detections per image (and class) for AR1, AR10, AR100
AP_METHODS = ("all", "11point", "coco101")


# --------------------------------------------------------------------------- input checks
def _check_image(name: str, entry, *, with_scores: bool):
    keys = ("boxes", "labels", "scores") if with_scores else ("boxes", "labels")
    if not isinstance(entry, dict):
        raise TypeError(f"{name}: expected a dict with {', '.join(map(repr, keys))}, got {type(entry).__name__}")
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
    checked = [boxes, labels]
    if with_scores:
        checked.append(_check_scores(f"{name}['scores']", entry["scores"], len(boxes)))
    return tuple(array[labels >= 0] for array in checked)  # label -1: the padding of augment.pad_boxes


def _check_dataset(ground_truths, detections):
    """The checked per-image (boxes, labels) and (boxes, labels, scores), and the sorted
    classes that have at least one ground-truth box."""
    for name, value in (("ground_truths", ground_truths), ("detections", detections)):
        if isinstance(value, dict) or not hasattr(value, "__len__"):
            raise TypeError(f"{name}: expected a list with one dict per image, got {type(value).__name__}")
    if len(ground_truths) != len(detections):
        raise ValueError(f"detections: expected one entry per image ({len(ground_truths)}), got {len(detections)}")
    truths = [_check_image(f"ground_truths[{i}]", g, with_scores=False) for i, g in enumerate(ground_truths)]
    found = [_check_image(f"detections[{i}]", d, with_scores=True) for i, d in enumerate(detections)]
    classes = sorted({int(c) for _, labels in truths for c in labels})
    return truths, found, classes


def _by_image(truths, found, label):
    """(gt_boxes, det_boxes, det_scores) of one class, for each image that has any of them."""
    for (gt_boxes, gt_labels), (det_boxes, det_labels, det_scores) in zip(truths, found):
        gt, mine = gt_labels == label, det_labels == label
        if gt.any() or mine.any():
            yield gt_boxes[gt], det_boxes[mine], det_scores[mine]


# --------------------------------------------------------------------------- matching, PR, AP
def _coco_match(overlaps, threshold: float, gt_ignore) -> np.ndarray:
    """pycocotools' greedy matching of detections (rows of overlaps [D, G], highest score first):
    each takes the unmatched ground truth of highest IoU >= threshold, a real one before any
    ignored one (gt_ignore [G] bool, ignored last). Returns [D] int64, -1 for no match."""
    matched = np.full(len(overlaps), -1, dtype=np.int64)
    taken = np.zeros(len(gt_ignore), dtype=bool)
    for d in range(len(overlaps)):
        best, match = min(threshold, 1 - 1e-10), -1
        for g in range(len(gt_ignore)):
            if taken[g]:
                continue
            if match > -1 and not gt_ignore[match] and gt_ignore[g]:
                break  # already matched a real box; only ignored ones are left
            if overlaps[d, g] < best:
                continue
            best, match = overlaps[d, g], g
        if match > -1:
            taken[match], matched[d] = True, match
    return matched


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
    det_scores = _check_scores("det_scores", det_scores, len(det_boxes))
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    validation.as_choice("rule", rule, ("coco", "voc"))
    order = np.argsort(-det_scores, kind="stable")
    overlaps = _iou(det_boxes[order], gt_boxes)
    matched_gt = np.full(len(det_boxes), -1, dtype=np.int64)
    if rule == "coco":
        matched_gt[order] = _coco_match(overlaps, iou_threshold, np.zeros(len(gt_boxes), dtype=bool))
    elif len(gt_boxes):
        taken = np.zeros(len(gt_boxes), dtype=bool)
        for d, row in zip(order, overlaps):
            g = int(np.argmax(row))
            if row[g] > iou_threshold and not taken[g]:
                taken[g], matched_gt[d] = True, g
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


def _coco_101(precision, recall) -> np.ndarray:
    """The interpolated precision at COCO's 101 recall points, [101] (`average_precision`'s "coco101")."""
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    indices = np.searchsorted(recall, COCO_RECALL_POINTS, side="left")
    valid = indices < len(envelope)
    sampled = np.zeros(len(COCO_RECALL_POINTS))
    sampled[valid] = envelope[indices[valid]]
    return sampled


def average_precision(precision, recall, *, method: str = "all") -> float:
    """Area under the precision-recall curve, as the benchmarks compute it (0 for no detections).

    precision, recall: [D] after each detection, from the highest score down, as returned by
    `precision_recall`. The interpolated precision at recall r is the highest precision at any
    recall >= r (the running maximum from the right).
    method="all" (PASCAL VOC 2010-2012): the exact area under the interpolated step curve.
    method="11point" (VOC 2007): its mean at recall 0, 0.1, ..., 1.0 (0 where r is not reached).
    method="coco101" (COCO): its mean at recall 0, 0.01, ..., 1.0, read at the first detection
        reaching that recall (0 beyond the last recall).
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
    if method == "coco101":
        return float(np.mean(_coco_101(precision, recall)))
    if method == "11point":
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        return float(np.mean([envelope[recall >= r].max() if np.any(recall >= r) else 0.0
                              for r in np.linspace(0, 1, 11)]))
    recall_steps = np.concatenate([[0.0], recall, [1.0]])
    envelope = np.maximum.accumulate(np.concatenate([[0.0], precision, [0.0]])[::-1])[::-1]
    changes = np.flatnonzero(recall_steps[1:] != recall_steps[:-1])
    return float(np.sum((recall_steps[changes + 1] - recall_steps[changes]) * envelope[changes + 1]))


def voc_evaluate(ground_truths, detections, *, iou_threshold: float = 0.5, method: str = "all") -> dict:
    """PASCAL VOC mean average precision at one IoU threshold.

    Per class: all detections of the class over all images, sorted by score, matched with
    `match_detections(rule="voc")` (IoU > iou_threshold), then `average_precision(method)`.
    Classes are those with at least one ground-truth box; mAP is their mean.
    Returns {"mAP": float, "AP_per_class": {label: AP}}.
    """
    truths, found, classes = _check_dataset(ground_truths, detections)
    iou_threshold = validation.as_float("iou_threshold", iou_threshold, minimum=0.0, maximum=1.0)
    validation.as_choice("method", method, AP_METHODS)
    per_class = {}
    for label in classes:
        images = list(_by_image(truths, found, label))
        hits = [match_detections(gt, boxes, scores, iou_threshold, rule="voc")[0] for gt, boxes, scores in images]
        scores = np.concatenate([scores for _, _, scores in images])
        precision, recall = precision_recall(scores, np.concatenate(hits), sum(len(gt) for gt, _, _ in images))
        per_class[label] = average_precision(precision, recall, method=method)
    mean = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return {"mAP": mean, "AP_per_class": per_class}


# --------------------------------------------------------------------------- COCO
def _coco_image(gt_boxes, det_boxes, det_scores, area_range):
    """pycocotools' evaluateImg for one image, one class and one area range: the scores [D] of
    the (at most 100) best detections, highest first, whether each is matched and whether it
    is ignored, both [T, D] over COCO_IOU_THRESHOLDS, and the number of ground truths not ignored."""
    low, high = area_range
    gt_area = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
    gt_ignore = (gt_area < low) | (gt_area > high)
    gt_order = np.argsort(gt_ignore, kind="mergesort")  # boxes to ignore go last
    gt_boxes, gt_ignore = gt_boxes[gt_order], gt_ignore[gt_order]
    det_order = np.argsort(-det_scores, kind="mergesort")[:COCO_MAX_DETECTIONS[-1]]
    det_boxes, det_scores = det_boxes[det_order], det_scores[det_order]
    overlaps = _iou(det_boxes, gt_boxes)
    det_matched = np.zeros((len(COCO_IOU_THRESHOLDS), len(det_boxes)), dtype=bool)
    det_ignore = np.zeros_like(det_matched)
    for t, threshold in enumerate(COCO_IOU_THRESHOLDS):
        matched = _coco_match(overlaps, threshold, gt_ignore)
        det_matched[t] = hit = matched > -1
        det_ignore[t, hit] = gt_ignore[matched[hit]]
    det_area = (det_boxes[:, 2] - det_boxes[:, 0]) * (det_boxes[:, 3] - det_boxes[:, 1])
    outside = (det_area < low) | (det_area > high)
    det_ignore |= ~det_matched & outside[None, :]
    return det_scores, det_matched, det_ignore, int(np.sum(~gt_ignore))


def _mean_valid(values) -> float:
    """Mean of the entries that are not -1 (undefined), -1 if there are none (as pycocotools)."""
    values = values[values > -1]
    return float(np.mean(values)) if values.size else -1.0


def coco_evaluate(ground_truths, detections) -> dict:
    """COCO box evaluation, the numbers pycocotools' COCOeval(iouType="bbox").summarize() prints.

    For every class, image and IoU threshold t in 0.50:0.05:0.95: detections sorted by score
    (at most 100 per image and class) are matched greedily to the unmatched ground truth of
    highest IoU >= t. Over all images, the precision-recall curve of the class is read at 101
    recall points (`average_precision(method="coco101")`); AP averages over thresholds, recall
    points and classes. Classes without ground-truth boxes are left out (their detections are
    never scored); a class with boxes but no detections counts as 0. Images without boxes
    count: their detections are false positives. Area ranges (small < 32^2 <= medium < 96^2
    <= large) ignore boxes outside the range, as COCO does.

    Returns a dict of floats: "AP" (AP@[.50:.95]), "AP50", "AP75", "APs", "APm", "APl",
    "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" (maximum recall with at most 1, 10, 100
    detections per image), -1 where nothing can be measured (as pycocotools), and
    "AP_per_class" {label: AP@[.50:.95]}.
    """
    truths, found, classes = _check_dataset(ground_truths, detections)
    thresholds, limits, areas = COCO_IOU_THRESHOLDS, COCO_MAX_DETECTIONS, list(COCO_AREA_RANGES.values())
    # precision [T, R, K, A, M] and recall [T, K, A, M], -1 where undefined (as pycocotools)
    precision = -np.ones((len(thresholds), len(COCO_RECALL_POINTS), len(classes), len(areas), len(limits)))
    recall = -np.ones((len(thresholds), len(classes), len(areas), len(limits)))
    for k, label in enumerate(classes):
        for a, area_range in enumerate(areas):
            per_image = [_coco_image(*entry, area_range) for entry in _by_image(truths, found, label)]
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
                for t, (tp, fp) in enumerate(zip(true_pos, false_pos)):
                    rc = tp / num_positives
                    recall[t, k, a, m] = rc[-1] if len(tp) else 0.0
                    precision[t, :, k, a, m] = _coco_101(tp / (fp + tp + np.spacing(1)), rc)

    ap, ar = precision[..., -1], recall[..., -1]  # at the largest limit: [T, R, K, A] and [T, K, A]
    return {"AP": _mean_valid(ap[..., 0]), "AP50": _mean_valid(ap[thresholds == 0.5][..., 0]),
            "AP75": _mean_valid(ap[thresholds == 0.75][..., 0]),
            **{f"AP{size}": _mean_valid(ap[..., a]) for a, size in enumerate("sml", start=1)},
            **{f"AR{limit}": _mean_valid(recall[:, :, 0, m]) for m, limit in enumerate(limits)},
            **{f"AR{size}": _mean_valid(ar[..., a]) for a, size in enumerate("sml", start=1)},
            "AP_per_class": {label: _mean_valid(ap[:, :, k, 0]) for k, label in enumerate(classes)}}
