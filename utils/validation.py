"""Argument checks shared by the public functions in `utils`. Each raises `TypeError` (wrong kind
of object or dtype) or `ValueError` (wrong shape, layout or value) naming the argument, what was
expected and what was received: `images: expected a 4-D array [N, H, W, C] (NHWC), got shape (32, 32, 3)`.
"""

from __future__ import annotations

import numbers

import numpy as np


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def _allowed(value) -> tuple:
    return (value,) if isinstance(value, int) else tuple(value)


def as_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None, dtype_kind: str | None = None,
             layout: str | None = None, shape: tuple[int | None, ...] | None = None, finite: bool = False,
             min_size: int = 0) -> np.ndarray:
    """Convert `value` to a NumPy array and check it.

    ndim: required number of dimensions (or a tuple of allowed ones).
    dtype_kind: allowed NumPy dtype kinds, e.g. "f" (float), "iu" (integer), "fiu" (numeric),
        "b" (bool). Booleans never pass as numbers.
    layout: the expected layout for messages, e.g. "[N, H, W, C] (NHWC)".
    shape: expected sizes per axis, None for any size. finite: reject NaN and infinity.
    min_size: minimum number of elements.
    """
    shown = f" {layout}" if layout else ""
    if value is None:
        raise TypeError(f"{name}: expected an array{shown}, got None")
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name}: expected an array, got {_describe(value)} ({error})") from None
    if array.dtype == object:
        raise TypeError(f"{name}: expected a numeric array, got a ragged or object array")
    if dtype_kind is not None and array.size == 0 and array.dtype.kind == "f":
        # [] is float64 to NumPy: an empty array is of every kind (e.g. no labels in an image)
        array = array.astype({"b": bool, "i": np.int64, "u": np.uint64, "f": array.dtype}[dtype_kind[0]])
    if dtype_kind is not None and array.dtype.kind not in dtype_kind:
        kinds = {"f": "floating point", "i": "signed integer", "u": "unsigned integer", "b": "boolean"}
        wanted = " or ".join(kinds.get(k, k) for k in dtype_kind)
        raise TypeError(f"{name}: expected a {wanted} array, got dtype {array.dtype}")
    if ndim is not None and array.ndim not in _allowed(ndim):
        what = " or ".join(f"{n}-D" for n in _allowed(ndim))
        raise ValueError(f"{name}: expected a {what} array{shown}, got shape {array.shape}")
    if shape is not None and (array.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(array.shape, shape))):
        pretty = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {pretty}{shown}, got shape {array.shape}")
    if array.size < min_size:
        raise ValueError(f"{name}: expected at least {min_size} element(s), got {array.size}")
    if finite and array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite values, found NaN or infinity")
    return array


def as_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that `value` is an integer (not a bool or float) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {_describe(value)}")
    return _check_range(name, int(value), minimum, maximum)


def as_float(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
             exclusive_minimum: bool = False) -> float:
    """Check that `value` is a finite real number within range; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if exclusive_minimum and minimum is not None and value <= minimum:
        raise ValueError(f"{name}: expected a number > {minimum}, got {value}")
    return _check_range(name, value, minimum, maximum)


def _check_range(name, value, minimum, maximum):
    """`value`, checked to lie in [minimum, maximum] (None: no bound)."""
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected a value >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected a value <= {maximum}, got {value}")
    return value


def as_bool(name: str, value) -> bool:
    """Check that `value` is True or False (NumPy's bool too), not a truthy stand-in like 1 or "no"."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {_describe(value)}")
    return bool(value)


def as_choice(name: str, value, choices) -> str:
    """Check that `value` is one of `choices` (strings)."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def as_fraction(name: str, value, *, allow_zero: bool = True) -> float:
    """A float in [0, 1) ((0, 1) with allow_zero=False): a confidence level, a significance level."""
    value = as_float(name, value)
    if not (value > 0 or (allow_zero and value == 0)) or value >= 1:
        interval = ("[" if allow_zero else "(") + "0, 1)"
        raise ValueError(f"{name}: expected a fraction in {interval}, got {value}")
    return value


def as_images(name: str, value, *, channels: int | tuple[int, ...] | None = None) -> np.ndarray:
    """A batch of images [N, H, W, C] (NHWC) of floats."""
    images = as_array(name, value, ndim=4, dtype_kind="f", layout="[N, H, W, C] (NHWC)")
    allowed = () if channels is None else _allowed(channels)
    if channels is not None and images.shape[-1] not in allowed:
        nchw = images.shape[1] in allowed
        hint = " (this looks like NCHW; transpose to NHWC with x.transpose(0, 2, 3, 1))" if nchw else ""
        raise ValueError(f"{name}: expected {' or '.join(map(str, allowed))} channel(s) in the last axis "
                         f"(NHWC), got shape {images.shape}{hint}")
    return images


def as_labels(name: str, value, *, num_classes: int | None = None, length: int | None = None) -> np.ndarray:
    """Integer class labels [N] in [0, num_classes)."""
    labels = as_array(name, value, ndim=1, dtype_kind="iu", layout="[N] of integer class ids")
    if length is not None and labels.shape[0] != length:
        raise ValueError(f"{name}: expected {length} labels to match the images, got {labels.shape[0]}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name}: expected labels >= 0, got {labels.min()}")
    if num_classes is not None and labels.size and labels.max() >= num_classes:
        raise ValueError(f"{name}: expected labels < num_classes={num_classes}, got {labels.max()}")
    return labels
