"""Synthetic shapes: coloured circles, squares and triangles with labels and bounding boxes.

Boxes are float32 [K, 4] of (x_min, y_min, x_max, y_max) in pixels, continuous coordinates:
pixel (row i, column j) covers [j, j + 1) x [i, i + 1), so a shape drawn over columns 3..6
has x_min = 3 and x_max = 7 (no +1 convention). A box is the drawn shape's full extent,
also where a later shape covers part of it.
"""

from __future__ import annotations

import colorsys
import dataclasses

import numpy as np

from utils import validation


SHAPE_NAMES = ("circle", "square", "triangle")
BACKGROUNDS = ("plain", "noise", "photo")


@dataclasses.dataclass(frozen=True)
class ShapesSample:
    """Output of `make_shapes`: images [N, H, W, 3] float32 in [0, 1]; per image, boxes
    [K, 4] float32 (x_min, y_min, x_max, y_max) and labels [K] int64 indexing SHAPE_NAMES."""

    images: np.ndarray
    boxes: list
    labels: list
    class_names: tuple[str, ...] = SHAPE_NAMES

    def __len__(self) -> int:
        return len(self.images)


def _coverage(shape: str, box: np.ndarray, size: int, supersample: int = 4) -> np.ndarray:
    """Fraction of each pixel inside the shape, [size, size] in [0, 1] (anti-aliased edges)."""
    offsets = (np.arange(supersample) + 0.5) / supersample
    coords = (np.arange(size)[:, None] + offsets[None, :]).reshape(-1)  # sub-pixel centres
    x, y = coords[None, :], coords[:, None]
    x0, y0, x1, y1 = box
    if shape == "circle":
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
    elif shape == "square":
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    else:  # triangle, apex up: (cx, y0), (x0, y1), (x1, y1)
        cx = (x0 + x1) / 2
        half_width = (x1 - x0) / 2 * (y - y0) / (y1 - y0)
        inside = (y >= y0) & (y <= y1) & (np.abs(x - cx) <= half_width)
    return inside.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    hue, saturation, value = rng.uniform(0, 1), rng.uniform(0.55, 1.0), rng.uniform(0.55, 1.0)
    return np.array(colorsys.hsv_to_rgb(hue, saturation, value), dtype=np.float32)


def _background(kind: str, size: int, rng: np.random.Generator, sources: dict) -> np.ndarray:
    if kind == "plain":
        return np.broadcast_to(rng.uniform(0.0, 0.35, size=3).astype(np.float32), (size, size, 3)).copy()
    if kind == "noise":
        from scipy.ndimage import gaussian_filter

        base = rng.uniform(0.0, 0.35, size=3).astype(np.float32)
        smooth = gaussian_filter(rng.normal(0, 1, size=(size, size, 3)), sigma=(size / 16, size / 16, 0))
        smooth = smooth / (np.abs(smooth).max() + 1e-8)
        return np.clip(base + 0.15 * smooth, 0, 1).astype(np.float32)
    # photo: a random crop of a colour photograph, rescaled to size x size
    source = sources[rng.choice(sorted(sources))]
    crop = int(rng.integers(min(size, min(source.shape[:2])), min(source.shape[:2]) + 1))
    top = int(rng.integers(0, source.shape[0] - crop + 1))
    left = int(rng.integers(0, source.shape[1] - crop + 1))
    patch = source[top:top + crop, left:left + crop]
    if crop != size:
        from skimage.transform import resize

        patch = resize(patch, (size, size), order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(0.6 * patch.astype(np.float32), 0, 1)  # darkened so the shapes stand out


def make_shapes(
    num_images: int,
    *,
    image_size: int = 64,
    min_objects: int = 1,
    max_objects: int = 3,
    min_size: float = 0.15,
    max_size: float = 0.5,
    aspect_ratio_range: tuple[float, float] = (1.0, 1.0),
    max_overlap: float = 0.3,
    background: str = "plain",
    seed: int = 0,
) -> ShapesSample:
    """Draw `num_images` images of coloured shapes with their boxes and labels.

    image_size: side of the square RGB images, in pixels.
    min_objects, max_objects: objects per image, drawn uniformly in [min, max].
    min_size, max_size: a shape's larger side as a fraction of image_size.
    aspect_ratio_range: width / height of a shape's box, log-uniform in the range
        ((1, 1) keeps circles round and squares square).
    max_overlap: largest IoU allowed between two boxes of one image (0 = no overlap).
    background: "plain" (one dark colour), "noise" (smooth coloured noise) or "photo" (crops
        of the colour photographs).
    seed: fixes everything; the same arguments always give the same images.
    """
    low_ratio, high_ratio = aspect_ratio_range

    from utils.data import photos
    from utils.detection.boxes import iou  # here, not at the top: utils.detection imports utils.data

    background = validation.as_choice("background", background, BACKGROUNDS)
    sources = photos.sample_photos() if background == "photo" else {}

    rng = np.random.default_rng(seed)
    images = np.empty((num_images, image_size, image_size, 3), dtype=np.float32)
    all_boxes, all_labels = [], []
    for n in range(num_images):
        image = _background(background, image_size, rng, sources)
        boxes, labels = [], []
        for _ in range(int(rng.integers(min_objects, max_objects + 1))):
            for _attempt in range(50):
                side = rng.uniform(min_size, max_size) * image_size
                ratio = np.exp(rng.uniform(np.log(low_ratio), np.log(high_ratio)))
                width, height = (side, side / ratio) if ratio >= 1 else (side * ratio, side)
                x0 = rng.uniform(0, image_size - width)
                y0 = rng.uniform(0, image_size - height)
                box = np.array([x0, y0, x0 + width, y0 + height], dtype=np.float32)
                if np.all(iou(box[None], np.array(boxes).reshape(-1, 4)) <= max_overlap):
                    break
            else:
                continue  # no free place found: fewer objects in this image
            label = int(rng.integers(len(SHAPE_NAMES)))
            alpha = _coverage(SHAPE_NAMES[label], box, image_size)[..., np.newaxis]
            image = image * (1 - alpha) + _random_colour(rng) * alpha
            boxes.append(box)
            labels.append(label)
        images[n] = np.clip(image, 0, 1)
        all_boxes.append(np.array(boxes, dtype=np.float32).reshape(-1, 4))
        all_labels.append(np.array(labels, dtype=np.int64))
    return ShapesSample(images, all_boxes, all_labels)
