"""The container every loader in `utils.data` returns."""

from __future__ import annotations

import dataclasses

import numpy as np

from utils import validation


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Images [N, H, W, C] float32 (NHWC) in [0, 1] with integer labels [N], split three ways.

    The splits are fixed by the loader: the same call always returns the same arrays.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (f"ImageDataset({self.name!r}: {self.num_classes} classes, images {self.image_shape} float32 in [0, 1]; "
                f"train {len(self.y_train)}, val {len(self.y_val)}, test {len(self.y_test)})")

    def class_counts(self) -> dict[str, np.ndarray]:
        """Images per class in each split."""
        return {split: np.bincount(getattr(self, f"y_{split}"), minlength=self.num_classes)
                for split in ("train", "val", "test")}

    def subset(self, train_per_class: int, *, seed: int = 0) -> "ImageDataset":
        """The same dataset with a smaller, class-balanced training split (val and test unchanged),
        for experiments on small data; the chosen images are fixed by `seed`."""
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
