"""Offline datasets for the course. Every loader returns NHWC float32 images in [0, 1].

- `load_digits`: scikit-learn's handwritten digits (real scans, 10 classes).
- `load_photo`, `sample_photos`: photographs shipped with scikit-learn and scikit-image.
- `load_photo_patches`: a 9-class natural-image set cut from those photographs.
- `make_shapes`: synthetic coloured shapes with boxes (`utils.detection.load_shapes_detection` splits them).
"""

from utils.data.dataset import ImageDataset
from utils.data.photos import PHOTO_NAMES, load_digits, load_photo, load_photo_patches, sample_photos
from utils.data.shapes import BACKGROUNDS, SHAPE_NAMES, ShapesSample, make_shapes

__all__ = ["BACKGROUNDS", "ImageDataset", "PHOTO_NAMES", "SHAPE_NAMES", "ShapesSample", "load_digits", "load_photo",
           "load_photo_patches", "make_shapes", "sample_photos"]
