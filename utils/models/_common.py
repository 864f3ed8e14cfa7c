"""Argument checks shared by the model builders."""

from __future__ import annotations

from utils import validation


def input_shape_arg(input_shape, *, min_size: int, name: str = "input_shape") -> tuple[int, int, int]:
    """An image shape (H, W, C) with H, W >= min_size and C >= 1 (NHWC without the batch axis)."""
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__"):
        raise TypeError(f"{name}: expected a tuple (height, width, channels), got {input_shape!r}")
    if len(input_shape) != 3:
        raise ValueError(f"{name}: expected 3 values (height, width, channels) in NHWC order, "
                         f"got {tuple(input_shape)!r}")
    height, width, channels = (validation.as_int(name, value, minimum=1) for value in input_shape)
    if channels > 4 and height <= 4:
        raise ValueError(f"{name}: expected (height, width, channels) (NHWC), got {tuple(input_shape)!r}; "
                         f"this looks like channels first")
    if height < min_size or width < min_size:
        raise ValueError(f"{name}: expected height and width >= {min_size} for this architecture, "
                         f"got {tuple(input_shape)!r}")
    return height, width, channels


def classes_arg(classes) -> int:
    return validation.as_int("classes", classes, minimum=2)


def bool_arg(name: str, value) -> bool:
    return validation.as_bool(name, value)


def widths_arg(name: str, widths, *, length: int | None = None, multiple_of: int = 1) -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise TypeError(f"{name}: expected a tuple of channel counts, got {widths!r}")
    if length is not None and len(widths) != length:
        raise ValueError(f"{name}: expected {length} channel counts, got {len(widths)}: {tuple(widths)!r}")
    if len(widths) == 0:
        raise ValueError(f"{name}: expected at least one channel count")
    widths = tuple(validation.as_int(name, width, minimum=1) for width in widths)
    if any(width % multiple_of for width in widths):
        raise ValueError(f"{name}: expected channel counts divisible by {multiple_of}, got {widths!r}")
    return widths
