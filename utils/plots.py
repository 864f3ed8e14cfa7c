"""Figures for lecture cells: one call instead of forty lines of matplotlib. Each function returns
the Figure (end the line with `;` so it shows once); a modest dpi keeps notebook diffs small.
"""

from __future__ import annotations

import math

import matplotlib

import numpy as np

from utils import training, validation

matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})


def grid(count: int, *, num_columns: int = 8, size: float = 1.2, title: str | None = None):
    """(fig, axes): an empty grid, `num_columns` wide, axes hidden; `axes` holds the first `count`
    panels, row by row (for `image_grid` and `utils.detection.detection_grid`)."""
    import matplotlib.pyplot as plt
    columns = min(num_columns, count)
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + (0.3 if title else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig, list(axes.flat)[:count]


def image_grid(images, labels=None, *, class_names=None, predictions=None, num_columns: int = 8,
               title: str | None = None, size: float = 1.2):
    """A grid of images [N, H, W, C] (C = 1 or 3, values clipped to [0, 1]). labels: [N] class ids
    (or strings) shown above each image. predictions: [N] class ids; a wrong one is captioned in red."""
    images = validation.as_images("images", images, channels=(1, 3))
    count = len(images)
    if count == 0:
        raise ValueError("images: expected at least one image, got 0")
    num_columns = validation.as_int("num_columns", num_columns, minimum=1)
    for argument, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != count:
            raise ValueError(f"{argument}: expected {count} {argument} to match images, got {len(values)}")

    def name(value):
        if class_names is not None and not isinstance(value, str):
            return str(class_names[int(value)])
        return str(value)

    fig, axes = grid(count, num_columns=num_columns, size=size, title=title)
    for index, ax in enumerate(axes):
        image = np.clip(images[index], 0, 1)
        gray = image.shape[-1] == 1
        ax.imshow(image[..., 0] if gray else image, cmap="gray" if gray else None, vmin=0, vmax=1,
                  interpolation="nearest")
        truth = "" if labels is None else name(labels[index])
        guess = truth if predictions is None else name(predictions[index])
        wrong = labels is not None and guess != truth
        if guess or wrong:
            ax.set_title(f"{guess}\n(true: {truth})" if wrong else guess, fontsize=7,
                         color="red" if wrong else "black")
    fig.tight_layout()
    return fig


def training_curves(histories, *, metrics=("loss",), title: str | None = None, log_scale: bool = False):
    """Training curves. histories: a `keras.callbacks.History`, a dict metric -> list, or a dict
    run name -> either (runs compared on one plot). metrics: one panel each, "val_<metric>" dashed."""
    log_scale = validation.as_bool("log_scale", log_scale)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if isinstance(histories, dict) and any(isinstance(v, dict) or hasattr(v, "history")
                                           for v in histories.values()):
        runs = {str(run): training.metric_lists(history, "histories") for run, history in histories.items()}
    else:
        runs = {"": training.metric_lists(histories, "histories")}
    for run, history in runs.items():
        for metric in metrics:
            if metric not in history:
                raise ValueError(f"metrics: run {run or 'history'!r} has no {metric!r} "
                                 f"(has {', '.join(sorted(history))})")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for index, (run, history) in enumerate(runs.items()):
            for key, style, split in ((metric, "-", "train"), (f"val_{metric}", "--", "val")):
                if key in history:
                    values = np.asarray(history[key], dtype=float)
                    ax.plot(np.arange(1, len(values) + 1), values, style, color=f"C{index % 10}",
                            label=f"{run} {split}".strip())
        ax.set(xlabel="epoch", ylabel=metric)
        if log_scale:
            ax.set_yscale("log")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filters(kernel, *, num_columns: int = 8, title: str | None = None, size: float = 0.8):
    """Convolution filters [k_h, k_w, C_in, C_out] as images, each scaled to its own min..max: in
    colour when C_in = 3, else the first input channel's slice in gray."""
    kernel = validation.as_array("kernel", kernel, ndim=4, dtype_kind="f",
                                 layout="[k_h, k_w, C_in, C_out] (as in tf.nn.conv2d)")
    tiles = np.transpose(kernel, (3, 0, 1, 2))  # [C_out, k_h, k_w, C_in]
    if kernel.shape[2] != 3:
        tiles = tiles[..., :1]
    low = tiles.min(axis=(1, 2, 3), keepdims=True)
    high = tiles.max(axis=(1, 2, 3), keepdims=True)
    tiles = (tiles - low) / np.maximum(high - low, 1e-12)
    return image_grid(tiles.astype(np.float32), num_columns=num_columns, title=title, size=size)


def confusion_matrix(y_true, y_pred, *, class_names=None, title: str | None = None):
    """Confusion matrix of counts (rows: true class, columns: predicted), drawn by scikit-learn."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay
    y_true = validation.as_labels("y_true", y_true)
    y_pred = validation.as_labels("y_pred", y_pred, length=len(y_true))
    num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if class_names is not None:
        if len(class_names) < num_classes:
            raise ValueError(f"class_names: expected at least {num_classes} names, got {len(class_names)}")
        num_classes = len(class_names)
    side = max(3.0, 0.45 * num_classes + 1.5)
    fig, ax = plt.subplots(figsize=(side, side))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=np.arange(num_classes), display_labels=class_names,
                                            values_format="d", ax=ax, colorbar=False, xticks_rotation=45)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
