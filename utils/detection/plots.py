"""Pictures of detections: images with their ground-truth and predicted boxes."""

from __future__ import annotations

import numpy as np

from utils import validation
from utils.detection.boxes import as_boxes

_COLOURS = ("#ff4040", "#40c0ff", "#ffd020", "#60ff60", "#ff60ff", "#ffffff")


def detection_grid(images, ground_truths=None, detections=None, *, class_names=None, score_threshold: float = 0.5,
                   size: float = 2.0, title: str | None = None):
    """A grid of images [N, H, W, 3], 4 per row, with boxes; returns the Figure.

    ground_truths: optional list of {"boxes": [K, 4], "labels": [K]} drawn dashed white.
    detections: optional list of {"boxes", "labels", "scores"}, drawn solid, one colour per
        class and captioned "name score"; boxes scoring below score_threshold are not drawn.
    """
    images = validation.as_images("images", images, channels=3)
    count = len(images)
    if count == 0:
        raise ValueError("images: expected at least one image, got 0")
    score_threshold = validation.as_float("score_threshold", score_threshold)
    for name, entries in (("ground_truths", ground_truths), ("detections", detections)):
        if entries is not None and len(entries) != count:
            raise ValueError(f"{name}: expected {count} entries to match images, got {len(entries)}")
    from matplotlib.patches import Rectangle

    from utils import plots

    def outline(box, **style):
        return Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False, **style)

    fig, axes = plots.grid(count, num_columns=4, size=size, title=title)
    for index, ax in enumerate(axes):
        height, width = images[index].shape[:2]
        ax.imshow(np.clip(images[index], 0, 1), extent=(0, width, height, 0), interpolation="nearest")
        if ground_truths is not None:
            for box in as_boxes(f"ground_truths[{index}]['boxes']", ground_truths[index]["boxes"]):
                ax.add_patch(outline(box, edgecolor="white", linestyle="--", linewidth=1))
        if detections is not None:
            entry = detections[index]
            boxes = as_boxes(f"detections[{index}]['boxes']", entry["boxes"])
            for box, label, score in zip(boxes, np.asarray(entry["labels"]), np.asarray(entry["scores"])):
                if score < score_threshold:
                    continue
                colour = _COLOURS[int(label) % len(_COLOURS)]
                ax.add_patch(outline(box, edgecolor=colour, linewidth=1.5))
                name = class_names[int(label)] if class_names is not None else str(int(label))
                ax.text(box[0], box[1], f"{name} {score:.2f}", color="black", fontsize=6,
                        bbox={"facecolor": colour, "alpha": 0.8, "pad": 0.5, "linewidth": 0})
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    fig.tight_layout()
    return fig
