"""utils.detection against references nobody here wrote: TensorFlow's NMS ops, pycocotools'
IoU and COCOeval, Keras' box encoding, and the PASCAL VOC devkit's AP definitions."""

import contextlib
import io
import pathlib
import sys

import numpy as np
import pytest

import utils  # noqa: F401  (pins the Keras backend)
from utils import detection

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools.saved_cells import definitions  # noqa: E402

NOTEBOOK_13 = definitions("notebooks/13_detection_metrics.ipynb", "soft_nms")


def random_boxes(rng, count, size=100.0, min_side=1.0):
    corner = rng.uniform(0, size, size=(count, 2))
    sides = rng.uniform(min_side, size / 2, size=(count, 2))
    return np.concatenate([corner, corner + sides], axis=1)


# ----------------------------------------------------------------------------- pycocotools helpers
def to_xywh(boxes):
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return np.stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)


def pycocotools_stats(ground_truths, detections, classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for index, (truth, found) in enumerate(zip(ground_truths, detections)):
        image_id = index + 1
        images.append({"id": image_id, "width": 200, "height": 200})
        for box, label in zip(to_xywh(truth["boxes"]), truth["labels"]):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": int(label) + 1,
                                "bbox": box.tolist(), "area": float(box[2] * box[3]), "iscrowd": 0})
        for box, label, score in zip(to_xywh(found["boxes"]), found["labels"], found["scores"]):
            results.append({"image_id": image_id, "category_id": int(label) + 1, "bbox": box.tolist(),
                            "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": images, "annotations": annotations,
                        "categories": [{"id": c + 1, "name": str(c)} for c in classes]}
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(results), iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats


STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def random_dataset(rng, num_images=8, num_classes=3, size=200.0, jitter=6.0, empty_images=True):
    """Ground truths and noisy detections: shifted copies of objects, duplicates, false alarms,
    some images without objects and (sometimes) a class that is never detected."""
    ground_truths, detections = [], []
    skip_class = int(rng.integers(num_classes)) if rng.uniform() < 0.5 else None
    for index in range(num_images):
        count = 0 if (empty_images and index % 4 == 3) else int(rng.integers(1, 6))
        boxes = random_boxes(rng, count, size=size, min_side=4.0)
        labels = rng.integers(0, num_classes, size=count)
        det_boxes, det_labels = [], []
        for box, label in zip(boxes, labels):
            for _ in range(int(rng.integers(0, 3))):  # 0, 1 or 2 detections per object
                det_boxes.append(box + rng.normal(0, jitter, size=4) * [1, 1, 1, 1])
                det_labels.append(label if rng.uniform() < 0.85 else rng.integers(num_classes))
        for _ in range(int(rng.integers(0, 4))):  # false alarms
            det_boxes.append(random_boxes(rng, 1, size=size, min_side=4.0)[0])
            det_labels.append(rng.integers(num_classes))
        det_boxes = np.array(det_boxes).reshape(-1, 4)
        det_boxes = np.concatenate([np.minimum(det_boxes[:, :2], det_boxes[:, 2:]),
                                    np.maximum(det_boxes[:, :2], det_boxes[:, 2:])], axis=1)
        det_labels = np.array(det_labels, dtype=np.int64)
        if skip_class is not None:
            keep = det_labels != skip_class
            det_boxes, det_labels = det_boxes[keep], det_labels[keep]
        ground_truths.append({"boxes": boxes, "labels": labels.astype(np.int64)})
        detections.append({"boxes": det_boxes, "labels": det_labels, "scores": rng.uniform(0, 1, len(det_boxes))})
    return ground_truths, detections


# ----------------------------------------------------------------------------- IoU
@pytest.mark.parametrize("seed", range(5))
def test_iou_matches_pycocotools(seed):
    from pycocotools import mask

    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 30), random_boxes(rng, 20)
    reference = mask.iou(to_xywh(a).tolist(), to_xywh(b).tolist(), [0] * len(b))
    np.testing.assert_allclose(detection.iou(a, b), reference, atol=1e-9)


def test_iou_matches_keras_compute_iou():
    import keras

    rng = np.random.default_rng(7)
    a, b = random_boxes(rng, 12), random_boxes(rng, 9)
    reference = keras.utils.bounding_boxes.compute_iou(a.astype("float32"), b.astype("float32"), "xyxy")
    np.testing.assert_allclose(detection.iou(a, b), np.asarray(reference), atol=1e-5)


def test_iou_known_values_and_edge_cases():
    a = np.array([[0, 0, 10, 10]], dtype=float)
    b = np.array([[5, 0, 15, 10], [10, 0, 20, 10], [0, 0, 10, 10], [2, 2, 2, 2]], dtype=float)
    np.testing.assert_allclose(detection.iou(a, b), [[1 / 3, 0.0, 1.0, 0.0]])
    assert detection.iou(np.zeros((0, 4)), b).shape == (0, 4)
    assert detection.iou(a, []).shape == (1, 0)
    assert detection.iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0  # both degenerate: union 0


@pytest.mark.parametrize("bad, message", [
    (np.array([[0, 0, 10]]), "shape"),
    (np.zeros((2, 4, 1)), "shape"),
    (np.array([[0, 0, np.nan, 10]]), "NaN"),
    (np.array([[0, 0, 10, 10], [10, 0, 5, 10]]), "box 1 has x_max < x_min"),
    (np.array([[0, 10, 10, 5]]), "y_max < y_min"),
    (np.array([[0, 0, np.inf, 10]]), "not finite"),
])
def test_bad_boxes_raise_value_error_saying_which(bad, message):
    with pytest.raises(ValueError, match=message):
        detection.iou(bad, [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="boxes_b"):
        detection.iou([[0, 0, 1, 1]], bad)


def test_non_numeric_boxes_raise_type_error():
    with pytest.raises(TypeError, match="boxes_a"):
        detection.iou(np.array([["a", "b", "c", "d"]]), [[0, 0, 1, 1]])
    with pytest.raises(TypeError, match="boxes_a"):
        detection.iou(None, [[0, 0, 1, 1]])


# ----------------------------------------------------------------------------- NMS
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_tensorflow(seed, threshold):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 60, size=60).astype(np.float32)
    scores = rng.uniform(0, 1, 60).astype(np.float32)
    if seed % 2:  # ties: TensorFlow keeps the lower index first
        scores = np.round(scores, 1)
    for max_outputs in (None, 5):
        expected = tf.image.non_max_suppression(tf.constant(boxes[:, [1, 0, 3, 2]]), scores,
                                                max_output_size=60 if max_outputs is None else max_outputs,
                                                iou_threshold=threshold).numpy()
        ours = detection.nms(boxes, scores, iou_threshold=threshold, max_outputs=max_outputs)
        np.testing.assert_array_equal(ours, expected)


def test_nms_boundary_is_strict_and_order_is_by_score():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]], dtype=float)  # IoU(0, 1) = 0.5
    np.testing.assert_array_equal(detection.nms(boxes, [0.9, 0.8, 0.95], iou_threshold=0.5), [2, 0, 1])
    np.testing.assert_array_equal(detection.nms(boxes, [0.9, 0.8, 0.95], iou_threshold=0.49), [2, 0])
    assert detection.nms(np.zeros((0, 4)), np.zeros(0)).shape == (0,)


def test_nms_bad_arguments():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], dtype=float)
    with pytest.raises(ValueError, match="scores"):
        detection.nms(boxes, [0.5])
    with pytest.raises(ValueError, match="scores"):
        detection.nms(boxes, [0.5, np.nan])
    with pytest.raises(ValueError, match="iou_threshold"):
        detection.nms(boxes, [0.5, 0.4], iou_threshold=1.5)
    with pytest.raises(TypeError, match="max_outputs"):
        detection.nms(boxes, [0.5, 0.4], max_outputs=2.0)
    with pytest.raises(ValueError, match="x_max < x_min"):
        detection.nms([[5, 0, 1, 1]], [0.5])


@pytest.mark.parametrize("seed", range(4))
def test_soft_nms_matches_tensorflow(seed):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 40, size=50).astype(np.float32)
    scores = rng.uniform(0, 1, 40).astype(np.float32)
    indices, new_scores = tf.image.non_max_suppression_with_scores(
        boxes[:, [1, 0, 3, 2]], scores, max_output_size=40, iou_threshold=1.0, score_threshold=0.1,
        soft_nms_sigma=0.5)
    ours, our_scores = NOTEBOOK_13.soft_nms(boxes, scores, sigma=0.5, score_threshold=0.1)
    np.testing.assert_array_equal(ours, indices.numpy())
    np.testing.assert_allclose(our_scores, new_scores.numpy(), rtol=1e-5)


# ----------------------------------------------------------------------------- counting boxes
def test_count_all_boxes_by_enumeration():
    height, width = 4, 6
    pixels = [(y, x) for y in range(height) for x in range(width)]
    assert detection.count_all_boxes(height, width) == sum(1 for _ in pixels for _ in pixels)
    boundaries_x, boundaries_y = range(width + 1), range(height + 1)
    distinct = sum(1 for x0 in boundaries_x for x1 in boundaries_x for y0 in boundaries_y for y1 in boundaries_y
                   if x0 < x1 and y0 < y1)
    assert detection.count_all_boxes(height, width, ordered_corners=False) == distinct
    assert detection.count_all_boxes(300, 500) == 22_500_000_000


def test_count_sliding_windows_by_enumeration():
    sizes = [(8, 8), (16, 8), (40, 40)]
    expected = sum(1 for h, w in sizes if h <= 30 and w <= 20
                   for y in range(0, 30 - h + 1, 3) for x in range(0, 20 - w + 1, 3))
    assert detection.count_sliding_windows(30, 20, sizes, 3) == expected
    with pytest.raises(ValueError, match="window_sizes"):
        detection.count_sliding_windows(30, 20, [(8, 0)], 3)
    with pytest.raises(ValueError, match="stride"):
        detection.count_sliding_windows(30, 20, sizes, 0)


# ----------------------------------------------------------------------------- AP, VOC
def voc_devkit_ap(recall, precision, use_07_metric):
    """voc_ap as published with the PASCAL VOC devkit (Python port used by py-faster-rcnn)."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(recall >= t) == 0 else np.max(precision[recall >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


@pytest.mark.parametrize("seed", range(6))
def test_average_precision_matches_voc_devkit(seed):
    rng = np.random.default_rng(seed)
    hits = rng.uniform(size=40) < 0.6
    precision, recall = detection.precision_recall(rng.uniform(size=40), hits, int(hits.sum()) + 3)
    assert detection.average_precision(precision, recall, method="all") == pytest.approx(
        voc_devkit_ap(recall, precision, False), abs=1e-12)
    assert detection.average_precision(precision, recall, method="11point") == pytest.approx(
        voc_devkit_ap(recall, precision, True), abs=1e-12)


def test_average_precision_known_values():
    # two objects; detections: hit, miss, hit -> P = 1, 1/2, 2/3 at R = 1/2, 1/2, 1
    precision, recall = detection.precision_recall([0.9, 0.8, 0.7], [True, False, True], 2)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0])
    assert detection.average_precision(precision, recall, method="all") == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert detection.average_precision(precision, recall, method="11point") == pytest.approx((6 + 5 * 2 / 3) / 11)
    assert detection.average_precision(precision, recall, method="coco101") == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert detection.average_precision([], [], method="all") == 0.0


def test_average_precision_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        detection.average_precision([1.0], [1.0], method="10point")
    with pytest.raises(ValueError, match="non-decreasing"):
        detection.average_precision([1.0, 1.0], [0.5, 0.2])
    with pytest.raises(ValueError, match="recall"):
        detection.average_precision([1.0, 1.0], [0.5])
    with pytest.raises(ValueError, match="precision"):
        detection.average_precision([1.5], [0.5])
    with pytest.raises(ValueError, match="num_ground_truths"):
        detection.precision_recall([0.5], [True], 0)


def test_voc_evaluate_counts_duplicates_as_false_positives():
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    found = [{"boxes": [[0, 0, 10, 10], [0, 0, 10, 9.5]], "labels": [0, 0], "scores": [0.9, 0.8]}]
    result = detection.voc_evaluate(truth, found)
    assert result["mAP"] == pytest.approx(1.0)  # the duplicate comes after full recall
    found[0]["scores"] = [0.8, 0.9]
    assert detection.voc_evaluate(truth, found)["AP_per_class"][0] == pytest.approx(1.0)
    # VOC matches to the best box even if already taken; COCO moves on to the next free one
    truth = [{"boxes": [[0, 0, 10, 10], [0, 0, 10, 7]], "labels": [0, 0]}]
    found = [{"boxes": [[0, 0, 10, 10], [0, 0, 10, 9.5]], "labels": [0, 0], "scores": [0.9, 0.8]}]
    hits_voc, _ = detection.match_detections(truth[0]["boxes"], found[0]["boxes"], [0.9, 0.8], rule="voc")
    hits_coco, _ = detection.match_detections(truth[0]["boxes"], found[0]["boxes"], [0.9, 0.8], rule="coco")
    np.testing.assert_array_equal(hits_voc, [True, False])
    np.testing.assert_array_equal(hits_coco, [True, True])


# ----------------------------------------------------------------------------- COCO
@pytest.mark.parametrize("seed", range(12))
def test_coco_evaluate_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    size = 200.0 if seed % 3 else 600.0  # big images so "large" and "medium" areas occur
    ground_truths, detections = random_dataset(rng, num_images=6 + seed % 5, size=size, jitter=3.0 + seed)
    classes = sorted({int(c) for g in ground_truths for c in g["labels"]} |
                     {int(c) for d in detections for c in d["labels"]})
    reference = pycocotools_stats(ground_truths, detections, classes)
    ours = detection.coco_evaluate(ground_truths, detections)
    for name, expected in zip(STAT_NAMES, reference):
        assert ours[name] == pytest.approx(expected, abs=1e-3), name


def test_coco_evaluate_many_detections_per_image_respects_max_100():
    rng = np.random.default_rng(42)
    boxes = random_boxes(rng, 30, size=100, min_side=5)
    ground_truths = [{"boxes": boxes, "labels": np.zeros(30, dtype=np.int64)}]
    noisy = np.concatenate([boxes + rng.normal(0, 2, size=boxes.shape) for _ in range(5)])
    noisy = np.concatenate([np.minimum(noisy[:, :2], noisy[:, 2:]), np.maximum(noisy[:, :2], noisy[:, 2:])], 1)
    detections = [{"boxes": noisy, "labels": np.zeros(150, dtype=np.int64), "scores": rng.uniform(size=150)}]
    reference = pycocotools_stats(ground_truths, detections, [0])
    ours = detection.coco_evaluate(ground_truths, detections)
    for name, expected in zip(STAT_NAMES, reference):
        assert ours[name] == pytest.approx(expected, abs=1e-3), name


def test_coco_evaluate_perfect_empty_and_missing_classes():
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}, {"boxes": np.zeros((0, 4)), "labels": []},
             {"boxes": [[5, 5, 20, 30]], "labels": [1]}]
    perfect = [{"boxes": [[0, 0, 10, 10]], "labels": [0], "scores": [0.9]},
               {"boxes": np.zeros((0, 4)), "labels": [], "scores": []},
               {"boxes": [[5, 5, 20, 30]], "labels": [1], "scores": [0.8]}]
    result = detection.coco_evaluate(truth, perfect)
    assert result["AP"] == pytest.approx(1.0) and result["AP50"] == pytest.approx(1.0)
    # class 1 never detected: it counts as AP 0, so mAP halves
    only_first = [perfect[0], perfect[1], {"boxes": np.zeros((0, 4)), "labels": [], "scores": []}]
    assert detection.coco_evaluate(truth, only_first)["AP"] == pytest.approx(0.5)
    reference = pycocotools_stats(truth, only_first, [0, 1])
    assert detection.coco_evaluate(truth, only_first)["AP75"] == pytest.approx(reference[2], abs=1e-3)
    # no detections at all: AP 0 (pycocotools cannot even load an empty result list)
    nothing = [{"boxes": np.zeros((0, 4)), "labels": [], "scores": []}] * 3
    assert detection.coco_evaluate(truth, nothing)["AP"] == 0.0
    # no ground truth at all: nothing to measure, -1 as pycocotools
    empty_truth = [{"boxes": np.zeros((0, 4)), "labels": []}] * 3
    assert detection.coco_evaluate(empty_truth, perfect)["AP"] == -1.0


def test_coco_evaluate_bad_inputs_say_which():
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    found = [{"boxes": [[0, 0, 10, 10]], "labels": [0], "scores": [0.9]}]
    with pytest.raises(ValueError, match=r"detections\[0\]\['boxes'\]: box 0 has x_max < x_min"):
        detection.coco_evaluate(truth, [{"boxes": [[10, 0, 0, 10]], "labels": [0], "scores": [0.9]}])
    with pytest.raises(ValueError, match=r"ground_truths\[0\]\['boxes'\].*NaN"):
        detection.coco_evaluate([{"boxes": [[0, 0, np.nan, 10]], "labels": [0]}], found)
    with pytest.raises(ValueError, match="scores"):
        detection.coco_evaluate(truth, [{"boxes": [[0, 0, 10, 10]], "labels": [0]}])
    with pytest.raises(ValueError, match="one label per box"):
        detection.coco_evaluate([{"boxes": [[0, 0, 10, 10]], "labels": [0, 1]}], found)
    with pytest.raises(ValueError, match="one entry per image"):
        detection.coco_evaluate(truth, found * 2)
    with pytest.raises(TypeError, match="ground_truths"):
        detection.coco_evaluate({"boxes": [[0, 0, 1, 1]], "labels": [0]}, found)
    with pytest.raises(TypeError, match="labels"):
        detection.coco_evaluate([{"boxes": [[0, 0, 10, 10]], "labels": [0.5]}], found)


# ----------------------------------------------------------------------------- anchors
def test_encode_matches_keras_and_decode_inverts():
    import keras

    rng = np.random.default_rng(3)
    boxes, anchors = random_boxes(rng, 25, min_side=3), random_boxes(rng, 25, min_side=3)
    variances = (0.1, 0.1, 0.2, 0.2)
    ours = detection.encode_boxes(boxes, anchors, variances)
    reference = keras.utils.bounding_boxes.encode_box_to_deltas(
        anchors.astype("float32"), boxes.astype("float32"), anchor_format="xyxy", box_format="xyxy",
        encoding_format="center_xywh", variance=list(variances))
    np.testing.assert_allclose(ours, np.asarray(reference), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(detection.decode_boxes(ours, anchors, variances), boxes, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="anchors"):
        detection.encode_boxes(boxes, anchors[:3])
    with pytest.raises(ValueError, match="variances"):
        detection.encode_boxes(boxes, anchors, (0.1, 0.1, 0.2))


def test_default_boxes_layout():
    boxes = detection.default_boxes(64, [8, 4], [0.2, 0.4, 0.7], aspect_ratios=(1.0, 2.0, 0.5))
    assert boxes.shape == ((8 * 8 + 4 * 4) * 4, 4)
    first = boxes[:4]  # cell (0, 0) of the 8 x 8 map, centre (4, 4)
    np.testing.assert_allclose((first[:, 0] + first[:, 2]) / 2, 4.0)
    np.testing.assert_allclose(first[0, 2] - first[0, 0], 0.2 * 64, rtol=1e-6)
    np.testing.assert_allclose((first[1, 2] - first[1, 0]) / (first[1, 3] - first[1, 1]), 2.0, rtol=1e-5)
    np.testing.assert_allclose(first[3, 2] - first[3, 0], np.sqrt(0.2 * 0.4) * 64, rtol=1e-5)
    second = boxes[4:8]  # next column: centre x = 12
    np.testing.assert_allclose((second[:, 0] + second[:, 2]) / 2, 12.0)
    with pytest.raises(ValueError, match="scales"):
        detection.default_boxes(64, [8, 4], [0.2])


def test_match_anchors_threshold_and_forced_best():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 10, 6], [50, 50, 60, 60], [0, 0, 10, 3]], dtype=float)
    truth = np.array([[0, 0, 10, 9], [52, 52, 70, 70]], dtype=float)
    matches = detection.match_anchors(truth, anchors, 0.5)
    # anchor 2 overlaps object 1 with IoU 64/424 < 0.5 but is its best anchor
    np.testing.assert_array_equal(matches, [0, 0, 1, -1])
    # anchors 1 and 3 (IoU 2/3 and 1/3) fall between the thresholds; anchor 2 is still object 1's best
    np.testing.assert_array_equal(detection.match_anchors(truth, anchors, 0.7, negative_threshold=0.3), [0, -2, 1, -2])
    np.testing.assert_array_equal(detection.match_anchors(np.zeros((0, 4)), anchors), [-1, -1, -1, -1])


# ----------------------------------------------------------------------------- post-processing
@pytest.mark.parametrize("seed", range(4))
def test_select_detections_matches_tensorflow_combined_nms(seed):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 50, size=60, min_side=2).astype(np.float32)
    probabilities = rng.dirichlet(np.ones(4), 50).astype(np.float32)
    ours = detection.select_detections(boxes, probabilities, score_threshold=0.1, iou_threshold=0.45)
    reference = tf.image.combined_non_max_suppression(
        boxes[None, :, None, [1, 0, 3, 2]], probabilities[None, :, 1:], 100, 100, iou_threshold=0.45,
        score_threshold=0.1, clip_boxes=False)
    count = int(reference.valid_detections[0])
    assert len(ours["scores"]) == count
    np.testing.assert_allclose(ours["scores"], reference.nmsed_scores[0, :count].numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours["boxes"], reference.nmsed_boxes[0, :count].numpy()[:, [1, 0, 3, 2]], rtol=1e-6)
    np.testing.assert_array_equal(ours["labels"], reference.nmsed_classes[0, :count].numpy().astype(int))


def test_select_detections_bad_arguments():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 9, 9]], dtype=float)
    with pytest.raises(ValueError, match="class_probabilities"):
        detection.select_detections(boxes, np.ones((2, 1)))
    with pytest.raises(ValueError, match="boxes"):
        detection.select_detections(boxes[:1], np.ones((2, 3)))
    with pytest.raises(ValueError, match="boxes: expected boxes of shape"):
        detection.select_detections(np.zeros((2, 3, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="x_max < x_min"):
        detection.select_detections(np.array([[10, 0, 0, 10], [0, 0, 1, 1]]), np.ones((2, 2)))


# ----------------------------------------------------------------------------- proposals and R-CNN pieces
def test_sliding_windows_count_and_coverage():
    sizes = [(12, 6), (12, 12), (20, 40)]
    windows = detection.sliding_windows(32, sizes, 4)
    assert len(windows) == detection.count_sliding_windows(32, 32, sizes, 4)
    assert windows.min() >= 0 and windows.max() <= 32
    np.testing.assert_array_equal(windows[0], [0, 0, 6, 12])
    with pytest.raises(ValueError, match="window_sizes"):
        detection.sliding_windows(32, [(12, 0)], 4)


def test_selective_search_and_recall():
    from utils import data

    sample = data.make_shapes(3, image_size=64, min_objects=2, max_objects=3, min_size=0.3, max_size=0.5, seed=1)
    proposals = [detection.selective_search(image) for image in sample.images]
    for boxes in proposals:
        assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) > 5
        assert np.all(boxes[:, 2] > boxes[:, 0]) and boxes.min() >= 0 and boxes.max() <= 64
    assert detection.proposal_recall(proposals, sample.boxes) >= 0.5
    assert detection.proposal_recall([b[:1] for b in sample.boxes], sample.boxes) == pytest.approx(
        3 / sum(len(b) for b in sample.boxes))
    assert len(detection.selective_search(sample.images[0], max_proposals=4)) == 4
    # the same proposals, in the same order, whatever searches ran before (OpenCV draws from C's rand())
    np.testing.assert_array_equal(detection.selective_search(sample.images[0]), proposals[0])
    with pytest.raises(ValueError, match="image"):
        detection.selective_search(sample.images)
    with pytest.raises(ValueError, match="one entry per image"):
        detection.proposal_recall(proposals[:2], sample.boxes)


def test_sample_rois_labels_and_targets():
    gt = np.array([[10, 10, 30, 30], [40, 40, 60, 56]], dtype=float)
    rng = np.random.default_rng(0)
    proposals = np.concatenate([gt + rng.normal(0, 2, gt.shape) for _ in range(5)] + [random_boxes(rng, 40, 64)])
    proposals = np.concatenate([np.minimum(proposals[:, :2], proposals[:, 2:]), np.maximum(proposals[:, :2], proposals[:, 2:])], 1)
    rois, labels, targets = detection.sample_rois(proposals, gt, [2, 0], num_rois=16, rng=rng)
    assert rois.shape == (16, 4) and labels.shape == (16,) and targets.shape == (16, 4)
    foreground = labels > 0
    assert foreground.sum() == 4  # 25 % of 16
    overlaps = detection.iou(rois, gt)
    assert np.all(overlaps[foreground].max(axis=1) >= 0.5) and np.all(overlaps[~foreground].max(axis=1) < 0.5)
    np.testing.assert_array_equal(labels[foreground], gt_labels := np.array([2, 0])[overlaps[foreground].argmax(1)] + 1)
    assert gt_labels.size == 4
    decoded = detection.decode_boxes(targets[foreground], rois[foreground], detection.RCNN_VARIANCES)
    np.testing.assert_allclose(decoded, gt[overlaps[foreground].argmax(1)], atol=1e-3)
    np.testing.assert_array_equal(targets[~foreground], 0)
    with pytest.raises(ValueError, match="gt_labels"):
        detection.sample_rois(proposals, gt, [0], rng=rng)
    with pytest.raises(TypeError, match="rng"):
        detection.sample_rois(proposals, gt, [2, 0], rng=0)


def test_warp_is_a_crop_when_sizes_agree():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(2, 20, 24, 3)).astype(np.float32)
    crops = detection.warp(images, [1, 0], np.array([[3, 5, 11, 13], [0, 0, 8, 8]], dtype=float), 8)
    np.testing.assert_allclose(crops[0], images[1, 5:13, 3:11], atol=1e-5)
    np.testing.assert_allclose(crops[1], images[0, 0:8, 0:8], atol=1e-5)
    with pytest.raises(ValueError, match="image_indices"):
        detection.warp(images, [2], np.array([[0, 0, 8, 8]], dtype=float), 8)


# ----------------------------------------------------------------------------- data and pictures
def test_load_shapes_detection_splits_are_fixed_and_disjoint():
    small = detection.load_shapes_detection(num_train=4, num_val=2, num_test=3)
    larger = detection.load_shapes_detection(num_train=6, num_val=2, num_test=5)
    assert small.train.images.shape == (4, 64, 64, 3) and small.test.images.shape == (3, 64, 64, 3)
    # a longer split starts with the same images: asking for more data keeps the images already seen
    np.testing.assert_array_equal(larger.train.images[:4], small.train.images)
    np.testing.assert_array_equal(larger.test.images[:3], small.test.images)
    assert not np.allclose(small.train.images[0], small.test.images[0])
    targets = small.targets(small.test)
    assert len(targets) == 3 and set(targets[0]) == {"boxes", "labels"}
    with pytest.raises(ValueError, match="num_val"):
        detection.load_shapes_detection(num_train=2, num_val=0, num_test=1)


def test_detection_grid_returns_a_figure_and_checks_lengths():
    import matplotlib

    matplotlib.use("Agg")
    images = np.zeros((2, 16, 16, 3), dtype=np.float32)
    truth = [{"boxes": [[1, 1, 5, 5]], "labels": [0]}, {"boxes": np.zeros((0, 4)), "labels": []}]
    found = [{"boxes": [[1, 1, 6, 5]], "labels": [0], "scores": [0.9]}, {"boxes": np.zeros((0, 4)), "labels": [], "scores": []}]
    figure = detection.detection_grid(images, truth, found, class_names=["a"])
    assert figure.axes
    with pytest.raises(ValueError, match="detections"):
        detection.detection_grid(images, truth, found[:1])


# ----------------------------------------------------------------------------- padding rows, no-match entries
def _padded_perfect_case():
    """Two images whose boxes went through augment.pad_boxes (label -1, zero box rows), and a
    perfect detector that returns the same padded arrays with score 1."""
    from utils import augment

    padded = augment.pad_boxes([np.array([[0, 0, 10, 10.0]]), np.array([[5, 5, 20, 20.0], [30, 30, 40, 40.0]])],
                               [np.array([0]), np.array([1, 0])])
    truths = [{"boxes": b, "labels": l} for b, l in zip(padded["boxes"], padded["labels"])]
    found = [{"boxes": b, "labels": l, "scores": np.ones(len(l))} for b, l in zip(padded["boxes"], padded["labels"])]
    return truths, found


def test_evaluation_ignores_pad_boxes_rows_with_label_minus_one():
    truths, found = _padded_perfect_case()
    coco = detection.coco_evaluate(truths, found)
    assert coco["AP"] == pytest.approx(1.0)
    assert set(coco["AP_per_class"]) == {0, 1}
    voc = detection.voc_evaluate(truths, found)
    assert voc["mAP"] == pytest.approx(1.0) and set(voc["AP_per_class"]) == {0, 1}
    # a padding row among the detections is not a false positive either
    found[0] = {"boxes": [[0, 0, 10, 10], [50, 50, 60, 60]], "labels": [0, -1], "scores": [0.5, 0.9]}
    assert detection.coco_evaluate(truths, found)["AP"] == pytest.approx(1.0)


def test_evaluation_rejects_other_negative_labels():
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [-2]}]
    with pytest.raises(ValueError, match=r"ground_truths\[0\]\['labels'\].*-1"):
        detection.coco_evaluate(truth, [{"boxes": np.zeros((0, 4)), "labels": [], "scores": []}])


def test_precision_recall_refuses_match_indices_with_minus_one():
    _, matched = detection.match_detections([[0, 0, 10, 10]], [[0, 0, 10, 10], [50, 50, 60, 60]], [0.9, 0.8])
    assert matched.tolist() == [0, -1]
    with pytest.raises(ValueError, match="is_true_positive.*-1"):
        detection.precision_recall([0.9, 0.8], matched, 1)
    with pytest.raises(ValueError, match="is_true_positive"):
        detection.precision_recall([0.9, 0.8], [2, 0], 2)
    precision, recall = detection.precision_recall([0.9, 0.8], [1, 0], 1)  # 0/1 integers are fine
    assert precision.tolist() == [1.0, 0.5] and recall.tolist() == [1.0, 1.0]


def test_iou_of_huge_and_tiny_boxes_does_not_overflow_or_underflow():
    a, b = np.array([[0, 0, 10, 10.0]]), np.array([[0, 0, 10, 5.0]])
    for scale in (2.0**600, 1e160, 1e-170, 2.0**-600):
        assert detection.iou(a * scale, b * scale)[0, 0] == pytest.approx(0.5)
    # a huge box next to ordinary ones does not disturb their IoU
    np.testing.assert_allclose(detection.iou([[0, 0, 1, 1], [0, 0, 1e200, 1e200]], [[0, 0, 1, 1]]), [[1.0], [0.0]])


def test_empty_boxes_must_still_have_four_columns():
    assert detection.iou([], [[0, 0, 1, 1]]).shape == (0, 1)
    for bad in (np.zeros((0, 3)), np.zeros((2, 0))):
        with pytest.raises(ValueError, match="boxes_a: expected boxes of shape"):
            detection.iou(bad, [[0, 0, 1, 1]])


def test_an_image_without_objects_may_give_labels_as_an_empty_array():
    truth = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}, {"boxes": np.zeros((0, 4)), "labels": np.zeros(0)}]
    found = [{"boxes": [[0, 0, 10, 10]], "labels": [0], "scores": [0.9]}, {"boxes": [], "labels": [], "scores": []}]
    assert detection.voc_evaluate(truth, found)["mAP"] == 1.0
