"""Checks for Lab 10 (augmenting images and their boxes). Reference: every box is drawn as
a filled mask, the mask goes through TensorFlow's own image op (tf.image.flip_left_right,
tf.image.crop_to_bounding_box) or through the student's pipeline together with the image,
and the box must still enclose exactly what is left of its mask."""

import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, compare_sequence, to_numpy


def _random_boxes(rng, count, height, width):
    x = np.sort(rng.integers(0, width + 1, size=(count, 2)), axis=1)
    y = np.sort(rng.integers(0, height + 1, size=(count, 2)), axis=1)
    x[:, 1] = np.maximum(x[:, 1], x[:, 0] + 2).clip(max=width)
    x[:, 0] = np.minimum(x[:, 0], x[:, 1] - 2)
    y[:, 1] = np.maximum(y[:, 1], y[:, 0] + 2).clip(max=height)
    y[:, 0] = np.minimum(y[:, 0], y[:, 1] - 2)
    return np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1).astype(np.float32)


def _masks(boxes, height, width):
    """[K, 4] integer boxes -> [height, width, K] filled masks."""
    masks = np.zeros((height, width, len(boxes)), np.float32)
    for k, (x0, y0, x1, y1) in enumerate(boxes.astype(int)):
        masks[y0:y1, x0:x1, k] = 1.0
    return masks


def _mask_box(mask):
    ys, xs = np.nonzero(mask > 0.5)
    if len(xs) == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def check_flip(flip_boxes_horizontally):
    """flip_boxes_horizontally(boxes, image_width) -> boxes of the mirrored image."""
    rng = np.random.default_rng(100)
    for height, width, count in ((20, 30, 5), (31, 17, 4), (8, 8, 3)):
        boxes = _random_boxes(rng, count, height, width)
        flipped = tf.image.flip_left_right(_masks(boxes, height, width)).numpy()
        expected = np.stack([_mask_box(flipped[..., k]) for k in range(count)])
        case = f"{count} boxes in a {height}x{width} image (height x width)"
        got = call("flip_boxes_horizontally", flip_boxes_horizontally, boxes.copy(), width,
                   case=case)
        compare("flipped boxes", got, expected, case=case,
                hint="mirroring maps x to image_width - x and leaves y alone; the old x_max "
                     "becomes the new x_min. Coordinates are pixel edges, so no -1.")
    return "3 cases agree with tf.image.flip_left_right on the boxes' masks"


def check_crop(crop_boxes):
    """crop_boxes(boxes, labels, top, left, height, width, min_visible) -> (boxes, labels)."""
    rng = np.random.default_rng(101)
    cases = [(40, 50, 8, 6, 24, 30, 0.5), (40, 50, 0, 10, 40, 20, 0.3),
             (32, 32, 10, 3, 16, 20, 0.75), (32, 32, 5, 5, 20, 20, 0.01)]
    for image_height, image_width, top, left, height, width, min_visible in cases:
        boxes = _random_boxes(rng, 8, image_height, image_width)
        labels = rng.integers(0, 5, size=8)
        masks = _masks(boxes, image_height, image_width)
        cropped = tf.image.crop_to_bounding_box(masks, top, left, height, width).numpy()
        keep = [k for k in range(8)
                if cropped[..., k].sum() > 0 and
                cropped[..., k].sum() / masks[..., k].sum() >= min_visible]
        expected_boxes = np.array([_mask_box(cropped[..., k]) for k in keep], np.float32).reshape(-1, 4)
        case = (f"8 boxes in a {image_height}x{image_width} image, crop top {top}, left {left}, "
                f"height {height}, width {width}, min_visible {min_visible}")
        result = call("crop_boxes", crop_boxes, boxes.copy(), labels.copy(), top, left, height,
                      width, min_visible, case=case)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"crop_boxes should return (boxes, labels) for {case}, got "
                              f"{type(result).__name__}.")
        hint = ("shift by (left, top), clip to [0, width] x [0, height], then keep a box only if "
                "its clipped area is positive and at least min_visible of its original area; "
                "keep the labels of the boxes you keep, in order.")
        compare_sequence("kept labels", result[1], labels[keep], case=case, hint=hint)
        compare("kept boxes", result[0], expected_boxes, case=case, hint=hint)
    return f"{len(cases)} cases agree with tf.image.crop_to_bounding_box on the boxes' masks"


def _object_batch(rng, count=24, size=48):
    """Images with two solid rectangles each (object k painted in channel k) near the middle."""
    images = np.zeros((count, size, size, 3), np.float32)
    boxes = np.zeros((count, 2, 4), np.float32)
    for n in range(count):
        for k in range(2):
            w, h = rng.integers(6, 16, size=2)
            x0, y0 = rng.integers(10, size - 10 - w), rng.integers(10, size - 10 - h)
            boxes[n, k] = [x0, y0, x0 + w, y0 + h]
            images[n, y0:y0 + h, x0:x0 + w, k] = 1.0
    return images, boxes, np.tile(np.array([[0, 1]], np.int32), (count, 1))


def check_augmenter(make_augmenter):
    """make_augmenter(seed) -> a callable on {"images", "bounding_boxes": {"boxes", "labels"}}
    (xyxy pixels) that moves the images and keeps every box on its object."""
    images, boxes, labels = _object_batch(np.random.default_rng(102))
    augmenter = call("make_augmenter", make_augmenter, 7)
    outputs = []
    for attempt in range(2):
        batch = {"images": images.copy(),
                 "bounding_boxes": {"boxes": boxes.copy(), "labels": labels.copy()}}
        try:
            result = augmenter(batch, training=True)
        except Exception as error:
            raise CheckFailed(f"the augmenter raised {type(error).__name__} on a batch of "
                              f"{len(images)} images with boxes: {error}",
                              "give every geometric layer bounding_box_format=\"xyxy\" and call "
                              "it on the whole dict.") from None
        if not isinstance(result, dict) or "images" not in result or "bounding_boxes" not in result:
            raise CheckFailed("the augmenter should return a dict with 'images' and "
                              "'bounding_boxes', like its input.")
        out_images = to_numpy("augmented images", result["images"])
        out_boxes = to_numpy("augmented boxes", result["bounding_boxes"]["boxes"])
        if out_images.shape != images.shape:
            raise CheckFailed(f"the augmented images have shape {out_images.shape}; expected "
                              f"{images.shape} (same size as the input).")
        outputs.append(out_images)
        worst = 0.0
        for n in range(len(images)):
            for k in range(2):
                seen = _mask_box(out_images[n, :, :, k])
                if seen is None:
                    continue
                error = float(np.abs(out_boxes[n, k] - seen).max())
                if error > worst:
                    worst, where = error, (n, k, seen, out_boxes[n, k])
        if worst > 1.5:
            n, k, seen, got = where
            raise CheckFailed(
                f"after augmentation, object {k} of image {n} covers "
                f"{[round(float(v), 1) for v in seen]} but its box is "
                f"{[round(float(v), 1) for v in got]} ({worst:.1f} pixels off).",
                "the boxes must go through the same layers, in the same call, as the images: "
                "one pipeline called on the dict, every geometric layer with "
                "bounding_box_format=\"xyxy\".")
    moved = np.mean([not np.array_equal(outputs[0][n] > 0.5, images[n] > 0.5)
                     for n in range(len(images))])
    if moved < 0.25:
        raise CheckFailed(f"only {moved:.0%} of the images changed geometrically; expected a "
                          "random horizontal flip and translation to move most of them.")
    if np.allclose(outputs[0], outputs[1]):
        raise CheckFailed("two calls gave identical results: the augmentation is not random.",
                          "use the random layers' seed argument, not a fixed transformation.")
    return f"boxes stay on their objects (within 1.5 px) in 2 random batches; {moved:.0%} of images moved"
