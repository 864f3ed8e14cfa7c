"""Notebook 01's convolution against TensorFlow and Keras: im2col and conv2d (stride, padding,
dilation, groups) as the notebook writes them (loaded from it, CONTRIBUTING.md "One source"),
and the output sizes, saved to utils.conv."""

import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools.saved_cells import definitions  # noqa: E402
from utils import conv as saved  # noqa: E402

conv = definitions("notebooks/01_convolution.ipynb", "im2col", "conv2d", "conv2d_loops", "conv2d_blocked",
                   "conv_output_size", "conv_transpose_output_size", "same_padding")


def _relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def _random_case(rng):
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, 4))
    c_out = groups * int(rng.integers(1, 4))
    k_h, k_w = (int(v) for v in rng.integers(1, 5, size=2))
    # TensorFlow's CPU kernels do not combine stride > 1 with dilation > 1.
    if rng.random() < 0.5:
        stride, dilation = (int(v) for v in rng.integers(1, 4, size=2)), (1, 1)
    else:
        stride, dilation = (1, 1), (int(v) for v in rng.integers(1, 3, size=2))
    stride, dilation = tuple(stride), tuple(dilation)
    height = int(rng.integers(dilation[0] * (k_h - 1) + 1, 14))
    width = int(rng.integers(dilation[1] * (k_w - 1) + 1, 14))
    x = rng.standard_normal((int(rng.integers(1, 4)), height, width, c_in)).astype(np.float32)
    kernel = rng.standard_normal((k_h, k_w, c_in // groups, c_out)).astype(np.float32)
    return x, kernel, stride, dilation, groups


def _tf_conv(x, kernel, stride, padding, dilation, groups):
    """tf.nn.conv2d in float64, with explicit padding as [[0, 0], [p, p], [p, p], [0, 0]]; groups by splitting.

    float64 runs TensorFlow's Eigen kernels. Its float32 oneDNN kernels (TF 2.21 on CPU) return wrong
    values, even uninitialised memory, when C_in = 1, the output is one pixel wide and only the
    width is strided (e.g. x [3, 8, 4, 1], kernel [1, 3, 1, 3], strides (1, 2)); see
    test_tensorflow_float32_oddity_is_not_ours.
    """
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    if isinstance(padding, int):
        padding = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    else:
        padding = padding.upper()
    xs = np.split(x, groups, axis=-1)
    ks = np.split(kernel, groups, axis=-1)
    outs = [tf.nn.conv2d(a, b, strides=stride, padding=padding, dilations=dilation).numpy() for a, b in zip(xs, ks)]
    return np.concatenate(outs, axis=-1)


@pytest.mark.parametrize("case_seed, padding", list(enumerate(["valid", "same", 0, 1, 2])))
def test_conv2d_equals_tf_nn_conv2d_on_random_cases(case_seed, padding):
    rng = np.random.default_rng(case_seed)
    for _ in range(40):
        x, kernel, stride, dilation, groups = _random_case(rng)
        bias = rng.standard_normal(kernel.shape[-1]).astype(np.float32)
        expected = _tf_conv(x, kernel, stride, padding, dilation, groups) + bias
        got = conv.conv2d(x, kernel, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
        assert got.shape == expected.shape
        assert got.dtype == np.float32
        assert _relative_error(got, expected.astype(np.float32)) < 1e-4, (x.shape, kernel.shape, stride, padding, dilation, groups)
        # Two images at a time (the notebook's blocked im2col) computes the same convolution.
        blocked = conv.conv2d_blocked(x, kernel, block=2, stride=stride, padding=padding, dilation=dilation,
                                      groups=groups)
        assert _relative_error(blocked + bias, expected) < 1e-4


def test_conv2d_loops_equals_tf_nn_conv2d():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    expected = tf.nn.conv2d(x, kernel, 1, "VALID").numpy()
    assert _relative_error(conv.conv2d_loops(x, kernel), expected) < 1e-5


def test_tensorflow_float32_oddity_is_not_ours():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 4, 1)).astype(np.float32)
    kernel = rng.standard_normal((1, 3, 1, 3)).astype(np.float32)
    by_hand = np.einsum("nhwc,hwco->no", x[:, :, None, 0:3, :].reshape(3 * 8, 1, 3, 1), kernel)
    got = conv.conv2d(x, kernel, stride=(1, 2))
    np.testing.assert_allclose(got.reshape(-1, 3), by_hand, rtol=1e-5, atol=1e-5)
    reference = tf.nn.conv2d(x.astype(np.float64), kernel.astype(np.float64), strides=(1, 2), padding="VALID")
    np.testing.assert_allclose(got, reference.numpy(), rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_odd_pixel_bottom_right_like_tensorflow():
    # A 1x1 input pixel pattern makes the offset visible: 4x4 input, 2x2 kernel, stride 1 -> pad (0, 1).
    assert saved.same_padding(4, 2) == (0, 1)
    assert saved.same_padding(5, 4, 2) == (1, 2)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 6, 7, 1)).astype(np.float32)
    for k_h, k_w, s in [(2, 2, 1), (4, 3, 2), (2, 5, 3)]:
        kernel = rng.standard_normal((k_h, k_w, 1, 1)).astype(np.float32)
        expected = tf.nn.conv2d(x, kernel, strides=s, padding="SAME").numpy()
        got = conv.conv2d(x, kernel, stride=s, padding="same")
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_equals_keras_conv2d_with_groups():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 9, 6)).astype(np.float32)
    for groups, padding, stride in [(1, "valid", 1), (2, "same", 2), (3, "same", 1), (6, "valid", 2)]:
        layer = keras.layers.Conv2D(12, 3, strides=stride, padding=padding, groups=groups)
        expected = layer(x).numpy()
        kernel, bias = (w.numpy() for w in layer.weights)
        got = conv.conv2d(x, kernel, bias, stride=stride, padding=padding, groups=groups)
        assert _relative_error(got, expected) < 1e-4


def test_conv2d_float64_and_mixed_dtypes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 5, 5, 2))
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    got = conv.conv2d(x, kernel)
    assert got.dtype == np.float64
    expected = tf.nn.conv2d(x, kernel.astype(np.float64), 1, "VALID").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_im2col_rows_are_patches_in_ijc_order():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    columns = conv.im2col(x, (2, 3), stride=(1, 2)).reshape(-1, 18)
    assert columns.shape == (2 * 3 * 2, 2 * 3 * 3)
    np.testing.assert_array_equal(columns[0], x[0, 0:2, 0:3].reshape(-1))
    np.testing.assert_array_equal(columns[1], x[0, 0:2, 2:5].reshape(-1))
    np.testing.assert_array_equal(columns[-1], x[1, 2:4, 2:5].reshape(-1))
    # Against TensorFlow's own patch extraction.
    patches = tf.image.extract_patches(x, sizes=[1, 2, 3, 1], strides=[1, 1, 2, 1], rates=[1, 1, 1, 1],
                                       padding="VALID").numpy()
    np.testing.assert_array_equal(columns, patches.reshape(-1, 18))


def test_im2col_matches_extract_patches_with_same_padding_and_dilation():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    for size, stride, rate, padding in [((3, 3), (1, 1), (2, 2), "VALID"), ((3, 2), (2, 2), (1, 1), "SAME")]:
        patches = tf.image.extract_patches(x, sizes=[1, *size, 1], strides=[1, *stride, 1], rates=[1, *rate, 1],
                                           padding=padding).numpy()
        got = conv.im2col(x, size, stride=stride, padding=padding.lower(), dilation=rate)
        np.testing.assert_array_equal(got, patches)


def test_conv_output_size_equals_keras_over_a_grid():
    for size in range(3, 12):
        for kernel in range(1, 5):
            for stride in range(1, 4):
                for dilation in (1, 2):
                    if dilation * (kernel - 1) + 1 > size or (stride > 1 and dilation > 1):
                        continue
                    for padding in ("valid", "same"):
                        layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding, dilation_rate=dilation)
                        expected = layer.compute_output_shape((1, size, size, 1))[1]
                        assert saved.conv_output_size(size, kernel, stride, padding, dilation) == expected
                    for padding in range(0, 3):
                        keras_model = keras.Sequential(
                            [keras.Input((size, size, 1)), keras.layers.ZeroPadding2D(padding),
                             keras.layers.Conv2D(1, kernel, strides=stride, dilation_rate=dilation)]
                        )
                        assert saved.conv_output_size(size, kernel, stride, padding, dilation) == keras_model.output_shape[1]


def test_conv_transpose_output_size_equals_keras():
    for size in range(1, 8):
        for kernel in range(1, 5):
            for stride in range(1, 4):
                for padding in ("valid", "same"):
                    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding=padding)
                    out = layer(np.zeros((1, size, size, 1), np.float32)).shape[1]
                    assert conv.conv_transpose_output_size(size, kernel, stride, padding) == out
                for output_padding in range(stride):
                    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding="valid",
                                                         output_padding=output_padding)
                    out = layer(np.zeros((1, size, size, 1), np.float32)).shape[1]
                    assert conv.conv_transpose_output_size(size, kernel, stride, 0, 1, output_padding) == out


def test_padding_wider_than_the_kernel_leaves_only_border_taps():
    # Padding so wide that no output pixel has all k_w taps inside the input, and output pixels
    # that see only padding.
    rng = np.random.default_rng(5)
    for shape, k, padding, stride in [((2, 2, 1, 3), (3, 4), 3, 1), ((1, 3, 2, 2), (2, 3), 2, (2, 1)),
                                      ((1, 1, 1, 1), (1, 1), 2, 1), ((2, 5, 3, 2), (4, 4), 3, 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        kernel = rng.standard_normal((*k, shape[-1], 2)).astype(np.float32)
        expected = _tf_conv(x, kernel, stride, padding, (1, 1), 1)
        got = conv.conv2d(x, kernel, stride=stride, padding=padding)
        assert _relative_error(got, expected) < 1e-5, (shape, k, padding, stride)


def test_empty_batch_gives_an_empty_output():
    x = np.zeros((0, 6, 5, 2), np.float32)
    kernel = np.ones((3, 3, 2, 4), np.float32)
    assert conv.conv2d(x, kernel, padding="same", stride=2).shape == (0, 3, 3, 4)
    assert conv.im2col(x, 3).shape == (0, 4, 3, 18)


@st.composite
def _convolution(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k_h, k_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strided = draw(st.booleans())  # TensorFlow's CPU kernels do not combine stride and dilation
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if strided else (1, 1)
    dilation = (1, 1) if strided else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    height = draw(st.integers(dilation[0] * (k_h - 1) + 1, 9))
    width = draw(st.integers(dilation[1] * (k_w - 1) + 1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(0, 2)), height, width, c_in))
    kernel = rng.normal(size=(k_h, k_w, c_in // groups, c_out))
    return x, kernel, dict(stride=stride, dilation=dilation, groups=groups,
                           padding=draw(st.sampled_from(["valid", "same", 1])))


@settings(max_examples=30, deadline=None, derandomize=not os.environ.get("FUZZ"), database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_convolution(), st.sampled_from(["float64", "float32", "fortran"]))
def test_conv2d_equals_tensorflow_for_every_dtype_layout_and_empty_batches(case, form):
    x, kernel, options = case
    x_value = np.asfortranarray(x) if form == "fortran" else x.astype(form)
    got = conv.conv2d(x_value, kernel.astype(x_value.dtype), **options)
    expected = _tf_conv(x, kernel, options["stride"], options["padding"], options["dilation"], options["groups"])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
