"""Lab 07: each checker rejects plausible wrong answers."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "07_average_precision"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_match_detections_rejects(solution):
    box_iou = solution["box_iou"]
    right = solution["match_detections"]

    def greedy(pred_boxes, pred_scores, gt_boxes, threshold, order=None, once=True,
               strict=False, voc=False):
        is_tp = np.zeros(len(pred_boxes), bool)
        overlaps = box_iou(pred_boxes, gt_boxes)
        taken = np.zeros(len(gt_boxes), bool)
        order = np.argsort(-pred_scores) if order is None else order
        for index in order:
            row = overlaps[index] if (voc or not once) else np.where(taken, -1.0, overlaps[index])
            best = int(np.argmax(row))
            good = row[best] > threshold if strict else row[best] >= threshold
            if good and not (voc and taken[best]):
                taken[best] = True
                is_tp[index] = True
        return is_tp

    def duplicates_count(pred_boxes, pred_scores, gt_boxes, threshold):
        return greedy(pred_boxes, pred_scores, gt_boxes, threshold, once=False)

    def input_order(pred_boxes, pred_scores, gt_boxes, threshold):
        return greedy(pred_boxes, pred_scores, gt_boxes, threshold, order=np.arange(len(pred_boxes)))

    def strict_threshold(pred_boxes, pred_scores, gt_boxes, threshold):
        return greedy(pred_boxes, pred_scores, gt_boxes, threshold, strict=True)

    def best_box_taken_is_false_positive(pred_boxes, pred_scores, gt_boxes, threshold):
        return greedy(pred_boxes, pred_scores, gt_boxes, threshold, voc=True)

    def flags_in_score_order(pred_boxes, pred_scores, gt_boxes, threshold):
        return right(pred_boxes, pred_scores, gt_boxes, threshold)[np.argsort(-pred_scores)]

    assert_rejected(LAB, "match_detections", duplicates_count, r"is_tp has wrong values")
    assert_rejected(LAB, "match_detections", input_order, r"is_tp has wrong values")
    assert_rejected(LAB, "match_detections", strict_threshold, r"exactly 0.5")
    assert_rejected(LAB, "match_detections", best_box_taken_is_false_positive, r"two overlapping objects")
    assert_rejected(LAB, "match_detections", flags_in_score_order, r"is_tp has wrong values")


def _curve(is_tp, scores, num_gt, sort=True):
    order = np.argsort(-scores) if sort else np.arange(len(scores))
    hits = np.asarray(is_tp, float)[order]
    tp = np.cumsum(hits)
    return tp / num_gt, tp / np.arange(1, len(hits) + 1)


def _sample(recall, precision, levels):
    positions = np.searchsorted(recall, levels, side="left")
    found = positions < len(precision)
    sampled = np.zeros(len(levels))
    sampled[found] = precision[positions[found]]
    return sampled.mean()


def test_average_precision_rejects():
    envelope = lambda p: np.maximum.accumulate(p[::-1])[::-1]  # noqa: E731

    def no_envelope(is_tp, scores, num_gt):
        recall, precision = _curve(is_tp, scores, num_gt)
        return _sample(recall, precision, np.linspace(0, 1, 101))

    def voc07_eleven_points(is_tp, scores, num_gt):
        recall, precision = _curve(is_tp, scores, num_gt)
        return _sample(recall, envelope(precision), np.linspace(0, 1, 11))

    def unsorted_detections(is_tp, scores, num_gt):
        recall, precision = _curve(is_tp, scores, num_gt, sort=False)
        return _sample(recall, envelope(precision), np.linspace(0, 1, 101))

    def area_under_raw_curve(is_tp, scores, num_gt):
        recall, precision = _curve(is_tp, scores, num_gt)
        return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))

    def recall_over_detections(is_tp, scores, num_gt):
        recall, precision = _curve(is_tp, scores, len(scores))
        return _sample(recall, envelope(precision), np.linspace(0, 1, 101))

    for wrong in (no_envelope, voc07_eleven_points, unsorted_detections, area_under_raw_curve,
                  recall_over_detections):
        assert_rejected(LAB, "average_precision", wrong, r"average_precision is wrong for \d+ detections")


def test_mean_average_precision_rejects(solution):
    match, ap = solution["match_detections"], solution["average_precision"]
    right = solution["mean_average_precision"]

    def class_agnostic(images, thresholds):
        relabelled = [{**im, "gt_labels": np.zeros_like(im["gt_labels"]),
                       "pred_labels": np.zeros_like(im["pred_labels"])} for im in images]
        return right(relabelled, thresholds)

    def mean_over_images(images, thresholds):
        return float(np.mean([right([image], thresholds) for image in images]))

    def skips_classes_without_detections(images, thresholds):
        predicted = set(np.concatenate([im["pred_labels"] for im in images]).tolist())
        kept = [{**im, "gt_boxes": im["gt_boxes"][np.isin(im["gt_labels"], list(predicted))],
                 "gt_labels": im["gt_labels"][np.isin(im["gt_labels"], list(predicted))]}
                for im in images]
        return right(kept, thresholds)

    def first_threshold_only(images, thresholds):
        return right(images, thresholds[:1])

    def matches_across_classes(images, thresholds):
        classes = np.unique(np.concatenate([im["gt_labels"] for im in images]))
        values = []
        for label in classes:
            num_gt = sum(int(np.sum(im["gt_labels"] == label)) for im in images)
            for threshold in thresholds:
                flags, scores = [], []
                for im in images:
                    mine = im["pred_labels"] == label
                    flags.append(match(im["pred_boxes"], im["pred_scores"], im["gt_boxes"], threshold)[mine])
                    scores.append(im["pred_scores"][mine])
                values.append(ap(np.concatenate(flags), np.concatenate(scores), num_gt))
        return float(np.mean(values))

    assert_rejected(LAB, "mean_average_precision", class_agnostic, r"mAP is wrong")
    assert_rejected(LAB, "mean_average_precision", mean_over_images, r"mAP is wrong")
    assert_rejected(LAB, "mean_average_precision", skips_classes_without_detections, r"4 images.*mAP is wrong|mAP is wrong.*4 images")
    assert_rejected(LAB, "mean_average_precision", first_threshold_only, r"0.95")
    assert_rejected(LAB, "mean_average_precision", matches_across_classes, r"mAP is wrong")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    from utils.detection import metrics

    def course_average_precision(is_tp, scores, num_gt):
        precision, recall = metrics.precision_recall(scores, is_tp, num_gt)
        return metrics.average_precision(precision, recall, method="coco")

    def pycocotools_matching(pred_boxes, pred_scores, gt_boxes, iou_threshold):
        from labchecks_07_average_precision import _coco_matches
        image = {"gt_boxes": gt_boxes, "gt_labels": np.zeros(len(gt_boxes), int),
                 "pred_boxes": pred_boxes, "pred_scores": pred_scores,
                 "pred_labels": np.zeros(len(pred_boxes), int)}
        return _coco_matches(image, iou_threshold)

    assert_shortcut_rejected(LAB, "average_precision", course_average_precision)
    assert_shortcut_rejected(LAB, "match_detections", pycocotools_matching)


def test_boundaries_are_visited(solution):
    right_match, right_map = solution["match_detections"], solution["mean_average_precision"]

    def needs_ground_truth(pred_boxes, pred_scores, gt_boxes, iou_threshold):
        if len(gt_boxes) == 0:
            raise ValueError("zero-size array to reduction operation maximum")
        return right_match(pred_boxes, pred_scores, gt_boxes, iou_threshold)

    def averages_every_labelled_class(images, iou_thresholds):
        # classes taken from detections and ground truth alike: a class nobody annotated
        # counts as AP 0
        gt = {int(c) for image in images for c in image["gt_labels"]}
        predicted = {int(c) for image in images for c in image["pred_labels"]}
        value = right_map(images, iou_thresholds)
        return value * len(gt) / len(gt | predicted)

    assert_rejected(LAB, "match_detections", needs_ground_truth, r"no ground truth")
    assert_rejected(LAB, "mean_average_precision", averages_every_labelled_class, r"mAP is wrong")


def test_known_mistakes_are_named(solution):
    def eleven_points(is_tp, scores, num_gt):
        order = np.argsort(-scores, kind="mergesort")
        hits = np.cumsum(np.asarray(is_tp, float)[order])
        recall, precision = hits / num_gt, hits / np.arange(1, len(hits) + 1)
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        return float(np.mean([precision[recall >= r].max() if np.any(recall >= r) else 0.0
                              for r in np.linspace(0, 1, 11)]))

    assert_mistake_named(LAB, "average_precision", eleven_points, r"11-point AP of PASCAL VOC 2007")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
