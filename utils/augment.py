"""Data augmentation that Keras 3's preprocessing layers do not cover, and a box-aware wrapper.

Radial (barrel / pincushion) lens distortion with OpenCV's camera model (`lens_distortion`,
`RandomLensDistortion`), and `pad_boxes`, `box_augmenter`, `unpad_boxes` to run Keras's
box-aware layers on images with boxes in "xyxy" pixels (as `utils.data.make_shapes` returns
them), then clip the boxes to the image and drop the ones that left it.

Taught in: notebooks/05_augmentation.ipynb
"""

from __future__ import annotations

import keras
import numpy as np

from utils import validation

BOX_FORMAT = "xyxy"


# --- Lens distortion --------------------------------------------------------------------

def _distortion_grid(height: int, width: int, k1, k2):
    """Sampling coordinates (rows, cols) for every output pixel; k1, k2: numbers, or [N, 1, 1]."""
    ops = keras.ops
    centre_y, centre_x = (height - 1) / 2.0, (width - 1) / 2.0
    focal = max(height, width) / 2.0
    rows = (ops.arange(height, dtype="float32") - centre_y) / focal
    cols = (ops.arange(width, dtype="float32") - centre_x) / focal
    y, x = ops.meshgrid(rows, cols, indexing="ij")  # [H, W] normalised coordinates
    r2 = x * x + y * y
    factor = 1.0 + k1 * r2 + k2 * r2 * r2  # [N, H, W]
    return centre_y + focal * y * factor, centre_x + focal * x * factor


def _sample_bilinear(images, source_rows, source_cols):
    """images [N, H, W, C]; source_rows/cols [N, H, W] -> [N, H, W, C], bilinear, 0 outside
    (four gathers: `keras.ops.image.map_coordinates` needs a static batch size)."""
    ops = keras.ops
    shape = ops.shape(images)
    n, height, width, channels = shape[0], images.shape[1], images.shape[2], shape[3]
    flat = ops.reshape(images, (-1, channels))  # [N * H * W, C]
    base = ops.reshape(ops.arange(n, dtype="int32") * (height * width), (-1, 1, 1))
    row0 = ops.floor(source_rows)
    col0 = ops.floor(source_cols)
    result = 0.0
    for d_row in (0, 1):
        for d_col in (0, 1):
            row, col = row0 + d_row, col0 + d_col
            weight = (1.0 - ops.abs(source_rows - row)) * (1.0 - ops.abs(source_cols - col))
            inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
            weight = ops.where(inside, weight, 0.0)
            index = base + ops.cast(ops.clip(row, 0, height - 1), "int32") * width \
                + ops.cast(ops.clip(col, 0, width - 1), "int32")
            result = result + ops.take(flat, ops.reshape(index, (-1,)), axis=0) \
                * ops.reshape(weight, (-1, 1))
    return ops.reshape(result, shape)


def lens_distortion(images, k1: float, k2: float = 0.0):
    """Radial lens distortion of a batch of images, OpenCV's model without tangential terms.

    images: [N, H, W, C] float (NHWC) -> [N, H, W, C] float32. Output pixel (u, v) samples
    the input bilinearly at x_s = c_x + f x (1 + k1 r^2 + k2 r^4) (likewise y_s), with
    x = (u - c_x) / f, y = (v - c_y) / f, r^2 = x^2 + y^2, centre ((W - 1) / 2, (H - 1) / 2)
    and f = max(H, W) / 2: the map of `cv2.initUndistortRectifyMap` for coefficients
    (k1, k2, 0, 0); 0 outside the image. k1 > 0: barrel (wide-angle); k1 < 0: pincushion.
    """
    images = validation.as_images("images", images).astype(np.float32)
    shape = images.shape[:3]
    k1 = validation.as_float("k1", k1, minimum=-1.0, maximum=1.0)
    k2 = validation.as_float("k2", k2, minimum=-1.0, maximum=1.0)
    rows, cols = _distortion_grid(shape[1], shape[2], k1, k2)
    rows, cols = keras.ops.broadcast_to(rows, shape), keras.ops.broadcast_to(cols, shape)
    return keras.ops.convert_to_numpy(_sample_bilinear(keras.ops.convert_to_tensor(images), rows, cols))


class RandomLensDistortion(keras.layers.Layer):
    """Random radial lens distortion, a preprocessing layer like Keras's Random* layers.

    In training every image gets its own k1 uniform in [-factor, factor] (`lens_distortion`;
    factor in [0, 1], 0.2-0.3 is a plausible lens); at inference the identity. Input and
    output: [N, H, W, C] float (NHWC); works in a model and in `tf.data.Dataset.map`.
    """

    def __init__(self, factor: float = 0.2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.factor = validation.as_float("factor", factor, minimum=0.0, maximum=1.0)
        self.seed = None if seed is None else validation.as_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=True):
        images = keras.ops.convert_to_tensor(inputs)
        if len(images.shape) != 4:
            raise ValueError(f"inputs: expected a 4-D batch [N, H, W, C] (NHWC), got shape {tuple(images.shape)}")
        if not training or self.factor == 0:
            return images
        if None in tuple(images.shape)[1:3]:
            raise ValueError(f"inputs: expected images of known height and width in training, got shape "
                             f"{tuple(images.shape)}")
        images = keras.ops.cast(images, "float32")
        k1 = keras.random.uniform((keras.ops.shape(images)[0], 1, 1), -self.factor, self.factor,
                                  seed=self.seed_generator)
        rows, cols = _distortion_grid(images.shape[1], images.shape[2], k1, 0.0)
        return _sample_bilinear(images, rows, cols)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


# --- Boxes with images ------------------------------------------------------------------

def pad_boxes(boxes, labels) -> dict:
    """Lists of per-image boxes and labels as the dense dict Keras's box-aware layers take.

    boxes: list of N arrays [K_i, 4] in "xyxy" pixels; labels: list of N integer arrays [K_i].
    Returns {"boxes": float32 [N, M, 4], "labels": int32 [N, M]}, M = max(K_i, 1); unused rows
    have boxes 0 and label -1.
    """
    from utils.detection.boxes import as_boxes  # here, not at the top: utils.detection imports utils.data

    if not isinstance(boxes, (list, tuple)) or not isinstance(labels, (list, tuple)):
        raise TypeError(f"boxes, labels: expected lists of per-image arrays, got "
                        f"{type(boxes).__name__} and {type(labels).__name__}")
    if len(boxes) != len(labels):
        raise ValueError(f"labels: expected one array per image ({len(boxes)}), got {len(labels)}")
    boxes = [as_boxes(f"boxes[{i}]", b) for i, b in enumerate(boxes)]  # [] = no box
    labels = [validation.as_labels(f"labels[{i}]", l, length=len(b), num_classes=2**31 - 1)  # int32
              for i, (b, l) in enumerate(zip(boxes, labels))]
    max_boxes = max([len(b) for b in boxes] + [1])
    dense_boxes = np.zeros((len(boxes), max_boxes, 4), np.float32)
    dense_labels = np.full((len(boxes), max_boxes), -1, np.int32)
    for i, (b, l) in enumerate(zip(boxes, labels)):
        dense_boxes[i, :len(b)] = b
        dense_labels[i, :len(l)] = l
    return {"boxes": dense_boxes, "labels": dense_labels}


def unpad_boxes(bounding_boxes) -> tuple[list, list]:
    """The inverse of `pad_boxes`: ({"boxes" [N, M, 4], "labels" [N, M]}) -> (boxes, labels),
    lists of per-image float32 [K_i, 4] xyxy and int64 [K_i], without the label -1 rows.
    Takes NumPy arrays or tensors (the output of `box_augmenter`)."""
    if not isinstance(bounding_boxes, dict) or not {"boxes", "labels"} <= set(bounding_boxes):
        raise TypeError("bounding_boxes: expected a dict with 'boxes' [N, M, 4] and 'labels' [N, M]")
    boxes, labels = np.asarray(bounding_boxes["boxes"]), np.asarray(bounding_boxes["labels"])
    if boxes.ndim != 3 or boxes.shape[-1] != 4 or boxes.shape[:2] != labels.shape:
        raise ValueError(f"bounding_boxes: expected boxes [N, M, 4] and labels [N, M], got "
                         f"{boxes.shape} and {labels.shape}")
    keep = labels >= 0
    return ([b[k].astype(np.float32) for b, k in zip(boxes, keep)],
            [l[k].astype(np.int64) for l, k in zip(labels, keep)])


class BoxAugmenter(keras.layers.Layer):
    """The layer `box_augmenter` returns."""

    def __init__(self, layers, **kwargs):
        super().__init__(**kwargs)
        self.augmentation_layers = list(layers)

    def call(self, data, training=True):
        if not training:
            return data
        ops = keras.ops
        for layer in self.augmentation_layers:
            # Keras's layers write their results into the dict they are given: pass a copy,
            # so the caller's dict keeps the original images and boxes.
            data = layer({"images": data["images"],
                          "bounding_boxes": dict(data["bounding_boxes"])}, training=True)
        images = data["images"]
        height = ops.cast(ops.shape(images)[1], "float32")
        width = ops.cast(ops.shape(images)[2], "float32")
        boxes = ops.cast(data["bounding_boxes"]["boxes"], "float32")
        labels = ops.cast(data["bounding_boxes"]["labels"], "int32")
        boxes = ops.minimum(ops.maximum(boxes, 0.0), ops.stack([width, height, width, height]))
        keep = (labels >= 0) & (boxes[..., 2] - boxes[..., 0] >= 1.0) & (boxes[..., 3] - boxes[..., 1] >= 1.0)
        return {"images": images,
                "bounding_boxes": {"boxes": ops.where(keep[..., None], boxes, 0.0),
                                   "labels": ops.where(keep, labels, -1)}}


def box_augmenter(layers):
    """A layer that augments images together with their boxes ("xyxy" pixels).

    layers: Keras box-aware preprocessing layers built with bounding_box_format="xyxy" (e.g.
        RandomFlip, RandomZoom((-0.4, 0)) to crop and rescale, RandomTranslation), run in order.

    Call it on {"images": [N, H, W, C] float (NHWC), "bounding_boxes": pad_boxes(boxes, labels)},
    in a model or in `tf.data.Dataset.map`. After the layers, boxes are clipped to the image;
    a box under 1 pixel wide or high gets label -1 and zeros (`unpad_boxes` removes them).
    Identity when training=False; the input dict is left unchanged. Keras 3.15's `RandomCrop`
    is refused: it swaps the x and y offsets of boxes.
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("layers: expected a non-empty list of Keras preprocessing layers")
    for index, layer in enumerate(layers):
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(f"layers[{index}]: expected a Keras layer, got {type(layer).__name__}")
        if isinstance(layer, keras.layers.RandomCrop):
            raise ValueError(f"layers[{index}]: RandomCrop transforms boxes incorrectly in Keras "
                             f"{keras.__version__} (x and y offsets swapped); use "
                             f"RandomZoom(height_factor=(-0.4, 0)) to crop and rescale instead")
        layer_format = getattr(layer, "bounding_box_format", None)
        if layer_format != BOX_FORMAT:
            raise ValueError(f"layers[{index}]: {type(layer).__name__} does not transform bounding boxes "
                             f"in {BOX_FORMAT!r} (expected bounding_box_format={BOX_FORMAT!r}, got {layer_format!r})")
    return BoxAugmenter(layers)
