import numpy as np
import pytest

from utils import validation


def test_as_array_accepts_and_returns_numpy():
    out = validation.as_array("x", [[1.0, 2.0]], ndim=2, dtype_kind="f")
    assert isinstance(out, np.ndarray) and out.shape == (1, 2)


@pytest.mark.parametrize("value, kwargs, error, words", [
    (np.zeros((2, 3)), {"ndim": 4}, ValueError, ["x:", "4-D", "(2, 3)"]),
    (np.zeros((2, 3), dtype=np.int32), {"dtype_kind": "f"}, TypeError, ["x:", "floating", "int32"]),
    (np.zeros((2, 3)), {"shape": (2, 4)}, ValueError, ["x:", "(2, 4)", "(2, 3)"]),
    (np.array([1.0, np.nan]), {"finite": True}, ValueError, ["x:", "NaN"]),
    (None, {}, TypeError, ["x:", "None"]),
    ([[1, 2], [3]], {}, TypeError, ["x:"]),
])
def test_as_array_errors_name_the_argument(value, kwargs, error, words):
    with pytest.raises(error) as info:
        validation.as_array("x", value, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_as_images_detects_nchw():
    with pytest.raises(ValueError, match="NCHW"):
        validation.as_images("images", np.zeros((2, 3, 8, 8), np.float32), channels=3)
    with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
        validation.as_images("images", np.zeros((8, 8, 3), np.float32))


@pytest.mark.parametrize("value, error", [(True, TypeError), (1.5, TypeError), ("3", TypeError), (-1, ValueError)])
def test_as_int(value, error):
    with pytest.raises(error, match="n:"):
        validation.as_int("n", value, minimum=0)


def test_as_float_and_fraction():
    assert validation.as_float("lr", 1) == 1.0
    with pytest.raises(ValueError, match="finite"):
        validation.as_float("lr", float("inf"))
    with pytest.raises(ValueError, match=r"rate: expected a fraction in \[0, 1\)"):
        validation.as_fraction("rate", 1.0)
    with pytest.raises(ValueError, match=r"alpha: expected a fraction in \(0, 1\)"):
        validation.as_fraction("alpha", 0.0, allow_zero=False)
    assert validation.as_fraction("alpha", 0.05, allow_zero=False) == 0.05


def test_as_choice_and_labels():
    with pytest.raises(ValueError, match="mode: expected one of 'a', 'b', got 'c'"):
        validation.as_choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match="num_classes=3"):
        validation.as_labels("y", np.array([0, 3]), num_classes=3)
    with pytest.raises(TypeError, match="y:"):
        validation.as_labels("y", np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="y: expected 3 labels"):
        validation.as_labels("y", np.array([0, 1]), length=3)


def test_an_empty_list_is_an_array_of_any_kind():
    assert validation.as_array("labels", [], dtype_kind="iu").dtype == np.int64
    assert validation.as_labels("labels", []).shape == (0,)
    assert validation.as_array("flags", [], dtype_kind="b").dtype == bool
    with pytest.raises(TypeError, match="labels"):
        validation.as_array("labels", [0.5], dtype_kind="iu")


def test_as_bool():
    assert validation.as_bool("flag", np.bool_(False)) is False
    for wrong in ("no", 0, None, np.array([True])):
        with pytest.raises(TypeError, match="flag: expected True or False"):
            validation.as_bool("flag", wrong)
