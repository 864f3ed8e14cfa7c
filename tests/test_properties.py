"""Property tests (hypothesis) of the public functions where data enters `utils`: the data
loaders, the detection metrics, the lab checks, augmentation, normalisation and convolution.

Two kinds of property, on inputs hypothesis generates:
- a bad input (wrong shape, layout or dtype, NaN where not allowed, text, complex numbers)
  raises ValueError or TypeError naming the argument;
- a valid but unusual input (a Python list, float16 or float32, Fortran order, a strided
  view, a TensorFlow tensor, an empty batch, an image without objects) gives the right answer:
  that of a reference nobody here wrote (TensorFlow, pycocotools, the PASCAL VOC devkit) or of
  the same function on the same values as a plain float64 array.

`max_examples` per test is the number of inputs tried; the whole file runs in about 30 s.
The inputs are the same on every run (derandomize); `FUZZ=1 pytest tests/test_properties.py`
draws new ones each time.
"""

import contextlib
import io
import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import utils  # noqa: F401  (pins the Keras backend)
from test_detection import STAT_NAMES, pycocotools_stats, to_xywh, voc_devkit_ap
from utils import augment, data, detection, labcheck, norm


seeds = st.integers(0, 2**32 - 1).map(np.random.default_rng)  # array contents: hypothesis picks the seed


def examples(count):
    return settings(max_examples=count, deadline=None, derandomize=not os.environ.get("FUZZ"), database=None,
                    suppress_health_check=[HealthCheck.too_slow])


FORMS = ("array", "list", "float32", "float16", "fortran", "strided", "tensor")


def in_form(array, form):
    """`array` (float64) as a student might pass it, and the float64 values that form holds."""
    value = {
        "array": lambda: array,
        "list": lambda: array.tolist(),
        "float32": lambda: array.astype(np.float32),
        "float16": lambda: array.astype(np.float16),
        "fortran": lambda: np.asfortranarray(array),
        "strided": lambda: np.repeat(array, 2, axis=-1)[..., ::2],  # a view, not contiguous
        "tensor": lambda: tf.constant(array),
    }[form]()
    return value, np.asarray(value, dtype=np.float64).reshape(array.shape)  # [] has lost the shape


# Coordinates on a 1/8 pixel grid: exact in float16 up to 256, so every form holds the same boxes.
coordinate = st.integers(0, 8 * 200).map(lambda v: v / 8)
side = st.integers(0, 8 * 60).map(lambda v: v / 8)


@st.composite
def boxes(draw, min_size=0, max_size=6):
    count = draw(st.integers(min_size, max_size))
    rows = [(x, y, x + w, y + h) for x, y, w, h in draw(
        st.lists(st.tuples(coordinate, coordinate, side, side), min_size=count, max_size=count))]
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


# ============================================================================ detection
@examples(100)
@given(boxes(), boxes(max_size=3), st.integers(-8, 8), st.sampled_from(FORMS),
       st.sampled_from([-600, 600]) | st.integers(-600, 600))
def test_iou_equals_pycocotools_in_every_form_and_scale(a, b, shift, form, exponent):
    from pycocotools import mask

    b = np.concatenate([b, a + shift / 8])  # and boxes that overlap a's
    a_value, a_canonical = in_form(a, form)
    got = detection.iou(a_value, b)
    assert got.shape == (len(a), len(b)) and got.dtype == np.float64
    if len(a) and len(b):
        reference = mask.iou(to_xywh(a_canonical).tolist(), to_xywh(b).tolist(), [0] * len(b))
        np.testing.assert_allclose(got, reference, rtol=1e-12, atol=1e-15)
    # IoU does not depend on the unit: huge or tiny boxes (scaled by 2^exponent, exactly) agree
    scale = 2.0 ** exponent
    np.testing.assert_array_equal(detection.iou(a_canonical * scale, b * scale), got)


CORRUPTIONS = {
    "nan": (ValueError, lambda a: np.where(np.arange(4) == 2, np.nan, a)),
    "inf": (ValueError, lambda a: np.where(np.arange(4) == 3, np.inf, a)),
    "swapped x": (ValueError, lambda a: a[:, [2, 1, 0, 3]]),
    "3 columns": (ValueError, lambda a: a[:, :3]),
    "one box, 1-D": (ValueError, lambda a: a[0]),
    "3-D": (ValueError, lambda a: a[None]),
    "text": (TypeError, lambda a: a.astype(str)),
    "complex": (TypeError, lambda a: a + 1j),
    "boolean": (TypeError, lambda a: a > 0),
}


@examples(60)
@given(boxes(min_size=1), st.sampled_from(sorted(CORRUPTIONS)), st.booleans())
def test_bad_boxes_are_refused_naming_the_argument(a, corruption, second):
    error, corrupt = CORRUPTIONS[corruption]
    a = a + [0, 0, 1, 1]  # every box at least 1 x 1, so that swapping x breaks it
    bad = corrupt(a)
    arguments = ([[0, 0, 1, 1]], bad) if second else (bad, [[0, 0, 1, 1]])
    with pytest.raises(error, match="boxes_b" if second else "boxes_a"):
        detection.iou(*arguments)
    with pytest.raises(error, match="boxes"):
        detection.nms(bad, np.ones(len(np.atleast_2d(a))))


@examples(50)
@given(boxes(max_size=12), st.sampled_from(FORMS), st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]),
       st.none() | st.integers(0, 5), seeds)
def test_nms_equals_tensorflow(a, form, threshold, max_outputs, rng):
    scores = rng.permutation(len(a)) / max(len(a), 1)  # distinct
    overlaps = detection.iou(a, a)
    inside = (overlaps > 0) & (overlaps < 1)
    assume(not np.any(inside & (np.abs(overlaps - threshold) < 1e-6)))  # TensorFlow rounds to float32
    value, canonical = in_form(a, form)
    got = detection.nms(value, scores, threshold, max_outputs)
    expected = tf.image.non_max_suppression(
        tf.constant(canonical[:, [1, 0, 3, 2]], tf.float32), tf.constant(scores, tf.float32),
        max_output_size=len(a) if max_outputs is None else max_outputs, iou_threshold=threshold).numpy()
    np.testing.assert_array_equal(got, expected)


@examples(100)
@given(st.lists(st.booleans(), max_size=30), st.integers(0, 5), st.sampled_from(["array", "list", "int", "tensor"]))
def test_average_precision_equals_the_voc_devkit(hits, missed, form):
    hits = np.array(hits, dtype=bool)
    num_gt = int(hits.sum()) + missed
    assume(num_gt > 0)
    scores = np.linspace(1, 0, len(hits))
    flags = {"array": hits, "list": hits.tolist(), "int": hits.astype(np.int8), "tensor": tf.constant(hits)}[form]
    precision, recall = detection.precision_recall(scores, flags, num_gt)
    expected = detection.precision_recall(scores, hits, num_gt)
    np.testing.assert_array_equal(precision, expected[0])
    for method, use_07 in (("all", False), ("11point", True)):
        reference = voc_devkit_ap(recall, precision, use_07) if len(hits) else 0.0
        assert detection.average_precision(precision.tolist(), recall, method=method) == pytest.approx(
            reference, abs=1e-12)
    # match_detections' indices (-1 = no match) are not flags
    if len(hits) and not hits.all():
        with pytest.raises(ValueError, match="is_true_positive"):
            detection.precision_recall(scores, np.where(hits, 0, -1), num_gt)


@st.composite
def detection_dataset(draw):
    """Up to 3 images with up to 3 objects of 2 classes, and detections: shifted copies and
    false alarms, with distinct scores."""
    truths, found = [], []
    for _ in range(draw(st.integers(1, 3))):
        gt = draw(boxes(max_size=3)) + [0, 0, 2, 2]
        labels = np.array(draw(st.lists(st.integers(0, 1), min_size=len(gt), max_size=len(gt))), np.int64)
        shifted = gt + draw(st.integers(-3, 3))
        det = np.concatenate([shifted[: draw(st.integers(0, len(gt)))], draw(boxes(max_size=2)) + [0, 0, 2, 2]])
        det_labels = np.array(draw(st.lists(st.integers(0, 1), min_size=len(det), max_size=len(det))), np.int64)
        truths.append({"boxes": gt, "labels": labels})
        found.append({"boxes": det, "labels": det_labels})
    total = sum(len(d["boxes"]) for d in found)
    scores = iter(np.array(draw(st.permutations(range(total))), dtype=np.float64) / max(total, 1) + 0.01)
    for entry in found:
        entry["scores"] = np.array([next(scores) for _ in range(len(entry["boxes"]))])
    return truths, found


def with_padding(entries, rows, with_scores):
    """The entries as augment.pad_boxes leaves them: `rows` extra rows of zeros with label -1."""
    padded = []
    for entry in entries:
        extra = {"boxes": np.zeros((rows, 4)), "labels": -np.ones(rows, np.int64), "scores": np.ones(rows)}
        padded.append({key: np.concatenate([entry[key], extra[key]])
                       for key in (("boxes", "labels", "scores") if with_scores else ("boxes", "labels"))})
    return padded


@examples(25)
@given(detection_dataset(), st.integers(0, 2))
def test_coco_and_voc_evaluate_equal_pycocotools_and_ignore_padding(dataset, padding_rows):
    truths, found = dataset
    assume(sum(len(d["boxes"]) for d in found) > 0)  # pycocotools cannot load an empty result
    ours = detection.coco_evaluate(truths, found)
    with contextlib.redirect_stdout(io.StringIO()):
        reference = pycocotools_stats(truths, found, [0, 1])
    for name, expected in zip(STAT_NAMES, reference):
        assert ours[name] == pytest.approx(expected, abs=1e-9), name
    padded = detection.coco_evaluate(with_padding(truths, padding_rows, False), with_padding(found, padding_rows, True))
    assert padded == ours
    voc = detection.voc_evaluate(truths, found)
    padded = detection.voc_evaluate(with_padding(truths, padding_rows, False), with_padding(found, padding_rows, True))
    assert padded == voc or (np.isnan(voc["mAP"]) and np.isnan(padded["mAP"]))


# ============================================================================ labcheck
@examples(100)
@given(st.lists(st.floats(-6e4, 6e4), min_size=1, max_size=8), st.sampled_from(FORMS))
def test_labcheck_compare_accepts_the_answer_in_any_form(values, form):
    expected = np.array(values)
    got, canonical = in_form(expected, form)
    if np.allclose(canonical, expected, rtol=1e-4, atol=1e-5):
        labcheck.compare("y", got, expected)
    else:  # float16 cannot hold the values closely enough: a wrong-values failure, not a crash
        with pytest.raises(labcheck.CheckFailed, match="y (has wrong values|contains NaN)"):
            labcheck.compare("y", got, expected)
    labcheck.compare_number("first", got[:1] if form == "list" else got[0], canonical[0])


WRONG_KINDS = {
    "complex": (lambda v: v + 1j, "real numbers"),
    "boolean mask": (lambda v: v > 0, "numbers"),
    "text": (lambda v: v.astype(str), "numbers"),
}


@examples(60)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=6), st.sampled_from(sorted(WRONG_KINDS)))
def test_labcheck_rejects_answers_of_the_wrong_kind(values, kind):
    expected = np.array(values)
    wrong, words = WRONG_KINDS[kind]
    with pytest.raises(TypeError, match=f"answer should hold {words}"):
        labcheck.compare("answer", wrong(expected), expected)
    with pytest.raises(TypeError, match=f"answer should hold {words}"):
        labcheck.compare_number("answer", wrong(expected[:1]), expected[0])
    with pytest.raises(TypeError, match="answer should hold integers"):
        labcheck.compare_sequence("answer", np.round(expected) + 0.0, np.round(expected).astype(int))


@examples(30)
@given(st.sampled_from([np.nan, np.inf, -np.inf]), st.floats(-10, 10))
def test_labcheck_compare_number_reports_nan_and_inf(value, expected):
    with pytest.raises(labcheck.CheckFailed, match="ap is wrong"):
        labcheck.compare_number("ap", value, expected)


# ============================================================================ augment
@examples(100)
@given(st.lists(boxes(), max_size=4), st.sampled_from(["array", "list", "int", "fortran"]))
def test_pad_and_unpad_boxes_round_trip_in_every_form(images, form):
    labels = [np.arange(len(b)) % 3 for b in images]
    convert = {"array": lambda b: b, "list": lambda b: b.tolist(), "int": lambda b: np.floor(b).astype(np.int32),
               "fortran": np.asfortranarray}[form]
    given_boxes = [convert(b) for b in images]
    given_labels = [l.tolist() if form == "list" else l for l in labels]  # [] for an image without objects
    largest = max((len(b) for b in images), default=0)
    padded = augment.pad_boxes(given_boxes, given_labels)
    assert padded["boxes"].shape == (len(images), max(largest, 1), 4)
    back_boxes, back_labels = augment.unpad_boxes(padded)
    for original, got, label, got_label in zip(given_boxes, back_boxes, labels, back_labels):
        np.testing.assert_array_equal(got, np.asarray(original, np.float32).reshape(-1, 4))
        np.testing.assert_array_equal(got_label, label)


@examples(50)
@given(boxes(min_size=1), st.sampled_from(["nan", "swapped", "float labels", "label -1", "label 2^40", "shape"]))
def test_pad_boxes_refuses_bad_boxes_and_labels(a, corruption):
    a = a + [0, 0, 1, 1]
    labels = np.zeros(len(a), np.int64)
    bad_boxes, bad_labels, error, name = {
        "nan": (np.where(np.arange(4) == 0, np.nan, a), labels, ValueError, "boxes"),
        "swapped": (a[:, [2, 1, 0, 3]], labels, ValueError, "boxes"),
        "float labels": (a, labels + 0.5, TypeError, "labels"),
        "label -1": (a, labels - 1, ValueError, "labels"),
        "label 2^40": (a, labels + 2**40, ValueError, "labels"),  # would wrap around in int32
        "shape": (a[:, :3], labels, ValueError, "boxes"),
    }[corruption]
    with pytest.raises(error, match=rf"{name}\[1\]"):
        augment.pad_boxes([np.zeros((0, 4)), bad_boxes], [[], bad_labels])


@examples(20)
@given(st.integers(0, 2), st.integers(1, 9), st.integers(1, 9), st.sampled_from(["float64", "float16", "fortran"]),
       st.floats(-0.5, 0.5), seeds)
def test_lens_distortion_in_every_form_and_empty_batches(n, height, width, form, k1, rng):
    images = rng.integers(0, 256, size=(n, height, width, 3)) / 255
    value = {"float64": images, "float16": images.astype(np.float16), "fortran": np.asfortranarray(images)}[form]
    canonical = np.asarray(value, np.float32)
    got = augment.lens_distortion(value, k1)
    assert got.shape == images.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, augment.lens_distortion(canonical, k1), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(augment.lens_distortion(value, 0.0), canonical)
    with pytest.raises(ValueError, match="images"):
        augment.lens_distortion(np.zeros((height, width, 3)), k1)


# ============================================================================ norm
@examples(40)
@given(st.integers(0, 2), st.integers(1, 3), st.integers(1, 20), st.integers(1, 9),
       st.floats(0.5, 3), st.floats(1e-5, 1e-1), st.floats(0.25, 1), st.sampled_from(FORMS),
       seeds)
def test_lrn_equals_tensorflow_in_every_form(n, size, channels, window, k, alpha, beta, form, rng):
    a = rng.normal(0, 10, size=(n, size, size, channels))
    assume(n or form != "list")  # a list cannot hold the shape of an empty batch
    value, canonical = in_form(a, form)
    got = norm.local_response_normalization(value, window, k, alpha, beta)
    assert got.dtype == np.asarray(value).dtype
    expected = tf.nn.local_response_normalization(canonical.astype(np.float32),
                                                  **norm.lrn_tensorflow_parameters(window, k, alpha, beta)).numpy()
    tolerance = 2e-3 if form == "float16" else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


@examples(30)
@given(st.integers(1, 16), st.data())
def test_lrn_keeps_nan_and_huge_values_in_their_window(channels, draws):
    bad = draws.draw(st.integers(0, channels - 1))
    window = draws.draw(st.integers(1, 9))
    value = draws.draw(st.sampled_from([np.nan, np.inf, 1e10, 1e150]))
    a = np.linspace(-3, 3, 2 * channels).reshape(2, 1, 1, channels)
    a[0, 0, 0, bad] = value
    with np.errstate(invalid="ignore"):  # inf / inf
        got = norm.local_response_normalization(a, n=window)
    window_of_bad = np.abs(np.arange(channels) - bad) <= window // 2
    if np.isnan(value):
        assert np.isnan(got[0, 0, 0, window_of_bad]).all()
    clean = a.copy()
    clean[0, 0, 0, bad] = 0.0  # outside the bad channel's window nothing may change
    expected = norm.local_response_normalization(clean, n=window)
    np.testing.assert_array_equal(got[0, 0, 0, ~window_of_bad], expected[0, 0, 0, ~window_of_bad])
    np.testing.assert_array_equal(got[1], expected[1])


# ============================================================================ data
@examples(12)
@given(st.integers(1, 3), st.integers(16, 32), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2**40))
def test_make_shapes_boxes_lie_in_the_image_and_are_seeded(count, size, min_objects, extra, seed):
    kwargs = dict(image_size=size, min_objects=min_objects, max_objects=max(min_objects + extra, 1),
                  min_size=0.2, max_size=0.4, seed=seed)
    sample = data.make_shapes(np.int64(count), **kwargs)
    assert sample.images.shape == (count, size, size, 3) and sample.images.dtype == np.float32
    assert sample.images.min() >= 0 and sample.images.max() <= 1
    for b, labels in zip(sample.boxes, sample.labels):
        assert b.shape == (len(labels), 4) and labels.dtype == np.int64
        assert np.all(b >= 0) and np.all(b <= size) and np.all(b[:, 2:] > b[:, :2])
        assert np.all((labels >= 0) & (labels < len(data.SHAPE_NAMES)))
        assert len(labels) <= kwargs["max_objects"]  # fewer when no free place is found
    again = data.make_shapes(count, **kwargs)
    np.testing.assert_array_equal(again.images, sample.images)
