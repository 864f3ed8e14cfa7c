"""The container every loader in `utils.data` returns, and the seeded split behind it."""

from __future__ import annotations

import dataclasses

import numpy as np

from utils import validation


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Images [N, H, W, C] float32 (NHWC) with integer labels [N], split three ways.

    The splits are fixed by the loader's seed: the same call always returns the same arrays.
    `value_range` gives the range the pixel values lie in, e.g. (0.0, 1.0).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    value_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self):
        for split in ("train", "val", "test"):
            x = validation.as_images(f"x_{split}", getattr(self, f"x_{split}"))
            validation.as_labels(f"y_{split}", getattr(self, f"y_{split}"),
                                 num_classes=len(self.class_names), length=x.shape[0])
            if x.shape[1:] != self.x_train.shape[1:]:
                raise ValueError(f"x_{split}: expected images of shape {self.x_train.shape[1:]} "
                                 f"like x_train, got {x.shape[1:]}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"ImageDataset({self.name!r}: {self.num_classes} classes, images {self.image_shape} "
            f"float32 in [{self.value_range[0]:g}, {self.value_range[1]:g}]; "
            f"train {len(self.y_train)}, val {len(self.y_val)}, test {len(self.y_test)})"
        )

    def class_counts(self) -> dict[str, np.ndarray]:
        """Images per class in each split."""
        return {split: np.bincount(getattr(self, f"y_{split}"), minlength=self.num_classes)
                for split in ("train", "val", "test")}

    def subset(self, train_per_class: int, *, seed: int = 0) -> "ImageDataset":
        """The same dataset with a smaller, class-balanced training split (val and test unchanged).

        For experiments on small data (augmentation, dropout): the chosen images are fixed by
        `seed`.
        """
        train_per_class = validation.as_int("train_per_class", train_per_class, minimum=1)
        rng = np.random.default_rng(validation.as_int("seed", seed, minimum=0))
        keep = []
        for label in range(self.num_classes):
            members = np.flatnonzero(self.y_train == label)
            if len(members) < train_per_class:
                raise ValueError(f"train_per_class: class {self.class_names[label]!r} has only "
                                 f"{len(members)} training images, asked for {train_per_class}")
            keep.append(rng.choice(members, size=train_per_class, replace=False))
        keep = np.sort(np.concatenate(keep))
        return dataclasses.replace(self, name=f"{self.name} ({train_per_class}/class)",
                                   x_train=self.x_train[keep], y_train=self.y_train[keep])


def stratified_split(
    x: np.ndarray, y: np.ndarray, *, val_fraction: float, test_fraction: float, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Split (x, y) into train/val/test keeping class proportions; fixed by `seed`.

    Returns ((x_train, y_train), (x_val, y_val), (x_test, y_test)). A fraction of 0 gives an
    empty split.
    """
    from sklearn.model_selection import train_test_split

    x = validation.as_array("x", x, dtype_kind="fiu", min_size=1)
    y = validation.as_labels("y", y, length=len(x))
    val_fraction = validation.as_fraction("val_fraction", val_fraction)
    test_fraction = validation.as_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction: expected < 1, got {val_fraction + test_fraction}")
    seed = validation.as_int("seed", seed, minimum=0)
    empty = (x[:0], y[:0])
    if test_fraction > 0:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=test_fraction, stratify=y, random_state=seed)
    else:
        (x_rest, y_rest), (x_test, y_test) = (x, y), empty
    if val_fraction > 0:
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest,
            random_state=seed + 1)
    else:
        (x_train, y_train), (x_val, y_val) = (x_rest, y_rest), empty
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)
