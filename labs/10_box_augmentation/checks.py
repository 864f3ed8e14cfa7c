"""Checks for Lab 10 (augmenting images and their boxes). Reference: every box is drawn as
a filled mask, the mask goes through TensorFlow's own image op (tf.image.flip_left_right,
tf.image.crop_to_bounding_box) or through the student's pipeline together with the image,
and the box must still enclose exactly what is left of its mask."""

import numpy as np
import tensorflow as tf

from utils.labcheck import CheckFailed, call, compare, compare_sequence, to_numpy, case_rng


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
    rng = case_rng(100)
    for height, width, count in ((20, 30, 5), (31, 17, 4), (8, 8, 3)):
        boxes = _random_boxes(rng, count, height, width)
        flipped = tf.image.flip_left_right(_masks(boxes, height, width)).numpy()
        expected = np.stack([_mask_box(flipped[..., k]) for k in range(count)])
        case = f"{count} boxes in a {height}x{width} image (height x width)"
        got = call("flip_boxes_horizontally", flip_boxes_horizontally, boxes.copy(), width,
                   case=case, no_course_utils=True)
        compare("flipped boxes", got, expected, case=case,
                hint="mirroring maps x to image_width - x and leaves y alone; the old x_max "
                     "becomes the new x_min. Coordinates are pixel edges, so no -1.")
    return "3 cases agree with tf.image.flip_left_right on the boxes' masks"


def check_crop(crop_boxes):
    """crop_boxes(boxes, labels, top, left, height, width, min_visible) -> (boxes, labels)."""
    rng = case_rng(101)
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
                      width, min_visible, case=case, no_course_utils=True)
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


def _run_augmenter(augmenter, images, boxes, labels):
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
    return out_images, out_boxes


# what the exercise asks: a random horizontal flip and a random translation of up to this
# fraction of the size, in x and in y
MAX_SHIFT = 0.1
HINT_PIPELINE = ("a keras.Sequential of RandomFlip(\"horizontal\") and RandomTranslation(0.1, "
                 "0.1, fill_mode=\"constant\"), both with bounding_box_format=\"xyxy\" and "
                 "seeded from `seed`.")


def _what_moved(images, boxes, out_images):
    """Per image, the (flipped, dx, dy) that maps both objects' masks onto the output, or a
    CheckFailed naming the image that no flip + translation explains. flipped is None when
    the image cannot tell (symmetric objects)."""
    size = images.shape[2]
    moves = []
    for n in range(len(images)):
        seen = [_mask_box(out_images[n, :, :, k]) for k in range(boxes.shape[1])]
        if any(box is None for box in seen):
            moves.append(None)
            continue
        seen = np.stack(seen)
        given = boxes[n]
        at_edge = (seen[:, :2] <= 0).any(axis=1) | (seen[:, 2:] >= size).any(axis=1)
        if at_edge.any():  # the objects lie 10 pixels inside: a 10% shift never reaches the edge
            raise CheckFailed(f"object {int(at_edge.argmax())} of image {n} was translated to "
                              f"the image's edge, further than the {MAX_SHIFT:.0%} of the size "
                              f"the exercise asks for at most.", HINT_PIPELINE)
        sizes_in = given[:, 2:] - given[:, :2]
        sizes_out = seen[:, 2:] - seen[:, :2]
        if np.abs(sizes_in - sizes_out).max() > 1.5:
            raise CheckFailed(
                f"object {int(np.abs(sizes_in - sizes_out).max(axis=1).argmax())} of image {n} "
                f"changed its size ({sizes_in.tolist()} -> {sizes_out.tolist()}, width and "
                f"height): the exercise asks for a flip and a translation, which keep sizes.",
                HINT_PIPELINE)
        candidates = {}
        for flipped in (False, True):
            x0 = size - given[:, 2] if flipped else given[:, 0]
            dx = seen[:, 0] - x0
            if np.ptp(dx) <= 1.5:
                candidates[flipped] = float(dx.mean())
        dy = seen[:, 1] - given[:, 1]
        if not candidates or np.ptp(dy) > 1.5:
            raise CheckFailed(f"in image {n} the two objects moved differently: no horizontal "
                              f"flip followed by one translation explains the output.",
                              HINT_PIPELINE)
        flipped = next(iter(candidates)) if len(candidates) == 1 else None
        dx = candidates[flipped] if flipped is not None else min(candidates.values(), key=abs)
        moves.append((flipped, dx, float(dy.mean())))
    return moves


def check_augmenter(make_augmenter):
    """make_augmenter(seed) -> a callable on {"images", "bounding_boxes": {"boxes", "labels"}}
    (xyxy pixels) that flips horizontally at random and translates by up to 10%, moving the
    boxes with the images; seeded, so that the same seed gives the same augmentation."""
    images, boxes, labels = _object_batch(case_rng(102))
    augmenter = call("make_augmenter", make_augmenter, 7, no_course_utils=True)
    outputs = []
    for attempt in range(2):
        out_images, out_boxes = _run_augmenter(augmenter, images, boxes, labels)
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
    # what the pipeline does: one horizontal flip (or none) and one translation per image
    moves = [m for out in outputs for m in _what_moved(images, boxes, out) if m is not None]
    size = images.shape[1]
    limit = MAX_SHIFT * size + 1.0
    largest_x = max(abs(m[1]) for m in moves)
    largest_y = max(abs(m[2]) for m in moves)
    if largest_x > limit or largest_y > limit:
        raise CheckFailed(f"an image was translated by {max(largest_x, largest_y):.1f} pixels; "
                          f"the exercise asks for at most {MAX_SHIFT:.0%} of the "
                          f"{size}-pixel size in each direction.", HINT_PIPELINE)
    if largest_y < 1.0:
        raise CheckFailed("no image moved vertically: the translation should be random in y "
                          "as well as in x.", HINT_PIPELINE)
    flips = [m[0] for m in moves if m[0] is not None]
    if not any(flips) or all(flips):
        state = "flipped" if flips and all(flips) else "not flipped"
        raise CheckFailed(f"every image was {state} horizontally: the flip should be random "
                          f"(about half of the images).", HINT_PIPELINE)
    # reproducible: a new pipeline from the same seed repeats the first batch exactly
    again = call("make_augmenter", make_augmenter, 7, no_course_utils=True)
    replay, _ = _run_augmenter(again, images, boxes, labels)
    if not np.allclose(replay, outputs[0], atol=1e-5):
        raise CheckFailed("two pipelines made with the same seed augmented the same batch "
                          "differently: runs cannot be reproduced.",
                          "pass `seed` (or numbers derived from it) to every random layer.")
    return (f"flip and translation within {MAX_SHIFT:.0%}, boxes on their objects (within "
            f"1.5 px), reproducible from the seed; {moved:.0%} of images moved")
