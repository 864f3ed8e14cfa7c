"""Lab 10: each checker rejects plausible wrong answers."""

import keras
import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "10_box_augmentation"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_flip_rejects():
    def corners_not_swapped(boxes, width):
        flipped = boxes.copy()
        flipped[:, [0, 2]] = width - boxes[:, [0, 2]]
        return flipped

    def pixel_index_convention(boxes, width):
        flipped = boxes.copy()
        flipped[:, 0] = width - 1 - boxes[:, 2]
        flipped[:, 2] = width - 1 - boxes[:, 0]
        return flipped

    def flips_y_instead(boxes, width):
        flipped = boxes.copy()
        flipped[:, 1] = width - boxes[:, 3]
        flipped[:, 3] = width - boxes[:, 1]
        return flipped

    for wrong in (corners_not_swapped, pixel_index_convention, flips_y_instead):
        assert_rejected(LAB, "flip", wrong, r"flipped boxes has wrong values")


def test_crop_rejects(solution):
    right = solution["crop_boxes"]

    def no_clipping(boxes, labels, top, left, height, width, min_visible):
        kept, kept_labels = right(boxes, labels, top, left, height, width, min_visible)
        shifted = boxes - np.array([left, top, left, top], boxes.dtype)
        clipped = np.clip(shifted, 0, [width, height, width, height])
        area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        keep = (area > 0) & (area >= min_visible * (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        return shifted[keep], labels[keep]

    def offsets_swapped(boxes, labels, top, left, height, width, min_visible):
        return right(boxes, labels, left, top, height, width, min_visible)

    def keeps_invisible_boxes(boxes, labels, top, left, height, width, min_visible):
        shifted = boxes - np.array([left, top, left, top], boxes.dtype)
        return np.clip(shifted, 0, [width, height, width, height]), labels

    def ignores_min_visible(boxes, labels, top, left, height, width, min_visible):
        return right(boxes, labels, top, left, height, width, 1e-9)

    def labels_not_filtered(boxes, labels, top, left, height, width, min_visible):
        return right(boxes, labels, top, left, height, width, min_visible)[0], labels

    assert_rejected(LAB, "crop", no_clipping, r"kept boxes has wrong values")
    assert_rejected(LAB, "crop", offsets_swapped, r"kept (labels|boxes)")
    assert_rejected(LAB, "crop", keeps_invisible_boxes, r"kept labels is wrong.*expected \d+ entries, got 8")
    assert_rejected(LAB, "crop", ignores_min_visible, r"kept labels is wrong")
    assert_rejected(LAB, "crop", labels_not_filtered, r"kept labels is wrong")


def test_augmenter_rejects():
    def images_only(seed):
        flip = keras.layers.RandomFlip("horizontal", seed=seed)

        def augment(batch, training=True):
            return {"images": flip(batch["images"], training=training),
                    "bounding_boxes": batch["bounding_boxes"]}
        return augment

    def wrong_box_format(seed):
        return keras.Sequential([
            keras.layers.RandomFlip("horizontal", bounding_box_format="yxyx", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", bounding_box_format="yxyx", seed=seed)])

    def colour_only(seed):
        def augment(batch, training=True):
            return {"images": batch["images"] * 0.9, "bounding_boxes": batch["bounding_boxes"]}
        return augment

    def always_the_same_flip(seed):
        def augment(batch, training=True):
            boxes = np.asarray(batch["bounding_boxes"]["boxes"]).copy()
            width = batch["images"].shape[2]
            boxes[..., 0], boxes[..., 2] = width - boxes[..., 2], width - boxes[..., 0]
            return {"images": batch["images"][:, :, ::-1],
                    "bounding_boxes": {"boxes": boxes, "labels": batch["bounding_boxes"]["labels"]}}
        return augment

    assert_rejected(LAB, "augmenter", images_only, r"its box is")
    assert_rejected(LAB, "augmenter", wrong_box_format, r"its box is")
    assert_rejected(LAB, "augmenter", colour_only, r"changed geometrically")
    assert_rejected(LAB, "augmenter", always_the_same_flip, r"not random")


# --------------------------------------------- behaviour, shortcuts and reproducibility

def _pipeline(*layers):
    def make(seed):
        return keras.Sequential(list(layers))
    return make


def test_pipelines_that_do_something_else_are_rejected():
    box = {"bounding_box_format": "xyxy"}
    vertical = _pipeline(keras.layers.RandomFlip("vertical", seed=1, **box),
                         keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=2, **box))
    too_far = _pipeline(keras.layers.RandomFlip("horizontal", seed=1, **box),
                        keras.layers.RandomTranslation(0.3, 0.3, fill_mode="constant", seed=2, **box))
    zoom_for_translation = _pipeline(keras.layers.RandomFlip("horizontal", seed=1, **box),
                                     keras.layers.RandomZoom(0.2, seed=2, fill_mode="constant", **box))
    x_only = _pipeline(keras.layers.RandomFlip("horizontal", seed=1, **box),
                       keras.layers.RandomTranslation(0.0, 0.1, fill_mode="constant", seed=2, **box))
    assert_rejected(LAB, "augmenter", vertical, r"moved differently|flip should be random|not flipped")
    assert_rejected(LAB, "augmenter", too_far, r"translated (by|to the image.s edge).* 10%")
    assert_rejected(LAB, "augmenter", zoom_for_translation, r"changed its size")
    assert_rejected(LAB, "augmenter", x_only, r"no image moved vertically")


def test_unseeded_pipeline_is_rejected():
    def unseeded(seed):
        box = {"bounding_box_format": "xyxy"}
        return keras.Sequential([
            keras.layers.RandomFlip("horizontal", **box),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", **box)])

    assert_rejected(LAB, "augmenter", unseeded, r"same seed augmented the same batch differently")


def test_course_helpers_are_rejected(solution):
    from utils import augment

    def course_augmenter(seed):
        box = {"bounding_box_format": "xyxy"}
        return augment.box_augmenter([
            keras.layers.RandomFlip("horizontal", seed=seed, **box),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1, **box)])

    assert_shortcut_rejected(LAB, "augmenter", course_augmenter)


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
