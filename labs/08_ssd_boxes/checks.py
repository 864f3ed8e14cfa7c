"""Checks for Lab 08 (SSD default boxes, box encoding, matching). References: the formulas
of Liu et al., "SSD: Single Shot MultiBox Detector" (ECCV 2016), written with TensorFlow ops;
its published count of 8,732 default boxes for SSD300; pycocotools' IoU for matching."""

import numpy as np
import tensorflow as tf
from pycocotools import mask as coco_mask

from utils.labcheck import CheckFailed, call, compare, to_numpy, case_rng

# SSD300 (paper, section 2.2 and 3.1): six feature maps, s_min 0.2, s_max 0.9,
# aspect ratios {1, 2, 1/2} on conv4_3, conv10_2, conv11_2 and {1, 2, 3, 1/2, 1/3} elsewhere
SSD300_MAPS = [38, 19, 10, 5, 3, 1]
SSD300_RATIOS = [[1, 2, 0.5], [1, 2, 0.5, 3, 1 / 3], [1, 2, 0.5, 3, 1 / 3], [1, 2, 0.5, 3, 1 / 3],
                 [1, 2, 0.5], [1, 2, 0.5]]
SSD300_NUM_BOXES = 8732
VARIANCES = (0.1, 0.2)


def _paper_scales(num_maps, s_min, s_max):
    k = tf.range(1, num_maps + 1, dtype=tf.float64)
    return (s_min + (s_max - s_min) * (k - 1) / (num_maps - 1)).numpy()


# (num_maps, s_min, s_max)
SCALE_CASES = [(6, 0.2, 0.9), (4, 0.1, 0.8), (7, 0.15, 0.95)]
# (size, scale, next_scale, aspect ratios)
BOX_CASES = [(3, 0.2, 0.34, [1, 2, 0.5]), (4, 0.34, 0.48, [1, 2, 0.5, 3, 1 / 3]),
             (1, 0.9, 1.0, [1, 2, 0.5]), (5, 0.5, 0.7, [1, 3])]


def check_ssd_scales(ssd_scales):
    """ssd_scales(num_maps, s_min, s_max) -> [num_maps] (paper, equation 4)."""
    for num_maps, s_min, s_max in SCALE_CASES:
        case = f"num_maps {num_maps}, s_min {s_min}, s_max {s_max}"
        got = call("ssd_scales", ssd_scales, num_maps, s_min, s_max, case=case, no_course_utils=True)
        compare("ssd_scales", got, _paper_scales(num_maps, s_min, s_max), case=case,
                hint="s_k = s_min + (s_max - s_min) (k - 1) / (m - 1) for k = 1..m: the first "
                     "map gets s_min and the last gets s_max.")
    return f"{len(SCALE_CASES)} cases agree with the paper's equation 4"


def _paper_default_boxes(size, scale, next_scale, aspect_ratios):
    centres = (tf.range(size, dtype=tf.float64) + 0.5) / size
    cy, cx = tf.meshgrid(centres, centres, indexing="ij")  # rows are y, columns are x
    ratios = tf.constant(aspect_ratios, tf.float64)
    widths = tf.concat([scale * tf.sqrt(ratios), [tf.sqrt(scale * next_scale)]], axis=0)
    heights = tf.concat([scale / tf.sqrt(ratios), [tf.sqrt(scale * next_scale)]], axis=0)
    count = widths.shape[0]
    centre = tf.stack([tf.reshape(cx, [-1]), tf.reshape(cy, [-1])], axis=1)
    centre = tf.repeat(centre, count, axis=0)
    extent = tf.tile(tf.stack([widths, heights], axis=1), [size * size, 1])
    return tf.concat([centre, extent], axis=1).numpy()


def check_default_boxes(default_boxes):
    """default_boxes(size, scale, next_scale, aspect_ratios) -> [size * size * A, 4]
    (cx, cy, w, h), and SSD300 built from it has 8,732 boxes."""
    cases = BOX_CASES
    hint = ("cells in row-major order (row = y, then column = x), centre ((j + 0.5) / size, "
            "(i + 0.5) / size); per cell one box per aspect ratio a with w = s sqrt(a), "
            "h = s / sqrt(a), then the extra square box of side sqrt(s s').")
    for size, scale, next_scale, ratios in cases:
        case = (f"size {size}, scale {scale}, next_scale {next_scale}, aspect_ratios "
                f"{[round(r, 3) for r in ratios]}")
        got = call("default_boxes", default_boxes, size, scale, next_scale, list(ratios),
                   case=case, no_course_utils=True)
        compare("default_boxes", got, _paper_default_boxes(size, scale, next_scale, ratios),
                case=case, hint=hint)
    scales = list(_paper_scales(6, 0.2, 0.9)) + [1.0]
    total = 0
    for index, (size, ratios) in enumerate(zip(SSD300_MAPS, SSD300_RATIOS)):
        boxes = to_numpy("default_boxes", call("default_boxes", default_boxes, size,
                                               scales[index], scales[index + 1], ratios,
                                               case=f"SSD300 map {size}x{size}", no_course_utils=True))
        total += len(boxes)
    if total != SSD300_NUM_BOXES:
        raise CheckFailed(f"SSD300 built from your functions has {total} default boxes; the "
                          f"paper has {SSD300_NUM_BOXES}.", hint)
    return f"{len(cases)} cases agree with the paper's formulas; SSD300 has {total} default boxes"


def _paper_encode(boxes, defaults, variances):
    boxes, defaults = tf.constant(boxes, tf.float64), tf.constant(defaults, tf.float64)
    centre = (boxes[:, :2] - defaults[:, :2]) / defaults[:, 2:] / variances[0]
    extent = tf.math.log(boxes[:, 2:] / defaults[:, 2:]) / variances[1]
    return tf.concat([centre, extent], axis=1).numpy()


def _random_cxcywh(rng, count):
    return np.concatenate([rng.uniform(0.1, 0.9, size=(count, 2)),
                           rng.uniform(0.05, 0.6, size=(count, 2))], axis=1)


def check_encode_decode(encode, decode):
    """encode(boxes, defaults, variances) -> offsets and decode(offsets, defaults, variances)
    -> boxes, all (cx, cy, w, h) and [N, 4] (paper, equation 2, with the usual variances)."""
    rng = case_rng(70)
    hint = ("offsets = ((cx - d_cx) / d_w / v0, (cy - d_cy) / d_h / v0, log(w / d_w) / v1, "
            "log(h / d_h) / v1); decode inverts it with exp.")
    for count, variances in ((6, VARIANCES), (10, (1.0, 1.0)), (5, (0.2, 0.5))):
        boxes, defaults = _random_cxcywh(rng, count), _random_cxcywh(rng, count)
        case = f"{count} boxes, variances {variances}"
        expected = _paper_encode(boxes, defaults, variances)
        got = call("encode", encode, boxes.copy(), defaults.copy(), variances, case=case, no_course_utils=True)
        compare("encode(boxes, defaults)", got, expected, case=case, hint=hint, mistakes={
                    "the offsets are not divided by the variances (0.1 for the centre, 0.2 for "
                    "the size, here the given ones).":
                    lambda: _paper_encode(boxes, defaults, (1.0, 1.0)),
                    "the centre offsets are not divided by the default box's width and height.":
                    lambda: _paper_encode(boxes, defaults, variances) * np.concatenate(
                        [defaults[:, 2:], np.ones_like(defaults[:, 2:])], axis=1),
                    "the sizes are encoded as a ratio, without the logarithm.":
                    lambda: np.concatenate([expected[:, :2], boxes[:, 2:] / defaults[:, 2:]
                                            / variances[1]], axis=1)})
        got = call("decode", decode, expected.copy(), defaults.copy(), variances, case=case, no_course_utils=True)
        compare("decode(offsets, defaults)", got, boxes, case=case, hint=hint)
    return "encode and decode agree with the paper's equation 2 in 3 cases"


def _xyxy(cxcywh):
    return np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2],
                          axis=1)


def _reference_match(gt_xyxy, default_xyxy, threshold):
    if len(gt_xyxy) == 0:
        return np.full(len(default_xyxy), -1)
    to_xywh = lambda b: np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)  # noqa: E731
    overlaps = np.asarray(coco_mask.iou(to_xywh(default_xyxy), to_xywh(gt_xyxy),
                                        [0] * len(gt_xyxy)))  # [D, G]
    matches = np.where(overlaps.max(axis=1) >= threshold, overlaps.argmax(axis=1), -1)
    for gt_index in range(len(gt_xyxy)):  # each object's best default box is its own
        matches[overlaps[:, gt_index].argmax()] = gt_index
    return matches


def check_match(match_default_boxes):
    """match_default_boxes(gt_boxes, defaults, threshold) -> [D] gt index or -1, boxes xyxy."""
    rng = case_rng(71)
    defaults = np.concatenate([_paper_default_boxes(size, scale, next_scale, [1, 2, 0.5])
                               for size, scale, next_scale in ((4, 0.2, 0.4), (2, 0.4, 0.6),
                                                               (1, 0.6, 0.8))])
    defaults = _xyxy(defaults)
    cases = []
    for count in (2, 4, 6):
        gt = _xyxy(_random_cxcywh(rng, count))
        cases.append((gt, defaults, 0.5, f"{count} random objects, threshold 0.5"))
    tiny = np.array([[0.40, 0.40, 0.47, 0.46], [0.05, 0.05, 0.9, 0.9]])
    cases.append((tiny, defaults, 0.5, "a tiny object that no default box overlaps by 0.5"))
    cases.append((_xyxy(_random_cxcywh(rng, 5)), defaults, 0.35,
                  "5 random objects, threshold 0.35"))
    # default box 0 is object 0's best box but overlaps object 1 even more
    contested_gt = np.array([[-0.4, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0]])
    contested_defaults = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0],
                                   [2.0, 2.0, 3.0, 3.0]])
    cases.append((contested_gt, contested_defaults, 0.5,
                  "two objects that want the same default box"))
    # boundary: an image without objects (every default box is background)
    cases.append((np.zeros((0, 4)), defaults, 0.5, "an image with no objects"))
    for gt, boxes, threshold, case in cases:
        got = call("match_default_boxes", match_default_boxes, gt.copy(), boxes.copy(),
                   threshold, case=case, no_course_utils=True)
        compare("matches", got, _reference_match(gt, boxes, threshold), case=case,
                hint="each default box takes the object it overlaps most if that IoU is at "
                     "least the threshold, else -1; then each object claims its single "
                     "best-overlapping default box, whatever the IoU (this step wins).")
    return f"{len(cases)} cases agree with the paper's matching rule (IoU from pycocotools)"
