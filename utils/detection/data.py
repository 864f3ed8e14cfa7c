"""The detection data set of notebooks 14 to 16: synthetic shapes on photographs.

Taught in: notebooks/13_detection_metrics.ipynb (first used); shared by notebooks/14_rcnn.ipynb,
15_fast_rcnn.ipynb and 16_ssd.ipynb so that their detectors are measured on the same test images.
"""

from __future__ import annotations

import dataclasses

from utils import validation

# How the shapes are drawn: 64 x 64 crops of the offline colour photographs with 1-4 objects
# of 20-50 % of the image side, aspect ratios 1:2 to 2:1, overlapping up to IoU 0.2.
SHAPES_DETECTION_OPTIONS = {"image_size": 64, "background": "photo", "min_objects": 1, "max_objects": 4,
                            "min_size": 0.2, "max_size": 0.5, "aspect_ratio_range": (0.5, 2.0), "max_overlap": 0.2}


@dataclasses.dataclass(frozen=True)
class DetectionDataset:
    """Three splits, each a `utils.data.ShapesSample` (images [N, H, W, 3] float32 in [0, 1],
    per image boxes [K, 4] (x_min, y_min, x_max, y_max) pixels and labels [K])."""

    train: object
    val: object
    test: object
    class_names: tuple[str, ...]

    @staticmethod
    def targets(sample) -> list[dict]:
        """Per-image ground truth {"boxes", "labels"} of a split, the format of
        `utils.detection.coco_evaluate`."""
        return [{"boxes": boxes, "labels": labels} for boxes, labels in zip(sample.boxes, sample.labels)]


def load_shapes_detection(*, num_train: int = 1500, num_val: int = 200, num_test: int = 300) -> DetectionDataset:
    """Shapes detection: `utils.data.make_shapes` with SHAPES_DETECTION_OPTIONS, three
    independent splits drawn with seeds 0, 1 and 2 (no image shared)."""
    from utils import data

    counts = [validation.as_int(name, value, minimum=1) for name, value in
              (("num_train", num_train), ("num_val", num_val), ("num_test", num_test))]
    splits = [data.make_shapes(count, seed=seed, **SHAPES_DETECTION_OPTIONS) for seed, count in enumerate(counts)]
    return DetectionDataset(*splits, class_names=data.SHAPE_NAMES)
