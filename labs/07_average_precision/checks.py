"""Checks for Lab 07 (average precision and mAP). Reference: pycocotools' COCOeval, run on
the same boxes (one IoU threshold or several, every area, up to 100 detections per image)."""

import contextlib
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from utils.labcheck import call, compare, compare_number, case_rng


def _xywh(box):
    return [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]


def coco_evaluate(images, iou_thresholds):
    """Run COCOeval on `images` (dicts with gt_boxes, gt_labels, pred_boxes, pred_scores,
    pred_labels; boxes x_min, y_min, x_max, y_max). Returns the evaluated COCOeval."""
    labels = sorted({int(c) for image in images for c in image["gt_labels"]} |
                    {int(c) for image in images for c in image["pred_labels"]})
    annotations, detections = [], []
    for image_id, image in enumerate(images, start=1):
        for box, label in zip(image["gt_boxes"], image["gt_labels"]):
            x, y, w, h = _xywh(box)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": int(label), "bbox": [x, y, w, h],
                                "area": w * h, "iscrowd": 0})
        for box, score, label in zip(image["pred_boxes"], image["pred_scores"],
                                     image["pred_labels"]):
            detections.append({"image_id": image_id, "category_id": int(label),
                                "bbox": _xywh(box), "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO()
        ground_truth.dataset = {"images": [{"id": i} for i in range(1, len(images) + 1)],
                                "annotations": annotations,
                                "categories": [{"id": c} for c in labels]}
        ground_truth.createIndex()
        results = ground_truth.loadRes(detections) if detections else COCO()
        evaluator = COCOeval(ground_truth, results, "bbox")
        evaluator.params.iouThrs = np.array(iou_thresholds, dtype=np.float64)
        evaluator.params.maxDets = [100]
        evaluator.params.areaRng = [[0.0, 1e10]]
        evaluator.params.areaRngLbl = ["all"]
        evaluator.evaluate()
        evaluator.accumulate()
    return evaluator


def coco_map(images, iou_thresholds):
    """COCO's mAP: precision averaged over recall points, IoU thresholds and the classes
    that have ground truth."""
    if not any(len(image["gt_boxes"]) for image in images):
        return 0.0
    precision = coco_evaluate(images, iou_thresholds).eval["precision"][:, :, :, 0, 0]
    return float(np.mean(precision[precision > -1]))


def _image(rng, num_gt, num_classes, size=100.0):
    """A synthetic image: ground-truth boxes, and detections that are good, sloppy,
    duplicated or spurious, with distinct scores."""
    corner = rng.uniform(0, size * 0.7, size=(num_gt, 2))
    extent = rng.uniform(8, size * 0.3, size=(num_gt, 2))
    gt_boxes = np.concatenate([corner, corner + extent], axis=1)
    gt_labels = rng.integers(0, num_classes, size=num_gt)
    pred_boxes, pred_labels = [], []
    for box, label in zip(gt_boxes, gt_labels):
        width, height = box[2] - box[0], box[3] - box[1]
        for _ in range(rng.integers(0, 3)):  # 0, 1 or 2 detections per object
            jitter = rng.normal(scale=0.15, size=4) * [width, height, width, height]
            pred_boxes.append(box + jitter)
            pred_labels.append(label if rng.random() < 0.85 else rng.integers(0, num_classes))
    for _ in range(rng.integers(1, 4)):  # spurious detections
        c = rng.uniform(0, size * 0.8, size=2)
        pred_boxes.append(np.concatenate([c, c + rng.uniform(5, 20, size=2)]))
        pred_labels.append(rng.integers(0, num_classes))
    pred_boxes = np.array(pred_boxes)
    pred_boxes[:, 2:] = np.maximum(pred_boxes[:, 2:], pred_boxes[:, :2] + 1)
    return {"gt_boxes": gt_boxes, "gt_labels": gt_labels, "pred_boxes": pred_boxes,
            "pred_scores": rng.uniform(0.05, 1.0, size=len(pred_boxes)),
            "pred_labels": np.array(pred_labels)}


def _single_class(image):
    return {**image, "gt_labels": np.zeros(len(image["gt_boxes"]), int),
            "pred_labels": np.zeros(len(image["pred_boxes"]), int)}


# two overlapping objects, where the second detection's best ground truth is already taken
# by the first detection but the other object still overlaps it enough
CROWDED = {"gt_boxes": np.array([[0, 0, 10, 10], [3, 0, 13, 10]], float),
           "gt_labels": np.zeros(2, int),
           "pred_boxes": np.array([[2, 0, 12, 10], [3, 0, 13, 10], [40, 40, 50, 50]], float),
           "pred_scores": np.array([0.8, 0.9, 0.7]), "pred_labels": np.zeros(3, int)}


# IoU exactly at the threshold: COCO counts it as a match
EXACT = {"gt_boxes": np.array([[0, 0, 20, 10], [50, 50, 60, 60]], float),
         "gt_labels": np.zeros(2, int),
         "pred_boxes": np.array([[0, 0, 10, 10], [50, 50, 60, 61]], float),
         "pred_scores": np.array([0.6, 0.7]), "pred_labels": np.zeros(2, int)}


def _coco_matches(image, iou_threshold):
    """is_tp per detection of a single-image, single-class problem, in input order."""
    if len(image["gt_boxes"]) == 0:
        return np.zeros(len(image["pred_boxes"]), bool)
    evaluator = coco_evaluate([image], [iou_threshold])
    record = next(e for e in evaluator.evalImgs if e is not None)
    matched = dict(zip(record["dtIds"], record["dtMatches"][0] > 0))
    # detection ids are given in input order, starting at 1
    return np.array([matched[i + 1] for i in range(len(image["pred_boxes"]))])


def check_match_detections(match_detections):
    """match_detections(pred_boxes, pred_scores, gt_boxes, iou_threshold) -> is_tp [D]."""
    rng = case_rng(60)
    cases = [(CROWDED, 0.5, "two overlapping objects [0, 0, 10, 10] and [3, 0, 13, 10]"),
             (EXACT, 0.5, "a detection with IoU exactly 0.5 (it counts)")]
    for index in range(6):
        threshold = (0.5, 0.75, 0.3)[index % 3]
        cases.append((_single_class(_image(rng, 4 + index, 1)), threshold,
                      f"random image {index + 1}"))
    # boundary: detections in an image without ground truth (all false positives)
    empty = _single_class(_image(rng, 3, 1))
    empty["gt_boxes"] = np.zeros((0, 4))
    cases.append((empty, 0.5, "an image with detections but no ground truth"))
    for image, threshold, case in cases:
        case = f"{case}, iou_threshold {threshold}"
        got = call("match_detections", match_detections, image["pred_boxes"].copy(),
                   image["pred_scores"].copy(), image["gt_boxes"].copy(), threshold, case=case, numpy_only=True)
        compare("is_tp", got, _coco_matches(image, threshold), case=case,
                hint="go through detections from the highest score down; each one takes the "
                     "still-unmatched ground-truth box with the highest IoU, if that IoU is "
                     "at least the threshold; a ground-truth box is matched at most once; "
                     "return the flags in the input order.")
    return f"{len(cases)} cases agree with pycocotools' matching"


def check_average_precision(average_precision):
    """average_precision(is_tp, scores, num_gt) -> COCO's 101-point interpolated AP."""
    rng = case_rng(61)
    for index in range(6):
        images = [_single_class(_image(rng, rng.integers(2, 7), 1)) for _ in range(1 + index)]
        evaluator = coco_evaluate(images, [0.5])
        expected = float(np.mean(evaluator.eval["precision"][0, :, 0, 0, 0]))
        is_tp, scores = [], []
        for record in evaluator.evalImgs:
            if record is not None:
                is_tp.extend(record["dtMatches"][0] > 0)
                scores.extend(record["dtScores"])
        order = rng.permutation(len(scores))  # not sorted: sorting is part of the job
        is_tp, scores = np.array(is_tp)[order], np.array(scores)[order]
        num_gt = sum(len(image["gt_boxes"]) for image in images)
        case = (f"{len(scores)} detections ({int(is_tp.sum())} true positives), "
                f"num_gt {num_gt}")
        got = call("average_precision", average_precision, is_tp.copy(), scores.copy(), num_gt,
                   case=case, numpy_only=True)
        compare_number("average_precision", got, expected, case=case, atol=1e-6, mistakes={
                           "precision is read without making it non-increasing from the right "
                           "(no interpolation).":
                           lambda: _ap_variant(is_tp, scores, num_gt, 101, interpolate=False),
                           "this is the 11-point AP of PASCAL VOC 2007; COCO reads precision "
                           "at 101 recall levels.":
                           lambda: _ap_variant(is_tp, scores, num_gt, 11, interpolate=True)},
                       hint="sort by score (highest first); precision and recall after each "
                            "detection; make precision non-increasing from the right; read it "
                            "at the 101 recall levels 0, 0.01, ..., 1 (0 where recall is never "
                            "reached) and average.")
    return "6 cases agree with pycocotools' AP"


def check_mean_average_precision(mean_average_precision):
    """mean_average_precision(images, iou_thresholds) -> COCO mAP over classes."""
    rng = case_rng(62)
    cases = []
    for index, thresholds in enumerate(([0.5], [0.75], list(np.linspace(0.5, 0.95, 10)))):
        images = [_image(rng, rng.integers(2, 8), 3) for _ in range(5 + index)]
        cases.append((images, thresholds))
    # a class with ground truth but no detection at all counts as AP 0
    images = [_image(rng, 6, 3) for _ in range(4)]
    for image in images:
        keep = image["pred_labels"] != 2
        image.update(pred_boxes=image["pred_boxes"][keep], pred_scores=image["pred_scores"][keep],
                     pred_labels=image["pred_labels"][keep])
    cases.append((images, [0.5]))
    # boundary: a class with detections but no ground truth anywhere does not count
    images = [_image(rng, 5, 2) for _ in range(4)]
    images[0] = {**images[0], "pred_boxes": np.concatenate([images[0]["pred_boxes"], [[1, 1, 9, 9]]]),
                 "pred_scores": np.concatenate([images[0]["pred_scores"], [0.99]]),
                 "pred_labels": np.concatenate([images[0]["pred_labels"], [7]])}
    cases.append((images, [0.5, 0.75]))
    for images, thresholds in cases:
        classes = sorted({int(c) for image in images for c in image["gt_labels"]})
        case = (f"{len(images)} images, classes {classes}, iou_thresholds "
                f"{[round(t, 2) for t in thresholds]}")
        got = call("mean_average_precision", mean_average_precision,
                   [dict(image) for image in images], list(thresholds), case=case, numpy_only=True)
        compare_number("mAP", got, coco_map(images, thresholds), case=case, atol=1e-6,
                       hint="for each class with ground truth and each IoU threshold: match "
                            "per image (that class only), pool the detections of every image, "
                            "take the AP; then average over thresholds and classes. A class "
                            "with ground truth but no detections scores 0.")
    return f"{len(cases)} cases agree with pycocotools' COCOeval"


def _ap_variant(is_tp, scores, num_gt, points, interpolate):
    """AP of a known mistake: `points` recall levels, with or without the non-increasing
    envelope of precision."""
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    hits = np.asarray(is_tp, float)[order]
    true_positives = np.cumsum(hits)
    recall = true_positives / num_gt
    precision = true_positives / np.arange(1, len(hits) + 1)
    if interpolate:
        precision = np.maximum.accumulate(precision[::-1])[::-1]
    levels = np.linspace(0, 1, points)
    where = np.searchsorted(recall, levels, side="left")
    return float(np.mean([precision[i] if i < len(precision) else 0.0 for i in where]))
